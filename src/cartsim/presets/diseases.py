"""Diseases: tumour burden and growth, antigen densities, patient size, lymphodepletion.

Four haematological diseases (B-ALL, LBCL, mantle cell lymphoma, myeloma) and two solid tumours
(CLDN18.2-positive gastric cancer and GD2-positive neuroblastoma, measured by RECIST), whose target
is the model's generic tumour-associated antigen ``TAA`` and whose microenvironment suppresses
CAR-T cells."""

from __future__ import annotations

from dataclasses import dataclass, replace

from cartsim.presets.base import Preset, lookup

CD19_DENSITY = (10000.0, "chosen: order of magnitude of CD19 on B-lineage tumours (no value in "
                         "reference/)")
CD19_LOW = (300.0, "chosen: antigen-low escape clones carry a few hundred molecules")
CD22 = (3000.0, "chosen: CD22 on B-lineage tumours, a few thousand per cell, kept by "
                "CD19-negative escape clones (the rationale of CD22 CARs after CD19 escape); no "
                "value in reference/")
GPRC5D = (5000.0, "chosen: GPRC5D on myeloma cells independently of BCMA (the rationale of "
                  "GPRC5D CARs after BCMA escape); no value in reference/")


def second_antigen(antigen: str, value: tuple[float, str]) -> dict[str, tuple[float, str]]:
    """The same density of a second antigen on every clone of the first one's escape ladder."""
    return {f"dens_{antigen}_{clone}": value for clone in ("Tp", "Tl", "Tn")}


B_ALL = Preset("b-all", "disease", "relapsed/refractory B-ALL, paediatric and young adult", {
    "T0": (100.0, "chosen: 1e11 blasts after bridging, about 17% marrow blasts"),
    "r_tumour": (0.0333, "leontriana2020: rho_L leukaemia growth"),
    "dens_CD19_Tp": CD19_DENSITY,
    "dens_CD19_Tl": CD19_LOW,
    **second_antigen("CD22", CD22),
    "frac_neg": (1.5e-8, "chosen: calibrated by hand (eliana cohorts of 150 with "
                         "frac_sanctuary and memory_kill_rel) to CD19-negative relapse being "
                         "41% of relapses (Lamble 2023 in trials_training; 47% simulated); "
                         "pre-existing negatives are rare"),
    "frac_sanctuary": (4e-6, "chosen: calibrated by hand with sanctuary_access to the eliana "
                             "EFS at 12 months (50%) and its CD19-positive relapses; "
                             "central nervous system and testicular involvement are common "
                             "in relapsed B-ALL"),
    "K_E": (0.078, "leontriana2020: alpha, CAR-T killing of healthy and leukaemic B cells by "
                   "mass action (as K_E_blood): blasts in blood and marrow are met like B "
                   "cells, so persisting CAR-T cells that keep B-cell aplasia also hold "
                   "residual leukaemia"),
    "weight_kg": (40.0, "chosen: eliana median age 12 years"),
    "flu_days": (4.0, "eliana: fludarabine 30 mg/m2 x 4 days"),
    "cy_days": (2.0, "eliana: cyclophosphamide 500 mg/m2 x 2 days"),
    "ld_start": (-6.0, "chosen: lymphodepletion ending 2 days before infusion"),
    "B_start_fraction": (0.3, "chosen: normal B cells are suppressed by leukaemia"),
    "marrow_tumour_share": (1.0, "chosen: leukaemia lives in the marrow"),
})

LBCL = Preset("lbcl", "disease", "relapsed/refractory large B-cell lymphoma", {
    "T0": (94.86, "kimmel2021: B0 median 94.86 ml tumour volume"),
    "r_tumour": (0.05, "kimmel2021: r_B literature range 0.01-0.50/day (chosen in range)"),
    "dens_CD19_Tp": CD19_DENSITY,
    "dens_CD19_Tl": CD19_LOW,
    **second_antigen("CD22", CD22),
    "weight_kg": (80.0, "chosen: adult"),
    "B_start_fraction": (0.1, "chosen: prior anti-CD20 therapy depletes B cells"),
    "susceptibility": (0.5, "chosen: calibrated (tools/calibrate_response.py) to the zuma1 "
                            "ORR and CR (82%, 58%; 67% and 57% simulated) from kimmel2021's "
                            "0.33 (gamma_B 1.15/day fitted to ZUMA-1 LBCL over kill_max 3.5/day "
                            "calibrated on marrow leukaemia, stein2019), which leaves out the "
                            "target saturation this model's killing has and Kimmel's lacks"),
    "frac_neg": (1e-12, "chosen: calibrated by hand with mu_neg to the zuma1 share of "
                        "CD19-negative progressions (7 of 21 biopsies; 27% simulated in 100 "
                        "patients) and its PFS at 2 years (39%; 24%), with the between-patient "
                        "spread: most lymphomas hold no CD19-negative cell, so a CAR-T cure "
                        "is possible (1e-10 left one in almost every patient: PFS 2 years 4%)"),
})

