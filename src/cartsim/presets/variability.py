"""Inter-individual variability: which parameters differ between patients, by how much, and why.

A varied parameter is its preset value times exp(ω·z), z standard normal (log-normal, as in the
population cellular-kinetic models of Stein 2019 and Singh 2021); fractions vary on the logit
scale so they stay between 0 and 1. The product sets say how cells differ between patients' own
products; the disease sets how tumours differ. ω values marked "calibrated" were fitted once by
``tools/calibrate_variability.py`` to the spreads named in their source, with the ω taken from the
literature held fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartsim.presets.base import PresetError

SCALES = ("log", "logit")


@dataclass(frozen=True)
class Variation:
    """Parameter ``parameter`` varies between patients with SD ``omega`` on ``scale``."""

    parameter: str
    omega: float
    source: str
    scale: str = "log"

    def __post_init__(self):
        if self.scale not in SCALES:
            raise PresetError(f"variation of '{self.parameter}': scale must be one of {SCALES}")
        if not self.omega >= 0.0:
            raise PresetError(f"variation of '{self.parameter}': omega must be >= 0")


STEIN_SPREAD = ("chosen: calibrated (tools/calibrate_variability.py) so tisa-cel B-ALL patients "
                "spread like stein2019 Table 1 (omega^2 Cmax 0.65, Tmax 0.38, fold expansion 2.4, "
                "alpha 0.91, beta 0.86, F_B 0.8); the six omegas fitted together, since no "
                "parameter alone sets one statistic")
ZUMA1_SPREAD = ("chosen: calibrated (tools/calibrate_variability.py) so axi-cel LBCL patients "
                "reproduce the zuma1 interquartile ranges of blood CAR-T counts at days 7-90 "
                "(kimmel2021: obs_CAR_count)")

SELF_RENEWAL_SPREAD = ("chosen: products differ in how stem-like their memory cells are (no "
                       "spread in reference/); calibrated by hand (tools/calibrate_response.py) to "
                       "the eliana share of CD19-negative relapses (41%; 50% simulated in 300 "
                       "patients, 64% with every patient's memory fully self-renewing): patients "
                       "whose memory drains into effectors lose their CAR-T cells and relapse "
                       "CD19-positive")
VARIABILITY_41BB = (
    Variation("rho_max", 0.429, STEIN_SPREAD),
    Variation("engraft_fraction", 1.331, STEIN_SPREAD),
    Variation("d_eff", 0.893, STEIN_SPREAD + "; mostly alpha's"),
    Variation("eps_mem", 0.2, STEIN_SPREAD + "; then lowered by "
              "hand from the fitted 0.518 once b-all sanctuary relapses re-stimulated the slow "
              "phase (F_B spread over 300 patients 1.02 with 0.2, 1.19 with 0.518; Stein 0.89)"),
    Variation("mu_mem", 0.98, STEIN_SPREAD + "; mostly beta's"),
    Variation("memory_self_renewal", 2.0, SELF_RENEWAL_SPREAD, "logit"),
)

VARIABILITY_CD28 = (
    Variation("rho_max", 0.98, ZUMA1_SPREAD),
    Variation("engraft_fraction", 1.1, "chosen: an earlier calibration of the 4-1BB spread "
                                       "(stein2019 Cmax, Tmax and fold expansion), kept with "
                                       "the zuma1 fit; no CD28 value in reference/"),
    Variation("d_eff", 0.571, ZUMA1_SPREAD),
    Variation("K_C", 0.143, ZUMA1_SPREAD + "; kimmel2021: K_C among the most sensitive parameters"),
    Variation("niche_weight", 0.286, ZUMA1_SPREAD),
)

VARIABILITY_IDE_CEL = (
    Variation("rho_max", 0.22, "singh2021: omega 0.22 of Kexp_max"),
    Variation("kill_max", 0.50, "singh2021: omega 0.50 of Kkill_max"),
    Variation("engraft_fraction", 1.331, STEIN_SPREAD + " (4-1BB products alike)"),
    Variation("d_eff", 0.893, STEIN_SPREAD + " (4-1BB products alike)"),
    Variation("mu_mem", 0.98, STEIN_SPREAD + " (4-1BB products alike)"),
)

PRODUCT_VARIABILITY = {"tisa-cel": VARIABILITY_41BB, "axi-cel": VARIABILITY_CD28,
                       "ide-cel": VARIABILITY_IDE_CEL, "satri-cel": VARIABILITY_CD28,
                       "liso-cel": VARIABILITY_41BB, "brexu-cel": VARIABILITY_CD28,
                       "cilta-cel": VARIABILITY_IDE_CEL, "gd2-cart01": VARIABILITY_41BB}
"""Products without a spread of their own take their costimulation's (cilta-cel: ide-cel's,
the BCMA 4-1BB product with Singh 2021's omegas)."""

BURDEN_SPREAD = "chosen: tumour burden at infusion spans about two orders of magnitude"
GROWTH_SPREAD = ("chosen: doubling times of aggressive lymphoma from about 5 days to 5 weeks "
                 "(95% of patients); kimmel2021's literature range of r_B, 0.01-0.50/day, "
                 "spans all lymphomas, and its fast end outgrows any CAR-T response")
KILLING_SPREAD = ("chosen: calibrated (tools/calibrate_response.py) by hand to the zuma1 ORR "
                  "and CR: lymphomas differ in how readily their cells die when CAR-T cells "
                  "engage them (death-receptor signalling, anti-apoptotic proteins, "
                  "microenvironment)")
MARROW_KILLING_SPREAD = ("chosen: calibrated (tools/calibrate_response.py) by hand to the "
                         "karmma ORR and CR: myelomas differ in how readily their cells die "
                         "when CAR-T cells engage them (marrow niche protection, "
                         "anti-apoptotic proteins)")
