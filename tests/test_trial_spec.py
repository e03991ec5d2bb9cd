"""Trial specs with arms: validation and its errors, arms' patients, survival statistics
against known answers, and two-arm trials whose arms differ in a setting with a known effect."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import numpy as np
import pyarrow.compute as pc
import pytest
import yaml

from cartsim.cli import main
from cartsim.trial import run_trial
from cartsim.trial.spec import SpecError, arm_seed, load_spec, spec_from_dict
from cartsim.trial.survival import SurvivalSample, compare, kaplan_meier, power

LBCL = "zuma1-axi-cel-lbcl"


def two_arms(patients: int, follow_up: float = 365.0, **extra) -> dict:
    """Flu-cy lymphodepletion against none (lymphodepletion makes room for CAR-T expansion:
    without it responses are fewer and shorter)."""
    return {"name": "lymphodepletion", "patients": patients, "follow_up_days": follow_up,
            "arms": [{"name": "flu-cy", "scenario": LBCL},
                     {"name": "none", "scenario": LBCL,
                      "overrides": {"lymphodepletion": {"regimen": "none"}}}], **extra}


def test_defaults_and_arms_resolve():
    spec = spec_from_dict(two_arms(30))
    assert [a.name for a in spec.arms] == ["flu-cy", "none"] and spec.control == "flu-cy"
    assert spec.population == "itt" and spec.replicates == 1 and spec.primary == "pfs"
    assert spec.arm_patients() == {"flu-cy": 15, "none": 15}
    assert spec.arms[1].protocol["lymphodepletion"]["regimen"] == "none"
    assert spec.arms[1].protocol["lymphodepletion"]["fludarabine_mg_m2"] == 30.0  # kept
    assert all(a.protocol["follow_up_days"] == 365.0 for a in spec.arms)
    assert max(spec.arms[0].protocol["visits"]["days"]) <= 365.0  # later visits dropped
    assert spec.arms[0].protocol["seed"] == arm_seed(1, 0) != spec.arms[1].protocol["seed"]
    assert spec.arms[0].protocol["published"] and not spec.arms[1].protocol["published"]
    uneven = spec_from_dict({**two_arms(30), "arms": [
        {"name": "a", "scenario": LBCL, "ratio": 2}, {"name": "b", "scenario": LBCL}]})
    assert uneven.arm_patients() == {"a": 20, "b": 10}


@pytest.mark.parametrize("change, element, problem", [
    ({"replicate": 2}, "replicate", "unknown key"),
    ({"population": "per-protocol"}, "population", "must be one of"),
    ({"primary": {"endpoint": "orr"}}, "primary.endpoint", "must be one of"),
    ({"primary": {"control": "placebo"}}, "primary.control", "must be one of the arms"),
    ({"secondary": ["orr", "survival"]}, "secondary", "unknown endpoint 'survival'"),
    ({"arms": []}, "arms", "at least one arm"),
    ({"arms": [{"name": "a", "scenario": LBCL}, {"name": "a", "scenario": LBCL}]},
     "arms[1].name", "two arms"),
    ({"arms": [{"name": "a", "scenario": LBCL, "dose": 1}]}, "arms[0].dose", "unknown key"),
    ({"arms": [{"name": "a", "scenario": "no-such-scenario"}]}, "arms[0].scenario",
     "not found"),
    ({"arms": [{"name": "a", "scenario": LBCL, "overrides": {"infusion": {"dose_cells": -1}}}]},
     "arms[0].infusion.dose_cells", "must be from"),
    ({"arms": [{"name": "a", "scenario": LBCL, "ratio": 0}]}, "arms[0].ratio", "must be from"),
])
def test_a_wrong_spec_names_file_key_and_problem(tmp_path, capsys, change, element, problem):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**two_arms(10), **change}))
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    assert raised.value.file == str(path) and raised.value.element == element
    assert problem in raised.value.problem
    assert main(["trial", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and element in err and not (tmp_path / "out").exists()


def test_the_published_schema_accepts_the_example_and_knows_every_key(capsys):
    assert main(["trial", "--schema"]) == 0
    described = json.loads(capsys.readouterr().out)
    example = Path(__file__).parents[1] / "examples" / "trial-axi-cel-dose.yaml"
    given = yaml.safe_load(example.read_text())
    jsonschema.validate(given, described)
    load_spec(example)  # and the spec itself runs
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**given, "replicate": 2}, described)


def test_kaplan_meier_and_comparisons_against_known_answers():
    """Exponential times: the Kaplan-Meier median near ln 2 / rate, the Cox hazard ratio near
    the true ratio, and power rising with patients per arm."""
    rng = np.random.default_rng(3)

    def sample(n: int, rate: float, follow_up: float = 400.0) -> SurvivalSample:
        days = rng.exponential(1 / rate, n)
        s = SurvivalSample()
        for d in days:
            s.add((min(d, follow_up), bool(d <= follow_up)))
        return s

    control = sample(2000, 0.01)
    km = kaplan_meier(control, 400.0)
    assert km.median_months == pytest.approx(np.log(2) / 0.01 / (365.25 / 12), rel=0.06)
    assert km.landmarks["6mo"][0] == pytest.approx(np.exp(-0.01 * 182.6), abs=0.03)
    assert all(lo <= s <= hi for s, lo, hi in zip(km.survival, km.low, km.high, strict=True))
    both = compare("c", "x", "pfs", control, sample(2000, 0.02))
    assert both.hazard_ratio == pytest.approx(2.0, rel=0.08) and both.logrank_p < 1e-6
    same = compare("c", "x", "pfs", sample(300, 0.01), sample(300, 0.01))
    assert 0.7 < same.hazard_ratio < 1.4
    small = power([compare("c", "x", "pfs", sample(15, 0.01), sample(15, 0.02))
                   for _ in range(40)], 0.05)
    large = power([compare("c", "x", "pfs", sample(150, 0.01), sample(150, 0.02))
                   for _ in range(40)], 0.05)
    assert small < 0.6 < 0.9 < large


def test_without_lymphodepletion_the_trial_shows_worse_survival(tmp_path):
    """Two arms differing only in lymphodepletion: the arm without it responds less, its
    progression-free survival is shorter (hazard ratio above 1, Kaplan-Meier curve below),
    and the log-rank test agrees with the Cox model."""
    out = tmp_path / "t"
    spec = _write(tmp_path, two_arms(240))
    assert main(["trial", str(spec), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    (pfs,) = [c for c in summary["comparisons"] if c["endpoint"] == "pfs"]
    assert pfs["control"] == "flu-cy" and pfs["arm"] == "none"
    assert pfs["hazard_ratio"] > 1.2 and pfs["hazard_ratio_ci95"][0] > 1.0
    assert pfs["logrank_p"] < 0.05 and pfs["cox_p"] < 0.05
    arms = summary["arms"]
    assert arms["none"]["endpoints"]["orr"]["pct"] < arms["flu-cy"]["endpoints"]["orr"]["pct"]
    curves = {a: arms[a]["kaplan_meier"]["pfs"] for a in arms}
    assert curves["none"]["landmarks"]["6mo"]["value"] < curves["flu-cy"]["landmarks"]["6mo"][
        "value"]
    with open(out / "endpoints.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["arm"] for r in rows} == {"flu-cy", "none"}
    with open(out / "comparisons.csv") as handle:
        assert {r["endpoint"] for r in csv.DictReader(handle)} == {"pfs", "os"}


def test_power_rises_with_patients_per_arm(tmp_path):
    """Replicate trials of the lymphodepletion comparison: with 8 patients per arm few show
    the difference, with 80 most do; every replicate's estimates are reported."""
    powers = {}
    for patients in (16, 160):
        spec = spec_from_dict(two_arms(patients, follow_up=180.0, replicates=5))
        run = run_trial(spec, out=tmp_path / str(patients))
        (pfs,) = [c for c in run.summary["comparisons"] if c["endpoint"] == "pfs"]
        powers[patients] = pfs["power"]
        estimates = run.summary["replicate_estimates"]["none"]["orr"]
        assert estimates["replicates"] == 5 and estimates["p2_5"] <= estimates["mean"]
        replicates = run.table.column("replicate").to_pylist()
        assert sorted(set(replicates)) == list(range(5))
    assert powers[16] < powers[160] and powers[160] >= 0.6


