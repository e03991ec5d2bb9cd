"""The patient journey: protocol validation, policy timing and dose limits, ITT vs infused
accounting, grading of simulated physiology, failure and rescue rules, and the command."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

from cartsim.cli import main
from cartsim.journey import ProtocolError, load_protocol, protocol_from_mapping, run_journey
from cartsim.journey.failure import Failure
from cartsim.journey.grading import grade_point, grade_run
from cartsim.journey.policy import (
    POLICIES,
    RESPONSE_DELAY_DAYS,
    Policy,
    Schedule,
    Tocilizumab,
    next_action,
    resolve_policy,
    with_prophylaxis,
)
from cartsim.journey.rescue import THERAPIES, choose_rescue, rescue_parameters
from cartsim.journey.run import GradingTimes
from cartsim.journey.scenarios import builtin_scenarios, scenario_path
from cartsim.presets import disease, product
from cartsim.therapy.simulate import preset_parameters, simulate_values

SHORT = {"follow_up_days": 30.0, "visits": {"days": [28.0]}, "rescue": {"enabled": False}}


@pytest.mark.parametrize("given, path", [
    ({"manufacturing": {"failure_probability": 1.5}}, "manufacturing.failure_probability"),
    ({"manufacturing": {"median_dayz": 3}}, "manufacturing.median_dayz"),
    ({"bridging": {"therapy": "magic"}}, "bridging.therapy"),
    ({"policy": "aggressive"}, "policy"),
    ({"visits": {"days": [90, 28]}}, "visits.days"),
    ({"visits": {"days": [28, 400]}}, "visits.days"),
    ({"product": "no-cel"}, "product"),
    ({"patient": {"parameters": {"T0": "big"}}}, "patient.parameters.T0"),
    ({"patient": []}, "patient"),
    ({"monitoring": {"follow_up_grading_interval_hours": 3}},
     "monitoring.follow_up_grading_interval_hours"),   # finer than close monitoring
    ({"monitoring": {"follow_up_grading_interval_hours": 20}},
     "monitoring.follow_up_grading_interval_hours"),   # not a multiple of 6 h
])
def test_protocol_errors_name_the_key(given, path):
    with pytest.raises(ProtocolError) as err:
        protocol_from_mapping(given, "scenario.yaml")
    assert path in str(err.value) and "scenario.yaml" in str(err.value)


def test_grading_is_close_during_monitoring_and_daily_after():
    times = GradingTimes(close=0.25, follow_up=1.0, monitoring_days=28.0)
    first_line = times.grid(-30.4, 60.0, line_start=0.0)
    assert first_line[0] == -30.5 and first_line[-1] == 60.0  # from the time at or before
    steps = np.diff(first_line)
    assert np.allclose(steps[first_line[1:] <= 28.0], 0.25)
    assert np.allclose(steps[first_line[:-1] >= 28.0], 1.0)
    rescue = times.grid(100.25, 140.0, line_start=100.25)
    assert np.allclose(np.diff(rescue[rescue <= 128.25]), 0.25)
    assert list(rescue[rescue > 128.25]) == [129.0 + k for k in range(12)]  # on day 0's lattice
    journey = run_journey(protocol_from_mapping({**SHORT, "follow_up_days": 40.0}))
    graded = journey.grades.time
    assert np.allclose(np.diff(graded[graded <= 28.0]), 0.25)
    assert np.allclose(np.diff(graded[graded >= 28.0]), 1.0)


def test_builtin_scenarios_are_valid():
    names = builtin_scenarios()
    assert {"zuma1-axi-cel-lbcl", "eliana-tisa-cel-b-all", "karmma-ide-cel-mm",
            "ct041-satri-cel-gastric"} <= set(names)
    for name in names:
        load_protocol(scenario_path(name))


def test_solid_tumour_journey_is_assessed_by_recist():
    """The CLDN18.2 gastric scenario: RECIST 1.1 on the sum of longest diameters. A patient
    whose product engrafts well (5% of cells) and whose tumour holds 5% antigen-negative
    cells: a partial response (no complete response while antigen-negative cells remain) and
    then progression by the 20% + 5 mm rule, classified as antigen-negative escape."""
    protocol = load_protocol(scenario_path("ct041-satri-cel-gastric"))
    protocol["rescue"]["enabled"] = False
    protocol["patient"]["parameters"].update(engraft_fraction=0.05, frac_neg=0.05)
    journey = run_journey(protocol)
    responses = [e for e in journey.events if e[1] == "response"]
    assert responses and all(e[2].split(":")[0] in ("CR", "PR", "SD", "PD") for e in responses)
    assert journey.outcome.first_line.best_response == "PR"
    progression = [e for e in journey.events if e[1] == "progression"]
    assert progression and ">= 20% and >= 5 mm" in progression[0][2]
    assert journey.outcome.first_line.failure.antigen == "antigen-negative"


def _decide_all(policy: Policy, time, crs, icans) -> Schedule:
    schedule, last = Schedule(), -1.0
    while next_action(policy, schedule, time, crs, icans, last, 640.0):
        last = schedule.log[-1][0]
    return schedule


def test_tocilizumab_repeats_after_8_hours_and_stops_at_4_doses():
    time = np.arange(0, 4, 0.25)                   # graded every 6 h
    crs = np.full(time.size, 2)                    # grade 2 that never improves
    schedule = _decide_all(Policy("t", "toci only", steroids=()), time, crs, 0 * crs)
    # a dose 1 h after each grading at grade 2, once 8 h have passed since the last dose:
    # gradings at 0, 0.5, 1.0, 1.5 days, then the 4-dose limit
    expected = np.array([0.0, 0.5, 1.0, 1.5]) + RESPONSE_DELAY_DAYS
    np.testing.assert_allclose(schedule.toci_times, expected)


def test_tocilizumab_at_most_3_doses_in_24_hours():
    time = np.arange(0, 3, 1 / 24)                 # graded hourly
    crs = np.full(time.size, 2)
    policy = Policy("t", "toci every 4 h", tocilizumab=Tocilizumab(repeat_hours=4),
                    steroids=())
    schedule = _decide_all(policy, time, crs, 0 * crs)
    # doses at 1, 5, 9 h; a 4th must wait until the first leaves the 24-h window (25 h)
    np.testing.assert_allclose(np.array(schedule.toci_times) * 24, [1, 5, 9, 25])


def test_no_decision_is_taken_from_the_horizon_on():
    """``before`` (the day from which nothing is read: a death, a rescue) stops decisions
    there, and is asked only when a rule is met."""
    time = np.arange(0, 4, 0.25)
    crs = np.full(time.size, 2)
    policy = Policy("t", "toci only", steroids=())
    schedule, last = Schedule(), -1.0
    while next_action(policy, schedule, time, crs, 0 * crs, last, 640.0, before=lambda: 1.0):
        last = schedule.log[-1][0]
    np.testing.assert_allclose(schedule.toci_times, np.array([0.0, 0.5]) + RESPONSE_DELAY_DAYS)

    def unasked() -> float:
        raise AssertionError("asked for the horizon with no rule met")

    assert not next_action(policy, Schedule(), time, 0 * crs, 0 * crs, -1.0, 640.0,
                           before=unasked)


def test_steroids_escalate_and_replace_the_running_course():
    time = np.arange(0, 5, 0.25)
    icans = np.where(time >= 1.0, 2, 0) + np.where(time >= 2.0, 1, 0)  # grade 2, then 3
    schedule = _decide_all(POLICIES["standard"], time, np.zeros(time.size, dtype=int), icans)
    (start1, days1, rate1), (start2, _, rate2) = schedule.dex_courses
    assert start1 == pytest.approx(1.0 + RESPONSE_DELAY_DAYS) and rate1 == 40.0
    assert start2 == pytest.approx(2.0 + RESPONSE_DELAY_DAYS) and rate2 == 80.0
    assert start1 + days1 == pytest.approx(start2)  # escalation ends the 10 mg course
    assert schedule.toci_times == []                # no CRS, no tocilizumab
    assert schedule.dex_reasons == ["ICANS", "ICANS"] and schedule.courses_for_crs == 0
    crs = _decide_all(Policy("s", "steroids only", tocilizumab=None), time,
                      np.where(time >= 1.0, 3, 0), np.zeros(time.size, dtype=int))
    assert crs.dex_reasons[0] == "CRS" and crs.courses_for_crs >= 1


def test_named_alternative_policies():
    time = np.arange(0, 3, 0.25)
    crs = np.where(time >= 0.5, 1, 0) + np.where(time >= 1.5, 3, 0)   # grade 1, then 4
    early = _decide_all(POLICIES["early-tocilizumab"], time, crs, 0 * crs)
    standard = _decide_all(POLICIES["standard"], time, crs, 0 * crs)
    assert early.toci_times[0] == pytest.approx(0.5 + RESPONSE_DELAY_DAYS)
    assert standard.toci_times[0] == pytest.approx(1.5 + RESPONSE_DELAY_DAYS)
    switched = _decide_all(POLICIES["standard-with-safety-switch"], time, crs, 0 * crs)
    assert standard.switch_time is None
    assert switched.switch_time == pytest.approx(1.5 + RESPONSE_DELAY_DAYS)
    prophylaxis = with_prophylaxis(POLICIES["prophylactic-steroids"])
    assert prophylaxis.dex_courses == [[0.0, 3.0, 10.0]]
    assert with_prophylaxis(POLICIES["standard"]).dex_courses == []
    assert _decide_all(POLICIES["none"], time, crs, 4 + 0 * crs).log == []


def test_managed_journey_doses_follow_the_grades_they_answer():
    journey = run_journey(protocol_from_mapping({"product": "axi-cel", "disease": "lbcl",
                                                 "seed": 1, **SHORT}))
    g = journey.grades
    toci = [day for day, kind, _ in journey.events if kind == "tocilizumab"]
    assert toci, "the typical axi-cel patient reaches CRS grade 2"
    for day in toci:  # each dose answers a grade >= 2 one hour earlier
        i = int(np.argmin(np.abs(g.time - (day - RESPONSE_DELAY_DAYS))))
        assert g.grades["crs_astct"][i] >= 2
    assert len(toci) <= 4


def test_management_lowers_crs_severity():
    base = {"product": "axi-cel", "disease": "lbcl", "seed": 1, **SHORT}
    managed = run_journey(protocol_from_mapping({**base, "policy": "standard"}))
    natural = run_journey(protocol_from_mapping({**base, "policy": "none"}))
    assert natural.outcome.tocilizumab_doses == 0
    assert (managed.outcome.first_line.toxicity["crs_astct"].max
            < natural.outcome.first_line.toxicity["crs_astct"].max)


def test_a_decision_changes_nothing_before_its_grading_time():
    """Only the part of the line after a decision's grading time is simulated again: before
    the first tocilizumab dose's grading time the managed patient's trajectory is, bit for
    bit, the unmanaged one's; after the dose the two differ."""
    base = {"product": "axi-cel", "disease": "lbcl", "seed": 1, **SHORT}
    managed = run_journey(protocol_from_mapping({**base, "policy": "standard"}))
    natural = run_journey(protocol_from_mapping({**base, "policy": "none"}))
    dose = min(day for day, kind, _ in managed.events if kind == "tocilizumab")
    m, n = managed.runs[0], natural.runs[0]
    k = int(np.sum(m.time <= dose - RESPONSE_DELAY_DAYS + 1e-9))
    assert 10 < k < min(m.time.size, n.time.size) - 12
    np.testing.assert_array_equal(m.time[:k], n.time[:k])
    np.testing.assert_array_equal(m["il6_pg_ml"][:k], n["il6_pg_ml"][:k])
    assert not np.array_equal(m["il6_pg_ml"][k + 2:k + 12], n["il6_pg_ml"][k + 2:k + 12])


