"""Cytopenia grades after CAR-T: CTCAE v5.0 "neutrophil count decreased" and "platelet count
decreased", the grading the CAR-T trials report cytopenias by (KarMMa: grade 3-4 neutropenia
91%, thrombocytopenia 63%; trials_training.csv).

Grade 1 starts below the lower limit of normal (LLN), which CTCAE leaves to the laboratory; the
LLNs here are chosen typical adult values. A count exactly on a boundary takes the milder grade
(CTCAE bands read "< 1.0 - 0.5": grade 3 is below 1.0 and at least 0.5).
"""

from __future__ import annotations

from cartsim.clinical.checks import number

ANC_LLN = 1.8
"""Chosen: a typical laboratory lower limit of normal for the ANC, 10^9/L."""
PLATELET_LLN = 150.0
"""Chosen: a typical laboratory lower limit of normal for platelets, 10^9/L."""

NEUTROPENIA_BANDS = (1.5, 1.0, 0.5)
"""CTCAE v5.0: grade 2 below 1.5, grade 3 below 1.0, grade 4 below 0.5 x 10^9/L."""
THROMBOCYTOPENIA_BANDS = (75.0, 50.0, 25.0)
"""CTCAE v5.0: grade 2 below 75, grade 3 below 50, grade 4 below 25 x 10^9/L."""


def _grade(values, lln: float, bands: tuple[float, float, float]):
    """Grade 0-4 of each count: one step below the LLN, one below each band's cut-off."""
    grade = (values < lln).astype(int) + sum((values < cut).astype(int) for cut in bands)
    return int(grade) if grade.ndim == 0 else grade


def neutropenia_grade(anc_10e9_l):
    """CTCAE v5.0 grade 0-4 of an absolute neutrophil count (10^9/L), or of each in an
    array."""
    return _grade(number("anc_10e9_l", anc_10e9_l, 0, 200, unit="x 10^9/L"), ANC_LLN,
                  NEUTROPENIA_BANDS)


def thrombocytopenia_grade(platelets_10e9_l):
    """CTCAE v5.0 grade 0-4 of a platelet count (10^9/L), or of each in an array."""
    return _grade(number("platelets_10e9_l", platelets_10e9_l, 0, 2000, unit="x 10^9/L"),
                  PLATELET_LLN, THROMBOCYTOPENIA_BANDS)
