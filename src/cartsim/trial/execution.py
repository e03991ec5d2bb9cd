"""Run a trial: its chunks of patients on a backend, into the store, then its summary.

A one-arm trial is a scenario (built-in name or YAML file). Patient i of the trial is cohort
patient i of that scenario (:func:`cartsim.journey.cohort.cohort_protocols`): the same
varied parameters and journey seed whatever the chunking or backend, so a resumed, re-chunked
or distributed run gives the same patients. The summary is computed from the store, so it is
the same whether or not the run was interrupted.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import get_type_hints

import pyarrow as pa

from cartsim import __version__
from cartsim.journey import load_protocol, protocol_from_mapping
from cartsim.journey.cohort import Cohort, PatientRow, outcome_of, simulate_journeys
from cartsim.journey.outcome import PatientOutcome
from cartsim.journey.scenarios import scenario_path
from cartsim.journey.tally import Tally
from cartsim.therapy.simulate import compiled_therapy_model
from cartsim.trial.backends import Backend, InProcessBackend
from cartsim.trial.store import Manifest, TrialStore
from cartsim.trial.trajectories import TrajectorySpec


def _base_type(hint) -> type:
    """``int`` of ``int | None``."""
    return next(t for t in getattr(hint, "__args__", (hint,)) if t is not type(None))


ARM = "A"
"""The arm name of a one-arm trial (the trial-spec issue adds named arms)."""
DEFAULT_CHUNK = 256
OUTCOME_COLUMN = "outcome_json"
"""The whole outcome of a patient as JSON, from which endpoints are computed."""
ARROW_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}
ROW_TYPES = {**{f.name: ARROW_TYPES[_base_type(hint)]
                for f, hint in zip(fields(PatientRow), get_type_hints(PatientRow).values(),
                                   strict=True)},
             OUTCOME_COLUMN: pa.string()}
"""Column types of a patient row (:class:`PatientRow` plus the outcome); every other column is
a sampled parameter (float). One schema for every chunk, whatever its patients lacked."""


@dataclass(frozen=True)
class ChunkTask:
    """Patients ``first .. last - 1`` of one arm, to simulate where a backend puts it."""

    protocol: dict
    arm: str
    index: int
    first: int
    last: int
    target: str = "cpu"
    threads: int | None = None
    trajectories: TrajectorySpec | None = None


@dataclass(frozen=True)
class ChunkResult:
    arm: str
    index: int
    table: pa.Table
    trajectories: pa.Table | None = None


def simulate_chunk(task: ChunkTask) -> ChunkResult:
    """The rows of one chunk: its patients' batched journeys, one row each, and their
    trajectories when the task asks for them."""
    journeys, varied = simulate_journeys(task.protocol, task.first, task.last,
                                         target=task.target, threads=task.threads)
    outcomes = [outcome_of(j) for j in journeys]
    rows = Cohort(task.protocol, varied, outcomes).rows()
    for j, (row, outcome) in enumerate(zip(rows, outcomes, strict=True)):
        row["patient"] = task.first + j
        row[OUTCOME_COLUMN] = json.dumps(outcome.to_json(), sort_keys=True)
    schema = pa.schema([(name, ROW_TYPES.get(name, pa.float64())) for name in rows[0]])
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    trajectories = (None if task.trajectories is None
                    else task.trajectories.table(task.first, journeys))
    return ChunkResult(task.arm, task.index, pa.table(columns, schema=schema), trajectories)


@dataclass(frozen=True)
class TrialRun:
    """A finished trial: its store, the protocol and the summary."""

    store: TrialStore
    protocol: dict
    summary: dict
    resumed_chunks: int
    seconds: float

    @property
    def folder(self) -> Path:
        return self.store.folder

    @property
    def table(self) -> pa.Table:
        """Every patient's row (read from the store: for a large trial, query it instead)."""
        return self.store.read()


def trial_protocol(scenario: str | Path | dict, seed: int | None = None) -> dict:
    """The validated protocol of a built-in scenario name, a YAML file or a mapping."""
    protocol = (protocol_from_mapping(scenario) if isinstance(scenario, dict)
                else load_protocol(scenario_path(str(scenario))))
    if seed is not None:
        protocol = protocol_from_mapping({**protocol, "seed": int(seed)})
    return protocol


