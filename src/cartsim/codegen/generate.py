"""Resolved model → Python source of the scalar, per-patient model functions numba compiles.

Generated functions (all ``@njit(cache=True)``, arrays passed in, nothing allocated; the first
argument, the kernel's model record ``m``, is unused in generated code):

- ``model_init(m, p, y0)``: initial values from parameters.
- ``model_rhs(m, t, y, p, out)``, ``model_jac(m, t, y, p, J)``,
  ``model_tgrad(m, t, y, p, out)``: f, ∂f/∂y (exact, from sympy) and ∂f/∂t.
- ``model_obs(m, t, y, p, out)``: observables.
- ``model_event_g(m, t, y, p, g)``: the state events' zero-crossing functions.
- ``model_event_times(m, p, times)``: the time of every time-event occurrence.
- ``model_apply(m, k, t, y, p, streams)``: the actions of event ``k`` (pre-event values on the
  right), drawing from ``streams[k]``, the event's own random stream.

Constants describe sizes, event directions and flags. Common subexpressions are shared (CSE).
"""

from __future__ import annotations

import sympy as sp

from cartsim.codegen.printer import print_expr
from cartsim.codegen.tables import (
    BOOLEAN_TABLES,
    CLOCK_IS_TIME,
    NOT_CLOCKED,
    model_tables,
    time_occurrences,
)
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


def _array_literal(values, dtype: str) -> str:
    if not values:
        return f"np.zeros(0, dtype=np.{dtype})"
    return f"np.array([{', '.join(str(v) for v in values)}], dtype=np.{dtype})"


def generate_source(resolved: ResolvedModel) -> str:
    """The generated model functions and constants for ``resolved``."""
    w = _Writer(resolved)
    n = len(resolved.states)
    tables = model_tables(resolved)
    w.emit(f"# model: {resolved.name}")
    for name, size in tables.sizes.items():
        w.emit(f"{name} = {size}")
    w.emit(f"EVENT_NAMES = {tables.event_names!r}")
    for name, values in tables.ints.items():
        dtype = "bool_" if name in BOOLEAN_TABLES else "int64"
        w.emit(f"{name} = " + _array_literal(values, dtype))
    w.emit("EXTINCTION_LEVEL = " + _array_literal(tables.extinction_level, "float64"))
    w.emit(f"NOT_CLOCKED = {NOT_CLOCKED}")
    w.emit(f"CLOCK_IS_TIME = {CLOCK_IS_TIME}")

    w.function("model_init(m, p, y0)", "Initial state from parameters.")
    w.assignments([f"y0[{i}]" for i in range(n)], list(resolved.initial), 1)

    w.function("model_rhs(m, t, y, p, out)", "Right-hand side f(t, y).")
    w.assignments([f"out[{i}]" for i in range(n)], list(resolved.rhs), 1)

    jac = resolved.jacobian()
    nonzero = tables.jacobian_nonzeros
    w.function("model_jac(m, t, y, p, J)", "Exact Jacobian ∂f/∂y (row i: ∂f_i).")
    w.emit("J[:, :] = 0.0", 1)
    if nonzero:
        w.assignments([f"J[{i}, {j}]" for i, j in nonzero], [jac[i, j] for i, j in nonzero], 1)

    tgrad = resolved.time_gradient()
    nonzero_t = [i for i in range(n) if tgrad[i] != 0]
    w.function("model_tgrad(m, t, y, p, out)", "Exact ∂f/∂t.")
    w.emit("out[:] = 0.0", 1)
    if nonzero_t:
        w.assignments([f"out[{i}]" for i in nonzero_t], [tgrad[i] for i in nonzero_t], 1)

    w.function("model_obs(m, t, y, p, out)", "Observables.")
    w.assignments([f"out[{i}]" for i in range(len(resolved.observables))],
                  [expr for _, expr in resolved.observables], 1)

    w.function("model_event_g(m, t, y, p, g)", "State events' zero-crossing functions.")
    w.assignments([f"g[{i}]" for i in range(tables.sizes['N_STATE_EVENTS'])],
                  [e.condition for e in resolved.state_events], 1)

    w.function("model_event_times(m, p, times)", "Time of every time-event occurrence.")
    w.assignments([f"times[{i}]" for i in range(tables.sizes['N_TIME_OCCURRENCES'])],
                  [time for _, time in time_occurrences(resolved)], 1)

    w.function("model_apply(m, k, t, y, p, streams)", "Apply the actions of event k.")
    if not resolved.events:
        w.emit("pass", 1)
    else:
        w.emit("rng = streams[k]", 1)
    for k, event in enumerate(resolved.events):
        w.emit(f"{'if' if k == 0 else 'elif'} k == {k}:  # {event.name}", 1)
        if not event.actions:
            w.emit("pass", 2)
            continue
        w.event(event, event_values(resolved, event), 2)
        for i, action in enumerate(event.actions):
            array = "y" if action.target_kind == "state" else "p"
            w.emit(f"{array}[{action.target_index}] = _new{i}", 2)
    w.emit()
    return "\n".join(w.lines) + "\n"


def event_values(resolved: ResolvedModel, event) -> list[sp.Basic]:
    """The new value of each of the event's action targets, from pre-event values (an "add"
    action adds to its target)."""
    values = []
    for action in event.actions:
        if action.mode == "set":
            values.append(action.expression)
            continue
        names = resolved.states if action.target_kind == "state" else resolved.parameters
        values.append(sp.Symbol(names[action.target_index].name) + action.expression)
    return values