def test_enrolment_and_the_data_cut_per_patient():
    """Four patients per arm enrolled evenly over 12 months; a data cut at month 12 sees the
    first (enrolled at month 1.5) for 10.5 months from enrolment, the last (month 10.5) for
    1.5; a patient enrolled after the cut is not in the analysis yet."""
    from cartsim.journey.endpoints import DAYS_PER_MONTH
    from cartsim.journey.outcome import PatientOutcome

    spec = spec_from_dict(two_arms(8, accrual_months=12, data_cut_months=12))
    month = DAYS_PER_MONTH
    assert [spec.enrolment_day(p, 4) for p in range(4)] == pytest.approx(
        [1.5 * month, 4.5 * month, 7.5 * month, 10.5 * month])
    assert spec.enrolment_day(5, 4) == spec.enrolment_day(1, 4)  # replicate 2's second
    infused_day_30 = PatientOutcome(apheresis_day=-30.0)
    assert spec.analysed_until(infused_day_30, 0, 4, 365.0) == pytest.approx(
        10.5 * month - 30.0)
    assert spec.analysed_until(infused_day_30, 3, 4, 365.0) == pytest.approx(1.5 * month - 30)
    assert spec.analysed_until(infused_day_30, 0, 4, 100.0) == 100.0  # follow-up ends first
    early = spec_from_dict(two_arms(8, accrual_months=12, data_cut_months=6))
    assert early.analysed_until(infused_day_30, 2, 4, 365.0) is None  # enrolled at 7.5
    assert spec_from_dict(two_arms(8)).analysed_until(infused_day_30, 3, 4, 365.0) == 365.0


