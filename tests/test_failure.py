"""Failure classification: type from the response course, antigen status, mechanism, cut-offs."""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.clinical.response import LUGANO_SCALE, Response
from cartsim.journey.assessment import SCALE_OF, Assessment
from cartsim.journey.failure import classify, early_relapse_days
from cartsim.presets import DISEASES
from cartsim.presets.diseases import DISEASE_FACTS

DAYS = np.arange(0.0, 401.0)


class Trajectory:
    """The few series classification reads, constant unless given."""

    def __init__(self, **series):
        base = {"Tp": 1.0, "Tl": 0.0, "Tn": 0.0, "Ts": 0.0, "cart_cells_per_ul": 20.0, "dex": 0.0,
                "Cm": 1.0, "Ce": 1.0, "Cx": 0.0}
        self.time = DAYS
        self.series = {k: np.broadcast_to(np.asarray(series.get(k, v), float), DAYS.shape)
                       for k, v in base.items()}

    def __getitem__(self, name):
        return self.series[name]

    def at(self, name, day):
        return float(self.series[name][int(np.argmin(np.abs(self.time - day)))])


def course(*categories_by_day):
    return [Assessment(day, Response(category, LUGANO_SCALE, "test"))
            for day, category in categories_by_day]


def best(category):
    return Response(category, LUGANO_SCALE, "test")


def test_relapse_after_a_response_is_early_or_late_by_the_cut_off():
    found = course((28, "CR"), (90, "CR"), (180, "PD"))
    early = classify(Trajectory(), found, best("CR"), found[-1], early_relapse_days=365)
    late = classify(Trajectory(), found, best("CR"), found[-1], early_relapse_days=179)
    assert (early.kind, early.day) == ("early relapse", 180)
    assert late.kind == "late relapse"


def test_a_later_line_counts_its_relapse_from_its_own_start():
    found = course((100, "PR"), (182, "PD"))
    assert classify(Trajectory(), found, best("PR"), found[-1], early_relapse_days=180).kind \
        == "late relapse"
    rescue = classify(Trajectory(), found, best("PR"), found[-1], early_relapse_days=180,
                      line_start=70.0, therapy="chemotherapy")
    assert rescue.kind == "early relapse"
    assert rescue.mechanism == "resistance to chemotherapy"
    negative = classify(Trajectory(Tp=0.1, Tn=0.9), found, best("PR"), found[-1], 180,
                        line_start=70.0, therapy="chemotherapy")
    assert (negative.antigen, negative.mechanism) == ("antigen-negative",
                                                       "resistance to chemotherapy")


def test_never_responding_is_primary_refractory_and_partial_without_progression_incomplete():
    refractory = course((28, "SD"), (90, "PD"))
    failure = classify(Trajectory(), refractory, best("SD"), refractory[-1], 365)
    assert (failure.kind, failure.day) == ("primary refractory", 90)
    partial = course((28, "PR"), (90, "PR"))
    failure = classify(Trajectory(), partial, best("PR"), None, 365)
    assert (failure.kind, failure.day) == ("incomplete response", None)
    assert classify(Trajectory(), course((28, "CR")), best("CR"), None, 365) is None


@pytest.mark.parametrize("series, antigen, mechanism", [
    ({"Tp": 0.1, "Tn": 0.9}, "antigen-negative", "antigen escape"),
    ({"Tp": 0.1, "Tl": 0.9}, "antigen-low", "antigen escape"),
    ({"cart_cells_per_ul": 2.0}, "antigen-positive", "poor expansion"),
    ({"dex": np.where(DAYS <= 14, 40.0, 0.0)}, "antigen-positive",
     "suppression (corticosteroids)"),
    ({"cart_cells_per_ul": np.where(DAYS < 60, 20.0, 0.001)}, "antigen-positive",
     "short persistence"),
    ({"Cx": 3.0}, "antigen-positive", "exhaustion"),
    ({}, "antigen-positive", "tumour outgrowth despite persisting CAR-T"),
    # a sanctuary's antigen-positive cells outnumber the negatives: not an escape
    ({"Tp": 0.0, "Ts": 0.6, "Tn": 0.4}, "antigen-positive",
     "tumour outgrowth despite persisting CAR-T"),
])
def test_mechanisms_in_their_order(series, antigen, mechanism):
    found = course((28, "PR"), (120, "PD"))
    failure = classify(Trajectory(**series), found, best("PR"), found[-1], 365)
    assert (failure.antigen, failure.mechanism) == (antigen, mechanism)


def test_expansion_is_judged_after_the_line_started():
    # a good first expansion does not hide a rescue infusion that never expanded
    cells = np.where(DAYS < 100, 30.0, 1.0)
    found = course((128, "PR"), (200, "PD"))
    first = classify(Trajectory(cart_cells_per_ul=cells), found, best("PR"), found[-1], 365)
    rescue = classify(Trajectory(cart_cells_per_ul=cells), found, best("PR"), found[-1], 365,
                      line_start=100.0)
    assert first.mechanism == "tumour outgrowth despite persisting CAR-T"
    assert rescue.mechanism == "poor expansion"


def test_early_relapse_cut_off_follows_the_disease_unless_configured():
    assert early_relapse_days("b-all") == 180  # BFM: 6 months
    assert early_relapse_days("lbcl") == 365   # second-line lymphoma trials: 12 months
    assert early_relapse_days("lbcl", 90) == 90


def test_every_disease_preset_has_its_facts():
    assert DISEASE_FACTS.keys() == DISEASES.keys()
    assert all(facts.criteria in SCALE_OF for facts in DISEASE_FACTS.values())
