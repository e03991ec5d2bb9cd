"""Cohorts of journeys: ITT and infused denominators, patients independent of cohort size,
Wilson intervals, published values in scenarios, and the command."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from math import inf

import pytest

from cartsim.cli import main
from cartsim.journey import ProtocolError, load_protocol, protocol_from_mapping
from cartsim.journey.assessment import Assessment, mrd_negative
from cartsim.journey.cohort import run_cohort
from cartsim.journey.endpoints import ENDPOINTS, EndpointContext
from cartsim.journey.medians import kaplan_meier_median
from cartsim.journey.outcome import (
    CountSummary,
    Death,
    FailureRecord,
    LineOutcome,
    PatientOutcome,
)
from cartsim.journey.scenarios import builtin_scenarios, scenario_path
from cartsim.journey.tally import wilson_interval

SHORT = {"product": "axi-cel", "disease": "lbcl", "follow_up_days": 30.0,
         "visits": {"days": [28.0]}, "rescue": {"enabled": False}}


@pytest.mark.parametrize("events, n, low, high", [
    # Newcombe 1998 (Stat Med 17:857), table I, method 3 (Wilson score interval)
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_newcombe(events, n, low, high):
    got = wilson_interval(events, n)
    assert got[0] == pytest.approx(low, abs=1e-4) and got[1] == pytest.approx(high, abs=1e-4)


def test_itt_and_infused_denominators():
    protocol = protocol_from_mapping({**SHORT, "seed": 3,
                                      "manufacturing": {"failure_probability": 0.4}})
    cohort = run_cohort(protocol, 20)
    ends = cohort.summary()["endpoints"]
    infused = sum(o.infused for o in cohort.outcomes)
    assert 0 < infused < 20  # 40% failure: both populations exist at this seed
    assert ends["infused"] == {**ends["infused"], "events": infused, "n": 20}
    assert ends["orr_itt"]["n"] == 20 and ends["orr"]["n"] == infused
    assert ends["orr_itt"]["events"] == ends["orr"]["events"]
    assert ends["crs_any"]["n"] == infused
    assert sum(cohort.summary()["not_infused_reasons"].values()) == 20 - infused
    assert "pfs_6mo" not in ends  # 30 days of follow-up cannot give a 6-month endpoint
    low, high = ends["orr"]["ci95_pct"]
    assert low <= ends["orr"]["pct"] <= high


def test_patients_do_not_depend_on_cohort_size():
    protocol = protocol_from_mapping({**SHORT, "seed": 5})
    small, large = run_cohort(protocol, 2), run_cohort(protocol, 4)
    assert small.outcomes == large.outcomes[:2]
    assert small.outcomes[0] != small.outcomes[1]  # patients differ from one another
    for name, values in small.parameters.items():
        assert list(values) == list(large.parameters[name][:2])


def test_published_values_are_validated():
    with pytest.raises(ProtocolError, match="published.crs_sometimes"):
        protocol_from_mapping({"published": {"crs_sometimes": {"value": 5, "source": "x"}}})
    with pytest.raises(ProtocolError, match="published.orr.value"):
        protocol_from_mapping({"published": {"orr": {"value": 150, "source": "x"}}})
    with pytest.raises(ProtocolError, match="published.orr"):
        protocol_from_mapping({"published": {"orr": 70}})


def test_cohort_command_writes_patients_and_summary(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(json.dumps({**SHORT, "published": {
        "crs_any": {"value": 94, "source": "ZUMA-1 n=108, Lee 2014"}}}))
    assert main(["cohort", str(scenario), "--patients", "3", "--workers", "1", "--out",
                 str(tmp_path)]) == 0
    with open(tmp_path / "patients.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["patient"] for r in rows] == ["0", "1", "2"]
    sampled = [name for name in rows[0] if "[" in name]  # parameters carry their units
    assert "rho_max [1/day]" in sampled and "susceptibility [1]" in sampled
    assert all(float(r["T0 [Gcell]"]) > 0 for r in rows)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["endpoints"]["crs_any"]["published"]["value"] == 94
    assert "published 94%" in capsys.readouterr().out


def test_cohort_command_rejects_an_empty_cohort(tmp_path, capsys):
    assert main(["cohort", "zuma1-axi-cel-lbcl", "--patients", "0", "--out",
                 str(tmp_path)]) == 2
    assert "--patients" in capsys.readouterr().err
    assert not (tmp_path / "patients.csv").exists()


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_scenario_runs_as_a_cohort(name):
    p = load_protocol(scenario_path(name))
    cohort = run_cohort(protocol_from_mapping({**p, **SHORT, "product": p["product"],
                                               "disease": p["disease"]}), 2)
    endpoints = cohort.summary()["endpoints"]
    assert endpoints["infused"]["n"] == 2
    assert all(o.itt for o in cohort.outcomes)


def test_outcomes_do_not_depend_on_the_number_of_workers():
    protocol = protocol_from_mapping({**SHORT, "seed": 11})
    assert run_cohort(protocol, 5, workers=2).outcomes == run_cohort(protocol, 5).outcomes


def test_errors_survive_the_trip_from_a_worker_process():
    """Errors of any signature are rebuilt intact after pickling (as a worker returns them)."""
    import pickle

    from cartsim.clinical.checks import ClinicalValueError

    for error in (ClinicalValueError("ice", 11, "must be from 0 to 10"),
                  ProtocolError("must be a number", file="s.yaml", element="seed")):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert again.__dict__ == error.__dict__


def test_patient_without_measurable_disease_at_baseline_is_not_evaluable():
    """Bridging that cleared the lymphoma leaves nothing to measure: no assessment (not
    evaluable) rather than an error."""
    import numpy as np

    from cartsim.journey.assessment import assess
    from cartsim.therapy.simulate import PatientRun

    time = np.array([-6.0, 0.0, 28.0])
    run = PatientRun.from_columns(time, {"spd_mm2": np.zeros(3), "tumour_cells": np.zeros(3)},
                                  {})
    assert assess(run, "Lugano", [28.0], baseline_day=-6.0, n_lesions=4.0) == []


def test_cohort_command_overrides_parameters_for_every_patient(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(json.dumps({**SHORT, "allow_untargeted_product": True}))
    out = tmp_path / "out"
    assert main(["cohort", str(scenario), "--patients", "2", "--workers", "1", "--out",
                 str(out), "--set", "binds_CD19=0"]) == 0
    assert "cartsim: warning: 'axi-cel' binds no antigen" in capsys.readouterr().err
    endpoints = json.loads((out / "summary.json").read_text())["endpoints"]
    assert endpoints["orr"]["events"] == 0 and endpoints["crs_any"]["events"] == 0
    assert main(["cohort", str(scenario), "--patients", "2", "--out", str(tmp_path / "bad"),
                 "--set", "no_such_parameter=1"]) == 2
    assert "no_such_parameter" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "summary.json").exists()


def test_kaplan_meier_medians_censor_at_follow_up():
    """Medians of times to an event, by hand: the first time half or fewer remain event-free,
    patients leaving the risk set at their follow-up without the event."""
    month = 365.25 / 12
    assert kaplan_meier_median([30.0, 61.0, 400.0], [730.0] * 3).value == round(61 / month, 2)
    assert kaplan_meier_median([100.0, inf, inf], [730.0] * 3).value is None   # 2/3 left
    assert kaplan_meier_median([100.0, 200.0, inf, inf], [730.0] * 4).value == round(
        200 / month, 2)                                                       # 1/2 left
    # the second patient leaves at day 60: after day 80, 3/4 x 1/2 = 3/8 remain
    censored = kaplan_meier_median([50.0, inf, 80.0, inf], [365.0, 60.0, 365.0, 365.0])
    assert censored.value == round(80 / month, 2) and (censored.n, censored.events) == (4, 2)
    assert kaplan_meier_median([], []).value is None


def test_a_failed_simulation_is_data_not_an_abort(tmp_path, capsys):
    """A patient whose model blows up (M-protein growing instead of cleared) does not stop the
    cohort: it is listed with the solver's reason, in no endpoint, and every endpoint says how
    many such patients there were."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(json.dumps({"product": "ide-cel", "disease": "mm", "seed": 1,
                                    "follow_up_days": 30.0, "visits": {"days": [28.0]},
                                    "rescue": {"enabled": False}}))
    out = tmp_path / "out"
    assert main(["cohort", str(scenario), "--patients", "2", "--workers", "1", "--out",
                 str(out), "--set", "k_mprot=-500"]) == 0
    assert "2 patient(s) could not be simulated" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulation_failed"]["patients"] == [0, 1]
    assert all("non-finite" in reason for reason in summary["simulation_failed"]["reasons"])
    assert summary["endpoints"]["orr"]["n"] == 0
    assert summary["endpoints"]["orr"]["simulation_failed"] == 2
    with open(out / "patients.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["patient"] for row in rows] == ["0", "1"]
    assert all("non-finite" in row["simulation_failed"] for row in rows)


def test_failed_patients_leave_the_others_counted():
    from cartsim.journey.cohort import Cohort

    protocol = protocol_from_mapping({**SHORT, "seed": 3})
    simulated = run_cohort(protocol, 3)
    mixed = Cohort(protocol, simulated.parameters,
                   [*simulated.outcomes,
                    PatientOutcome(simulation_failed="failed: too many steps")])
    ends, alone = mixed.summary()["endpoints"], simulated.summary()["endpoints"]
    assert ends["infused"]["n"] == alone["infused"]["n"] == 3
    assert ends["orr"] == {**alone["orr"], "simulation_failed": 1}
    assert mixed.failed() == [3]


def test_b_cell_aplasia_is_counted_over_escape_relapses_only():
    """Pulsipher 2022's measure: of the antigen-negative relapses, how many kept B-cell
    aplasia. Antigen-positive relapses and refractory disease are outside it."""
    from cartsim.journey.cohort import Cohort

    def relapse(kind, antigen, aplasia):
        line = replace(simulated.outcomes[0].first_line, progression_day=200.0,
                       failure=FailureRecord(kind, antigen, "", aplasia))
        return replace(simulated.outcomes[0], infused=True, first_line=line)

    protocol = protocol_from_mapping({**SHORT, "seed": 3})
    simulated = run_cohort(protocol, 1)
    outcomes = [relapse("late relapse", "antigen-negative", True),
                relapse("early relapse", "antigen-low", False),
                relapse("late relapse", "antigen-positive", False),
                relapse("primary refractory", "antigen-negative", False)]
    ends = Cohort(protocol, simulated.parameters, outcomes).summary()["endpoints"]
    assert ends["escape_relapse_with_b_cell_aplasia"]["events"] == 1
    assert ends["escape_relapse_with_b_cell_aplasia"]["n"] == 2


def _endpoint(name: str):
    return next(e for e in ENDPOINTS if e.name == name)


def _infused(**line) -> PatientOutcome:
    return PatientOutcome(infused=True, first_line=LineOutcome(**line))


def test_response_duration_nrm_manufacturing_failure_mrd_and_dcr_by_hand():
    ctx = EndpointContext("Lugano-PET", ("CR", "PR"), 730.0, "crs_lee2014")
    short = _infused(best_response="CR", response_day=28.0, progression_day=150.0)
    long = _infused(best_response="PR", response_day=28.0, progression_day=400.0)
    dor6, dor12 = _endpoint("dor_6mo").counts, _endpoint("dor_12mo").counts
    assert (dor6(short, ctx), dor6(long, ctx), dor12(long, ctx)) == (False, True, True)
    assert dor12(long, replace(ctx, follow_up_days=365.0)) is None  # not followed 12 months
    assert dor6(_infused(best_response="SD"), ctx) is None           # not a responder
    nrm = _endpoint("non_relapse_mortality").counts
    background = Death(100.0, "death (background)")
    assert nrm(replace(_infused(), death=background), ctx) is True
    assert nrm(replace(_infused(progression_day=90.0), death=background), ctx) is False
    assert nrm(replace(_infused(), death=Death(100.0, "death (progression)")), ctx) is False
    assert nrm(_infused(), ctx) is False and nrm(PatientOutcome(), ctx) is None
    failed = _endpoint("manufacturing_failure").counts
    assert failed(PatientOutcome(not_infused_reason="manufacturing failure"), ctx)
    assert not failed(PatientOutcome(not_infused_reason="drop-out"), ctx)
    assert not failed(_infused(), ctx)
    mrd = _endpoint("mrd_neg").counts
    assert mrd(_infused(mrd_negative=None), ctx) is None  # lymphoma: no MRD assessed
    assert mrd(_infused(mrd_negative=True), ctx) is True
    dcr = _endpoint("dcr").counts
    assert dcr(_infused(best_response="SD"), ctx) is None  # not RECIST
    recist = replace(ctx, criteria="RECIST")
    assert dcr(_infused(best_response="SD"), recist) is True
    assert dcr(_infused(best_response="PD"), recist) is False


def test_refractory_disease_ends_progression_free_survival():
    """ALL calls a non-response refractory, not progression: progression-free survival ends
    there all the same, and a later death is not non-relapse mortality; stable disease
    without a failure day stays progression-free."""
    ctx = EndpointContext("ALL", ("CR", "CRi"), 730.0, "crs_penn")
    refractory = _infused(best_response="NR", failure=FailureRecord(
        "primary refractory", "antigen-positive", "poor expansion", None, 28.0))
    pfs6, nrm = _endpoint("pfs_6mo").counts, _endpoint("non_relapse_mortality").counts
    assert pfs6(refractory, ctx) is False
    assert nrm(replace(refractory, death=Death(300.0, "death (background)")), ctx) is False
    stable = _infused(best_response="SD", failure=FailureRecord(
        "primary refractory", "antigen-positive", "poor expansion", None, None))
    assert pfs6(stable, replace(ctx, criteria="Lugano-PET")) is True


def test_an_outcome_survives_its_json_form():
    """The store keeps outcomes as JSON: read back, an outcome is the one written."""
    outcome = run_cohort(protocol_from_mapping({**SHORT, "seed": 4}), 1).outcomes[0]
    assert PatientOutcome.from_json(json.loads(json.dumps(outcome.to_json()))) == outcome
    assert isinstance(outcome.first_line.toxicity["neutropenia"], CountSummary)


def test_cohort_summary_has_median_endpoints_and_mrd_by_the_disease_threshold():
    """Medians are endpoints with a value and unit; MRD is assessed where the criteria have a
    threshold (ALL, myeloma), and a myeloma patient is MRD-negative only below 10^-5."""
    summary = run_cohort(protocol_from_mapping({**SHORT, "product": "ide-cel",
                                                "disease": "mm"}), 8).summary()
    endpoints = summary["endpoints"]
    assert endpoints["os_median_months"]["unit"] == "months"
    assert endpoints["crs_onset_median_day"]["value"] == summary["crs_onset_median_day"]
    assert endpoints["mrd_neg"]["n"] > 0
    assert endpoints["dcr"]["n"] == 0
    assert mrd_negative([Assessment(28.0, None, mrd_fraction=5e-5)], "IMWG") is False
    assert mrd_negative([Assessment(28.0, None, mrd_fraction=5e-5)], "ALL") is True
    assert mrd_negative([Assessment(28.0, None)], "Lugano-PET") is None
