"""Every grade boundary of the CRS scales (ASTCT 2019, Lee 2014, Penn) and ASTCT ICANS, and
the CAR-HEMATOTOX and EASIX scores. Expected grades are read off the tables in
../shared/reference/clinical_rules.md, sections 1-3, not computed by the code under test."""

from __future__ import annotations

import pytest

from cartsim.clinical.checks import ClinicalValueError
from cartsim.clinical.crs import astct_crs, lee2014_crs, penn_crs
from cartsim.clinical.icans import astct_icans
from cartsim.clinical.scores import easix, hematotox


@pytest.mark.parametrize("temp, hypotension, oxygen, expected", [
    (37.9, "none", "none", 0),                       # fever starts at 38.0
    (38.0, "none", "none", 1),
    (39.5, "fluids", "none", 2),                     # hypotension without vasopressors
    (39.5, "none", "low-flow", 2),                   # <= 6 L/min
    (39.5, "one-vasopressor", "none", 3),
    (39.5, "none", "high-flow", 3),                  # > 6 L/min
    (39.5, "none", "facemask", 3),
    (39.5, "multiple-vasopressors", "none", 4),
    (39.5, "none", "positive-pressure", 4),
    (39.5, "none", "mechanical-ventilation", 4),
    (39.5, "one-vasopressor", "low-flow", 3),        # the source's worked example
    (39.5, "fluids", "positive-pressure", 4),        # the more severe of the two decides
    (37.0, "multiple-vasopressors", "facemask", 0),  # no fever, no anticytokine: not CRS
])
def test_astct_crs_boundaries(temp, hypotension, oxygen, expected):
    assert astct_crs(temp, hypotension, oxygen).grade == expected


def test_astct_fever_not_required_after_anticytokine_therapy():
    assert astct_crs(37.0, "one-vasopressor", "none", anticytokine_given=True).grade == 3
    assert astct_crs(37.0, "none", "none", anticytokine_given=True).grade == 0
    assert astct_crs(37.0, died_of_crs=True).grade == 5


def test_astct_rule_names_the_deciding_finding():
    grade = astct_crs(39.2, "one-vasopressor", "low-flow")
    assert "one vasopressor" in grade.rule and "grade 3" in grade.rule
    assert "low-flow" not in grade.rule  # grade 2 finding does not decide


@pytest.mark.parametrize("kwargs, expected", [
    ({"temperature_c": 37.5}, 0),
    ({"temperature_c": 38.5}, 1),
    ({"temperature_c": 38.5, "hypotension": "fluids"}, 2),
    ({"temperature_c": 38.5, "hypotension": "one-vasopressor"}, 2),   # low-dose single
    ({"temperature_c": 38.5, "oxygen": "low-flow"}, 2),               # FiO2 < 40%
    ({"temperature_c": 38.5, "organ_toxicity": 2}, 2),
    ({"temperature_c": 38.5, "organ_toxicity": 1}, 1),
    ({"temperature_c": 38.5, "hypotension": "multiple-vasopressors"}, 3),
    ({"temperature_c": 38.5, "oxygen": "high-flow"}, 3),              # FiO2 >= 40%
    ({"temperature_c": 38.5, "oxygen": "facemask"}, 3),
    ({"temperature_c": 38.5, "oxygen": "positive-pressure"}, 4),      # ventilator support
    ({"temperature_c": 38.5, "organ_toxicity": 3}, 3),
    ({"temperature_c": 38.5, "transaminitis": 4}, 3),                 # grade 4 LFTs: 3
    ({"temperature_c": 38.5, "transaminitis": 3}, 1),
    ({"temperature_c": 38.5, "oxygen": "mechanical-ventilation"}, 4),
    ({"temperature_c": 38.5, "organ_toxicity": 4}, 4),
])
def test_lee2014_boundaries(kwargs, expected):
    assert lee2014_crs(**kwargs).grade == expected


