"""Many journeys at once: their therapy-model solves batched in the compiled ensemble.

Each journey (:func:`cartsim.journey.run.journey_steps`) is a generator that yields the solves
it needs. The driver advances every journey to its next request, solves all pending requests
together (one ensemble call per batch, on every core or the GPU), sends each journey its run,
and repeats until all have finished. A request is solved exactly as it would be alone: its
random streams are keyed by the journey's seed and the request's stream (never by its place in
the batch) and it is
integrated over its own part of a shared time grid, so a journey's outcome does not depend on
which other journeys share its batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cartsim.errors import SimulationError
from cartsim.journey.run import Journey, JourneySteps, SimulationRequest, journey_steps
from cartsim.therapy.simulate import PatientRun, compiled_therapy_model

RTOL = 1e-6
"""Relative tolerance of every journey solve (as ``therapy.simulate.simulate_values``)."""
BATCH_BYTES = 512 * 2**20
"""Output memory of one ensemble call; a larger set of requests is solved in several calls."""


@dataclass
class _Pending:
    """A journey waiting for the run of ``request``."""

    index: int
    steps: JourneySteps
    request: SimulationRequest


def run_journeys(protocols: Sequence[dict], *, target: str = "cpu",
                 threads: int | None = None) -> list[Journey | SimulationError]:
    """Simulate every protocol's journey; a journey whose solve fails is its
    :class:`SimulationError` in the list, at its place."""
    done: list[Journey | SimulationError | None] = [None] * len(protocols)
    pending: list[_Pending] = []
    for index, protocol in enumerate(protocols):
        journey = Journey(protocol)
        done[index] = journey
        _advance(_Pending(index, journey_steps(journey), None), None, pending, done)
    while pending:
        waiting, pending = pending, []
        for item, run in zip(waiting, _solve([w.request for w in waiting], target, threads),
                             strict=True):
            _advance(item, run, pending, done)
    return done


def run_journey(protocol: dict) -> Journey:
    """Simulate one patient through ``protocol`` (validated, see ``load_protocol``): a batch
    of one; raises :class:`SimulationError` when the therapy model fails."""
    (journey,) = run_journeys([protocol])
    if isinstance(journey, SimulationError):
        raise journey
    return journey


def _advance(item: _Pending, run: PatientRun | None, pending: list[_Pending],
             done: list) -> None:
    """Send ``run`` to the journey (start it when None) and queue its next request."""
    try:
        item.request = item.steps.send(run) if run is not None else next(item.steps)
    except StopIteration:
        return
    except SimulationError as error:
        done[item.index] = error
        return
    pending.append(item)


def _solve(requests: list[SimulationRequest], target: str,
           threads: int | None) -> list[PatientRun]:
    """Runs of ``requests``, in order: grouped by start (initial state or ``y0``) and by time
    step, each group solved on its union grid in calls of bounded memory."""
    runs: list[PatientRun | None] = [None] * len(requests)
    groups: dict[tuple, list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault(_group_key(request), []).append(i)
    compiled = compiled_therapy_model()
    per_patient = 8 * (len(compiled.state_names) + len(compiled.observable_names))
    for members in groups.values():
        grid, points = _union_grid([requests[i].grid for i in members])
        size = max(1, BATCH_BYTES // (per_patient * grid.size))
        for first in range(0, len(members), size):
            part = members[first:first + size]
            for i, run in zip(part, _solve_group([requests[i] for i in part], grid,
                                                 points[first:first + size], target, threads),
                              strict=True):
                runs[i] = run
    return runs


def _group_key(request: SimulationRequest) -> tuple:
    """Requests solved together: the same kind of start, and the same step at their end (so
    a group's union grid is as fine as its members' grids, not finer)."""
    grid = request.grid
    step = round(float(grid[-1] - grid[-2]), 9) if grid.size > 1 else 0.0
    return (request.y0 is None, step)


def _union_grid(grids: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The union of ``grids`` and where each one's times are in it. Journey grids are drawn
    from lattices anchored on day 0 (``run.GradingTimes``), so a union holds few times that
    a member lacks (a continuation's start, for one)."""
    union = np.unique(np.concatenate(grids))
    points = []
    for grid in grids:
        where = np.searchsorted(union, grid)
        if not np.array_equal(union[where], grid):
            raise SimulationError("a journey time grid is not part of its batch's union",
                                  element="batched journeys")
        points.append(where)
    return union, points


def _solve_group(requests: list[SimulationRequest], grid: np.ndarray,
                 points: list[np.ndarray], target: str, threads: int | None) -> list[PatientRun]:
    """Solve each request over the span of its ``points`` in ``grid`` (output at every union
    time there, which leaves the solution as it is: outputs come from the dense output), and
    keep its own times."""
    compiled = compiled_therapy_model()
    names = compiled.parameter_names
    for request in requests:
        unknown = request.values.keys() - set(names)
        if unknown:
            raise SimulationError(f"unknown parameter(s) {sorted(unknown)}",
                                  element="journey solve")
    table = np.array([[r.values[name] for name in names] for r in requests], dtype=float)
    y0 = None if requests[0].y0 is None else np.array([r.y0 for r in requests])
    seeds = np.array([r.seed for r in requests], dtype=np.uint64)
    streams = np.array([r.stream for r in requests], dtype=np.int64)
    windows = np.array([(p[0], p[-1] + 1) for p in points], dtype=np.int64)
    result = compiled.solve(grid, table, y0=y0, seed=seeds, streams=streams, windows=windows,
                            rtol=RTOL, max_logged_events=0, target=target, threads=threads)
    return [PatientRun.from_result(result, j, p) for j, p in enumerate(points)]
