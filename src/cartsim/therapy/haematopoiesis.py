"""Blood counts: neutrophils and platelets made by the marrow, and why they fall after CAR-T.

Each lineage is a chain of proliferating progenitors, three maturing transit compartments and
circulating cells, with feedback of the circulating count on proliferation (the structure of
Friberg 2002's myelosuppression model, values chosen: no haematopoiesis model is in reference/);
the feedback steers towards the count the marrow's free space supports. Counts are relative to the
patient's baseline (1 = the ANC and platelets measured before lymphodepletion). Proliferation is
cut by lymphodepleting chemotherapy, by the tumour's share of the marrow (so leukaemia in remission
frees the marrow and counts rise above baseline) and by activated macrophages (inflammatory marrow
suppression: the cytopenias that outlast chemotherapy after CAR-T, ICAHT).
"""

from __future__ import annotations

from cartsim.model import Assignment, Model, Observable, State
from cartsim.therapy.common import par

LINEAGES = {"neut": ("anc0", "Gcell/L", "neutrophils (ANC)", "anc_10e9_l"),
            "plt": ("plt0", "Gcell/L", "platelets", "platelets_10e9_l")}
TRANSITS = ("t1", "t2", "t3")

HAEMATOPOIESIS_PARAMETERS = (
    par("anc0", 2.0, "Gcell/L", "chosen: a low-normal ANC; journeys set the patient's own",
        "absolute neutrophil count at baseline"),
    par("plt0", 150.0, "Gcell/L", "chosen: lower limit of normal; journeys set the patient's "
        "own", "platelet count at baseline"),
    par("mtt_neut", 5.0, "day", "chosen: granulocyte maturation of about 5 days, the order of "
        "the mean transit times fitted with Friberg 2002's model", "mean transit time from "
        "progenitor to circulating neutrophil"),
    par("mtt_plt", 8.0, "day", "chosen: megakaryopoiesis plus the platelet lifespan, slower "
        "than neutrophils (platelet nadirs come later)", "mean transit time from progenitor to "
        "circulating platelet"),
    par("gamma_neut", 0.17, "", "chosen: the feedback exponent typical of Friberg 2002 fits",
        "feedback of the circulating count on neutrophil progenitors"),
    par("gamma_plt", 0.17, "", "chosen: as for neutrophils", "feedback of the circulating "
        "count on platelet progenitors"),
    par("k_ld_marrow", 0.4, "1/day", "chosen: calibrated (tools/calibrate_toxicity.py) to "
        "karmma grade 3-4 neutropenia 91% and thrombocytopenia 63% after Flu/Cy 30/300",
        "progenitor kill per unit lymphodepletion exposure"),
    par("e_inflam_marrow", 0.2, "", "chosen: calibrated with k_ld_marrow; activated "
        "macrophages (IFN-γ, IL-6) suppress haematopoiesis (the inflammatory phase of ICAHT)",
        "suppression of progenitor proliferation at full macrophage activation"),
    par("marrow_tumour_share", 0.0, "", "chosen: none unless the disease lives in the marrow "
        "(B-ALL, myeloma presets)", "share of the tumour that occupies the marrow"),
)


def _lineage(name: str) -> tuple[list[State], dict[str, str]]:
    ktr = f"(4/mtt_{name})"
    states = [State(f"{name}_prol", "", 1.0, f"{LINEAGES[name][2]}: proliferating progenitors "
                    "(relative to baseline)"),
              *(State(f"{name}_{t}", "", 1.0, f"{LINEAGES[name][2]}: transit {t[1]}")
                for t in TRANSITS),
              State(f"{name}_circ", "", 1.0, f"{LINEAGES[name][2]}: circulating (relative "
                    "to baseline)")]
    feedback = f"(marrow_space/max({name}_circ, 1e-3))**gamma_{name}"
    equations = {
        f"{name}_prol": f"{ktr}*{name}_prol*((1 - e_inflam_marrow*mac)*{feedback} - 1) "
                        f"- k_ld_marrow*ld_exposure*{name}_prol",
        f"{name}_t1": f"{ktr}*({name}_prol - {name}_t1)",
        f"{name}_t2": f"{ktr}*({name}_t1 - {name}_t2)",
        f"{name}_t3": f"{ktr}*({name}_t2 - {name}_t3)",
        f"{name}_circ": f"{ktr}*({name}_t3 - {name}_circ)",
    }
    return states, equations


def haematopoiesis_model() -> Model:
    states, equations = [], {}
    for name in LINEAGES:
        lineage_states, lineage_equations = _lineage(name)
        states += lineage_states
        equations.update(lineage_equations)
    return Model(
        "haematopoiesis",
        states=states,
        parameters=HAEMATOPOIESIS_PARAMETERS,
        assignments=[
            Assignment("marrow_space", "(1 + marrow_tumour_share*T0/marrow_normal)/"
                       "(1 + marrow_tumour_share*tumour_total/marrow_normal)", "",
                       "room for haematopoiesis relative to baseline (tumour in the marrow "
                       "crowds it out): the counts the feedback steers towards"),
        ],
        equations=equations,
        observables=[Observable(obs, f"{base}*{name}_circ", unit, f"{text}, blood count")
                     for name, (base, unit, text, obs) in LINEAGES.items()],
        description=__doc__.splitlines()[0],
    )
