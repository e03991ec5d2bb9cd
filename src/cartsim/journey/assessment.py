"""Response assessment of a simulated patient at the protocol's visits, by the disease's
criteria: the model's burden observables are what the clinician measures.

B-ALL: marrow blasts and MRD (blast fraction of nucleated marrow cells), and the simulated ANC and
platelets for count recovery (CR) or not (CRi). Lymphoma: SPD of the model's equal target lesions,
each lesion's diameter ``sqrt(SPD / n_lesions)``; by PET-CT (the default, as in the CAR-T lymphoma
trials) a lesion's Deauville score follows from its diameter, since every modelled tumour cell is
viable and FDG-avid. Myeloma: serum M-protein; immunofixation turns negative below
``IFE_DETECTION_G_DL`` and a tumour that is extinct has a normal FLC ratio and no clonal plasma
cells. Solid tumours: the sum of longest diameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cartsim.clinical import response as criteria
from cartsim.clinical.result import Response
from cartsim.presets import disease_facts

SCALE_OF = {"ALL": criteria.ALL_SCALE, "Lugano": criteria.LUGANO_SCALE,
            "Lugano-PET": criteria.LUGANO_PET_SCALE,
            "IMWG": criteria.IMWG_SCALE, "RECIST": criteria.RECIST_SCALE}
IFE_DETECTION_G_DL = 0.01
"""Chosen: serum immunofixation detects M-protein down to about 0.01-0.02 g/dL, an order of
magnitude below electrophoresis; no value in reference/."""
PET_VISIBLE_LESION_MM = 6.0
"""Chosen: a viable lymphoma lesion narrower than about 6 mm (close to a PET scanner's
resolution) loses most of its apparent uptake to the partial-volume effect and reads at or
below liver uptake (Deauville <= 3) despite DLBCL's high FDG avidity; no value in
reference/."""
PET_MARKED_LESION_MM = 10.0
"""Chosen: from about 10 mm a viable DLBCL lesion's uptake is markedly above liver
(Deauville 5); between the two, moderately above (4)."""


MRD_NEGATIVE_BELOW = {"ALL": 1e-4, "IMWG": 1e-5}
"""The MRD-negativity threshold each criteria's trials report (ALL: 10^-4 of nucleated marrow
cells; myeloma: 10^-5, IMWG 2016); criteria without one assess no MRD."""


def criteria_of(protocol: dict) -> str:
    """The response criteria a scenario is assessed by: its own, else its disease's."""
    return protocol["visits"]["criteria"] or disease_facts(protocol["disease"]).criteria


@dataclass(frozen=True)
class Assessment:
    day: float
    response: Response
    mrd: str | None = None
    mrd_fraction: float | None = None
    """Tumour cells among nucleated marrow cells (ALL blasts, myeloma plasma cells)."""


def mrd_negative(assessments: list[Assessment], criteria_name: str) -> bool | None:
    """Whether any assessment found MRD below the criteria's threshold (None: the criteria
    assess no MRD, or there were no assessments)."""
    threshold = MRD_NEGATIVE_BELOW.get(criteria_name)
    if threshold is None or not assessments:
        return None
    return any(a.mrd_fraction is not None and a.mrd_fraction < threshold for a in assessments)


MEASURE = {"ALL": "marrow_blasts_pct", "Lugano": "spd_mm2", "Lugano-PET": "spd_mm2",
           "IMWG": "m_protein_g_dl", "RECIST": "sld_mm"}
"""The tumour measure each response criteria reads (a trajectory observable)."""


def best_change_pct(run, criteria_name: str, assessments: list[Assessment], *,
                    baseline_day: float) -> float | None:
    """The best (lowest) change of the criteria's tumour measure at ``assessments`` from its
    baseline, in percent (-100: none left), the bar of a waterfall plot; None without a
    measurable baseline or an assessment."""
    name = MEASURE[criteria_name]
    baseline = run.at(name, baseline_day)
    if baseline <= 0.0 or not assessments:
        return None
    return round(100.0 * (min(run.at(name, a.day) for a in assessments) / baseline - 1.0), 2)