def run_trial(scenario: str | Path | dict, patients: int, *, out: str | Path,
              seed: int | None = None, chunk_size: int = DEFAULT_CHUNK,
              backend: Backend | None = None, progress: bool = False,
              trajectories: TrajectorySpec | None = None) -> TrialRun:
    """Simulate ``patients`` patients of ``scenario`` as a one-arm trial into ``out``,
    resuming a run of the same trial found there; returns the summary from the store.
    ``trajectories``: also store each patient's chosen variables at chosen days."""
    from cartsim.errors import CartsimError

    if patients < 1:
        raise CartsimError(f"patients must be >= 1, got {patients}")
    if chunk_size < 1:
        raise CartsimError(f"chunk size must be >= 1, got {chunk_size}")
    protocol = trial_protocol(scenario, seed)
    if trajectories is not None:
        compiled = compiled_therapy_model()
        trajectories = trajectories.checked([*compiled.observable_names, *compiled.state_names])
    manifest = Manifest(protocol, (ARM,), patients, protocol["seed"], chunk_size, __version__,
                        trajectories=trajectories)
    store = TrialStore(out, manifest)
    backend = backend or InProcessBackend()
    chunks = manifest.chunks()
    pending = [(i, span) for i, span in enumerate(chunks) if not store.done(ARM, i)]
    threads = backend.chunk_threads(len(pending))
    todo = [ChunkTask(protocol, ARM, i, first, last, backend.target, threads, trajectories)
            for i, (first, last) in pending]
    resumed = len(chunks) - len(todo)
    meter = Progress(patients, sum(t.last - t.first for t in todo), enabled=progress)
    start = time.perf_counter()
    for result in backend.map(simulate_chunk, todo):
        store.write_chunk(result.arm, result.index, result.table, result.trajectories)
        meter.advance(result.table.num_rows)
    meter.close()
    seconds = time.perf_counter() - start
    summary = summary_from_store(protocol, store)
    summary["run"] = {"backend": backend.name, "chunks": len(chunks),
                      "resumed_chunks": resumed, "seconds": round(seconds, 2),
                      "patients_per_s": round(sum(t.last - t.first for t in todo)
                                              / max(seconds, 1e-9), 1)}
    return TrialRun(store, protocol, summary, resumed, seconds)


def summary_from_store(protocol: dict, store: TrialStore) -> dict:
    """The cohort summary (endpoints with 95% intervals beside the published values) of the
    patients in the store, tallied one chunk at a time."""
    tally = Tally(protocol)
    for _, table in store.chunks([OUTCOME_COLUMN]):
        tally.add(PatientOutcome.from_json(json.loads(text))
                  for text in table.column(OUTCOME_COLUMN).to_pylist())
    return tally.summary()


ENDPOINT_COLUMNS = ("arm", "endpoint", "value", "ci_low", "ci_high", "n", "published",
                    "within_ci")


def endpoint_rows(summary: dict, arm: str = ARM) -> list[dict]:
    """One row per endpoint: rates as fractions, the published value and whether it lies
    inside the simulated 95% interval; medians in their unit (months or days; value None:
    not reached)."""
    rows = []
    for name, entry in summary["endpoints"].items():
        if "unit" in entry:
            if entry["n"]:
                low, high = entry["ci95"] or (None, None)
                rows.append({"arm": arm, "endpoint": name, "value": entry["value"],
                             "ci_low": low, "ci_high": high, "n": entry["n"],
                             "published": None, "within_ci": None})
            continue
        if entry["pct"] is None:
            continue
        low, high = (v / 100 for v in entry["ci95_pct"])
        published = entry.get("published", {}).get("value")
        published = None if published is None else published / 100
        rows.append({"arm": arm, "endpoint": name, "value": entry["pct"] / 100,
                     "ci_low": low, "ci_high": high, "n": entry["n"], "published": published,
                     "within_ci": None if published is None else low <= published <= high})
    return rows


class Progress:
    """Patients done, rate and ETA: a bar on a terminal, a plain line every few seconds
    otherwise (logs, CI)."""

    INTERVAL_S = 10.0

    def __init__(self, total: int, todo: int, *, enabled: bool):
        self.todo = todo
        self.done = 0
        self.enabled = enabled and todo > 0
        self.start = self.last_line = time.perf_counter()
        self.bar = None
        if self.enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=todo, unit="patient", desc="trial", file=sys.stderr,
                            initial=0, smoothing=0.1)
        if self.enabled and total > todo:
            print(f"trial: resuming, {total - todo:,} of {total:,} patients already in the "
                  "store", file=sys.stderr, flush=True)

    def advance(self, patients: int) -> None:
        self.done += patients
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(patients)
            return
        now = time.perf_counter()
        if now - self.last_line >= self.INTERVAL_S or self.done == self.todo:
            rate = self.done / max(now - self.start, 1e-9)
            eta = (self.todo - self.done) / rate if rate > 0 else math.inf
            print(f"trial: {self.done:,}/{self.todo:,} patients ({100 * self.done / self.todo:.0f}"
                  f"%), {rate:,.1f} patients/s, ETA {eta:,.0f} s", file=sys.stderr, flush=True)
            self.last_line = now

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