def test_a_data_cut_during_accrual_censors_the_analysis(tmp_path):
    """The same patients analysed at a data cut 12 months into a 12-month accrual and after
    full follow-up: at the cut fewer events are seen, fewer patients reach the 6-month
    landmark, and the comparison rests on fewer events; response is read the same."""
    from dataclasses import replace

    from cartsim.trial.analysis import summary_from_store

    spec = spec_from_dict(two_arms(80, accrual_months=12, data_cut_months=12))
    at_cut = run_trial(spec, out=tmp_path / "t")
    complete = summary_from_store(replace(spec, data_cut_months=None), at_cut.store)
    for arm in ("flu-cy", "none"):
        cut, whole = at_cut.summary["arms"][arm], complete["arms"][arm]
        assert cut["endpoints"]["pfs_6mo"]["n"] < whole["endpoints"]["pfs_6mo"]["n"]
        assert cut["endpoints"]["pfs_12mo"]["n"] == 0  # nobody is followed a year by then
        assert cut["endpoints"]["orr"] == whole["endpoints"]["orr"]
        assert cut["endpoints"]["pfs_median_months"]["events"] < whole["endpoints"][
            "pfs_median_months"]["events"]
    (cut_pfs,) = [c for c in at_cut.summary["comparisons"] if c["endpoint"] == "pfs"]
    (whole_pfs,) = [c for c in complete["comparisons"] if c["endpoint"] == "pfs"]
    assert cut_pfs["events_arm"] + cut_pfs["events_control"] < (
        whole_pfs["events_arm"] + whole_pfs["events_control"])


def test_a_trial_wide_crs_scale_grades_every_arm():
    spec = spec_from_dict(two_arms(8, crs_scale="penn"))
    assert {arm.protocol["monitoring"]["crs_scale"] for arm in spec.arms} == {"penn"}
    assert {arm.protocol["monitoring"]["crs_scale"] for arm in spec_from_dict(
        two_arms(8)).arms} == {"lee2014"}  # the ZUMA-1 scenario's own


def _write(folder, spec: dict):
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_standard_of_care_comparator_arm_has_no_car_t_and_fares_worse(tmp_path):
    """Arms without CAR-T: salvage chemotherapy from enrolment and best supportive care. No
    one is infused or gets CRS, nobody on best supportive care responds, and by intention to
    treat CAR-T lives longer than chemotherapy, which lives longer than no therapy."""
    soc = {"treatment": {"arm": "standard-of-care"}}
    bsc = {"treatment": {"arm": "standard-of-care", "standard_of_care": "best-supportive-care"}}
    spec = spec_from_dict({"name": "car-t vs soc", "patients": 120, "follow_up_days": 365,
                           "arms": [{"name": "chemo", "scenario": LBCL, "overrides": soc},
                                    {"name": "car-t", "scenario": LBCL},
                                    {"name": "bsc", "scenario": LBCL, "overrides": bsc}]})
    run = run_trial(spec, out=tmp_path / "t")
    arms = run.summary["arms"]
    for name in ("chemo", "bsc"):
        endpoints = arms[name]["endpoints"]
        enrolled = endpoints["infused"]["n"]
        assert endpoints["infused"]["pct"] == 0
        # a comparator's endpoints are its own therapy's, over every enrolled patient
        assert endpoints["crs_any"]["n"] == endpoints["os_12mo"]["n"] == enrolled > 0
        assert endpoints["crs_any"]["pct"] == 0 and endpoints["tocilizumab"]["pct"] == 0
        assert endpoints["orr"]["pct"] == endpoints["orr_itt"]["pct"]
    assert arms["bsc"]["endpoints"]["orr_itt"]["pct"] == 0
    assert arms["bsc"]["endpoints"]["os_6mo"]["pct"] < arms["chemo"]["endpoints"]["os_6mo"][
        "pct"]
    assert 0 < arms["chemo"]["endpoints"]["orr_itt"]["pct"] < arms["car-t"]["endpoints"][
        "orr_itt"]["pct"]
    hazard = {(c["arm"], c["endpoint"]): c for c in run.summary["comparisons"]}
    assert hazard[("car-t", "os")]["hazard_ratio_ci95"][1] < 1.0
    assert hazard[("bsc", "os")]["hazard_ratio_ci95"][0] > 1.0
    outcomes = run.table.filter(pc.equal(run.table.column("arm"), "chemo"))
    assert set(outcomes.column("infused").to_pylist()) == {False}


