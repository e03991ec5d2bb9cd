"""Tumour clones by antigen profile: growth, CAR-T and drug killing, antigen loss.

Three clones for the targeted antigen(s): antigen-positive ``Tp``, antigen-low ``Tl`` and
antigen-negative ``Tn`` (their antigen densities are parameters of :mod:`.targets`, so a second
antigen needs no new equations), and antigen-positive cells in a sanctuary ``Ts`` (central
nervous system, testis, protective niches) that CAR-T cells reach poorly: they survive the
expansion and regrow, with their antigen, when the CAR-T cells wane. All grow logistically
in a shared space; a dividing cell loses antigen with a small probability (mutation or lineage
switch), so pre-existing negatives are selected and new ones arise under CD19- or BCMA-directed
pressure. The last few cells of each clone are simulated stochastically
(:mod:`.small_numbers`). Myeloma cells secrete M-protein.
"""

from __future__ import annotations

from cartsim.model import Assignment, Model, State
from cartsim.therapy.common import par
from cartsim.therapy.small_numbers import StochasticPopulation

TUMOUR_PARAMETERS = (
    par("T0", 94.86, "Gcell", "kimmel2021: Table 1 B0 (median 94.86 ml tumour, LBCL)",
        "tumour cells at the start of the simulation"),
    par("frac_low", 1e-3, "", "chosen: a small antigen-low subpopulation before therapy "
        "(CD19-low relapses in zuma1 biopsies, trials_training relapse_CD19_low_or_neg)",
        "antigen-low fraction of the tumour at start"),
    par("frac_neg", 1e-5, "", "chosen: rare pre-existing antigen-negative cells (selection of "
        "pre-existing negatives, seeds)", "antigen-negative fraction of the tumour at start"),
    par("frac_sanctuary", 0.0, "", "chosen: none unless a disease preset sets it",
        "share of the tumour in a sanctuary CAR-T cells reach poorly"),
    par("r_tumour", 0.05, "1/day", "kimmel2021: Table 1 r_B range 0.01-0.50/day (low end)",
        "tumour growth rate at low density"),
    par("K_T", 5000.0, "Gcell", "chosen: 5e12 cells (about 5 kg), beyond any survivable "
        "burden, so growth is near-exponential in the clinical range", "tumour carrying capacity"),
    par("fit_Tl", 1.0, "", "chosen: no fitness cost of antigen loss by default",
        "relative growth of the antigen-low clone"),
    par("fit_Tn", 1.0, "", "chosen: no fitness cost of antigen loss by default",
        "relative growth of the antigen-negative clone"),
    par("mu_low", 1e-6, "", "chosen: per-division probability of becoming antigen-low "
        "(order of a gene-level mutation rate)", "antigen-low conversion per division"),
    par("mu_neg", 1e-12, "", "chosen: per-division probability of losing surface antigen, "
        "which needs both alleles hit (two gene-level hits of about 1e-6) or a lineage switch; "
        "calibrated by hand to zuma1's PFS at 2 years (39%): at 1e-10 a 1e11-cell lymphoma "
        "made a new antigen-negative cell every two days, so every lymphoma relapsed (PFS at "
        "2 years 4%). Escape comes from pre-existing subclones (frac_neg, which varies between "
        "patients)",
        "antigen-negative conversion per division"),
    par("mprot_per_cell", 0.0, "g/dL/Gcell/day", "chosen: 0 unless a myeloma preset sets it",
        "serum M-protein secreted per tumour cell"),
    par("k_mprot", 0.117, "1/day", "singh2021: Km, M-protein degradation", "M-protein "
        "elimination rate"),
)

CLONES = {"Tp": ("1", "antigen-positive"), "Tl": ("fit_Tl", "antigen-low"),
          "Tn": ("fit_Tn", "antigen-negative"), "Ts": ("1", "sanctuary antigen-positive")}

# The sanctuary's few cells lose antigen too rarely to matter: no flows in or out.
INFLOW = {"Tp": "0", "Tl": "mu_low*r_tumour*Tp", "Tn": "mu_neg*r_tumour*(Tp + Tl)", "Ts": "0"}
OUTFLOW = {"Tp": "(mu_low + mu_neg)*r_tumour", "Tl": "mu_neg*r_tumour", "Tn": "0", "Ts": "0"}
RESCUE_KILL = {"Tp": "rescue_kill_pos", "Tl": "rescue_kill_pos", "Tn": "rescue_kill_neg",
               "Ts": "rescue_kill_pos"}
INITIAL = {"Tp": "T0*(1 - frac_low - frac_neg - frac_sanctuary)", "Tl": "T0*frac_low",
           "Tn": "T0*frac_neg", "Ts": "T0*frac_sanctuary"}


def other_kill(clone: str) -> str:
    """Kill rate of a clone by everything but CAR-T cells: chemotherapy, bridging, rescue."""
    return f"(drug_tumour_kill + rescue_on*{RESCUE_KILL[clone]})"


def stochastic_clones() -> tuple[StochasticPopulation, ...]:
    """The clones as hybrid populations: birth at the low-density growth rate, death by
    CAR-T and drugs, arrivals by antigen loss in other clones."""
    return tuple(StochasticPopulation(c, f"r_tumour*{fit}",
                                      f"kill_{c} + {other_kill(c)} + {OUTFLOW[c]}", INFLOW[c])
                 for c, (fit, _) in CLONES.items())


def tumour_model() -> Model:
    states = [State(c, "Gcell", INITIAL[c], f"{text} tumour cells", atol=1e-12)
              for c, (_, text) in CLONES.items()]
    states.append(State("mprot", "g/dL", "mprot_per_cell*T0/k_mprot",
                        "serum M-protein (myeloma)", atol=1e-6))
    equations = {
        c: f"(1 - stoch_{c})*((r_tumour*{fit}*crowding - kill_{c} - {other_kill(c)} - "
           f"{OUTFLOW[c]})*{c} + {INFLOW[c]})"
        for c, (fit, _) in CLONES.items()
    }
    equations["mprot"] = "mprot_per_cell*tumour_total - k_mprot*mprot"
    return Model(
        "tumour",
        states=states,
        parameters=TUMOUR_PARAMETERS,
        assignments=[Assignment("tumour_total", " + ".join(CLONES), "Gcell",
                                "all tumour cells"),
                     Assignment("crowding", "1 - tumour_total/K_T", "",
                                "logistic crowding of tumour growth")],
        equations=equations,
        description=__doc__.splitlines()[0],
    )