ESCAPE_SPREAD = ("chosen: whether a tumour already holds an antigen-escape subclone (prior "
                 "targeted therapy, subclonal deletion or splicing) differs by orders of "
                 "magnitude between patients")
DISEASE_VARIABILITY = {
    "b-all": (
        Variation("T0", 0.584, STEIN_SPREAD + "; with the tisa-cel omegas"),
        Variation("r_tumour", 0.45, "chosen: leukaemias differ in doubling time; calibrated by "
                  "hand to eliana's EFS and OS (150 patients: EFS 6 mo 79 (73), 12 mo 46 (50), "
                  "OS 12 mo 80 (76)); with 0.3 hardly a responder relapsed before 6 months "
                  "(OS 12 mo 93), as leukaemia below ELIANA's MRD limit (about 5e7 cells) needs "
                  "over 6 months at 0.033/day to reach 5% blasts; 0.6 fitted EFS at 6 months "
                  "(72) but widened Stein's F_B spread past its bound (1.21; Stein 0.89)"),
        Variation("frac_neg", 3.0, ESCAPE_SPREAD, "logit"),
        Variation("frac_sanctuary", 1.0, "chosen: how much leukaemia sits in the central "
                  "nervous system or testis differs between patients; 1 rather than 2, which "
                  "widened the spread of Stein's slow fraction F_B (1.25 vs 0.89) through "
                  "relapses re-stimulating the slow phase", "logit"),
    ),
    "lbcl": (
        Variation("T0", 1.0, BURDEN_SPREAD + " (kimmel2021: tumour volumes around the median "
                                            "94.86 ml)"),
        Variation("r_tumour", 0.5, GROWTH_SPREAD),
        Variation("susceptibility", 1.5, KILLING_SPREAD, "logit"),
        Variation("frac_neg", 3.0, ESCAPE_SPREAD, "logit"),
    ),
    "mm": (
        Variation("T0", 0.7, BURDEN_SPREAD),
        Variation("r_tumour", 0.5, "chosen: myeloma growth rates differ between patients"),
        Variation("susceptibility", 1.5, MARROW_KILLING_SPREAD, "logit"),
        Variation("frac_neg", 3.0, ESCAPE_SPREAD, "logit"),
    ),
    "mcl": (
        Variation("T0", 1.0, BURDEN_SPREAD + " (as for LBCL)"),
        Variation("r_tumour", 0.5, GROWTH_SPREAD + " (as for LBCL)"),
        Variation("susceptibility", 1.5, KILLING_SPREAD + " (as for LBCL)", "logit"),
        Variation("frac_neg", 3.0, ESCAPE_SPREAD, "logit"),
    ),
    "neuroblastoma": (
        Variation("T0", 1.0, BURDEN_SPREAD),
        Variation("r_tumour", 0.5, "chosen: solid tumours differ in growth rate"),
        Variation("frac_neg", 1.0, "chosen: the antigen-negative share differs between tumours"),
    ),
    "gastric": (
        Variation("T0", 1.0, BURDEN_SPREAD),
        Variation("r_tumour", 0.5, "chosen: solid tumours differ in growth rate"),
        Variation("frac_neg", 1.0, "chosen: the antigen-negative share differs between tumours"),
    ),
}


HOST_VARIABILITY = (
    Variation("p_il6_mac", 0.85, "hardiansyah2019: fitted IL-6 production P_IL6 0.0018 (UPN1) "
              "vs 0.006 (UPN3); SD of the log of two patients |ln ratio|/sqrt(2) = 0.85"),
    Variation("k_cns", 1.0, "chosen: calibrated by hand (tools/calibrate_toxicity.py) to the "
              "ratio of grade >= 3 to any-grade neurotoxicity in eliana and zuma1; "
              "susceptibility to ICANS differs beyond a patient's CRS"),
    Variation("ec50_endo", 1.2, "chosen: calibrated by hand (tools/calibrate_toxicity.py) to "
              "the severe-CRS rates of eliana, zuma1 and karmma; endothelial fragility differs "
              "between patients before infusion (clinical_rules.md: EASIX risk groups had "
              "grade 2-4 CRS in 74%, 49% and 23%)"),
    Variation("k_ld_marrow", 0.5, "chosen: calibrated by hand (tools/calibrate_toxicity.py) "
              "to the karmma grade 3-4 cytopenia rates; marrow reserve differs between "
              "patients (the premise of CAR-HEMATOTOX, clinical_rules.md)"),
    Variation("anc0", 0.4, "chosen: baseline ANC of heavily pre-treated patients spans about "
              "0.9-4.4 x 10^9/L (95%)"),
    Variation("plt0", 0.4, "chosen: baseline platelets span about 70-330 x 10^9/L (95%)"),
)
"""How patients' inflammatory responses differ, whatever the product and disease."""


def variability(product_name: str, disease_name: str) -> tuple[Variation, ...]:
    """The variations of a product in a disease (product set, disease set, then host set)."""
    key_p, key_d = product_name.strip().lower(), disease_name.strip().lower()
    if key_p not in PRODUCT_VARIABILITY:
        raise PresetError(f"no variability for product '{product_name}'; choose one of "
                          f"{', '.join(PRODUCT_VARIABILITY)}")
    if key_d not in DISEASE_VARIABILITY:
        raise PresetError(f"no variability for disease '{disease_name}'; choose one of "
                          f"{', '.join(DISEASE_VARIABILITY)}")
    return PRODUCT_VARIABILITY[key_p] + DISEASE_VARIABILITY[key_d] + HOST_VARIABILITY