def test_itt_and_infused_accounting():
    base = {"product": "axi-cel", "disease": "lbcl", **SHORT,
            "manufacturing": {"failure_probability": 0.3}, "wait": {"dropout_per_day": 0.0},
            "patient": {"background_mortality_per_year": 0.0}}
    outcomes = [run_journey(protocol_from_mapping({**base, "seed": s})).outcome
                for s in range(60)]
    assert all(o.itt for o in outcomes)
    infused = sum(o.infused for o in outcomes)
    assert abs(infused / 60 - 0.7) <= 3 * np.sqrt(0.7 * 0.3 / 60)
    reasons = {o.not_infused_reason for o in outcomes if not o.infused}
    assert reasons == {"manufacturing failure"}
    assert all(o.first_line.best_response is not None for o in outcomes if o.infused)


def test_drop_out_while_waiting_counts_in_itt_only_and_ends_the_journey():
    base = {"product": "axi-cel", "disease": "lbcl", **SHORT,
            "manufacturing": {"failure_probability": 0.0}, "wait": {"dropout_per_day": 0.05},
            "patient": {"background_mortality_per_year": 0.0}}
    journeys = [run_journey(protocol_from_mapping({**base, "seed": s})) for s in range(40)]
    dropped = [j for j in journeys if j.outcome.not_infused_reason == "drop-out"]
    # P(drop-out within a 24-day wait at 0.05/day) = 1 - exp(-1.2) = 0.70
    assert abs(len(dropped) / 40 - 0.70) <= 3 * np.sqrt(0.7 * 0.3 / 40)
    assert all(j.outcome.itt and not j.outcome.infused for j in dropped)
    for j in dropped:
        events = j.sorted_events()
        assert events[-1][1] == "drop-out" and events[-1][0] < 0
        assert "infusion" not in [kind for _, kind, _ in events]


