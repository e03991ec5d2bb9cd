"""Run a trial: its arms' chunks of patients on a backend, into the store, then its summary.

A trial is a spec (:mod:`cartsim.trial.spec`); a scenario (built-in name or YAML file) is a
one-arm trial whose patient i is cohort patient i of the scenario
(:func:`cartsim.journey.cohort.cohort_protocols`). Patient i of an arm has the same varied
parameters and journey seed whatever the chunking or backend, so a resumed, re-chunked or
distributed run gives the same patients. The summary is computed from the store
(:mod:`cartsim.trial.analysis`), so it is the same whether or not the run was interrupted.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import get_type_hints

import pyarrow as pa

from cartsim import __version__
from cartsim.errors import CartsimError
from cartsim.journey.cohort import Cohort, PatientRow, outcome_of, simulate_journeys
from cartsim.therapy import parameter_unit
from cartsim.therapy.simulate import compiled_therapy_model
from cartsim.trial.analysis import OUTCOME_COLUMN, summary_from_store
from cartsim.trial.backends import Backend, InProcessBackend
from cartsim.trial.spec import TrialSpec, load_spec, one_arm_spec
from cartsim.trial.store import Manifest, TrialStore
from cartsim.trial.trajectories import TrajectorySpec


def _base_type(hint) -> type:
    """``int`` of ``int | None``."""
    return next(t for t in getattr(hint, "__args__", (hint,)) if t is not type(None))


DEFAULT_CHUNK = 256
ARROW_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}
ROW_TYPES = {**{f.name: ARROW_TYPES[_base_type(hint)]
                for f, hint in zip(fields(PatientRow), get_type_hints(PatientRow).values(),
                                   strict=True)},
             "replicate": pa.int64(), OUTCOME_COLUMN: pa.string()}
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
    replicate_size: int | None = None  # patients per replicate (None: one replicate)


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
        row["replicate"] = (task.first + j) // (task.replicate_size or task.last)
        row[OUTCOME_COLUMN] = json.dumps(outcome.to_json(), sort_keys=True)
    schema = pa.schema([pa.field(name, ROW_TYPES[name]) if name in ROW_TYPES
                        else pa.field(name, pa.float64(), metadata={"unit": parameter_unit(name)})
                        for name in rows[0]])
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    trajectories = (None if task.trajectories is None
                    else task.trajectories.table(task.first, journeys))
    return ChunkResult(task.arm, task.index, pa.table(columns, schema=schema), trajectories)


@dataclass(frozen=True)
class TrialRun:
    """A finished trial: its store, its spec and the summary."""

    store: TrialStore
    spec: TrialSpec
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
    return one_arm_spec(scenario, seed).arms[0].protocol


def trial_spec(source: str | Path | dict | TrialSpec, patients: int | None = None,
               seed: int | None = None) -> TrialSpec:
    """The spec of a trial spec (file or object) or of a scenario (name, file or mapping) as
    a one-arm trial, with ``patients`` per replicate and ``seed`` where given."""
    if isinstance(source, TrialSpec):
        if seed is not None:
            raise CartsimError("give the seed in the spec (its arms' patients derive from it)")
        return source if patients is None else replace(source, patients=patients)
    return load_spec(source, patients=patients, seed=seed)


def run_trial(source: str | Path | dict | TrialSpec, patients: int | None = None, *,
              out: str | Path, seed: int | None = None, chunk_size: int = DEFAULT_CHUNK,
              backend: Backend | None = None, progress: bool = False,
              trajectories: TrajectorySpec | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> TrialRun:
    """Simulate a trial (a spec, or a scenario as a one-arm trial of ``patients``) into
    ``out``, resuming a run of the same trial found there; returns the summary from the
    store. ``trajectories``: also store each patient's chosen variables at chosen days.
    ``progress``: a bar or progress lines on stderr; ``on_progress(done, todo)``: called with
    the patients simulated so far after each chunk (the web app's progress)."""
    if patients is not None and patients < 1:
        raise CartsimError(f"patients must be >= 1, got {patients}")
    if chunk_size < 1:
        raise CartsimError(f"chunk size must be >= 1, got {chunk_size}")
    spec = trial_spec(source, patients, seed)
    if trajectories is not None:
        compiled = compiled_therapy_model()
        trajectories = trajectories.checked([*compiled.observable_names, *compiled.state_names])
    sizes = spec.arm_patients()
    manifest = Manifest(spec.as_dict(), tuple((a.name, sizes[a.name] * spec.replicates)
                                              for a in spec.arms),
                        chunk_size, __version__, trajectories=trajectories)
    store = TrialStore(out, manifest)
    backend = backend or InProcessBackend()
    chunks = [(arm, i, span) for arm in spec.arms
              for i, span in enumerate(manifest.chunks(arm.name))]
    pending = [(arm, i, span) for arm, i, span in chunks if not store.done(arm.name, i)]
    threads = backend.chunk_threads(len(pending))
    todo = [ChunkTask(arm.protocol, arm.name, i, first, last, backend.target, threads,
                      trajectories, sizes[arm.name])
            for arm, i, (first, last) in pending]
    resumed = len(chunks) - len(todo)
    total = sum(n for _, n in manifest.arms)
    meter = Progress(total, sum(t.last - t.first for t in todo), enabled=progress)
    start = time.perf_counter()
    for result in backend.map(simulate_chunk, todo):
        store.write_chunk(result.arm, result.index, result.table, result.trajectories)
        meter.advance(result.table.num_rows)
        if on_progress is not None:
            on_progress(meter.done, meter.todo)
    meter.close()
    seconds = time.perf_counter() - start
    summary = summary_from_store(spec, store)
    summary["run"] = {"backend": backend.name, "chunks": len(chunks),
                      "resumed_chunks": resumed, "seconds": round(seconds, 2),
                      "patients_per_s": round(sum(t.last - t.first for t in todo)
                                              / max(seconds, 1e-9), 1)}
    return TrialRun(store, spec, summary, resumed, seconds)


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
