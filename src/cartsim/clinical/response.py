"""Tumour response criteria as pure scalar functions, each returning a ``Response`` whose
``rule`` names the criterion that decided it (clinical_rules.md section 5).

Progression is always checked first, so a shrinking lesion with a new lesion is PD.
Ratios are compared with ``reached`` so that an exact boundary (-50%, +20%) counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cartsim.clinical.checks import ClinicalValueError, integer, number, reached
from cartsim.clinical.result import Response

ALL_SCALE = "ALL (CIBMTR)"
LUGANO_SCALE = "Lugano 2014 (CT)"
LUGANO_PET_SCALE = "Lugano 2014 (PET-CT)"
IMWG_SCALE = "IMWG"
RECIST_SCALE = "RECIST 1.1"

# Chosen value: relapse after CR defaults to loss of the CR marrow criterion (>= 5% blasts).
# BBMT 2010 (CIBMTR) defines haematological relapse as >= 25% marrow blasts; pass
# threshold_pct=25 to use it. The default follows the paediatric consensus of
# clinical_rules.md section 5: 5 to < 25% blasts is relapse with one other test showing >= 1%
# blasts, which a simulated patient always has (its flow MRD is the blast fraction itself).
RELAPSE_BLASTS_PCT = 5.0

# MRD cut-offs (fraction of nucleated cells): 1e-4 is the ALL "MRD failure" limit (0.01%),
# 1e-5 the IMWG 2016 and CAR-T trial (KarMMa, CARTITUDE-1) sensitivity.
MRD_THRESHOLDS = (1e-4, 1e-5)

# Chosen value: M-protein below this is taken as undetectable by serum protein electrophoresis
# (typical SPEP sensitivity, about 0.1 g/dL); the IMWG text gives no number.
SPEP_DETECTION_G_DL = 0.1

# Rank of each category, best first, per scale (used by best_overall_response).
RANKS: dict[str, tuple[str, ...]] = {
    ALL_SCALE: ("CR", "CRi", "NR"),
    LUGANO_SCALE: ("CR", "PR", "SD", "PD"),
    LUGANO_PET_SCALE: ("CR", "PR", "SD", "PD"),
    IMWG_SCALE: ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"),
    RECIST_SCALE: ("CR", "PR", "SD", "PD"),
}

# Chosen: the categories that start a duration of response. For IMWG, PR or better (the usual
# overall-response definition in the myeloma CAR-T trials); MR is not counted as a response.
RESPONDERS: dict[str, tuple[str, ...]] = {
    ALL_SCALE: ("CR", "CRi"),
    LUGANO_SCALE: ("CR", "PR"),
    LUGANO_PET_SCALE: ("CR", "PR"),
    IMWG_SCALE: ("sCR", "CR", "VGPR", "PR"),
    RECIST_SCALE: ("CR", "PR"),
}


def _num(field: str, value: float, low: float = 0.0, high: float = math.inf, *,
         unit: str = "", above: bool = False) -> float:
    """``value`` checked as :func:`number` checks it; a plain number in range is passed
    without numpy (the journey assesses every visit of every patient through here)."""
    if isinstance(value, float | int) and not isinstance(value, bool) and math.isfinite(value) \
            and (low < value if above else low <= value) and value <= high:
        return float(value)
    return float(number(field, value, low, high, unit=unit, above=above))


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.3g}%"


def all_response(marrow_blasts_pct: float, *, anc_10e9_l: float, platelets_10e9_l: float,
                 circulating_blasts: bool = False, extramedullary: bool = False) -> Response:
    """CR, CRi or NR for acute lymphoblastic leukaemia, CIBMTR / BBMT 2010 (ALL).

    CR needs < 5% marrow blasts, no circulating blasts, no extramedullary disease,
    ANC >= 1.0 and platelets >= 100 x 10^9/L; CRi is CR without count recovery. The
    >= 4-week maintenance is checked by ``best_overall_response``; transfusion independence
    is not modelled."""
    blasts = _num("marrow_blasts_pct", marrow_blasts_pct, 0, 100, unit="%")
    anc = _num("anc_10e9_l", anc_10e9_l, unit="x 10^9/L")
    platelets = _num("platelets_10e9_l", platelets_10e9_l, unit="x 10^9/L")
    if blasts >= 5.0:
        return Response("NR", ALL_SCALE, f"marrow blasts {blasts:g}% (>= 5%) -> NR")
    if circulating_blasts:
        return Response("NR", ALL_SCALE, "circulating blasts present -> NR")
    if extramedullary:
        return Response("NR", ALL_SCALE, "extramedullary disease present -> NR")
    low = [f"ANC {anc:g} (< 1.0)"] if anc < 1.0 else []
    low += [f"platelets {platelets:g} (< 100)"] if platelets < 100.0 else []
    if low:
        return Response("CRi", ALL_SCALE, f"marrow blasts {blasts:g}% (< 5%) but "
                        f"{' and '.join(low)} x 10^9/L -> CRi")
    return Response("CR", ALL_SCALE, f"marrow blasts {blasts:g}% (< 5%), no circulating or "
                    "extramedullary disease, counts recovered -> CR")


def all_relapse(marrow_blasts_pct: float, *, circulating_blasts: bool = False,
                extramedullary: bool = False, threshold_pct: float = RELAPSE_BLASTS_PCT) -> bool:
    """Relapse after CR, CIBMTR / BBMT 2010 (ALL): marrow blasts >= ``threshold_pct``, or
    blasts in the blood, or disease at any extramedullary site (isolated CNS included)."""
    blasts = _num("marrow_blasts_pct", marrow_blasts_pct, 0, 100, unit="%")
    threshold = _num("threshold_pct", threshold_pct, 0, 100, unit="%", above=True)
    return blasts >= threshold or circulating_blasts or extramedullary


def mrd_status(mrd_fraction: float) -> str:
    """MRD class of a fraction of nucleated cells: negative below 1e-5 (IMWG 2016, Kumar 2016)
    or below 1e-4 (ALL, CIBMTR / BBMT 2010: MRD failure is > 0.01%), otherwise positive."""
    fraction = _num("mrd_fraction", mrd_fraction, 0, 1)
    for threshold in sorted(MRD_THRESHOLDS):
        if fraction < threshold:
            return f"MRD-negative (<{threshold:.0e})".replace("e-0", "e-")
    return "MRD-positive"


def lugano_ct(spd_mm2: float, *, baseline_spd_mm2: float, nadir_spd_mm2: float,
              largest_ldi_mm: float, nadir_largest_ldi_mm: float,
              new_lesion: bool = False) -> Response:
    """CT-based response for lymphoma, Cheson 2014 (Lugano).

    PD: a new lesion, regrowth above 1.5 cm of resolved disease, or the largest lesion with
    LDi > 15 mm, SPD >= 1.5 x nadir and LDi up from nadir by >= 5 mm (lesion <= 20 mm now)
    or >= 10 mm (> 20 mm). Simplification: Lugano applies the 50% rise to one node's PPD;
    here the SPD and the largest lesion stand in for that node. CR: largest LDi <= 15 mm
    (extralymphatic, organ and marrow criteria not modelled). PR: SPD down >= 50% from
    baseline. Otherwise SD."""
    spd = _num("spd_mm2", spd_mm2, unit="mm^2")
    baseline = _num("baseline_spd_mm2", baseline_spd_mm2, unit="mm^2", above=True)
    nadir = _num("nadir_spd_mm2", nadir_spd_mm2, 0, baseline, unit="mm^2 (at most baseline)")
    ldi = _num("largest_ldi_mm", largest_ldi_mm, unit="mm")
    nadir_ldi = _num("nadir_largest_ldi_mm", nadir_largest_ldi_mm, unit="mm")
    if new_lesion:
        return Response("PD", LUGANO_SCALE, "new lesion -> PD")
    if ldi <= 15.0:
        return Response("CR", LUGANO_SCALE, f"largest LDi {ldi:g} mm (<= 15 mm) -> CR")
    if nadir == 0.0:
        return Response("PD", LUGANO_SCALE, f"resolved disease (nadir SPD 0) regrew to LDi "
                        f"{ldi:g} mm (> 15 mm) -> PD")
    rise = ldi - nadir_ldi
    needed = 5.0 if ldi <= 20.0 else 10.0  # lesion size read as its current LDi
    if reached(spd / nadir, 1.5) and reached(rise, needed):
        return Response("PD", LUGANO_SCALE, f"LDi {ldi:g} mm (> 15 mm), SPD up "
                        f"{_pct(spd / nadir - 1)} from nadir (>= 50%) and LDi up {rise:g} mm "
                        f"from nadir (>= {needed:g} mm) -> PD")
    fall = (baseline - spd) / baseline
    if reached(fall, 0.5):
        return Response("PR", LUGANO_SCALE, f"SPD fell {_pct(fall)} from baseline (>= 50%) -> PR")
    return Response("SD", LUGANO_SCALE, f"SPD change {_pct(-fall)} from baseline (fall < 50%), "
                    "PD criteria not met -> SD")


def lugano_pet_ct(deauville: int, ct: Response, *, new_fdg_avid_lesion: bool = False) -> Response:
    """PET-CT response for FDG-avid lymphoma, Cheson 2014 (Lugano), from the Deauville score
    (1-5) and the CT response of the same scan (:func:`lugano_ct`).

    PMD: a new FDG-avid lesion, or a score of 4-5 with CT progression (increased uptake read
    as growth). CMR: score 1-3, with or without a residual mass. PMR: score 4-5 with reduced
    uptake, read as a CT partial or complete response (a residual mass of any size). Otherwise
    no metabolic response (SD). Simplification: the model has no SUV, so the change in uptake
    is read from the CT course."""
    score = int(integer("deauville", deauville, 1, 5))
    if ct.scale != LUGANO_SCALE:
        raise ClinicalValueError("ct", ct.scale, f"must be a {LUGANO_SCALE} response")
    if new_fdg_avid_lesion:
        return Response("PD", LUGANO_PET_SCALE, "new FDG-avid lesion -> PMD (PD)")
    if score <= 3:
        return Response("CR", LUGANO_PET_SCALE, f"Deauville {score} (<= 3), with or without a "
                        "residual mass -> CMR (CR)")
    if ct.category == "PD":
        return Response("PD", LUGANO_PET_SCALE, f"Deauville {score} with CT progression "
                        f"({ct.rule}) -> PMD (PD)")
    if ct.category in ("CR", "PR"):
        return Response("PR", LUGANO_PET_SCALE, f"Deauville {score} (4-5) with reduced uptake "
                        f"(CT: {ct.category}), residual mass -> PMR (PR)")
    return Response("SD", LUGANO_PET_SCALE, f"Deauville {score} (4-5) without a significant "
                    "change -> NMR (SD)")


def imwg_response(m_protein_g_dl: float, *, baseline_g_dl: float, nadir_g_dl: float,
                  immunofixation_negative: bool, marrow_plasma_cells_pct: float | None = None,
                  flc_ratio_normal: bool | None = None,
                  clonal_plasma_cells_absent: bool | None = None) -> Response:
    """Myeloma response from serum M-protein, Kumar 2016 / Durie 2006 (IMWG).

    PD: M-protein >= 25% above nadir and >= 0.5 g/dL higher; with a nadir >= 5 g/dL a rise
    of >= 1 g/dL is sufficient on its own (Kumar 2016 lists it as a separate criterion; Durie
    2006 footnote). sCR: CR + normal FLC ratio + no clonal marrow plasma cells. CR:
    immunofixation negative (serum and urine) and < 5% marrow plasma cells. VGPR: below
    electrophoresis detection or >= 90% reduction. PR: >= 50%. MR: 25-49%. Otherwise SD.
    Urine M-protein, FLC-only disease, plasmacytomas and bone lesions are not modelled
    except through the flags. Two consecutive assessments: see ``best_overall_response``."""
    m = _num("m_protein_g_dl", m_protein_g_dl, unit="g/dL")
    baseline = _num("baseline_g_dl", baseline_g_dl, unit="g/dL", above=True)
    nadir = _num("nadir_g_dl", nadir_g_dl, 0, baseline, unit="g/dL (at most baseline)")
    marrow = None if marrow_plasma_cells_pct is None else _num(
        "marrow_plasma_cells_pct", marrow_plasma_cells_pct, 0, 100, unit="%")
    if immunofixation_negative and m >= SPEP_DETECTION_G_DL:
        raise ClinicalValueError("immunofixation_negative", True, "impossible with M-protein "
                                 f"{m:g} g/dL, detectable by electrophoresis")
    rise = m - nadir
    if reached(rise, 0.5) and (nadir == 0.0 or reached(rise / nadir, 0.25)):
        return Response("PD", IMWG_SCALE, f"M-protein up {rise:g} g/dL from nadir {nadir:g} "
                        "(>= 25% and >= 0.5 g/dL) -> PD")
    if nadir >= 5.0 and reached(rise, 1.0):
        return Response("PD", IMWG_SCALE, f"M-protein up {rise:g} g/dL from nadir {nadir:g} "
                        "(nadir >= 5 g/dL, rise >= 1 g/dL) -> PD")
    if immunofixation_negative and marrow is not None and marrow < 5.0:
        cr = f"immunofixation negative and marrow plasma cells {marrow:g}% (< 5%)"
        if flc_ratio_normal and clonal_plasma_cells_absent:
            return Response("sCR", IMWG_SCALE, f"{cr}, normal FLC ratio and no clonal plasma "
                            "cells -> sCR")
        if False in (flc_ratio_normal, clonal_plasma_cells_absent):
            return Response("CR", IMWG_SCALE, f"{cr} -> CR (sCR criteria not met)")
        return Response("CR", IMWG_SCALE, f"{cr} -> CR (sCR not assessed)")
    if m < SPEP_DETECTION_G_DL:
        if not immunofixation_negative:
            why = "detectable by immunofixation only"
        elif marrow is None:
            why = "immunofixation negative but marrow not assessed, so CR is not assessable"
        else:
            why = f"immunofixation negative but marrow plasma cells {marrow:g}% (>= 5%)"
        return Response("VGPR", IMWG_SCALE, f"M-protein {m:g} g/dL below electrophoresis "
                        f"detection ({SPEP_DETECTION_G_DL:g} g/dL), {why} -> VGPR")
    fall = (baseline - m) / baseline
    for category, needed in (("VGPR", 0.9), ("PR", 0.5), ("MR", 0.25)):
        if reached(fall, needed):
            return Response(category, IMWG_SCALE, f"M-protein fell {_pct(fall)} from baseline "
                            f"(>= {_pct(needed)}) -> {category}")
    return Response("SD", IMWG_SCALE, f"M-protein change {_pct(-fall)} from baseline (fall "
                    "< 25%), PD criteria not met -> SD")


def recist_response(sum_mm: float, *, baseline_sum_mm: float, nadir_sum_mm: float,
                    new_lesion: bool = False, nontarget_progression: bool = False,
                    nodes_below_10mm: bool = True,
                    nonnodal_targets_gone: bool | None = None) -> Response:
    """Solid-tumour response, Eisenhauer 2009 (RECIST 1.1).

    PD: a new lesion, unequivocal non-target progression, or a sum >= 20% above the nadir
    and >= 5 mm higher. CR: non-nodal targets gone (taken as a sum of 0 when
    ``nonnodal_targets_gone`` is None) and every pathological node < 10 mm short axis.
    PR: sum >= 30% below baseline. Otherwise SD."""
    total = _num("sum_mm", sum_mm, unit="mm")
    baseline = _num("baseline_sum_mm", baseline_sum_mm, unit="mm", above=True)
    nadir = _num("nadir_sum_mm", nadir_sum_mm, 0, baseline, unit="mm (at most baseline)")
    if new_lesion:
        return Response("PD", RECIST_SCALE, "new lesion -> PD")
    if nontarget_progression:
        return Response("PD", RECIST_SCALE, "unequivocal non-target progression -> PD")
    rise = total - nadir
    if reached(rise, 5.0) and (nadir == 0.0 or reached(total / nadir, 1.2)):
        return Response("PD", RECIST_SCALE, f"sum up {rise:g} mm from nadir {nadir:g} mm "
                        "(>= 20% and >= 5 mm) -> PD")
    gone = total == 0.0 if nonnodal_targets_gone is None else nonnodal_targets_gone
    if gone and nodes_below_10mm:
        return Response("CR", RECIST_SCALE, "non-nodal targets gone and every pathological "
                        "node < 10 mm -> CR")
    fall = (baseline - total) / baseline
    if reached(fall, 0.3):
        return Response("PR", RECIST_SCALE, f"sum fell {_pct(fall)} from baseline (>= 30%) "
                        "-> PR")
    return Response("SD", RECIST_SCALE, f"sum change {_pct(-fall)} from baseline (fall < 30%), "
                    "PD criteria not met -> SD")


def _timeline(assessments: Sequence[tuple[float, Response]]) -> str | None:
    """Check the days (finite, >= 0, strictly increasing) and that one scale is used; return
    that scale (None when empty)."""
    scales = {response.scale for _, response in assessments}
    if len(scales) > 1:
        raise ClinicalValueError("assessments", ", ".join(sorted(scales)),
                                 "must all use one scale")
    scale = scales.pop() if scales else None
    if scale is not None and scale not in RANKS:
        raise ClinicalValueError("scale", scale, f"must be one of {', '.join(RANKS)}")
    previous = -math.inf
    for when, response in assessments:
        day = _num("day", when, unit="(days)")
        if day <= previous:
            raise ClinicalValueError("day", day, "must be later than the previous assessment")
        if response.category not in RANKS[response.scale]:
            raise ClinicalValueError("category", response.category,
                                     f"must be one of {', '.join(RANKS[response.scale])}")
        previous = day
    return scale


def best_overall_response(assessments: Sequence[tuple[float, Response]], scale: str, *,
                          confirm_days: float = 28) -> Response:
    """Best overall response over ``(day, Response)`` assessments in time order, up to the
    first PD.

    A level counts only once confirmed: ALL (CIBMTR / BBMT 2010, CR maintained >= 4 weeks)
    and Eisenhauer 2009 (RECIST 1.1) need every assessment up to one at least
    ``confirm_days`` later at that level or better; Kumar 2016 / Durie 2006 (IMWG) need the
    next assessment at that level or better; Cheson 2014 (Lugano) needs none. An unconfirmed
    level falls back to SD (NR for ALL), or to PD when PD comes before the confirming
    assessment; the same holds for SD itself (a stand-in for RECIST's SD minimum duration,
    which is protocol-defined and not modelled), so a better course never scores worse."""
    if scale not in RANKS:
        raise ClinicalValueError("scale", scale, f"must be one of {', '.join(RANKS)}")
    if not assessments:
        raise ClinicalValueError("assessments", "[]", "need at least one assessment")
    if _timeline(assessments) != scale:
        raise ClinicalValueError("scale", scale, "must match the scale of the assessments")
    confirm = _num("confirm_days", confirm_days, unit="days")
    order = RANKS[scale]  # best first: a lower index is a better level
    stop = next((i + 1 for i, (_, r) in enumerate(assessments) if r.category == "PD"),
                len(assessments))
    days = [float(day) for day, _ in assessments[:stop]]
    ranks = [order.index(r.category) for _, r in assessments[:stop]]
    floor = order.index("NR" if scale == ALL_SCALE else "SD")
    best: tuple[int, str] | None = None
    for i, (day, rank) in enumerate(zip(days, ranks, strict=True)):
        name = f"{order[rank]} on day {day:g}"
        if scale in (LUGANO_SCALE, LUGANO_PET_SCALE):
            found = (rank, f"{name} (Lugano needs no confirmation) -> {order[rank]}")
        else:
            later = range(i + 1, len(days))
            if scale == IMWG_SCALE:
                j, wanted = (i + 1 if later else None), "no next assessment"
            else:
                j = next((k for k in later if days[k] >= day + confirm), None)
                wanted = f"no assessment {confirm:g}+ days later"
            held = max(ranks[i:] if j is None else ranks[i:j + 1])
            level = held if j is not None else max(held, floor)
            if order[rank] == "PD" or (order[level] != "PD" and level == rank):
                when = "" if j is None else f" confirmed on day {days[j]:g}"
                found = (level, f"{name}{when} -> {order[level]}")
            elif order[level] == "PD":
                found = (level, f"{name} not confirmed: PD on day {days[-1]:g} -> PD")
            elif j is None:
                found = (level, f"{name} not confirmed ({wanted}) -> {order[level]}")
            else:
                found = (level, f"{name}, {order[level]} or better through day {days[j]:g} "
                         f"-> {order[level]}")
        if best is None or found[0] < best[0]:
            best = found
    assert best is not None
    return Response(order[best[0]], scale, best[1])


def duration_of_response(assessments: Sequence[tuple[float, Response]],
                         progression_categories: Sequence[str] = ("PD",),
                         ) -> tuple[float, bool] | None:
    """Days from the first response (CR/PR; CR/CRi for ALL; PR or better for IMWG) to the
    first later assessment in ``progression_categories``, as ``(days, True)``; censored at
    the last assessment as ``(days, False)``; None if the patient never responded."""
    scale = _timeline(assessments)
    if scale is None:
        return None
    start = next((float(day) for day, r in assessments if r.category in RESPONDERS[scale]),
                 None)
    if start is None:
        return None
    for day, response in assessments:
        if day > start and response.category in progression_categories:
            return float(day) - start, True
    return float(assessments[-1][0]) - start, False
