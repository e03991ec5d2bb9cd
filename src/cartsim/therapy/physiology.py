"""Physiology that clinicians grade: fever, blood pressure, oxygen need, CRP, ferritin, LDH, ICE.

IL-6 signalling (blocked by tocilizumab) and IFN-γ raise temperature at modest levels; sustained
high IL-6 signalling activates the endothelium (a Hill-type threshold), whose loss of tone lowers
blood pressure and whose leak raises the oxygen need, so fever comes first and hypotension and
hypoxia only in the more severe cases, as in the CRS grades. CRP follows IL-6 signalling (hepatic
synthesis), ferritin follows macrophage activation (the MAS/HLH marker), LDH follows tumour burden
and lysis. No mechanistic ICANS model exists (models.md section 18); here the review's chain is
made quantitative: systemic cytokines → endothelial activation → blood-brain-barrier injury (driven
also by serum IL-6, which tocilizumab raises and which it cannot block in the brain) → a falling
ICE score, relieved by steroids; CARs that bind CD19 (also on brain mural cells) drive the injury
more than others. Graded categories (vasopressors, oxygen, consciousness) are observables with
thresholds stated here. Seizures, cerebral oedema and motor weakness (the grade 3-4 domains of
ASTCT ICANS) appear only at the most severe injury, above the thresholds at which consciousness is
lost (chosen: no incidence of these findings is given in reference/).
"""

from __future__ import annotations

from cartsim.model import Assignment, Model, Observable, State
from cartsim.therapy.common import par

PHYSIOLOGY_PARAMETERS = (
    par("ec50_il6", 300.0, "pg/mL", "chosen: calibrated by hand (tools/calibrate_toxicity.py) "
        "with ec50_ifng and K_cd40 to the any-grade CRS of eliana, zuma1, cibmtr, karmma and "
        "ct041 (grade 2+ CRS typically shows IL-6 in the hundreds): at 100 pg/mL fever came "
        "with about 2% of macrophages activated, so every patient whose CAR-T cells expanded "
        "at all had CRS (cibmtr 91%, published 45%)", "IL-6 for half-maximal signalling"),
    par("temp_base", 36.8, "degC", "chosen: normal body temperature", "temperature without "
        "inflammation"),
    par("fever_max", 4.0, "degC", "chosen: inflammation can raise temperature to about "
        "41 °C", "maximal fever"),
    par("w_ifng_fever", 0.5, "", "chosen: IFN-γ is a weaker pyrogen than IL-6 here",
        "weight of IFN-γ in the inflammation index"),
    par("k_endo", 6.0, "1/day", "chosen: calibrated by hand (tools/calibrate_toxicity.py) "
        "with d_endo and ec50_endo to the severe-CRS rates of eliana, zuma1, cibmtr and "
        "karmma: endothelial activation builds within hours, so a fragile patient can pass "
        "from grade 2 to 3 before tocilizumab acts; at 3/day the leak could not exceed "
        "k/(k + d_endo) = 0.67, so multiple vasopressors (grade 4) never came and Lee grade 3 "
        "was rare (zuma1 2%)", "endothelial activation rate at full drive"),
    par("ec50_endo", 600.0, "pg/mL", "chosen: calibrated by hand (tools/calibrate_toxicity.py) "
        "with k_endo to the CRS grade >= 3 rates of eliana, zuma1, cibmtr and karmma; severe "
        "CRS shows IL-6 peaks in the thousands (hardiansyah2019: ~2800 pg/mL)",
        "signalling IL-6 giving half-maximal endothelial activation"),
    par("n_endo", 2.0, "", "chosen: a threshold, so fever alone (grade 1) is common and "
        "hypotension or hypoxia needs high IL-6", "Hill coefficient of endothelial "
        "activation"),
    par("d_endo", 1.5, "1/day", "chosen: calibrated by hand with k_endo (same steady state "
        "as 1.0 and 0.5/day, three times faster); hypotension and hypoxia resolve within a "
        "day or two of the drive falling", "endothelial recovery rate"),
    par("map_base", 85.0, "mmHg", "chosen: normal mean arterial pressure", "mean arterial "
        "pressure without inflammation"),
    par("map_drop", 0.5, "", "chosen: maximal vasoplegia halves MAP", "fractional MAP fall "
        "at maximal vasoplegia"),
    par("crp_base", 5.0, "mg/L", "chosen: normal CRP", "CRP without inflammation"),
    par("crp_max", 300.0, "mg/L", "chosen: CRP in severe CRS reaches hundreds of mg/L",
        "CRP at maximal IL-6 signalling"),
    par("k_crp", 0.875, "1/day", "chosen: CRP half-life of about 19 hours", "CRP elimination"),
    par("ferritin_base", 500.0, "ng/mL", "chosen: raised ferritin of heavily pre-treated "
        "patients", "ferritin without macrophage activation"),
    par("ferritin_max", 50000.0, "ng/mL", "chosen: HLH-level ferritin at full macrophage "
        "activation", "ferritin at full macrophage activation"),
    par("k_ferritin", 0.5, "1/day", "chosen: ferritin falls over days", "ferritin "
        "elimination"),
    par("ldh_base", 200.0, "U/L", "chosen: upper normal LDH", "LDH without tumour"),
    par("ldh_per_tumour", 1.0, "U/L/Gcell", "chosen: 100 Gcell of lymphoma raises LDH by "
        "100 U/L", "LDH per tumour cell"),
    par("ldh_per_lysis", 20.0, "U/L*day/Gcell", "chosen: lysing 10 Gcell a day raises LDH by "
        "200 U/L", "LDH released per killed cell"),
    par("k_ldh", 0.35, "1/day", "chosen: LDH half-life of about 2 days", "LDH elimination"),
    par("k_cns", 0.55, "1/day", "chosen: neurotoxicity follows CRS by days (eliana: "
        "neurotox onset 6 d vs CRS 3 d); calibrated by hand (tools/calibrate_toxicity.py) to "
        "the neurotoxicity of eliana, zuma1 and karmma after ec50_endo rose to 600 pg/mL",
        "blood-brain-barrier injury rate"),
    par("cns_share_without_cd19", 0.2, "", "chosen: calibrated by hand "
        "(tools/calibrate_toxicity.py) to the karmma neurotoxicity (18%, grade >= 3 3%) at "
        "its 84% CRS; CD19 on brain mural cells (Parker 2020, Cell; not in reference/) lets "
        "CD19-directed CAR-T cells injure the blood-brain barrier on target, so other targets "
        "cause less ICANS for the same inflammation", "share of the neurotoxic drive left "
        "when the CAR does not bind CD19"),
    par("d_cns", 0.3, "1/day", "chosen: ICANS resolves over days (eliana: duration 6 d)",
        "blood-brain-barrier recovery rate"),
    par("k_cns_dex", 1.0, "1/day", "chosen: steroids resolve ICANS within days",
        "steroid-driven recovery at maximal effect"),
    par("K_cns", 0.3, "", "chosen: half of the ICE score is lost at injury 0.3",
        "injury halving the ICE score"),
    par("n_ice", 6.0, "", "chosen: calibrated by hand (tools/calibrate_toxicity.py) to the "
        "neurotoxicity rates of eliana and zuma1: the ICE score holds until injury is "
        "substantial, then falls steeply", "Hill coefficient of the ICE score"),
)

