"""Baseline risk scores measured before lymphodepletion: CAR-HEMATOTOX and EASIX.

CAR-HEMATOTOX (Rejeski et al., Blood 2021;138:2499-2513): five markers, platelets and ferritin
weighted 0-2 points and ANC, haemoglobin and CRP 0-1; 0-1 points is low risk of prolonged
neutropenia, >= 2 high (weighting and groups: clinical_rules.md section 3, read). The per-item
cut-offs are those of the score table in Rejeski 2021 (figure 2A); the reference file lists them
as not yet read in a source, so they are stated here and tested at each boundary. Values on a
cut-off score the lower-risk side except where the table's band is closed on that side
(platelets 75-175 and ferritin 650-2000 include their end points).

EASIX (Pennisi et al., Blood Adv 2021;5:3397): LDH × creatinine / platelets, with the simplified
(LDH / platelets) and modified (LDH × CRP / platelets) variants. No risk cut-off was sourced, so
EASIX is a continuous covariate and ``risk`` is None.
"""

from __future__ import annotations

from cartsim.clinical.checks import ClinicalValueError, number
from cartsim.clinical.result import Score

HEMATOTOX_HIGH_RISK_FROM = 2


def _platelet_points(platelets: float) -> tuple[int, str]:
    if platelets > 175:
        return 0, f"platelets {platelets:g} > 175"
    if platelets >= 75:
        return 1, f"platelets {platelets:g} in 75-175"
    return 2, f"platelets {platelets:g} < 75"


def _ferritin_points(ferritin: float) -> tuple[int, str]:
    if ferritin < 650:
        return 0, f"ferritin {ferritin:g} < 650"
    if ferritin <= 2000:
        return 1, f"ferritin {ferritin:g} in 650-2000"
    return 2, f"ferritin {ferritin:g} > 2000"


def _below(name: str, value: float, cut: float) -> tuple[int, str]:
    if value < cut:
        return 1, f"{name} {value:g} < {cut:g}"
    return 0, f"{name} {value:g} >= {cut:g}"


def hematotox(platelets_10e9_l: float, anc_10e9_l: float, hemoglobin_g_dl: float,
              crp_mg_dl: float, ferritin_ng_ml: float) -> Score:
    """CAR-HEMATOTOX score (0-7) and risk group from the five pre-lymphodepletion markers."""
    platelets = float(number("platelets", platelets_10e9_l, 0, 2000, unit="x10^9/L"))
    anc = float(number("anc", anc_10e9_l, 0, 200, unit="x10^9/L"))
    hb = float(number("hemoglobin", hemoglobin_g_dl, 1, 25, unit="g/dL"))
    crp = float(number("crp", crp_mg_dl, 0, 100, unit="mg/dL"))
    ferritin = float(number("ferritin", ferritin_ng_ml, 0, 500000, unit="ng/mL"))
    crp_points = ((1, f"CRP {crp:g} > 3.0") if crp > 3.0 else (0, f"CRP {crp:g} <= 3.0"))
    items = [_platelet_points(platelets), _below("ANC", anc, 1.2),
             _below("haemoglobin", hb, 9.0), crp_points, _ferritin_points(ferritin)]
    total = sum(points for points, _ in items)
    risk = "high" if total >= HEMATOTOX_HIGH_RISK_FROM else "low"
    scored = ", ".join(f"{text} ({points})" for points, text in items)
    return Score(total, risk, "CAR-HEMATOTOX",
                 f"{scored}; total {total} -> {risk} risk (high from "
                 f"{HEMATOTOX_HIGH_RISK_FROM})")


EASIX_VARIANTS = ("easix", "simplified", "m-easix")


def easix(ldh_u_l: float, platelets_10e9_l: float, *, creatinine_mg_dl: float | None = None,
          crp_mg_dl: float | None = None, variant: str = "easix") -> Score:
    """EASIX = LDH × creatinine / platelets; ``simplified`` drops creatinine, ``m-easix``
    replaces it with CRP (mg/dL)."""
    if variant not in EASIX_VARIANTS:
        raise ClinicalValueError("variant", variant, f"must be one of {', '.join(EASIX_VARIANTS)}")
    ldh = float(number("ldh", ldh_u_l, 0, 100000, unit="U/L", above=True))
    platelets = float(number("platelets", platelets_10e9_l, 0, 2000, unit="x10^9/L", above=True))
    if variant == "simplified":
        factor, factor_text = 1.0, ""
    else:
        name, value, unit = (("creatinine", creatinine_mg_dl, "mg/dL") if variant == "easix"
                             else ("crp", crp_mg_dl, "mg/dL"))
        if value is None:
            raise ClinicalValueError(name, "missing", f"is required for {variant}")
        factor = float(number(name, value, 0, 100, unit=unit))
        factor_text = f" × {name} {factor:g}"
    score = ldh * factor / platelets
    return Score(round(score, 6), None, variant.upper(),
                 f"LDH {ldh:g}{factor_text} / platelets {platelets:g} = {score:.4g} "
                 "(continuous; no sourced risk cut-off)")
