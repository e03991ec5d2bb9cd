"""The model's sizes and integer/float tables the solver kernel reads, from a resolved model.

Both code paths start here: the specialised module writes them as its globals
(:mod:`cartsim.codegen.generate`), the generic kernel reads them from a run-time record
(:mod:`cartsim.codegen.record`). One definition, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from cartsim.codegen.sparsity import lu_schedule
from cartsim.model.expressions import TIME
from cartsim.model.resolved import ResolvedModel

NOT_CLOCKED = -2
CLOCK_IS_TIME = -1

SIZE_NAMES = ("N_STATES", "N_PARAMS", "N_OBS", "N_EVENTS", "N_STATE_EVENTS",
              "N_TIME_OCCURRENCES")
"""The sizes, in the record's order."""
INT_TABLES = ("NONNEGATIVE", "EXTINCTION_EVENT", "STATE_EVENT_ID", "STATE_EVENT_DIRECTION",
              "STATE_EVENT_CLOCK", "STATE_EVENT_DUE", "STATE_EVENT_DUE_IS_PARAM", "STATE_EVENT_TIE",
              "STATE_EVENT_FALSE_AT_ZERO",
              "EVENT_TERMINAL", "EVENT_LOGGED", "TIME_OCCURRENCE_EVENT", "LU_ORDER",
              "LU_ROW_START", "LU_ROWS", "LU_COL_START", "LU_COLS")
"""The integer tables (flags as 0/1), in the record's order."""
BOOLEAN_TABLES = frozenset({"NONNEGATIVE", "STATE_EVENT_DUE_IS_PARAM", "EVENT_TERMINAL",
                            "EVENT_LOGGED", "STATE_EVENT_FALSE_AT_ZERO"})


@dataclass(frozen=True)
class ModelTables:
    """Everything model-specific the kernel needs besides the model functions."""

    sizes: dict[str, int]
    ints: dict[str, list[int]]
    extinction_level: list[float]
    event_names: tuple[str, ...]
    jacobian_nonzeros: list[tuple[int, int]]


def event_clock(resolved: ResolvedModel, event) -> tuple[int, int, bool]:
    """(clock, due, due_is_parameter) of a state event that fires when a clock reaches a held
    value: its function is ``c - s`` (rising), ``c`` time or a state growing at rate 1, ``s`` a
    state that is constant between events or a parameter. The integrator then knows when it
    fires and ends a step there instead of searching for the crossing. ``clock`` is
    :data:`CLOCK_IS_TIME`, a state index, or :data:`NOT_CLOCKED` (then the rest is -1)."""
    states = {sp.Symbol(s.name): i for i, s in enumerate(resolved.states)}
    params = {sp.Symbol(p.name): i for i, p in enumerate(resolved.parameters)}
    g = event.condition
    if event.direction != 1 or not isinstance(g, sp.Add) or len(g.args) != 2:
        return NOT_CLOCKED, -1, False
    for clock, negated in (g.args, g.args[::-1]):
        held = -negated
        if clock == TIME:
            clock_index = CLOCK_IS_TIME
        elif clock in states and resolved.rhs[states[clock]] == 1:
            clock_index = states[clock]
        else:
            continue
        if held in states and resolved.rhs[states[held]] == 0:
            return clock_index, states[held], False
        if held in params:
            return clock_index, params[held], True
    return NOT_CLOCKED, -1, False


def time_occurrences(resolved: ResolvedModel) -> list[tuple[int, sp.Basic]]:
    """(event index, time expression) of every time-event occurrence, in definition order."""
    return [(k, time) for k, e in enumerate(resolved.events) if e.kind == "time"
            for time in e.times]


def model_tables(resolved: ResolvedModel) -> ModelTables:
    """The kernel's tables for ``resolved`` (computes its Jacobian's pattern)."""
    n = len(resolved.states)
    state_events = resolved.state_events
    occurrences = time_occurrences(resolved)
    by_name = {e.name: k for k, e in enumerate(resolved.events)}
    index = {id(e): k for k, e in enumerate(resolved.events)}
    clocks = [event_clock(resolved, e) for e in state_events]
    jac = resolved.jacobian()
    nonzero = [(i, j) for i in range(n) for j in range(n) if jac[i, j] != 0]
    ints = {
        "NONNEGATIVE": [int(s.nonnegative) for s in resolved.states],
        "EXTINCTION_EVENT": [by_name.get(f"extinction_{s.name}", -1)
                             if s.extinction is not None else -1 for s in resolved.states],
        "STATE_EVENT_ID": [index[id(e)] for e in state_events],
        "STATE_EVENT_DIRECTION": [e.direction for e in state_events],
        "STATE_EVENT_CLOCK": [c for c, _, _ in clocks],
        "STATE_EVENT_DUE": [d for _, d, _ in clocks],
        "STATE_EVENT_DUE_IS_PARAM": [int(q) for _, _, q in clocks],
        # the tie: the index of the first state event of its group, -1 for none
        "STATE_EVENT_TIE": [next(i for i, other in enumerate(state_events)
                                 if other.tie == e.tie) if e.tie else -1
                            for e in state_events],
        "STATE_EVENT_FALSE_AT_ZERO": [int(e.false_at_zero) for e in state_events],
        "EVENT_TERMINAL": [int(e.terminal) for e in resolved.events],
        "EVENT_LOGGED": [int(e.logged) for e in resolved.events],
        "TIME_OCCURRENCE_EVENT": [k for k, _ in occurrences],
        **lu_schedule(n, nonzero).flat(),
    }
    sizes = dict(zip(SIZE_NAMES, (n, len(resolved.parameters), len(resolved.observables),
                                  len(resolved.events), len(state_events), len(occurrences)),
                     strict=True))
    return ModelTables(sizes, ints, [float(s.extinction or 0.0) for s in resolved.states],
                       tuple(e.name for e in resolved.events), nonzero)


def constant_accessors() -> str:
    """Python source of a specialised module's view of its model: the same accessors as the
    generic module's (:func:`cartsim.codegen.record.record_accessors`), returning the
    generated globals, constants numba folds into the code; the record ``m`` is unused."""
    lines = []
    for name in SIZE_NAMES:
        lines += ["", "", "@njit(cache=True)", f"def {name.lower()}(m):", f"    return {name}"]
    for name in (*INT_TABLES, "EXTINCTION_LEVEL"):
        lines += ["", "", "@njit(cache=True)", f"def {name.lower()}(m, i):",
                  f"    return {name}[i]"]
    return "\n".join(lines) + "\n"