MULTIPLE_MYELOMA = Preset("mm", "disease", "relapsed/refractory multiple myeloma", {
    "T0": (100.0, "chosen: 1e11 myeloma cells, 17% of the model's 500 Gcell marrow as for "
                  "B-ALL; singh2021's Tumor0 (2.5e9 cells/L x 3.65 L = 9.1e9) is the burden "
                  "of its marrow compartment, under 2% plasma cells here, too few for "
                  "measurable relapsed myeloma"),
    "r_tumour": (0.03, "chosen: calibrated (tools/calibrate_response.py 100 --trial "
                       "karmma-ide-cel-mm) to karmma's PFS: singh2021's Kg_tumor 0.008/day, "
                       "fitted to M-protein under treatment in CRB-401, gave PFS at 12 months "
                       "87% and no median (published median 8.8 months); 0.04 matched the "
                       "median (8.9) but left OS at 12 months 42% (OS median 24.8 months); "
                       "0.03: ORR 75, CR 49, PFS 12 mo 55%, OS 12 mo 68%"),
    "dens_BCMA_Tp": (12590.0, "singh2021: Ag_tumor BCMA per cell"),
    "dens_BCMA_Tl": (300.0, "chosen: BCMA-low escape clones"),
    **second_antigen("GPRC5D", GPRC5D),
    "mprot_per_cell": (0.00234, "chosen: 2 g/dL M-protein at the baseline burden T0 with "
                                "singh2021 Km"),
    "weight_kg": (75.0, "chosen: adult"),
    "cy_mg_m2": (300.0, "karmma: cyclophosphamide 300 mg/m2 x 3 days"),
    "marrow_normal": (500.0, "chosen: as for B-ALL"),
    "marrow_tumour_share": (1.0, "chosen: myeloma lives in the marrow (plasmacytomas aside)"),
    "susceptibility": (0.45, "chosen: calibrated (tools/calibrate_response.py) to the karmma "
                             "ORR and CR: myeloma cells in the marrow niche are partly protected "
                             "from CAR-T killing (cell adhesion-mediated resistance)"),
})

GASTRIC = Preset("gastric", "disease", "CLDN18.2-positive advanced gastric cancer (solid tumour)", {
    "T0": (6.7, "leontriana2021: T0_single 6.7e9 cells, a solid tumour at CAR-T treatment"),
    "r_tumour": (0.02, "leontriana2021: rho_T solid tumour growth"),
    "dens_TAA_Tp": (5000.0, "chosen: CLDN18.2 on antigen-positive gastric cancer cells, a few "
                            "thousand per cell; no value in reference/"),
    "dens_TAA_Tl": (300.0, "chosen: antigen-low cells, as for the other targets"),
    "frac_low": (0.2, "chosen: solid tumours express their target heterogeneously (CT041 "
                      "enrolled CLDN18.2-positive, not uniformly positive, tumours)"),
    "frac_neg": (0.01, "chosen: a pre-existing antigen-negative minority, the usual route of "
                       "progression after a partial response"),
    "tme_suppression": (0.0, "chosen: calibrated with K_act and susceptibility "
                             "(tools/calibrate_response.py, tools/calibrate_toxicity.py) to "
                             "ct041: CAR-T cells meeting the tumour are activated (CRS in 95%) "
                             "while responses stay partial, so the microenvironment's toll is "
                             "put on killing, not on engagement; 0.5 (half of both lost, "
                             "leontriana2021's inactivation) gave CRS 32%"),
    "susceptibility": (0.07, "chosen: calibrated with K_act to the ct041 ORR 57% and CRS 95% "
                             "(ORR 59.6% in 100 patients, CRS 93% in 60; K_act 0.5 with 0.1 or "
                             "0.05 gave ORR 65 or 56): solid-tumour cells resist CAR-T killing "
                             "in their microenvironment (leontriana2021: immunosuppression)"),
    "K_act": (0.5, "chosen: calibrated with susceptibility to the ct041 ORR and CRS: CAR-T cells "
                   "homing to a solid tumour meet its antigen at tissue density, so a small "
                   "recognised load engages them (the haematological calibration's 14.4 Gcell "
                   "gave ORR 42% and CRS 8%; 2.0 with half of engagement lost gave CRS 32%)"),
    "dens_TAA_H": (0.0, "chosen: CLDN18.2 in normal gastric mucosa sits in tight junctions, out "
                        "of CAR-T reach (the rationale of the target); any accessible healthy "
                        "antigen gives this model chronic CRS, so none is modelled"),
    "weight_kg": (65.0, "chosen: adult"),
    "B_start_fraction": (1.0, "chosen: solid-tumour patients have normal B cells"),
})