def test_deaths_by_cause():
    lethal = run_journey(protocol_from_mapping({
        "product": "axi-cel", "disease": "lbcl", **SHORT, "seed": 2,
        "manufacturing": {"failure_probability": 0.0}, "wait": {"dropout_per_day": 0.0,
                                                                "lethal_tumour_cells": 5e10},
        "patient": {"background_mortality_per_year": 0.0}}))
    assert lethal.outcome.not_infused_reason == "death (progression)"
    background = run_journey(protocol_from_mapping({
        **SHORT, "seed": 2, "follow_up_days": 365.0, "visits": {"days": [28.0, 90.0]},
        "wait": {"dropout_per_day": 0.0}, "manufacturing": {"failure_probability": 0.0},
        "patient": {"background_mortality_per_year": 10.0}}))  # mean 37 days
    outcome = background.outcome
    cause = outcome.death.cause if outcome.infused else outcome.not_infused_reason
    assert cause.startswith("death (background)")
    assert background.sorted_events()[-1][1].startswith("death (background)")


@pytest.mark.parametrize("infusion, expected", [
    ({"schedule": "split", "first_fraction": 0.4, "second_day": 2.0},
     [(0.0, 0.4), (2.0, 0.6)]),
    ({"schedule": "fractionated"}, [(0.0, 0.1), (1.0, 0.3), (2.0, 0.6)]),
    ({"schedule": "fractionated", "fractions": [0.5, 0.5], "fraction_days": [0.0, 3.0]},
     [(0.0, 0.5), (3.0, 0.5)]),
])
def test_split_and_fractionated_infusions_give_the_whole_dose(infusion, expected):
    base = {"product": "axi-cel", "disease": "lbcl", **SHORT, "seed": 1,
            "infusion": {"dose_cells": 2e8, **infusion},
            "manufacturing": {"failure_probability": 0.0}, "wait": {"dropout_per_day": 0.0},
            "patient": {"background_mortality_per_year": 0.0}}
    journey = run_journey(protocol_from_mapping(base))
    given = [(day, float(detail.split()[-2 if "fraction" in detail else 0]) / 2e8)
             for day, kind, detail in journey.sorted_events() if kind == "infusion"]
    assert [d for d, _ in given] == [d for d, _ in expected]
    np.testing.assert_allclose([f for _, f in given], [f for _, f in expected], rtol=1e-2)
    run = journey.runs[0]
    engrafted = run["Cm"] + run["Ce"] + run["Cd"]
    # each fraction arrives on its day: the CAR-T pool jumps there (the first from 0)
    assert engrafted[int(np.searchsorted(run.time, 0.0))] == pytest.approx(
        expected[0][1] * 2e8 * 1e-9, rel=1e-6)
    for day, fraction in expected[1:]:
        i = int(np.searchsorted(run.time, day))
        assert engrafted[i] - engrafted[i - 1] > 0.5 * fraction * 2e8 * 1e-9


