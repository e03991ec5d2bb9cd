"""Resolved model → Python source of the scalar, per-patient model functions numba compiles.

Generated functions (all ``@njit(cache=True)``, arrays passed in, nothing allocated):

- ``model_init(p, y0)``: initial values from parameters.
- ``model_rhs(t, y, p, out)``, ``model_jac(t, y, p, J)``, ``model_tgrad(t, y, p, out)``: f, ∂f/∂y
  (exact, from sympy) and ∂f/∂t.
- ``model_obs(t, y, p, out)``: observables.
- ``model_event_g(t, y, p, g)``: the state events' zero-crossing functions.
- ``model_event_times(p, times)``: the time of every time-event occurrence.
- ``model_apply(k, t, y, p, streams)``: the actions of event ``k`` (pre-event values on the
  right), drawing from ``streams[k]``, the event's own random stream.

Constants describe sizes, event directions and flags. Common subexpressions are shared (CSE).
"""

from __future__ import annotations

import sympy as sp

from cartsim.codegen.printer import print_expr
from cartsim.codegen.sparsity import lu_schedule
from cartsim.model.expressions import TIME
from cartsim.model.resolved import ResolvedModel

INDENT = "    "


def _symbol_map(resolved: ResolvedModel) -> dict[sp.Symbol, sp.Symbol]:
    """Model names → prefixed local names, so no model name can shadow a Python name."""
    mapping = {sp.Symbol(s.name): sp.Symbol(f"y_{s.name}") for s in resolved.states}
    mapping.update({sp.Symbol(p.name): sp.Symbol(f"p_{p.name}") for p in resolved.parameters})
    return mapping


class _Writer:
    def __init__(self, resolved: ResolvedModel):
        self.resolved = resolved
        self.mapping = _symbol_map(resolved)
        self.lines: list[str] = []

    def emit(self, line: str = "", depth: int = 0) -> None:
        self.lines.append(INDENT * depth + line if line else "")

    def function(self, signature: str, doc: str) -> None:
        self.emit()
        self.emit()
        self.emit("@njit(cache=True)")
        self.emit(f"def {signature}:")
        self.emit(f'"""{doc}"""', 1)

    def unpack(self, exprs, depth: int) -> None:
        """Read just the states and parameters these expressions use into local names."""
        used = set().union(*(sp.sympify(e).free_symbols for e in exprs)) if exprs else set()
        for i, s in enumerate(self.resolved.states):
            if sp.Symbol(s.name) in used:
                self.emit(f"y_{s.name} = y[{i}]", depth)
        for i, p in enumerate(self.resolved.parameters):
            if sp.Symbol(p.name) in used:
                self.emit(f"p_{p.name} = p[{i}]", depth)

    def assignments(self, targets: list[str], exprs: list[sp.Basic], depth: int) -> None:
        """``target = expr`` lines with common subexpressions hoisted."""
        if not exprs:
            self.emit("pass", depth)
            return
        self.unpack(exprs, depth)
        self.reduced(targets, exprs, depth)

    def reduced(self, targets: list[str], exprs: list[sp.Basic], depth: int,
                temp_prefix: str = "_c") -> None:
        """``target = expr`` lines with common subexpressions hoisted, the states and
        parameters already unpacked."""
        mapped = [sp.sympify(e).xreplace(self.mapping) for e in exprs]
        # no pre-optimisation: sympy's "basic" one (factor_terms on every expression) took
        # three quarters of the therapy model's code generation for little sharing
        temps, reduced = sp.cse(mapped, symbols=sp.numbered_symbols(temp_prefix))
        for symbol, value in temps:
            self.emit(f"{symbol} = {print_expr(value)}", depth)
        for target, value in zip(targets, reduced, strict=True):
            self.emit(f"{target} = {print_expr(value)}", depth)

    def event(self, resolved_event, values: list[sp.Basic], depth: int) -> None:
        """Compute an event's new values from the pre-event ones: its ``let`` values first, in
        order (local names ``v_<name>``, each with its own temporaries), then ``values``."""
        local = {symbol: sp.Symbol(f"v_{symbol.name}") for symbol, _ in resolved_event.values}
        self.unpack([e for _, e in resolved_event.values] + values, depth)
        for i, (symbol, expr) in enumerate(resolved_event.values):
            self.reduced([local[symbol].name], [expr.xreplace(local)], depth, f"_v{i}_c")
        self.reduced([f"_new{i}" for i in range(len(values))],
                     [v.xreplace(local) for v in values], depth)


NOT_CLOCKED = -2
CLOCK_IS_TIME = -1


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


def _array_literal(values, dtype: str) -> str:
    if not values:
        return f"np.zeros(0, dtype=np.{dtype})"
    return f"np.array([{', '.join(str(v) for v in values)}], dtype=np.{dtype})"