MANTLE_CELL = replace(LBCL.merged(Preset("", "", "", {
    "T0": (94.86, "chosen: no mantle-cell lymphoma burden in reference/; kimmel2021's LBCL "
                  "median B0 taken (r/r MCL after BTK inhibitors is a bulky nodal disease)"),
    "r_tumour": (0.05, "chosen: no MCL growth rate in reference/; as for LBCL (kimmel2021 r_B "
                       "range 0.01-0.50/day): MCL after BTK inhibitors is aggressive"),
})), name="mcl", description="relapsed/refractory mantle cell lymphoma after BTK inhibitors "
                              "(CD19; measured as LBCL, Lugano)")

NEUROBLASTOMA = replace(GASTRIC.merged(Preset("", "", "", {
    "T0": (6.7, "chosen: no neuroblastoma burden in reference/; leontriana2021's solid tumour "
                "T0_single 6.7e9 cells taken"),
    "dens_TAA_Tp": (5000.0, "chosen: GD2 on neuroblastoma cells, the model's tumour-associated "
                            "antigen TAA; no density in reference/"),
    "frac_low": (0.1, "chosen: GD2 is expressed more uniformly on neuroblastoma than CLDN18.2 "
                      "on gastric cancer; no value in reference/"),
    "dens_TAA_H": (0.0, "chosen: GD2 on peripheral nerves is not modelled as an antigen sink "
                        "(neuropathic pain is not simulated); as for gastric cancer"),
    "weight_kg": (20.0, "chosen: children (trials_design_only: GD2-CART01 in children)"),
})), name="neuroblastoma", description="relapsed/refractory high-risk neuroblastoma in children "
                                         "(GD2 as TAA, solid tumour, RECIST)")

DISEASES = {d.name: d for d in (B_ALL, LBCL, MULTIPLE_MYELOMA, GASTRIC, MANTLE_CELL,
                                NEUROBLASTOMA)}


@dataclass(frozen=True)
class DiseaseFacts:
    """What a disease is besides its model parameters: the criteria trials assess its
    response by, when a relapse after CAR-T counts as early, the antigen pair of its rescue
    CARs (first target, second target; None: no second CAR), and whether a bispecific
    rescue reaches its antigen-negative clones."""

    criteria: str
    early_relapse_days: float
    second_antigen: tuple[str, str] | None = None
    bispecific_reaches_negative: bool = False


EARLY_RELAPSE_LYMPHOMA_DAYS = 365.0
"""Early vs late relapse (clinical_rules.md section 6): lymphoma the second-line convention,
within 12 months (ZUMA-7, TRANSFORM); chosen for myeloma and solid tumours too (no convention
for relapse after CAR-T in reference/)."""
EARLY_RELAPSE_ALL_DAYS = 180.0
"""B-ALL: the BFM convention, within 6 months (paediatric; the adult ZUMA-3 scenario sets its
own 12 months)."""
B_CELL_ANTIGENS = ("CD19", "CD22")
"""CD22 CARs after CD19 escape (B-lineage tumours keep CD22)."""
PLASMA_CELL_ANTIGENS = ("BCMA", "GPRC5D")
"""GPRC5D CARs after BCMA escape."""

DISEASE_FACTS = {
    "b-all": DiseaseFacts("ALL", EARLY_RELAPSE_ALL_DAYS, B_CELL_ANTIGENS),
    # CD20 bispecifics in lymphoma do not depend on CD19: they reach CD19-negative clones
    "lbcl": DiseaseFacts("Lugano-PET", EARLY_RELAPSE_LYMPHOMA_DAYS, B_CELL_ANTIGENS, True),
    "mcl": DiseaseFacts("Lugano-PET", EARLY_RELAPSE_LYMPHOMA_DAYS, B_CELL_ANTIGENS, True),
    "mm": DiseaseFacts("IMWG", EARLY_RELAPSE_LYMPHOMA_DAYS, PLASMA_CELL_ANTIGENS),
    "gastric": DiseaseFacts("RECIST", EARLY_RELAPSE_LYMPHOMA_DAYS),
    "neuroblastoma": DiseaseFacts("RECIST", EARLY_RELAPSE_LYMPHOMA_DAYS),
}
"""The facts of each disease preset (lymphoma and the CAR-T lymphoma trials are assessed by
PET-CT)."""


def disease_facts(name: str) -> DiseaseFacts:
    """The facts of the disease preset called ``name``."""
    return DISEASE_FACTS[lookup(name, DISEASES, "disease").name]
