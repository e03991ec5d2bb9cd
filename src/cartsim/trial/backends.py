"""Where chunks of patients are simulated: one interface, four backends.

A backend maps a chunk function over chunk tasks and yields each result as it completes. The
in-process backend solves each chunk's batched journeys on every core of this machine (the
default of the Python API), the process backend on a pool of worker processes of this machine,
one core each (the default of the command line: faster where there are several chunks), the
GPU backend on one GPU, and the Dask backend on the workers of a Dask cluster (a running
scheduler, or a ``distributed.LocalCluster`` it starts), which recomputes the chunks of a worker
that dies. Results never depend on the backend: every patient's random streams are its own.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from cartsim.errors import CartsimError

Task = TypeVar("Task")
Result = TypeVar("Result")


class Backend(Protocol):
    """Runs ``function`` over ``tasks``, yielding results in completion order; ``target``
    and ``chunk_threads`` are how each task solves its chunk."""

    name: str
    target: str

    def chunk_threads(self, chunks: int) -> int | None:
        """Threads each of ``chunks`` tasks solves on (None: every core where it runs)."""
        ...

    def map(self, function: Callable[[Task], Result], tasks: Sequence[Task]) -> Iterator[Result]:
        ...

    def close(self) -> None:
        ...


@dataclass
class InProcessBackend:
    """Chunks one after another in this process, each solved on every core (or ``target``
    "gpu": one GPU)."""

    target: str = "cpu"
    threads: int | None = None

    @property
    def name(self) -> str:
        return "gpu" if self.target == "gpu" else "cpu"

    def chunk_threads(self, chunks: int) -> int | None:
        return self.threads

    def map(self, function, tasks):
        for task in tasks:
            yield function(task)

    def close(self) -> None:
        pass


class ProcessBackend:
    """Chunks on a pool of ``workers`` processes of this machine (default: one per core), each
    solving its chunk on one core. A journey's decisions run in Python between its solves: in
    one process they hold one core while the others wait, in a process per core every core
    runs them (2 cores, 3,072 ZUMA-1 journeys: 141 patients/s against 106 on threads). A run of
    one chunk stays in this process, on every core. On Linux the workers are forked (they
    start at once, with the model already loaded) and end with this process, killed or not."""

    name = "cpu"
    target = "cpu"

    def __init__(self, workers: int | None = None):
        from cartsim.engine import available_cores

        self.workers = workers or available_cores()
        self._pool = None

    def _pooled(self, chunks: int) -> bool:
        return chunks >= 2 and self.workers >= 2

    def chunk_threads(self, chunks: int) -> int | None:
        return 1 if self._pooled(chunks) else None

    def map(self, function, tasks):
        if not self._pooled(len(tasks)):
            yield from InProcessBackend().map(function, tasks)
            return
        from concurrent.futures import as_completed

        futures = [self._executor(len(tasks)).submit(function, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def _executor(self, chunks: int):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            _load_model()  # forked workers inherit it
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            self._pool = ProcessPoolExecutor(max_workers=min(self.workers, chunks),
                                             mp_context=multiprocessing.get_context(method),
                                             initializer=_start_worker)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _start_worker() -> None:
    """A process-pool worker: ends with its parent, loads the model before its first chunk."""
    end_with_parent()
    _load_model()


class DaskBackend:
    """Chunks as tasks on a Dask cluster: ``address`` of a running scheduler, or "local" to
    start a ``distributed.LocalCluster`` of ``workers`` processes (one thread each, and each
    chunk solved on that one core), which ends with this process. Every worker loads the
    compiled model before the first chunk."""

    name = "dask"
    target = "cpu"

    def chunk_threads(self, chunks: int) -> int | None:
        return self.threads

    def __init__(self, address: str, workers: int | None = None):
        from distributed import Client, LocalCluster

        self._cluster = None
        self.threads = 1 if address == "local" else None
        if address == "local":
            self._cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1,
                                         processes=True, dashboard_address=None,
                                         silence_logs=40)
            self.client = Client(self._cluster)
            self.client.register_plugin(_EndWithParent())
        else:
            try:
                self.client = Client(address, timeout="10s")
            except OSError as error:
                raise CartsimError(f"cannot reach the Dask scheduler at {address}: {error}",
                                   element="--dask") from None
        self.client.run(_load_model)

    def map(self, function, tasks):
        from distributed import as_completed

        futures = [self.client.submit(function, task, pure=False, retries=2) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
            future.release()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


class _EndWithParent(WorkerPlugin):
    """A Dask worker plugin: on Linux a local worker gets SIGKILL when the process that
    started it dies, so a killed run leaves no worker behind."""

    idempotent = True
    name = "cartsim-end-with-parent"

    def setup(self, worker) -> None:
        end_with_parent()


def _load_model() -> None:
    """Compile, or load from the disk cache, the therapy model in this worker."""
    from cartsim.therapy.simulate import compiled_therapy_model

    compiled_therapy_model()


def end_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGKILL))


def make_backend(*, dask: str | None = None, target: str = "cpu", threads: int | None = None,
                 workers: int | None = None) -> Backend:
    """The backend a user asked for: Dask when ``dask`` is an address or "local"; this process
    on ``target`` (on ``threads`` threads when given); else a pool of ``workers`` processes."""
    if dask is not None:
        if target != "cpu":
            raise CartsimError("--dask and --gpu cannot be combined")
        return DaskBackend(dask, workers)
    if target != "cpu" or threads is not None:
        return InProcessBackend(target, threads)
    return ProcessBackend(workers)