def test_fractions_must_add_up():
    with pytest.raises(ProtocolError, match="sum to 1"):
        protocol_from_mapping({"infusion": {"schedule": "fractionated",
                                            "fractions": [0.2, 0.3, 0.3],
                                            "fraction_days": [0, 1, 2]}})
    with pytest.raises(ProtocolError, match="start at 0 and rise"):
        protocol_from_mapping({"infusion": {"schedule": "fractionated",
                                            "fractions": [0.5, 0.5], "fraction_days": [1, 2]}})


def test_low_apheresis_yield_means_no_product():
    outcome = run_journey(protocol_from_mapping(
        {**SHORT, "patient": {"lymphocytes_per_ul": 50.0},
         "apheresis": {"minimum_cells": 1e10}})).outcome
    assert not outcome.infused
    assert "apheresis yield" in outcome.not_infused_reason


def test_a_product_whose_target_the_tumour_lacks_is_refused_unless_insisted():
    wrong = {"product": "ide-cel", "disease": "lbcl", **SHORT}
    with pytest.raises(ProtocolError, match="'ide-cel' binds BCMA, which 'lbcl' tumour cells "
                                            "do not carry"):
        protocol_from_mapping(wrong)
    with pytest.warns(UserWarning, match="negative control|simulated as asked"):
        protocol_from_mapping({**wrong, "allow_untargeted_product": True})


def test_counts_are_graded_as_a_laboratory_reports_them():
    """A count settling on its lower limit of normal (149.998 x 10^9/L platelets) is not a
    cytopenia; one clearly below is."""

    class Flat:
        time = np.arange(0.0, 10.0)

        def __init__(self, platelets):
            self.values = {"platelets_10e9_l": np.full(10, platelets),
                           "anc_10e9_l": np.full(10, 1.7999), "temperature_c": np.full(10, 37.0),
                           **{name: np.zeros(10) for name in ("vasopressors", "oxygen_need",
                                                               "consciousness", "seizure",
                                                               "cerebral_edema",
                                                               "motor_weakness")},
                           "ice_score": np.full(10, 10.0)}

        def __getitem__(self, name):
            return self.values[name]

    assert grade_run(Flat(149.998), Flat.time, np.inf).grades["thrombocytopenia"].max() == 0
    assert grade_run(Flat(149.4), Flat.time, np.inf).grades["thrombocytopenia"].max() == 1
    assert grade_run(Flat(150.0), Flat.time, np.inf).grades["neutropenia"].max() == 0  # 1.80


def test_simulated_physiology_is_graded_by_the_calculators():
    # febrile, one vasopressor, low-flow O2: ASTCT 3, Lee 2014 2, Penn 3 (clinical_rules.md)
    point = grade_point(39.5, 2, 1, 10, 0, anticytokine_given=False)
    assert point["crs_astct"][0] == 3 and point["crs_lee2014"][0] == 2
    assert point["crs_penn"][0] == 3
    assert grade_point(37.0, 0, 0, 0, 3, False)["icans"][0] == 4  # unarousable
    # ICE 8 alone is grade 1; a seizure makes it 3, diffuse oedema 4 (clinical_rules.md)
    assert grade_point(37.0, 0, 0, 8, 0, False)["icans"][0] == 1
    grade, rule = grade_point(37.0, 0, 0, 8, 0, False, seizure=1)["icans"]
    assert grade == 3 and "seizure" in rule
    assert grade_point(37.0, 0, 0, 8, 0, False, cerebral_edema=2)["icans"][0] == 4