@pytest.mark.parametrize("kwargs, expected", [
    ({"temperature_c": 37.5}, 0),
    ({"temperature_c": 38.5}, 1),
    ({"temperature_c": 38.5, "hospitalised": True}, 2),
    ({"temperature_c": 38.5, "creatinine_grade": 2}, 2),
    ({"temperature_c": 38.5, "transaminitis": 3}, 2),
    ({"temperature_c": 38.5, "creatinine_grade": 3}, 3),
    ({"temperature_c": 38.5, "transaminitis": 4}, 3),
    ({"temperature_c": 38.5, "hypotension": "fluids"}, 3),            # multiple boluses
    ({"temperature_c": 38.5, "hypotension": "one-vasopressor"}, 3),   # low-dose
    ({"temperature_c": 38.5, "oxygen": "low-flow"}, 3),               # any supplemental O2
    ({"temperature_c": 38.5, "oxygen": "high-flow"}, 3),
    ({"temperature_c": 38.5, "oxygen": "facemask"}, 3),
    ({"temperature_c": 38.5, "oxygen": "positive-pressure"}, 3),      # CPAP/BiPAP still 3
    ({"temperature_c": 38.5, "coagulopathy": True}, 3),
    ({"temperature_c": 38.5, "hypotension": "multiple-vasopressors"}, 4),
    ({"temperature_c": 38.5, "oxygen": "mechanical-ventilation"}, 4),
])
def test_penn_boundaries(kwargs, expected):
    assert penn_crs(**kwargs).grade == expected


def test_penn_grades_higher_than_astct_for_the_same_patient():
    # clinical_rules.md: "Penn grades severity higher than ASTCT"
    assert penn_crs(39.0, "none", "low-flow").grade == 3
    assert astct_crs(39.0, "none", "low-flow").grade == 2


@pytest.mark.parametrize("bad", [
    lambda: astct_crs(60.0),
    lambda: astct_crs(float("nan")),
    lambda: astct_crs(39.0, hypotension="severe"),
    lambda: astct_crs(39.0, oxygen="nasal"),
    lambda: lee2014_crs(39.0, organ_toxicity=5),
    lambda: penn_crs(39.0, creatinine_grade=-1),
])
def test_crs_impossible_values(bad):
    with pytest.raises(ClinicalValueError):
        bad()


@pytest.mark.parametrize("kwargs, expected", [
    ({"ice": 10}, 0),
    ({"ice": 9}, 1), ({"ice": 7}, 1),
    ({"ice": 6}, 2), ({"ice": 3}, 2),
    ({"ice": 2}, 3), ({"ice": 0}, 3),              # ICE 0 while awake (global aphasia): 3
    ({"ice": 0, "consciousness": "unarousable"}, 4),
    ({"consciousness": "drowsy"}, 1),
    ({"consciousness": "arousable-voice"}, 2),
    ({"consciousness": "arousable-touch"}, 3),
    ({"seizure": "self-limiting"}, 3),
    ({"seizure": "prolonged"}, 4),
    ({"seizure": "repetitive"}, 4),
    ({"motor": "deep-focal-weakness"}, 4),
    ({"icp": "focal-edema"}, 3),
    ({"icp": "diffuse-edema"}, 4),
    ({"ice": 3, "seizure": "self-limiting"}, 3),   # the source's worked example
    ({"ice": 8, "icp": "diffuse-edema"}, 4),
])
def test_astct_icans_boundaries(kwargs, expected):
    assert astct_icans(**kwargs).grade == expected


@pytest.mark.parametrize("kwargs, expected", [
    # children of 12 or under: CAPD in place of ICE (0 none, 1-8 grade 1, >= 9 grade 3,
    # not possible grade 4); consciousness and the other domains as for adults
    ({"capd": 0}, 0), ({"capd": 1}, 1), ({"capd": 8}, 1), ({"capd": 9}, 3), ({"capd": 32}, 3),
    ({"capd": 5, "consciousness": "arousable-voice"}, 2),
    ({"capd": 5, "seizure": "prolonged"}, 4),
    ({"capd_possible": False}, 4),
])
def test_paediatric_icans_by_capd(kwargs, expected):
    assert astct_icans(**kwargs).grade == expected