def assess(run, criteria_name: str, days, *, baseline_day: float,
           n_lesions: float) -> list[Assessment]:
    """Assessments at ``days`` (within the run), against the burden at ``baseline_day``; none
    when there is no measurable disease at baseline (bridging cleared it): not evaluable."""
    days = [d for d in days if run.time[0] <= d <= run.time[-1]]
    if criteria_name == "ALL":
        return [_assess_all(run, day) for day in days]
    name = MEASURE[criteria_name]
    baseline = run.at(name, baseline_day)
    if baseline <= 0.0:
        return []
    nadir = baseline
    found = []
    for day in days:
        value = run.at(name, day)
        if criteria_name == "Lugano":
            result = _lugano(value, baseline, nadir, n_lesions)
        elif criteria_name == "Lugano-PET":
            result = criteria.lugano_pet_ct(deauville_score(value, n_lesions),
                                            _lugano(value, baseline, nadir, n_lesions))
        elif criteria_name == "IMWG":
            result = _imwg(value, baseline, nadir, run, day)
        else:
            result = criteria.recist_response(value, baseline_sum_mm=baseline,
                                              nadir_sum_mm=nadir)
        if criteria_name == "IMWG":  # marrow plasma cells: myeloma MRD
            plasma = run.at("marrow_blasts_pct", day) / 100.0
            found.append(Assessment(day, result, criteria.mrd_status(plasma), plasma))
        else:
            found.append(Assessment(day, result))
        nadir = min(nadir, value)
    return found


def _assess_all(run, day: float) -> Assessment:
    blasts = run.at("marrow_blasts_pct", day)
    result = criteria.all_response(blasts, anc_10e9_l=run.at("anc_10e9_l", day),
                                   platelets_10e9_l=run.at("platelets_10e9_l", day))
    return Assessment(day, result, criteria.mrd_status(blasts / 100.0), blasts / 100.0)


def _lesion_mm(spd_mm2: float, n_lesions: float) -> float:
    """Diameter of each of the model's equal lesions whose products sum to ``spd_mm2``."""
    return float(np.sqrt(spd_mm2 / n_lesions))


def deauville_score(spd_mm2: float, n_lesions: float) -> int:
    """The Deauville score of the model's equal lesions: 1 when no tumour is left, 3 below
    ``PET_VISIBLE_LESION_MM``, 4 below ``PET_MARKED_LESION_MM``, else 5."""
    diameter = _lesion_mm(spd_mm2, n_lesions)
    if diameter == 0.0:
        return 1
    if diameter < PET_VISIBLE_LESION_MM:
        return 3
    return 4 if diameter < PET_MARKED_LESION_MM else 5


def _lugano(spd: float, baseline: float, nadir: float, n_lesions: float) -> Response:
    return criteria.lugano_ct(spd, baseline_spd_mm2=baseline, nadir_spd_mm2=nadir,
                              largest_ldi_mm=_lesion_mm(spd, n_lesions),
                              nadir_largest_ldi_mm=_lesion_mm(nadir, n_lesions))


def _imwg(mprot: float, baseline: float, nadir: float, run, day: float) -> Response:
    blasts = run.at("marrow_blasts_pct", day)
    extinct = run.at("tumour_cells", day) == 0.0
    return criteria.imwg_response(mprot, baseline_g_dl=baseline, nadir_g_dl=min(nadir, baseline),
                                  immunofixation_negative=mprot < IFE_DETECTION_G_DL,
                                  marrow_plasma_cells_pct=blasts,
                                  flc_ratio_normal=extinct, clonal_plasma_cells_absent=extinct)


def progressed(assessment: Assessment) -> bool:
    """PD, or for ALL loss of remission (blasts back at or above the relapse threshold)."""
    if assessment.response.scale == criteria.ALL_SCALE:
        return assessment.response.category == "NR"
    return assessment.response.category == "PD"


def responded(assessment: Assessment) -> bool:
    return assessment.response.category in criteria.RESPONDERS[assessment.response.scale]


def first_progression(assessments: list[Assessment]) -> Assessment | None:
    """The first progression: after a response for ALL (before it, NR is refractory disease),
    at any assessment otherwise."""
    seen_response = False
    for a in assessments:
        if (seen_response or a.response.scale != criteria.ALL_SCALE) and progressed(a):
            return a
        seen_response = seen_response or responded(a)
    return None