def test_severe_neurotoxicity_brings_seizures_and_oedema():
    """A patient highly susceptible to CNS injury, unmanaged: the grade 3-4 ICANS domains
    appear in the simulated physiology and are graded; mild injury shows none of them."""
    def journey(k_cns):
        return run_journey(protocol_from_mapping({
            "product": "axi-cel", "disease": "lbcl", "seed": 1, "policy": "none", **SHORT,
            "patient": {"parameters": {"k_cns": k_cns}}}))
    severe, mild = journey(10.0), journey(0.1)
    run = severe.runs[-1]
    assert run["seizure"].max() >= 1 and run["cerebral_edema"].max() >= 1
    assert severe.outcome.first_line.toxicity["icans"].max == 4
    for name in ("seizure", "cerebral_edema", "motor_weakness"):
        assert mild.runs[-1][name].max() == 0
    assert mild.outcome.first_line.toxicity["icans"].max <= 2


@pytest.mark.parametrize("failure, eligible, disease_name, therapy", [
    (Failure("early relapse", "antigen-negative", "antigen escape", 90.0), False, "b-all",
     "alternative-target-car"),
    (Failure("late relapse", "antigen-positive", "short persistence", 300.0), False, "lbcl",
     "second-infusion"),
    (Failure("early relapse", "antigen-positive", "short persistence", 90.0), True, "b-all",
     "allogeneic-transplant"),
    (Failure("early relapse", "antigen-positive", "exhaustion", 90.0), True, "b-all",
     "checkpoint-inhibitor"),
    (Failure("late relapse", "antigen-positive", "tumour outgrowth despite persisting CAR-T",
             400.0), False, "lbcl", "checkpoint-inhibitor"),
    (Failure("primary refractory", "antigen-positive", "poor expansion", 28.0), False, "mm",
     "bispecific"),
    (Failure("primary refractory", "antigen-positive", "poor expansion", 28.0), False,
     "gastric", "chemotherapy"),
    (Failure("early relapse", "antigen-negative", "antigen escape", 90.0), False, "gastric",
     "chemotherapy"),
])
def test_rescue_rules(failure, eligible, disease_name, therapy):
    assert choose_rescue(failure, disease_name, eligible).name == therapy
    assert therapy in THERAPIES


def test_continuing_from_a_state_reproduces_the_uninterrupted_run():
    values = preset_parameters(disease("lbcl"), product("axi-cel"))
    grid = np.arange(-6.0, 60.25, 0.25)
    whole = simulate_values(values, grid)
    i = int(np.searchsorted(grid, 20.0))
    rest = simulate_values(values, grid[i:], y0=whole.state_vector(20.0))
    for name in ("Ce", "Cm", "il6"):
        np.testing.assert_allclose(rest.states[name][-1], whole.states[name][-1], rtol=1e-3,
                                   atol=1e-9)