def test_capd_decides_the_rule_it_shows():
    assert astct_icans(capd=9).rule == "CAPD 9 -> grade 3"
    assert astct_icans(capd_possible=False).rule == "CAPD not possible -> grade 4"


@pytest.mark.parametrize("kwargs", [
    {"ice": 11}, {"ice": -1}, {"ice": 4.5},
    {"ice": 5, "consciousness": "unarousable"},   # an unarousable patient cannot score ICE
    {"consciousness": "asleep"}, {"seizure": "tonic"}, {"icp": "edema"},
    {"capd": 33}, {"capd": -1}, {"capd": 4, "ice": 7}, {"capd": 4, "ice": 10},  # not both
    {"capd": 5, "capd_possible": False},
])
def test_icans_impossible_values(kwargs):
    with pytest.raises(ClinicalValueError):
        astct_icans(**kwargs)


NORMAL = {"platelets_10e9_l": 250, "anc_10e9_l": 3.0, "hemoglobin_g_dl": 13.0,
          "crp_mg_dl": 0.5, "ferritin_ng_ml": 200}


@pytest.mark.parametrize("item, value, points", [
    ("platelets_10e9_l", 175.1, 0), ("platelets_10e9_l", 175, 1),
    ("platelets_10e9_l", 75, 1), ("platelets_10e9_l", 74.9, 2),
    ("anc_10e9_l", 1.2, 0), ("anc_10e9_l", 1.19, 1),
    ("hemoglobin_g_dl", 9.0, 0), ("hemoglobin_g_dl", 8.9, 1),
    ("crp_mg_dl", 3.0, 0), ("crp_mg_dl", 3.1, 1),
    ("ferritin_ng_ml", 649, 0), ("ferritin_ng_ml", 650, 1),
    ("ferritin_ng_ml", 2000, 1), ("ferritin_ng_ml", 2001, 2),
])
def test_hematotox_item_cutoffs(item, value, points):
    assert hematotox(**{**NORMAL, item: value}).score == points


def test_hematotox_risk_groups_low_0_1_high_from_2():
    assert hematotox(**NORMAL).risk == "low"
    assert hematotox(**{**NORMAL, "anc_10e9_l": 1.0}).risk == "low"           # 1 point
    assert hematotox(**{**NORMAL, "anc_10e9_l": 1.0, "crp_mg_dl": 5}).risk == "high"
    worst = hematotox(60, 0.5, 8.0, 10.0, 3000)
    assert (worst.score, worst.risk) == (7, "high")  # 2 + 1 + 1 + 1 + 2


def test_easix_variants():
    assert easix(300, 100, creatinine_mg_dl=1.2).score == pytest.approx(3.6)
    assert easix(300, 100, variant="simplified").score == pytest.approx(3.0)
    assert easix(300, 100, crp_mg_dl=5.0, variant="m-easix").score == pytest.approx(15.0)
    assert easix(300, 100, creatinine_mg_dl=1.0).risk is None  # no sourced cut-off


@pytest.mark.parametrize("bad", [
    lambda: easix(300, 0, creatinine_mg_dl=1.0),        # division by zero platelets
    lambda: easix(300, 100),                            # creatinine missing
    lambda: easix(300, 100, variant="m-easix"),         # CRP missing
    lambda: easix(300, 100, variant="log"),
    lambda: hematotox(-5, 1, 10, 1, 100),
    lambda: hematotox(100, 1, 40, 1, 100),               # haemoglobin 40 g/dL
])
def test_score_impossible_values(bad):
    with pytest.raises(ClinicalValueError):
        bad()