@pytest.mark.parametrize("population", ["itt", "mitt", "infused"])
def test_a_comparator_arm_is_analysed_in_every_population(population):
    """Its patients are treated from enrolment: in the infused and modified ITT analyses too
    (a randomised control arm is not left empty), from day 0."""
    from cartsim.journey.outcome import Death, PatientOutcome
    from cartsim.trial.survival import in_population, time_to_event

    comparator = PatientOutcome(standard_of_care="chemotherapy", apheresis_day=0.0,
                                death=Death(150.0, "progression"))
    not_infused = PatientOutcome(apheresis_day=-30.0, not_infused_reason="dropout")
    assert in_population(comparator, population)
    assert in_population(not_infused, population) == (population == "itt")
    assert time_to_event(comparator, "os", population, 365.0) == (150.0, True)


def test_misspelt_names_suggest_the_close_match(tmp_path, capsys):
    """A misspelt scenario, scenario key or model parameter names what was probably meant."""
    assert main(["trial", "zuma1-axicel-lbcl", "--out", str(tmp_path / "a")]) == 2
    assert "did you mean 'zuma1-axi-cel-lbcl'" in capsys.readouterr().err
    spec = two_arms(10)
    spec["arms"][1]["overrides"] = {"followup_days": 100}
    with pytest.raises(SpecError, match="did you mean 'follow_up_days'"):
        spec_from_dict(spec)
    spec["arms"][1]["overrides"] = {"patient": {"parameters": {"rho_mx": 1.0}}}
    assert main(["trial", str(_write(tmp_path, spec)), "--out", str(tmp_path / "b"),
                 "--quiet"]) == 2
    assert "did you mean 'rho_max'" in capsys.readouterr().err


def test_command_line_overrides_are_checked_as_the_spec_keys(tmp_path, capsys):
    assert main(["virtual-trial", "--replicates", "0", "--out", str(tmp_path / "v")]) == 2
    assert "replicates: must be a whole number >= 1, got 0" in capsys.readouterr().err
    assert load_spec(_write(tmp_path, two_arms(10)), replicates=4).replicates == 4


def test_docs_scenarios_md_is_current():
    from cartsim.trial.docs import scenarios_markdown

    docs = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"
    assert docs.read_text(encoding="utf-8") == scenarios_markdown(), (
        "docs/scenarios.md is out of date: run `cartsim scenario-docs`")


def test_the_key_reference_lists_every_key_once_with_what_it_accepts():
    from cartsim.journey.protocol import DEFAULTS, SCHEMA
    from cartsim.journey.schema import reference_rows
    from cartsim.trial.spec import SCHEMA as SPEC_SCHEMA

    def leaves(mapping, path=""):
        for key, value in mapping.items():
            where = f"{path}.{key}" if path else key
            yield from leaves(value, where) if isinstance(value, dict) and where != \
                "patient.parameters" and where != "published" else [where]

    rows = {row.path: row for row in reference_rows(SCHEMA)}
    assert sorted(rows) == sorted(leaves(DEFAULTS))
    assert (rows["monitoring.days"].accepts, rows["monitoring.days"].default) == (
        "number from 1 to 365", "28")
    assert rows["infusion.dose_cells"].accepts.endswith(", or null")
    assert rows["infusion.dose_cells"].default == "null"
    assert rows["visits.days"].accepts == "list of numbers"
    assert "`standard-of-care`" in rows["treatment.arm"].accepts
    unexplained = [row.path for row in [*rows.values(), *reference_rows(SPEC_SCHEMA)]
                   if not row.note]
    assert not unexplained, "every key says what it means"