def generate_source(resolved: ResolvedModel) -> str:
    """The generated model functions and constants for ``resolved``."""
    w = _Writer(resolved)
    n = len(resolved.states)
    state_events = resolved.state_events
    occurrences = [(k, time) for k, e in enumerate(resolved.events) if e.kind == "time"
                   for time in e.times]
    w.emit(f"# model: {resolved.name}")
    w.emit(f"N_STATES = {n}")
    w.emit(f"N_PARAMS = {len(resolved.parameters)}")
    w.emit(f"N_OBS = {len(resolved.observables)}")
    w.emit(f"N_EVENTS = {len(resolved.events)}")
    w.emit(f"EVENT_NAMES = {tuple(e.name for e in resolved.events)!r}")
    w.emit(f"N_STATE_EVENTS = {len(state_events)}")
    w.emit(f"N_TIME_OCCURRENCES = {len(occurrences)}")
    w.emit("NONNEGATIVE = " + _array_literal([int(s.nonnegative) for s in resolved.states],
                                              "bool_"))
    by_name = {e.name: k for k, e in enumerate(resolved.events)}
    w.emit("EXTINCTION_EVENT = " + _array_literal(
        [by_name.get(f"extinction_{s.name}", -1) if s.extinction is not None else -1
         for s in resolved.states], "int64"))
    w.emit("EXTINCTION_LEVEL = " + _array_literal(
        [float(s.extinction or 0.0) for s in resolved.states], "float64"))
    index = {id(e): k for k, e in enumerate(resolved.events)}
    w.emit("STATE_EVENT_ID = " + _array_literal([index[id(e)] for e in state_events], "int64"))
    w.emit("STATE_EVENT_DIRECTION = " + _array_literal([e.direction for e in state_events],
                                                        "int64"))
    clocks = [event_clock(resolved, e) for e in state_events]
    w.emit(f"NOT_CLOCKED = {NOT_CLOCKED}")
    w.emit(f"CLOCK_IS_TIME = {CLOCK_IS_TIME}")
    w.emit("STATE_EVENT_CLOCK = " + _array_literal([c for c, _, _ in clocks], "int64"))
    w.emit("STATE_EVENT_DUE = " + _array_literal([d for _, d, _ in clocks], "int64"))
    w.emit("STATE_EVENT_DUE_IS_PARAM = " + _array_literal([int(q) for _, _, q in clocks], "bool_"))
    w.emit("EVENT_TERMINAL = " + _array_literal([int(e.terminal) for e in resolved.events],
                                                 "bool_"))
    w.emit("EVENT_LOGGED = " + _array_literal([int(e.logged) for e in resolved.events], "bool_"))
    w.emit("TIME_OCCURRENCE_EVENT = " + _array_literal([k for k, _ in occurrences], "int64"))

    w.function("model_init(p, y0)", "Initial state from parameters.")
    w.assignments([f"y0[{i}]" for i in range(n)], list(resolved.initial), 1)

    w.function("model_rhs(t, y, p, out)", "Right-hand side f(t, y).")
    w.assignments([f"out[{i}]" for i in range(n)], list(resolved.rhs), 1)

    jac = resolved.jacobian()
    nonzero = [(i, j) for i in range(n) for j in range(n) if jac[i, j] != 0]
    for name, values in lu_schedule(n, nonzero).flat().items():
        w.emit(f"{name} = " + _array_literal(values, "int64"), 0)
    w.function("model_jac(t, y, p, J)", "Exact Jacobian ∂f/∂y (row i: ∂f_i).")
    w.emit("J[:, :] = 0.0", 1)
    if nonzero:
        w.assignments([f"J[{i}, {j}]" for i, j in nonzero], [jac[i, j] for i, j in nonzero], 1)

    tgrad = resolved.time_gradient()
    nonzero_t = [i for i in range(n) if tgrad[i] != 0]
    w.function("model_tgrad(t, y, p, out)", "Exact ∂f/∂t.")
    w.emit("out[:] = 0.0", 1)
    if nonzero_t:
        w.assignments([f"out[{i}]" for i in nonzero_t], [tgrad[i] for i in nonzero_t], 1)

    w.function("model_obs(t, y, p, out)", "Observables.")
    w.assignments([f"out[{i}]" for i in range(len(resolved.observables))],
                  [expr for _, expr in resolved.observables], 1)

    w.function("model_event_g(t, y, p, g)", "State events' zero-crossing functions.")
    w.assignments([f"g[{i}]" for i in range(len(state_events))],
                  [e.condition for e in state_events], 1)

    w.function("model_event_times(p, times)", "Time of every time-event occurrence.")
    w.assignments([f"times[{i}]" for i in range(len(occurrences))],
                  [time for _, time in occurrences], 1)

    w.function("model_apply(k, t, y, p, streams)", "Apply the actions of event k.")
    if not resolved.events:
        w.emit("pass", 1)
    else:
        w.emit("rng = streams[k]", 1)
    for k, event in enumerate(resolved.events):
        w.emit(f"{'if' if k == 0 else 'elif'} k == {k}:  # {event.name}", 1)
        if not event.actions:
            w.emit("pass", 2)
            continue
        values = [a.expression if a.mode == "set" else
                  _target_symbol(resolved, a) + a.expression for a in event.actions]
        w.event(event, values, 2)
        for i, action in enumerate(event.actions):
            array = "y" if action.target_kind == "state" else "p"
            w.emit(f"{array}[{action.target_index}] = _new{i}", 2)
    w.emit()
    return "\n".join(w.lines) + "\n"


def _target_symbol(resolved: ResolvedModel, action) -> sp.Symbol:
    if action.target_kind == "state":
        return sp.Symbol(resolved.states[action.target_index].name)
    return sp.Symbol(resolved.parameters[action.target_index].name)
