"""Trials: batched journeys against one-at-a-time journeys, bit-identity across chunking,
threads and Dask workers, the Parquet store's resume after SIGKILL, and its refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cartsim.cli import main
from cartsim.journey import batch
from cartsim.journey import run as run_module
from cartsim.journey.batch import run_journeys
from cartsim.journey.cohort import cohort_protocols, outcome_of
from cartsim.journey.run import SimulationRequest, journey_parameters
from cartsim.journey.scenarios import builtin_scenarios
from cartsim.trial import run_trial
from cartsim.trial.backends import DaskBackend, InProcessBackend, ProcessBackend
from cartsim.trial.execution import ChunkTask, simulate_chunk, trial_protocol
from cartsim.trial.store import query
from cartsim.trial.trajectories import TrajectorySpec

SHORT = {"follow_up_days": 120.0, "visits": {"days": [28.0, 90.0]},
         "rescue": {"follow_up_days": 60.0}}


def short(name: str, seed: int = 3) -> dict:
    protocol = trial_protocol(name)
    return trial_protocol({**protocol, **SHORT, "seed": seed})


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_batched_journeys_equal_journeys_run_alone(name):
    """Every built-in scenario: the outcome of each patient solved in one batch with the
    others is the outcome of that patient solved alone (the same solves, bit for bit)."""
    protocols, _ = cohort_protocols(short(name), 0, 12)
    batched = [outcome_of(j) for j in run_journeys(protocols)]
    alone = [outcome_of(run_journeys([p])[0]) for p in protocols]
    assert batched == alone
    treated = (o.infused or o.first_line.best_response is not None for o in batched)
    assert any(treated)  # a CAR-T patient infused, a comparator's therapy assessed


DRUGS = ("tocilizumab", "steroids", "safety switch")


def test_decisions_stop_where_the_line_ends_without_changing_outcomes(monkeypatch):
    """A line's policy takes no decision after its end (death, or the rescue that replaces
    it), which would re-simulate a counterfactual rest of follow-up: the outcome and events
    of every patient are those of deciding on to the end of follow-up, with fewer days
    simulated, and no drug is given after death."""
    protocol = trial_protocol({**trial_protocol("zuma1-axi-cel-lbcl"), "follow_up_days": 730.0})
    protocols, _ = cohort_protocols(protocol, 0, 120)
    solve, managed = batch._solve, run_module._managed_run

    def simulated_days() -> list[float]:
        days = []

        def counted(requests, *args):
            days.extend(float(r.grid[-1] - r.grid[0]) for r in requests)
            return solve(requests, *args)

        monkeypatch.setattr(batch, "_solve", counted)
        return days

    def to_follow_up_end(*args, horizon, **kwargs):
        return managed(*args, horizon=lambda run, grades: np.inf, **kwargs)

    days = simulated_days()
    journeys = run_journeys(protocols)
    monkeypatch.setattr(run_module, "_managed_run", to_follow_up_end)
    days_everywhere = simulated_days()
    everywhere = run_journeys(protocols)
    assert [outcome_of(j) for j in journeys] == [outcome_of(j) for j in everywhere]
    assert [j.events for j in journeys] == [j.events for j in everywhere]
    assert sum(days) < 0.9 * sum(days_everywhere)
    for journey in journeys:
        death = np.inf if journey.outcome.death_day is None else journey.outcome.death_day
        assert not any(kind in DRUGS and day > death for day, kind, _ in journey.events)


def test_a_journey_record_agrees_with_itself():
    """The record stops at the end of follow-up (a rescue line too) and its grades at death;
    the grades' worst ICANS is the first line's or the rescue's; a death from progression has
    its progression on record (a relapse is seen when the disease is back at its baseline
    burden, or at the latest at death) and its failure."""
    protocol = trial_protocol({**trial_protocol("eliana-tisa-cel-b-all"),
                               "follow_up_days": 730.0})
    protocols, _ = cohort_protocols(protocol, 0, 80)
    seen = {"progression deaths": 0, "unscheduled": 0, "rescued": 0}
    for journey in run_journeys(protocols):
        o = journey.outcome
        assert all(day <= 730.0 for day, _, _ in journey.events)  # the trial's follow-up
        if not o.infused:
            continue
        assert journey.grades.time[-1] < (np.inf if o.death_day is None else o.death_day)
        lines = [o.first_line] + ([o.rescue_line] if o.rescue_line else [])
        worst = max(line.toxicity["icans"].max for line in lines)
        assert journey.grades.grades["icans"].max() == worst
        seen["rescued"] += o.rescue_line is not None
        if o.death is not None and o.death.cause == "death (progression)":
            seen["progression deaths"] += 1
            failure = next((line.failure for line in lines if line.failure), None)
            assert failure is not None
            progressed = [line.progression_day for line in lines if line.progression_day]
            assert progressed or failure.kind == "primary refractory"
        seen["unscheduled"] += any("unscheduled" in detail for _, _, detail in journey.events)
    assert all(count > 0 for count in seen.values()), seen


def test_a_request_solved_beside_one_with_other_times_is_solved_as_alone():
    """A union grid may hold times a member lacks (another's start): the member is solved
    over its span of the union, and keeps exactly its own times and values."""
    values = journey_parameters(trial_protocol("zuma1-axi-cel-lbcl"))
    daily = SimulationRequest(values, np.arange(-6.0, 11.0), seed=5)
    later = SimulationRequest(values, np.concatenate([[2.5], np.arange(3.0, 11.0)]), seed=6)
    (alone,) = batch._solve([daily], "cpu", None)
    together, other = batch._solve([daily, later], "cpu", None)
    assert np.array_equal(together.time, daily.grid) and np.array_equal(other.time, later.grid)
    assert np.array_equal(together.state_values, alone.state_values)
    assert np.array_equal(together.observable_values, alone.observable_values)


def test_results_do_not_depend_on_chunk_size_or_threads(tmp_path):
    protocol = short("zuma1-axi-cel-lbcl")
    a = run_trial(protocol, 10, out=tmp_path / "a", chunk_size=3,
                  backend=InProcessBackend(threads=1))
    b = run_trial(protocol, 10, out=tmp_path / "b", chunk_size=10)
    assert a.table.equals(b.table)
    assert a.table.num_rows == 10 and a.table.column("patient").to_pylist() == list(range(10))
    assert a.summary["arms"] == b.summary["arms"]


def test_worker_processes_give_the_same_results(tmp_path):
    """Chunks on two worker processes (one core each) are the rows this process computes, and
    a one-chunk run stays here on every core."""
    protocol = short("eliana-tisa-cel-b-all")
    local = run_trial(protocol, 6, out=tmp_path / "local", chunk_size=2)
    backend = ProcessBackend(workers=2)
    try:
        assert backend.chunk_threads(3) == 1 and backend.chunk_threads(1) is None
        pooled = run_trial(protocol, 6, out=tmp_path / "pool", chunk_size=2, backend=backend)
        assert backend._pool is not None
    finally:
        backend.close()
    assert local.table.equals(pooled.table)


def test_dask_workers_give_the_same_results(tmp_path):
    """Two local Dask worker processes compute the same rows as this process."""
    protocol = short("eliana-tisa-cel-b-all")
    local = run_trial(protocol, 6, out=tmp_path / "local", chunk_size=2)
    backend = DaskBackend("local", workers=2)
    try:
        distributed = run_trial(protocol, 6, out=tmp_path / "dask", chunk_size=2,
                                backend=backend)
    finally:
        backend.close()
    assert local.table.equals(distributed.table)


def test_a_dask_worker_killed_mid_run_loses_no_patient():
    """A worker killed with SIGKILL once the first chunk is back: its chunks are computed
    again elsewhere (or by its restarted self), and every chunk ends as it does in this
    process."""
    protocol = short("zuma1-axi-cel-lbcl")
    tasks = [ChunkTask(protocol, "A", i, first, first + 3, "cpu", 1)
             for i, first in enumerate(range(0, 24, 3))]
    alone = {task.index: simulate_chunk(task).table for task in tasks}
    backend = DaskBackend("local", workers=2)
    try:
        victim = next(iter(backend.client.run(os.getpid).values()))
        results = {}
        for result in backend.map(simulate_chunk, tasks):
            if not results:
                os.kill(victim, signal.SIGKILL)
            results[result.index] = result.table
        assert victim not in backend.client.run(os.getpid).values()  # it died mid-run
    finally:
        backend.close()
    assert sorted(results) == sorted(alone)
    assert all(results[i].equals(alone[i]) for i in alone)


def _trial_command(out: Path, patients: int = 12) -> list[str]:
    return [sys.executable, "-m", "cartsim", "trial", "zuma1-axi-cel-lbcl", "--patients",
            str(patients), "--seed", "5", "--chunk-size", "2", "--out", str(out), "--quiet",
            "--trajectory-days", "0:120:10"]


def test_a_run_killed_with_sigkill_resumes_to_the_same_results(tmp_path):
    """Killed as soon as its first chunks are written, its worker processes end with it; started
    again with the same command, a trial skips the finished chunks and ends with the rows of a
    run that was never interrupted: no patient lost or duplicated."""
    killed = tmp_path / "killed"
    process = subprocess.Popen(_trial_command(killed), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    workers = []
    while time.time() < deadline and process.poll() is None:
        if len(list(killed.glob("patients/arm=A/chunk=*.parquet"))) >= 2:
            workers = psutil.Process(process.pid).children(recursive=True)
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    process.wait()
    assert workers, "the run's chunks were not on worker processes"
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"worker processes outlived the killed run: {alive}"
    finished = len(list(killed.glob("patients/arm=A/chunk=*.parquet")))
    assert 2 <= finished < 6, "the run ended before it could be killed part-way"
    resumed = subprocess.run(_trial_command(killed), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{finished} of 6 chunks resumed" in resumed.stdout
    whole = tmp_path / "whole"
    assert main(_trial_command(whole)[3:]) == 0
    read = lambda folder: pq.read_table(folder / "patients").sort_by("patient")  # noqa: E731
    assert read(killed).equals(read(whole))
    days = lambda folder: pq.read_table(folder / "trajectories").sort_by(  # noqa: E731
        [("patient", "ascending"), ("day", "ascending")])
    assert days(whole).num_rows == 12 * 13 and days(killed).column_names == days(
        whole).column_names
    for name in days(whole).column_names:  # NaN after a death: equal where both are NaN
        np.testing.assert_array_equal(days(killed).column(name).to_numpy(),
                                      days(whole).column(name).to_numpy())
    assert json.loads((killed / "summary.json").read_text())["arms"] == json.loads(
        (whole / "summary.json").read_text())["arms"]


def test_a_folder_of_another_trial_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["trial", "zuma1-axi-cel-lbcl", "--patients", "2", "--seed", "1",
                 "--chunk-size", "2", "--out", str(out), "--quiet"]) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert main(["trial", "zuma1-axi-cel-lbcl", "--patients", "2", "--seed", "2",
                 "--out", str(out), "--quiet"]) == 2
    assert "another trial" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_endpoints_csv_and_duckdb_query(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["trial", "zuma1-axi-cel-lbcl", "--patients", "4", "--seed", "1",
                 "--out", str(out), "--quiet"]) == 0
    header = (out / "endpoints.csv").read_text().splitlines()[0]
    assert header == "arm,endpoint,value,ci_low,ci_high,n,published,within_ci"
    rows = query(out, "SELECT count(*), count(DISTINCT patient) FROM patients").fetchall()
    assert rows == [(4, 4)]
    capsys.readouterr()
    assert main(["query", str(out), "SELECT arm, count(*) AS n FROM patients GROUP BY arm",
                 "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["arm,n", "A,4"]
    assert main(["query", str(tmp_path), "SELECT 1"]) == 2


def test_trajectories_are_the_journeys_values_at_the_chosen_days(tmp_path, capsys):
    """Stored trajectories are each journey's own outputs at the chosen days (days on its
    grading times: exactly), NaN after death, and the view ``trajectories`` queries them."""
    protocol = short("zuma1-axi-cel-lbcl", seed=8)
    spec = TrajectorySpec.parse("0:120:2", "tumour_cells,il6_pg_ml,Cm")
    run_trial(protocol, 8, out=tmp_path / "t", chunk_size=3, trajectories=spec)
    stored = pq.read_table(tmp_path / "t" / "trajectories")
    protocols, _ = cohort_protocols(protocol, 0, 8)
    checked = {"value": 0, "nan": 0}
    for patient, journey in enumerate(run_journeys(protocols)):
        rows = stored.filter(pc.equal(stored.column("patient"), patient))
        days = np.array(rows.column("day").to_pylist())
        assert np.array_equal(days, np.arange(0.0, 120.1, 2.0))
        death = np.inf if journey.outcome.death_day is None else journey.outcome.death_day
        for name in ("tumour_cells", "il6_pg_ml", "Cm"):
            values = np.array(rows.column(name).to_pylist(), dtype=float)
            for day, value in zip(days, values, strict=True):
                runs = [r for r in journey.runs if r.time[0] <= day <= r.time[-1]]
                if day > death or not runs:  # dead, or after the last line's follow-up
                    assert np.isnan(value)
                    checked["nan"] += 1
                else:
                    run = runs[-1]
                    assert value == run[name][np.flatnonzero(np.isclose(run.time, day))[0]]
                    checked["value"] += 1
    assert checked["value"] > 0 and checked["nan"] > 0
    capsys.readouterr()
    assert main(["query", str(tmp_path / "t"), "SELECT count(DISTINCT patient), count(*) "
                 "FROM trajectories", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == f"8,{8 * 61}"


@pytest.mark.parametrize("option, value, problem", [
    ("--trajectory-days", "0:x:7", "cannot read trajectory days"),
    ("--trajectory-days", "7,0", "increasing"),
    ("--trajectory-variables", "tumour_cells,nonsense", "unknown trajectory variable"),
])
def test_bad_trajectory_options_are_refused(tmp_path, capsys, option, value, problem):
    given = {"--trajectory-days": "0:28:7", option: value}
    args = ["trial", "zuma1-axi-cel-lbcl", "--patients", "2", "--out", str(tmp_path / "t"),
            "--quiet", *(item for pair in given.items() for item in pair)]
    assert main(args) == 2
    assert problem in capsys.readouterr().err
    assert not (tmp_path / "t" / "patients").exists()


def test_stored_parameters_carry_their_units(tmp_path):
    run = run_trial(short("zuma1-axi-cel-lbcl"), 2, out=tmp_path / "t")
    schema = run.table.schema
    assert schema.field("rho_max").metadata == {b"unit": b"1/day"}
    assert schema.field("T0").metadata == {b"unit": b"Gcell"}
    assert schema.field("crs_max").metadata is None  # outcomes name their units


def test_a_failed_patient_is_stored_with_its_reason(tmp_path):
    """A patient whose model blows up is a row with the solver's reason, in no endpoint."""
    protocol = trial_protocol({"product": "ide-cel", "disease": "mm", "seed": 1,
                               "follow_up_days": 30.0, "visits": {"days": [28.0]},
                               "rescue": {"enabled": False},
                               "patient": {"parameters": {"k_mprot": -500.0}}})
    run = run_trial(protocol, 2, out=tmp_path / "t")
    reasons = run.table.column("simulation_failed").to_pylist()
    assert all(r and "non-finite" in r for r in reasons)
    assert run.summary["arms"]["A"]["simulation_failed"]["patients"] == [0, 1]
