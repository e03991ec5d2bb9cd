"""Compile a model once, then solve populations of patients with it.

>>> compiled = compile_model(model)
>>> result = compiled.solve(np.linspace(0, 100, 101), params={"kappa": kappas})

Each patient is integrated by compiled per-patient code: on the CPU (``target="cpu"``, the
default) blocks of patients run in parallel on a thread pool over all cores (the code releases
the GIL); on an NVIDIA GPU (``target="gpu"``) one thread solves each patient with the same code
compiled by numba for CUDA. Chunks bound memory and can be streamed with
:meth:`CompiledModel.solve_chunks`.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from cartsim.codegen import model_source, native_source
from cartsim.codegen.assemble import assemble, assemble_generic
from cartsim.codegen.native import NotNative, compile_native
from cartsim.codegen.record import build_record
from cartsim.errors import ModelError, SolverOptionsError
from cartsim.model.description import Model
from cartsim.model.resolved import ResolvedModel
from cartsim.rng.philox import purpose_id
from cartsim.solvers.options import SolverOptions, time_grid
from cartsim.solvers.result import INFO_FIELDS, EnsembleResult

EVENT_PURPOSE = "model-events"
CHUNK_BYTES = {"cpu": 256 * 2**20,
               # a GPU needs many patients at once to fill it (an H200 holds some 270,000
               # resident threads)
               "gpu": 2 * 2**30}
"""Output memory of one chunk, per target."""
BLOCK = 64  # most patients per task on the thread pool: small enough to balance uneven patients
TASKS_PER_WORKER = 4  # a small chunk is still cut into this many tasks per worker thread
TARGETS = ("cpu", "gpu")
KERNELS = ("auto", "generic", "specialised")


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class CompiledModel:
    """A model's compiled kernels plus what is needed to call them with named inputs.

    ``kernel``: "specialised" (the default) compiles a module for this model alone: seconds to
    minutes the first time (the therapy model about 80 s), cached on disk, the fastest
    ensembles, and the one the GPU runs. "generic" runs the model on the kernel compiled once
    for every model, with the model's own functions compiled to native code in milliseconds:
    a new small model is ready in about half a second once the generic kernel is in the disk
    cache (compiling that takes 20-30 s, once per machine), the therapy model in 17-19 s
    (its symbolic work); ensembles run at about half the specialised speed on small models and
    95 % of it on the therapy model. Random draws follow the same distributions on both, not
    the same order. "auto" takes the generic kernel where the model allows it. A model solves
    to the same tolerance on either, not to the same bits, so a run's kernel is fixed when the
    model is compiled.
    """

    def __init__(self, model: Model, *, warm: bool = True, kernel: str = "specialised"):
        if kernel not in KERNELS:
            raise SolverOptionsError(f"kernel must be one of {', '.join(KERNELS)}, "
                                     f"got {kernel!r}")
        self.model = model
        self._native = None
        self.record = 0  # the kernel's model record: unused by a specialised module
        if kernel != "specialised":
            try:
                source, self.codegen_seconds, self.source_cached = native_source(model)
            except NotNative as error:
                if kernel == "generic":
                    raise ModelError(f"model {model.name!r} cannot run on the generic kernel "
                                     f"({error}); use kernel='specialised'") from None
            else:
                self._native = compile_native(source.ir)
                self.record = build_record(source.tables, self._native.addresses)
                self.module = assemble_generic()
                self.event_names = list(source.tables.event_names)
        if self._native is None:
            source, self.codegen_seconds, self.source_cached = model_source(model)
            self.module = assemble(source)
            self.event_names = list(self.module.EVENT_NAMES)
        self.kernel = "specialised" if self._native is None else "generic"
        # names come from the description and the generated code: a cached model loads
        # without symbolic resolution
        self.state_names = [s.name for s in model.states]
        self.parameter_names = [p.name for p in model.parameters]
        self.observable_names = [o.name for o in model.observables]
        # each event's random stream is keyed by its name, so other events never shift it
        self._event_purposes = np.array([purpose_id(f"{EVENT_PURPOSE}:{name}")
                                         for name in self.event_names], dtype=np.uint64)
        self.defaults = np.array([p.default for p in model.parameters], dtype=float)
        self.numba_seconds = 0.0
        if warm:
            start = time.perf_counter()
            self.solve(np.array([0.0, 1.0]), n_patients=0)
            self.numba_seconds = time.perf_counter() - start

    @functools.cached_property
    def resolved(self) -> ResolvedModel:
        """The model's symbolic form (resolved on first use: seconds to minutes)."""
        return self.model.resolve()

    @property
    def compile_seconds(self) -> float:
        """Code generation plus numba compilation (or loading both from the disk cache)."""
        return self.codegen_seconds + self.numba_seconds

    @property
    def kernel_cache_hit(self) -> bool:
        """Whether numba loaded the ensemble kernel from its disk cache."""
        return bool(sum(self.module.solve_range.stats.cache_hits.values()))

    def compile_gpu(self) -> float:
        """Compile the GPU kernel now (once per process; a solve with ``target="gpu"`` does it
        at its first chunk otherwise); returns the seconds it took, 0 if already compiled."""
        _check_target("gpu")
        from cartsim.solvers import gpu

        return gpu.compile_kernel(self.gpu_module)

    @functools.cached_property
    def gpu_module(self):
        """The specialised module the GPU compiles (built here for a model on the generic
        kernel: the GPU cannot call native CPU functions)."""
        return self.module if self._native is None else assemble(model_source(self.model)[0])

    def time_event_times(self, params: Mapping[str, float]) -> np.ndarray:
        """When one patient with parameter values ``params`` (every parameter named) has its
        time events, sorted."""
        row = np.array([float(params[name]) for name in self.parameter_names])
        times = np.empty(self.module.n_time_occurrences(self.record))
        self.module.model_event_times(self.record, row, times)
        return np.sort(times)

    # -- inputs -------------------------------------------------------------------------------
    def parameter_table(self, params=None, n_patients: int | None = None) -> np.ndarray:
        """(patients, parameters) array from defaults overridden by ``params``.

        ``params``: None, a mapping name → scalar or (patients,) array, or a full 2-D array.
        """
        if isinstance(params, np.ndarray) and params.ndim == 2:
            if params.shape[1] != len(self.parameter_names):
                raise SolverOptionsError(
                    f"parameter array has {params.shape[1]} columns, model has "
                    f"{len(self.parameter_names)} parameters"
                )
            table = np.array(params, dtype=float)
        else:
            params = dict(params or {})
            if not isinstance(params, Mapping):
                raise SolverOptionsError("params must be a mapping name -> value(s) or a 2-D array")
            unknown = sorted(set(params) - set(self.parameter_names))
            if unknown:
                raise SolverOptionsError(
                    f"unknown parameter(s) {unknown}; model parameters: "
                    f"{', '.join(self.parameter_names)}"
                )
            lengths = {np.size(v) for v in params.values() if np.ndim(v) > 0}
            if len(lengths) > 1:
                raise SolverOptionsError(f"parameter arrays have different lengths {lengths}")
            size = lengths.pop() if lengths else (1 if n_patients is None else n_patients)
            if n_patients is not None and size != n_patients:
                raise SolverOptionsError(
                    f"parameter arrays have length {size} but n_patients is {n_patients}"
                )
            table = np.tile(self.defaults, (size, 1))
            for name, value in params.items():
                table[:, self.parameter_names.index(name)] = np.asarray(value, dtype=float)
        if n_patients is not None and table.shape[0] != n_patients:
            raise SolverOptionsError(f"{table.shape[0]} parameter rows for {n_patients} patients")
        bad = ~np.isfinite(table)
        if bad.any():
            rows, cols = np.nonzero(bad)
            raise SolverOptionsError(
                f"parameter '{self.parameter_names[cols[0]]}' is not finite for patient {rows[0]}"
            )
        return np.ascontiguousarray(table)

    def _initial_table(self, y0, n: int) -> np.ndarray | None:
        if y0 is None:
            return None
        table = np.broadcast_to(np.asarray(y0, dtype=float), (n, len(self.state_names)))
        if not np.all(np.isfinite(table)):
            raise SolverOptionsError("initial values must be finite")
        return np.ascontiguousarray(table)

    # -- solving ------------------------------------------------------------------------------
    def solve(self, t_eval, params=None, *, n_patients: int | None = None, y0=None,
              seed=0, streams=None, windows=None, chunk_size: int | None = None,
              threads: int | None = None, max_logged_events: int = 32, progress: bool = False,
              target: str = "cpu", **options) -> EnsembleResult:
        """Solve every patient and return all results in memory.

        ``options`` are :class:`SolverOptions` fields (rtol, atol, method, max_steps, ...).
        ``target`` is "cpu" or "gpu" (``threads`` applies to the CPU only). Chunks are solved
        into slices of one preallocated result (no joining copies).

        Patient i's random streams are keyed by (seed, i) by default; ``seed`` may also be a
        (patients,) array of per-patient seeds and ``streams`` a (patients,) array of stream
        keys, so that a patient solved in any batch draws what it draws alone. ``windows``, a
        (patients, 2) array of [first, last) indices into ``t_eval``, solves each patient over
        its own part of the output times (from its window's first time; other rows are NaN),
        so patients with different start and end times share one solve.
        """
        job = self._job(t_eval, params, n_patients, y0, chunk_size, max_logged_events, target,
                        options, seed, streams, windows)
        result = self._allocate(job, job.total, 0)
        for _ in self._run(job, threads, progress, result.rows):
            pass
        return result

    def solve_chunks(self, t_eval, params=None, *, n_patients: int | None = None, y0=None,
                     seed=0, streams=None, windows=None, chunk_size: int | None = None,
                     threads: int | None = None, max_logged_events: int = 32,
                     progress: bool = False, target: str = "cpu",
                     **options) -> Iterator[EnsembleResult]:
        """Solve chunk by chunk, yielding each chunk's result (bounded memory for streaming).

        Results are bit-identical whatever ``chunk_size`` and ``threads``: each patient depends
        only on its own inputs and on its global index (its random stream).
        """
        job = self._job(t_eval, params, n_patients, y0, chunk_size, max_logged_events, target,
                        options, seed, streams, windows)
        yield from self._run(job, threads, progress,
                             lambda first, last: self._allocate(job, last - first, first))

    def _job(self, t_eval, params, n_patients, y0, chunk_size, max_logged_events, target,
             options, seed, streams, windows) -> _Job:
        """Checked inputs of one solve."""
        _check_target(target)
        opts = SolverOptions(**options)
        grid = time_grid(t_eval)
        table = self.parameter_table(params, n_patients)
        total = table.shape[0]
        if max_logged_events < 0:
            raise SolverOptionsError("max_logged_events must be >= 0")
        seeds, stream_keys = _stream_keys(seed, streams, total)
        return _Job(opts, grid, table, self._initial_table(y0, total),
                    opts.atol_vector(self.model.states), max_logged_events,
                    self._chunk_size(chunk_size, grid.size, total, max_logged_events, target),
                    target, seeds, stream_keys, _windows(windows, total, grid.size))

    def _allocate(self, job: _Job, n: int, first: int) -> EnsembleResult:
        """An unfilled result for patients first .. first + n - 1."""
        n_log = job.max_logged_events
        return EnsembleResult(
            job.grid, np.empty((n, job.grid.size, len(self.state_names))),
            np.empty((n, job.grid.size, len(self.observable_names))),
            np.empty(n, dtype=np.int64), np.empty(n), np.zeros((n, len(INFO_FIELDS)),
                                                                dtype=np.int64),
            np.empty((n, n_log)), np.empty((n, n_log), dtype=np.int64),
            self.state_names, self.observable_names, self.event_names, first)

    def _run(self, job: _Job, threads, progress, allocate) -> Iterator[EnsembleResult]:
        """Solve chunk after chunk into ``allocate(first, last)``, yielding each filled part."""
        workers = _thread_count(threads)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for first in range(0, max(job.total, 1), job.chunk_size):
                last = min(first + job.chunk_size, job.total)
                part = allocate(first, last)
                solve_chunk = (self._solve_chunk_on_gpu if job.target == "gpu"
                               else functools.partial(self._solve_chunk, pool, workers))
                solve_chunk(last - first, self._kernel_arguments(job, first, last, part))
                yield part
                if progress and job.total:
                    rate = last / max(time.perf_counter() - start, 1e-9)
                    print(f"cartsim: solved {last:,}/{job.total:,} patients ({rate:,.0f}/s)",
                          file=sys.stderr, flush=True)

    def _chunk_size(self, chunk_size, n_times, total, n_log, target) -> int:
        if chunk_size is not None:
            if not (isinstance(chunk_size, int | np.integer) and chunk_size > 0):
                raise SolverOptionsError(f"chunk_size must be a positive integer, got {chunk_size}")
            return int(chunk_size)
        per_patient = 8 * (n_times * (len(self.state_names) + len(self.observable_names))
                           + 2 * n_log + len(INFO_FIELDS) + len(self.parameter_names) + 2)
        return max(1, min(max(total, 1), CHUNK_BYTES[target] // per_patient))

    def _kernel_arguments(self, job: _Job, first, last, out: EnsembleResult) -> tuple:
        """The ensemble kernel's arguments for patients first .. last - 1, filling ``out``."""
        use_init = job.initial is None
        y0 = (np.empty((0, len(self.state_names))) if use_init
              else job.initial[first:last])
        opts = job.options
        return (
            job.grid, job.table[first:last], y0, use_init, float(opts.rtol), job.atol,
            opts.method_code, int(opts.max_steps), float(opts.first_step),
            float(opts.max_step) if math.isfinite(opts.max_step) else 1e300,
            job.seeds[first:last], job.streams[first:last], job.windows[first:last],
            self._event_purposes, out.states, out.observables,
            out.status, out.info, out.t_stop, out.event_times, out.event_ids,
        )

    def _solve_chunk(self, pool, workers: int, n: int, arguments: tuple) -> None:
        """Solve a chunk of ``n`` patients on the CPU, blocks of them on the thread pool."""
        kernel = functools.partial(self.module.solve_range, self.record)
        if n == 0:
            kernel(0, 0, *arguments)  # compiles (or loads) the kernel
        block = max(1, min(BLOCK, -(-n // (TASKS_PER_WORKER * workers))))
        tasks = [pool.submit(kernel, lo, min(lo + block, n), *arguments)
                 for lo in range(0, n, block)]
        for task in tasks:
            task.result()

    def _solve_chunk_on_gpu(self, n: int, arguments: tuple) -> None:
        """Solve a chunk of ``n`` patients on the GPU, one thread each."""
        if n:
            from cartsim.solvers import gpu  # imports numba.cuda: only when used

            gpu.solve_chunk(self.gpu_module, n, arguments)


@dataclass(frozen=True)
class _Job:
    """The checked inputs of one solve, shared by its chunks."""

    options: SolverOptions
    grid: np.ndarray
    table: np.ndarray
    initial: np.ndarray | None
    atol: np.ndarray
    max_logged_events: int
    chunk_size: int
    target: str
    seeds: np.ndarray
    streams: np.ndarray
    windows: np.ndarray

    @property
    def total(self) -> int:
        return self.table.shape[0]


def _stream_keys(seed, streams, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-patient (seed, stream) keys of the random streams: by default the run's seed and
    each patient's global index."""
    seeds = np.asarray(seed)
    if seeds.ndim == 0:
        seeds = np.full(total, seed)
    if seeds.shape != (total,) or not np.issubdtype(seeds.dtype, np.integer):
        raise SolverOptionsError(f"seed must be an integer or {total} integers, one per patient")
    if streams is None:
        keys = np.arange(total, dtype=np.int64)
    else:
        keys = np.asarray(streams)
        if keys.shape != (total,) or not np.issubdtype(keys.dtype, np.integer):
            raise SolverOptionsError(f"streams must be {total} integers, one per patient")
    return (np.ascontiguousarray(seeds.astype(np.uint64)),
            np.ascontiguousarray(keys.astype(np.int64)))


def _windows(windows, total: int, n_times: int) -> np.ndarray:
    """Each patient's [first, last) output indices: all output times by default."""
    if windows is None:
        return np.tile(np.array([0, n_times], dtype=np.int64), (total, 1))
    table = np.asarray(windows)
    if table.shape != (total, 2) or not np.issubdtype(table.dtype, np.integer):
        raise SolverOptionsError(f"windows must be a ({total}, 2) integer array")
    if np.any(table[:, 0] < 0) or np.any(table[:, 1] > n_times) or np.any(
            table[:, 1] <= table[:, 0]):
        raise SolverOptionsError(f"each window must satisfy 0 <= first < last <= {n_times}")
    return np.ascontiguousarray(table, dtype=np.int64)


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise SolverOptionsError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    if target == "gpu" and not _gpu_available():
        raise SolverOptionsError(
            "target 'gpu' needs an NVIDIA GPU with its driver and numba's CUDA support "
            "(pip install 'cartsim[gpu]'); numba.cuda.is_available() is False here")


def _gpu_available() -> bool:
    from cartsim.solvers import gpu

    return gpu.gpu_available()


def _thread_count(threads: int | None) -> int:
    """Worker threads: all available cores by default."""
    if threads is None:
        return available_cores()
    if not (isinstance(threads, int | np.integer) and threads >= 1):
        raise SolverOptionsError(f"threads must be a positive integer, got {threads}")
    return int(threads)


def compile_model(model: Model, *, kernel: str = "specialised") -> CompiledModel:
    """Generate, compile (or load from the disk cache) and warm up ``model``'s kernels on the
    ``kernel`` of :class:`CompiledModel`."""
    return CompiledModel(model, kernel=kernel)
