"""Blood counts: CTCAE grades at every boundary, and the marrow model's behaviour (steady
state, chemotherapy nadir and recovery, marrow disease crowding production)."""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.clinical.checks import ClinicalValueError
from cartsim.clinical.cytopenia import neutropenia_grade, thrombocytopenia_grade
from cartsim.therapy.simulate import simulate_patient


@pytest.mark.parametrize(("anc", "grade"), [
    (1.8, 0), (1.79, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4), (0.0, 4),
])
def test_neutropenia_grade_boundaries(anc, grade):
    assert neutropenia_grade(anc) == grade


@pytest.mark.parametrize(("platelets", "grade"), [
    (150, 0), (149, 1), (75, 1), (74.9, 2), (50, 2), (49.9, 3), (25, 3), (24.9, 4), (0, 4),
])
def test_thrombocytopenia_grade_boundaries(platelets, grade):
    assert thrombocytopenia_grade(platelets) == grade


@pytest.mark.parametrize("call", [lambda: neutropenia_grade(-0.1),
                                  lambda: thrombocytopenia_grade(float("nan")),
                                  lambda: thrombocytopenia_grade(5000)])
def test_impossible_counts_are_refused(call):
    with pytest.raises(ClinicalValueError):
        call()


@pytest.fixture(scope="module")
def myeloma():
    return simulate_patient("ide-cel", "mm", t_end=120)


def test_counts_hold_their_baseline_without_therapy_and_fall_as_marrow_disease_grows():
    untreated = {"dose_cells": 0.0, "flu_days": 0.0, "cy_days": 0.0, "anc0": 3.0, "plt0": 210.0}
    outside = simulate_patient("ide-cel", "mm", t_end=60, marrow_tumour_share=0.0, **untreated)
    assert np.allclose(outside["anc_10e9_l"], 3.0, rtol=1e-3)
    assert np.allclose(outside["platelets_10e9_l"], 210.0, rtol=1e-3)
    inside = simulate_patient("ide-cel", "mm", t_end=60, **untreated)
    assert inside.at("anc_10e9_l", 60) < 0.97 * 3.0
    assert inside.at("platelets_10e9_l", 60) < 0.97 * 210.0


def test_lymphodepletion_and_crs_give_a_nadir_then_recovery(myeloma):
    """Neutrophils bottom out in the first two weeks, platelets later; both recover by day 60
    (above baseline: the myeloma that crowded the marrow is gone)."""
    anc, plt, time = myeloma["anc_10e9_l"], myeloma["platelets_10e9_l"], myeloma.time
    assert anc.min() < 1.0 and plt.min() < 75.0
    assert 0 < time[anc.argmin()] <= 14
    assert time[anc.argmin()] <= time[plt.argmin()] <= 28
    assert myeloma.at("anc_10e9_l", 60) >= 2.0 and myeloma.at("platelets_10e9_l", 60) >= 150.0


def test_more_chemotherapy_deeper_nadir():
    light = simulate_patient("ide-cel", "mm", t_end=40, flu_days=1.0, cy_days=1.0)
    full = simulate_patient("ide-cel", "mm", t_end=40)
    assert full["anc_10e9_l"].min() < light["anc_10e9_l"].min()
    assert full["platelets_10e9_l"].min() < light["platelets_10e9_l"].min()


def test_grades_of_an_array_match_the_scalar_grades():
    counts = np.array([2.0, 1.2, 0.7, 0.2])
    assert neutropenia_grade(counts).tolist() == [neutropenia_grade(c) for c in counts]
    assert neutropenia_grade(counts).tolist() == [0, 2, 3, 4]


def test_journey_grades_cytopenias_over_time():
    """A myeloma journey: the graded series' worst grade is the nadir's grade, and the days
    spent at grade >= 1 span the nadir."""
    from cartsim.journey import protocol_from_mapping
    from cartsim.journey.batch import run_journey

    journey = run_journey(protocol_from_mapping({
        "product": "ide-cel", "disease": "mm", "seed": 1, "follow_up_days": 60.0,
        "visits": {"days": [28.0]}, "rescue": {"enabled": False}}))
    for scale, grade_of in (("neutropenia", neutropenia_grade),
                            ("thrombocytopenia", thrombocytopenia_grade)):
        summary = journey.outcome.first_line.toxicity[scale]
        assert summary.max == grade_of(summary.nadir_10e9_l) >= 3
        assert summary.onset_day <= summary.nadir_day
        assert 0 < summary.duration_days < 60
        assert journey.grades.grades[scale].max() == summary.max