VASOPRESSOR_LEVELS = "0 none (MAP >= 70), 1 fluids (65-70), 2 one vasopressor (55-65), " \
    "3 multiple vasopressors (< 55 mmHg)"
SEIZURE_LEVELS = "0 none, 1 self-limiting (injury 0.8), 2 prolonged (injury 0.93)"
EDEMA_LEVELS = "0 none, 1 focal oedema (injury 0.85), 2 diffuse oedema (injury 0.95)"
MOTOR_LEVELS = "0 none, 1 deep focal motor weakness (injury 0.95)"
OXYGEN_LEVELS = "0 none, 1 low-flow, 2 high-flow, 3 face mask, 4 positive pressure " \
    "(endothelial leak 0.3, 0.45, 0.6, 0.75)"


def _levels(value: str, thresholds: list[float], descending: bool = False) -> str:
    """Count of thresholds passed: a graded scale as a sum of indicator functions."""
    op = "<" if descending else ">="
    return " + ".join(f"ifelse({value} {op} {x}, 1, 0)" for x in thresholds)


def physiology_model() -> Model:
    return Model(
        "physiology",
        states=[
            State("endo", "", 0.0, "endothelial activation and leak (0-1)"),
            State("cns", "", 0.0, "blood-brain-barrier injury driving ICANS"),
            State("crp", "mg/L", "crp_base", "C-reactive protein"),
            State("ferritin", "ng/mL", "ferritin_base", "serum ferritin"),
            State("ldh", "U/L", "ldh_base + ldh_per_tumour*T0", "lactate dehydrogenase"),
        ],
        parameters=PHYSIOLOGY_PARAMETERS,
        assignments=[
            Assignment("il6_signal", "il6/(il6 + ec50_il6)*(1 - toci_occupancy)", "",
                       "IL-6 receptor signalling"),
            Assignment("il6_excess", "max(il6 - il6_base, 0)", "pg/mL",
                       "IL-6 above baseline (reaches the brain whether or not tocilizumab "
                       "blocks its receptor)"),
            Assignment("il6_acting", "il6*(1 - toci_occupancy)", "pg/mL",
                       "serum IL-6 free to signal (tocilizumab blocks its receptor)"),
            Assignment("il6_rise", "il6_excess/(il6_excess + ec50_il6)", "",
                       "rise of IL-6 above baseline, as a fraction of its maximal effect"),
            Assignment("il6_rise_signal", "il6_rise*(1 - toci_occupancy)", "",
                       "signalling of IL-6 above baseline"),
            Assignment("endo_drive", "il6_rise_signal*(il6_acting/ec50_endo)**n_endo/(1 + "
                       "(il6_acting/ec50_endo)**n_endo)", "",
                       "IL-6 (trans-)signalling on the endothelium: a fragile endothelium "
                       "(low ec50_endo) responds to less IL-6, but only once IL-6 rises above "
                       "its normal level"),
            Assignment("ifng_signal", "ifng_excess/(ifng_excess + ec50_ifng)", "",
                       "IFN-γ signalling"),
            Assignment("inflammation", "(il6_signal + w_ifng_fever*ifng_signal)/"
                       "(1 + w_ifng_fever)", "", "systemic inflammation index (0-1)"),
            Assignment("cns_target_factor", "cns_share_without_cd19 + "
                       "(1 - cns_share_without_cd19)*binds_CD19", "",
                       "neurotoxic drive of the CAR's target: full for CD19"),
            Assignment("vasoplegia", "endo", "", "loss of vascular tone"),
            Assignment("arterial_pressure", "map_base*(1 - map_drop*vasoplegia)", "mmHg",
                       "mean arterial pressure"),
        ],
        equations={
            "endo": "k_endo*endo_drive*(1 - endo) - d_endo*endo",
            "cns": "k_cns*cns_target_factor*(endo + il6_excess/(il6_excess + ec50_endo)"
                   "*il6_rise)/2"
                   "*(1 - cns) "
                   "- (d_cns + k_cns_dex*steroid_effect)*cns",
            "crp": "k_crp*(crp_base + (crp_max - crp_base)*il6_signal - crp)",
            "ferritin": "k_ferritin*(ferritin_base + (ferritin_max - ferritin_base)*mac "
                        "- ferritin)",
            "ldh": "k_ldh*(ldh_base + ldh_per_tumour*tumour_total - ldh) "
                   "+ k_ldh*ldh_per_lysis*tumour_killing",
        },
        observables=[
            Observable("temperature_c", "temp_base + fever_max*inflammation*(1 - steroid_effect)",
                       "degC", "body temperature"),
            Observable("map_mmhg", "arterial_pressure", "mmHg",
                       "mean arterial pressure"),
            Observable("vasopressors",
                       _levels("arterial_pressure", [70, 65, 55], descending=True), "",
                       f"hypotension management: {VASOPRESSOR_LEVELS}"),
            Observable("oxygen_need", _levels("endo", [0.3, 0.45, 0.6, 0.75]), "",
                       f"oxygen support: {OXYGEN_LEVELS}"),
            Observable("il6_pg_ml", "il6", "pg/mL", "serum IL-6 (rises under tocilizumab)"),
            Observable("ifng_pg_ml", "ifng", "pg/mL", "serum IFN-γ"),
            Observable("il10_pg_ml", "il10", "pg/mL", "serum IL-10"),
            Observable("crp_mg_l", "crp", "mg/L", "C-reactive protein"),
            Observable("ferritin_ng_ml", "ferritin", "ng/mL", "ferritin (MAS/HLH marker)"),
            Observable("macrophage_activation", "mac", "", "activated macrophage fraction "
                       "(MAS/HLH driver)"),
            Observable("ldh_u_l", "ldh", "U/L", "LDH (tumour burden and lysis marker)"),
            Observable("ice_score", "floor(10/(1 + (cns/K_cns)**n_ice) + 0.5)", "",
                       "ICE score 0-10 (10 normal)"),
            Observable("consciousness", _levels("cns", [0.6, 0.75, 0.9]), "",
                       "0 awake, 1 awakens to voice, 2 to touch only, 3 unarousable"),
            Observable("seizure", _levels("cns", [0.8, 0.93]), "",
                       f"seizures: {SEIZURE_LEVELS}"),
            Observable("cerebral_edema", _levels("cns", [0.85, 0.95]), "",
                       f"raised intracranial pressure: {EDEMA_LEVELS}"),
            Observable("motor_weakness", _levels("cns", [0.95]), "",
                       f"motor findings: {MOTOR_LEVELS}"),
        ],
        description=__doc__.splitlines()[0],
    )