def test_journey_command_writes_events_grades_and_plot(tmp_path, capsys):
    assert main(["journey", "zuma1-axi-cel-lbcl", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "events.csv") as handle:
        events = list(csv.DictReader(handle))
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "apheresis" and "infusion" in kinds
    monitoring = [(float(e["day"]), e["detail"]) for e in events if e["kind"] == "monitoring"]
    assert monitoring == [
        (0.0, "close monitoring for 28 days, graded every 6 h (then every 24 h)"),
        (28.0, "end of close monitoring")]
    days = [float(e["day"]) for e in events]
    assert days == sorted(days)
    with open(tmp_path / "grades.csv") as handle:
        header = next(csv.reader(handle))
    assert header[:6] == ["day", "line", "crs_astct", "crs_lee2014", "crs_penn", "icans"]
    assert json.loads((tmp_path / "outcome.json").read_text())["itt"] is True
    assert (tmp_path / "journey.png").read_bytes()[:4] == b"\x89PNG"


def test_journey_command_bad_scenario_exits_2_without_output(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("manufacturing:\n  failure_probability: 2\n")
    out = tmp_path / "out"
    assert main(["journey", str(bad), "--out", str(out)]) == 2
    assert "manufacturing.failure_probability" in capsys.readouterr().err
    assert not out.exists()
    assert main(["journey", str(tmp_path / "missing.yaml"), "--out", str(out)]) == 2


def test_journey_reports_when_the_last_tumour_cell_died():
    """Without antigen-negative or -low cells (and no antigen loss) axi-cel eradicates a fully
    susceptible lymphoma: the day the last cell died is an outcome and an event; a CAR that
    binds nothing eradicates nothing."""
    clean = {"frac_neg": 0.0, "frac_low": 0.0, "mu_neg": 0.0, "mu_low": 0.0,
             "susceptibility": 1.0}

    def outcome(**parameters):
        return run_journey(protocol_from_mapping({
            "product": "axi-cel", "disease": "lbcl", "seed": 2, **SHORT, "follow_up_days": 90.0,
            "visits": {"days": [28.0, 90.0]}, "allow_untargeted_product": True,
            "patient": {"parameters": {**clean, **parameters}}}))
    cured = outcome()
    with pytest.warns(UserWarning, match="binds no antigen"):
        untreated = outcome(binds_CD19=0.0)
    day = cured.outcome.tumour_extinct_day
    assert day is not None and 0 < day < 90
    assert (day, "extinction", "last tumour cell gone") in cured.events
    assert untreated.outcome.tumour_extinct_day is None


def test_a_visit_on_the_last_day_of_follow_up_is_assessed():
    """The 12-month visit of a 365-day follow-up counts (a relapse found there is an event
    within 12 months): visits run up to and including the last day."""
    journey = run_journey(protocol_from_mapping({
        "product": "axi-cel", "disease": "lbcl", "seed": 2, **SHORT,
        "visits": {"days": [28.0, 30.0]}}))
    visits = [day for day, kind, _ in journey.events if kind == "response"]
    assert visits == [28.0, 30.0]


def test_a_later_line_replaces_the_counterfactual_rest_of_the_first():
    """Drugs and grades after a rescue starts are not part of the first line (its simulation
    ran on to follow-up, counterfactually): the schedule and grades are cut there, a steroid
    course running at the cut is shortened, and the first line's record stops there."""
    schedule = Schedule(toci_times=[1.0, 3.0, 100.0], dex_courses=[[45.0, 10.0, 8.0]],
                        dex_reasons=["ICANS"],
                        switch_time=95.0,
                        log=[(1.0, "tocilizumab", "a"), (100.0, "tocilizumab", "b")])
    cut = schedule.until(50.0)
    assert cut.toci_times == [1.0, 3.0] and cut.dex_courses == [[45.0, 5.0, 8.0]]
    assert cut.switch_time is None and cut.log == [(1.0, "tocilizumab", "a")]
    journey = run_journey(load_protocol(scenario_path("ct041-satri-cel-gastric")))
    rescue_day = next(day for day, kind, _ in journey.events if kind == "rescue")
    first_line = [day for day, kind, detail in journey.events
                  if kind in ("tocilizumab", "steroids", "CRS onset", "ICANS onset")
                  and "rescue" not in detail]
    assert all(day < rescue_day for day in first_line)
    assert journey.runs[0].time[-1] <= rescue_day


def test_label_2017_policy_waits_for_grade_3():
    """The KYMRIAH label's trigger (clinical_rules.md section 4): no tocilizumab for grade 2,
    the first dose after the first grading at grade 3."""
    time = np.arange(0, 3, 0.25)
    crs = np.where(time < 1.0, 2, 3)               # grade 2 for a day, then grade 3
    schedule = _decide_all(POLICIES["label-2017"], time, crs, 0 * crs)
    assert schedule.toci_times[0] == pytest.approx(1.0 + RESPONSE_DELAY_DAYS)
    standard = _decide_all(POLICIES["standard"], time, crs, 0 * crs)
    assert standard.toci_times[0] == pytest.approx(0.0 + RESPONSE_DELAY_DAYS)


def test_a_failed_simulation_is_reported_not_graded_as_nan():
    """A parameter that makes the model blow up (M-protein growing instead of cleared) stops
    the journey with a SimulationError naming the scenario and solver status."""
    from cartsim.errors import SimulationError

    protocol = protocol_from_mapping({
        "product": "ide-cel", "disease": "mm", "seed": 1, "follow_up_days": 30.0,
        "visits": {"days": [28.0]}, "patient": {"parameters": {"k_mprot": -500.0}}})
    with pytest.raises(SimulationError, match="non-finite"):
        run_journey(protocol)


def test_a_scenario_writes_its_own_policy():
    policy = resolve_policy({"based_on": "standard", "description": "late, sparing toci",
                             "tocilizumab": {"from_crs_grade": 3, "max_total": 2},
                             "safety_switch_from_grade": 4})
    assert policy.steroids == POLICIES["standard"].steroids
    time = np.arange(0, 3, 0.25)
    crs = np.where(time >= 0.5, 2, 0) + np.where(time >= 1.0, 1, 0) + np.where(time >= 2, 1, 0)
    schedule = _decide_all(policy, time, crs, 0 * crs)
    assert len(schedule.toci_times) == 2                   # at most 2, from grade 3 (day 1)
    assert schedule.toci_times[0] == pytest.approx(1.0 + RESPONSE_DELAY_DAYS)
    assert schedule.switch_time == pytest.approx(2.0 + RESPONSE_DELAY_DAYS)
    steroids_only = resolve_policy({"tocilizumab": None, "steroids": [
        {"from_crs_grade": 2, "dex_mg_per_day": 40, "days": 2}]})
    schedule = _decide_all(steroids_only, time, crs, 0 * crs)
    assert schedule.toci_times == [] and schedule.dex_courses == [[0.5 + RESPONSE_DELAY_DAYS,
                                                                  2.0, 40.0]]
    journey = run_journey(protocol_from_mapping({**SHORT, "seed": 1, "policy": {
        "tocilizumab": None, "steroids": []}}))
    assert journey.outcome.tocilizumab_doses == 0 and journey.outcome.steroid_courses == 0


@pytest.mark.parametrize("policy, element", [
    ("gentle", "policy"),
    ({"tocilizumab": {"max_total": 9}}, "policy.tocilizumab.max_total"),
    ({"tocilizumab": {"dose": 8}}, "policy.tocilizumab.dose"),
    ({"steroids": [{"dex_mg_per_day": 40, "days": 3}]}, "policy.steroids.0"),
    ({"bridging": "none"}, "policy.bridging"),
    ({"based_on": "gentle"}, "policy.based_on"),
    ({"based_on": {"tocilizumab": None}}, "policy.based_on"),
    ({1: "x", "bogus": 2}, "policy.1"),
    ({"steroids": [{"from_icans_grade": 2, "dex_mg_per_day": 40, "days": 3, "label": None}]},
     "policy.steroids.0.label"),
    ({"prophylactic_dex": {"days": 3, "dex_mg_per_day": 10}}, "policy.prophylactic_dex"),
])
def test_policy_errors_name_the_key(policy, element):
    with pytest.raises(ProtocolError) as caught:
        protocol_from_mapping({"policy": policy})
    assert caught.value.element == element


def test_cyclophosphamide_can_start_after_fludarabine():
    """ZUMA-3: fludarabine days -4..-2, cyclophosphamide on day -2 only. Delaying it leaves
    more normal T cells until it is given."""
    base = {**SHORT, "seed": 1, "product": "brexu-cel", "disease": "b-all",
            "lymphodepletion": {"start_day": -4, "fludarabine_mg_m2": 25, "fludarabine_days": 3,
                                "cyclophosphamide_mg_m2": 900, "cyclophosphamide_days": 1}}
    together = run_journey(protocol_from_mapping(base)).runs[0]
    later = run_journey(protocol_from_mapping({**base, "lymphodepletion": {
        **base["lymphodepletion"], "cyclophosphamide_start_day": -2}})).runs[0]
    assert later.at("N", -2.5) > 1.05 * together.at("N", -2.5)
    with pytest.raises(ProtocolError, match="must not be before start_day"):
        protocol_from_mapping({"lymphodepletion": {"start_day": -4,
                                                   "cyclophosphamide_start_day": -6}})
    with pytest.raises(ProtocolError, match="run past the infusion"):
        protocol_from_mapping({"lymphodepletion": {"start_day": -4, "cyclophosphamide_days": 3,
                                                   "cyclophosphamide_start_day": -1}})


def test_a_rescue_infusion_gives_the_whole_dose_at_once():
    """After a split or fractionated first line, the rescue's fractions are not inherited
    (their days are past, so only the first fraction would be given)."""
    values = rescue_parameters(THERAPIES["second-infusion"], 200.0, "b-all")
    assert values["split_second_fraction"] == values["split_third_fraction"] == 0.0
    assert values["t_infusion"] == 205.0


def test_manufacturing_gives_each_product_its_own_composition():
    base = {**SHORT, "product": "axi-cel", "disease": "lbcl",
            "manufacturing": {"failure_probability": 0.0}, "wait": {"dropout_per_day": 0.0},
            "patient": {"background_mortality_per_year": 0.0}}
    varied = {**base, "manufacturing": {**base["manufacturing"], "cd4_fraction_spread": 1.0,
                                        "memory_fraction_spread": 1.0}}
    fixed = [run_journey(protocol_from_mapping({**base, "seed": s})) for s in range(4)]
    drawn = [run_journey(protocol_from_mapping({**varied, "seed": s})) for s in range(4)]
    preset = preset_parameters(disease("lbcl"), product("axi-cel"))
    assert all(j.outcome.product.cd4_fraction == round(preset["cd4_fraction"], 4)
               for j in fixed)
    cd4 = [j.outcome.product.cd4_fraction for j in drawn]
    memory = [j.outcome.product.memory_fraction for j in drawn]
    assert len(set(cd4)) == 4 and len(set(memory)) == 4
    assert all(0 < f < 1 for f in cd4 + memory)
    released = [d for _, kind, d in drawn[0].events if kind == "manufacturing"]
    assert released and f"CD4 {cd4[0]:.0%}" in released[0]


def test_grades_reused_per_combination_of_findings_are_the_calculators_grades():
    """grade_run applies the bedside rules once per combination of findings; at every point
    of a patient with CRS and ICANS its grades and rules are what the calculators give for
    that point's own findings (temperature included), before and after anticytokine therapy."""
    from cartsim.journey.grading import NEURO_FINDINGS, grade_point, grade_run
    from cartsim.therapy.simulate import simulate_patient

    run = simulate_patient("axi-cel", "lbcl", t_end=30.0, points_per_day=4)
    grid = run.time[run.time >= 0]
    series = grade_run(run, grid, anticytokine_from=6.0)
    assert series.grades["crs_astct"].max() >= 1 and series.grades["icans"].max() >= 1
    rules = series.rules
    for i, day in enumerate(grid):
        j = run.index(day)
        expected = grade_point(float(run["temperature_c"][j]), int(run["vasopressors"][j]),
                               int(run["oxygen_need"][j]), int(run["ice_score"][j]),
                               int(run["consciousness"][j]), bool(day >= 6.0),
                               **{name: int(run[name][j]) for name in NEURO_FINDINGS})
        for scale, (grade, rule) in expected.items():
            assert series.grades[scale][i] == grade
            assert rules[scale][i] in ("", rule)
            assert rules[scale][i] == rule or grade == 0


def test_grading_groups_findings_as_numpy_unique_does():
    """The grader's fast grouping of findings (one mixed-radix code per row) gives the rows
    and inverse of ``np.unique(axis=0)``, for any small integer findings."""
    from cartsim.journey.grading import _unique_rows

    rng = np.random.default_rng(0)
    for _ in range(200):
        keys = rng.integers(-3, 12, size=(rng.integers(1, 80), rng.integers(1, 10)))
        rows, inverse = np.unique(keys, axis=0, return_inverse=True)
        fast_rows, fast_inverse = _unique_rows(keys)
        np.testing.assert_array_equal(fast_rows, rows)
        np.testing.assert_array_equal(fast_inverse, inverse.ravel())


def test_the_scenario_schema_describes_what_the_validator_accepts(capsys):
    """``cartsim journey --schema``: every built-in scenario is valid JSON Schema-wise, and
    an unknown key, a value out of range or an unknown choice is invalid there too."""
    jsonschema = pytest.importorskip("jsonschema", reason="a JSON Schema validator")
    assert main(["journey", "--schema"]) == 0
    described = json.loads(capsys.readouterr().out)
    validator = jsonschema.Draft202012Validator(described)
    for name in builtin_scenarios():
        given = yaml.safe_load(open(scenario_path(name), encoding="utf-8"))
        assert not list(validator.iter_errors(given)), name
    assert described["properties"]["patient"]["properties"]["anc_10e9_l"]["default"] == 2.0
    for bad in ({"nonsense": 1}, {"patient": {"anc_10e9_l": -1}}, {"product": "no-such-cel"},
                {"monitoring": {"crs_scale": "nci"}}):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(ProtocolError):
            protocol_from_mapping(bad)


def test_a_first_line_end_settled_on_part_of_its_run_is_the_end_on_all_of_it(monkeypatch):
    """Follow-up is simulated in pieces and stops once the run so far settles where the first
    line ends: on the run cut at any day from that end on, the end found is the same, and on
    a run cut earlier it lies beyond the cut (the line goes on), so stopping never changes it."""
    import cartsim.journey.run as journey_run
    from cartsim.journey.batch import run_journeys
    from cartsim.journey.cohort import cohort_protocols

    seen = {}
    original = journey_run._first_line_end

    def remember(journey, run, grades, values):
        seen[id(journey)] = (journey, run, grades, values)  # the last look is at the whole run
        return original(journey, run, grades, values)

    monkeypatch.setattr(journey_run, "_first_line_end", remember)
    protocols, _ = cohort_protocols(load_protocol(scenario_path("zuma1-axi-cel-lbcl")), 0, 40)
    run_journeys(protocols)
    checked = 0
    for journey, run, grades, values in seen.values():
        end = original(journey, run, grades, values).line_end
        if end >= run.time[-1] or end <= 0:  # the line ran to the end of follow-up
            continue
        checked += 1
        for cut in run.time[run.time >= 28.0]:
            found = original(journey, run.until(cut), grades.until(cut + 1e-9), values).line_end
            if cut >= end:
                assert found == end
            else:
                assert found > cut
    assert checked >= 10  # lines ended by a rescue or a death, each checked at every day


def test_the_journey_page_names_a_written_policy_by_what_it_is_based_on(tmp_path):
    """A policy written into the scenario is titled by its base, not printed as a mapping;
    the time axis has a panel for the first six weeks and one for the rest of follow-up,
    and a journey that ends earlier only the first."""
    from cartsim.report.journey_plot import EARLY_DAYS, plot_journey, policy_label, time_panels

    assert policy_label("label-2017") == "label-2017"
    assert policy_label({"based_on": "standard", "steroids": []}) == "own (based on standard)"
    assert policy_label({"steroids": []}) == "own"
    journey = run_journey(load_protocol(scenario_path("zuma1-axi-cel-lbcl")))
    (first, early), (later, end) = time_panels(journey)
    assert first < journey.outcome.apheresis_day and early == later == EARLY_DAYS
    assert end == journey.protocol["follow_up_days"]
    short = run_journey(protocol_from_mapping({"product": "axi-cel", "disease": "lbcl",
                                               "seed": 2, **SHORT}))
    assert [span[1] for span in time_panels(short)] == [30.0]
    plot_journey(journey, tmp_path / "journey.png")
    assert (tmp_path / "journey.png").read_bytes()[:4] == b"\x89PNG"


def test_a_scenario_with_several_mistakes_reports_them_all(tmp_path, capsys):
    """An unknown key, an impossible value and a wrong type in one file: one error (exit 2)
    naming the file and each key with its problem, not only the first."""
    path = tmp_path / "bad.yaml"
    path.write_text("product: axi-cel\ndisease: lbcl\nfollow_up_dayz: 30\n"
                    "monitoring: {days: -3}\nrescue: {enabled: maybe}\n")
    with pytest.raises(ProtocolError) as raised:
        load_protocol(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: 3 mistakes:")
    for where in ("follow_up_dayz: unknown key (did you mean 'follow_up_days'?",
                  "monitoring.days: must be", "rescue.enabled: must be true or false"):
        assert where in message
    assert main(["journey", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "3 mistakes" in capsys.readouterr().err
