"""The checked, symbolic form of a closed model: what code generation and SBML export read.

Assignments are inlined (in dependency order) so every equation, observable, event condition and
initial value is an expression of states, parameters and time only; exact Jacobians follow by
differentiation.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from cartsim.errors import ModelError, UnitError
from cartsim.model import units as U
from cartsim.model.description import Model, Parameter, State, StateEvent, TimeEvent
from cartsim.model.expressions import TIME, has_random_draw, parse

DIRECTIONS = {"rising": 1, "falling": -1, "both": 0}


@dataclass(frozen=True)
class ResolvedAction:
    target_kind: str  # "state" or "parameter"
    target_index: int
    mode: str  # "set" or "add"
    expression: sp.Basic


@dataclass(frozen=True)
class ResolvedEvent:
    """A time event (``times``: one expression per occurrence) or a state event (``condition``:
    g whose zero crossing in ``direction`` (+1 rising, -1 falling, 0 both) fires it)."""

    name: str
    kind: str  # "time" or "state"
    actions: tuple[ResolvedAction, ...]
    times: tuple[sp.Basic, ...] = ()
    condition: sp.Basic | None = None
    direction: int = 1
    terminal: bool = False
    logged: bool = True
    values: tuple[tuple[sp.Symbol, sp.Basic], ...] = ()
    """The event's ``let`` values in order: expressions of states, parameters, time and earlier
    values, which the actions read as symbols."""
    tie: str = ""
    """State events sharing a non-empty tie run in random order when they fire together."""
    false_at_zero: bool = False
    """Asked for (``zero_is_false``) and its condition made of strict comparisons (> or <):
    false where g is exactly 0, at the start and after events; otherwise a zero g keeps the
    side it was on (a touch is not a crossing)."""

    def inlined(self, expression: sp.Basic) -> sp.Basic:
        """``expression`` with the event's values written out (for SBML, which has none)."""
        for symbol, value in reversed(self.values):
            expression = expression.xreplace({symbol: value})
        return expression


@dataclass(frozen=True)
class ResolvedModel:
    """Sympy expressions over ``state_symbols``, ``parameter_symbols`` and :data:`TIME`."""

    model: Model
    states: tuple[State, ...]
    parameters: tuple[Parameter, ...]
    rhs: tuple[sp.Basic, ...]
    initial: tuple[sp.Basic, ...]
    observables: tuple[tuple[str, sp.Basic], ...]
    events: tuple[ResolvedEvent, ...]

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def state_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(s.name) for s in self.states)

    @property
    def parameter_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(p.name) for p in self.parameters)

    @property
    def time_events(self) -> tuple[ResolvedEvent, ...]:
        return tuple(e for e in self.events if e.kind == "time")

    @property
    def state_events(self) -> tuple[ResolvedEvent, ...]:
        return tuple(e for e in self.events if e.kind == "state")

    def jacobian(self) -> sp.Matrix:
        """Exact ∂f/∂y (0 x 0 for a model without states: rules of time alone)."""
        if not self.rhs:
            return sp.zeros(0, 0)
        return sp.Matrix(self.rhs).jacobian(sp.Matrix(self.state_symbols))

    def time_gradient(self) -> tuple[sp.Basic, ...]:
        """Exact ∂f/∂t (zero for autonomous models)."""
        return tuple(sp.diff(f, TIME) for f in self.rhs)


def _topological(names: list[str], deps: dict[str, set[str]], what: str) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join(path[path.index(name):] + [name])
            raise ModelError(f"cyclic {what}: {cycle}")
        state[name] = 1
        for dep in sorted(deps.get(name, ())):
            visit(dep, path + [name])
        state[name] = 2
        order.append(name)

    for name in names:
        visit(name, [])
    return order


class _Resolver:
    def __init__(self, model: Model):
        self.model = model
        self.state_names = [s.name for s in model.states]
        self.param_names = [p.name for p in model.parameters]
        self.known = set(self.state_names) | set(self.param_names)
        self.known |= {a.name for a in model.assignments}
        self.units: dict = {}
        self.expand: dict[sp.Symbol, sp.Basic] = {}

    def parse(self, value, context, *, known=None, random_ok=False):
        expr = parse(value, self.known if known is None else known, context=context)
        if not random_ok and has_random_draw(expr):
            raise ModelError(f"random draws are only allowed in event actions, not in {context}")
        return expr

    def run(self):
        model = self.model
        for eq_state in model.equations:
            if eq_state not in self.state_names:
                raise ModelError(
                    f"equation for '{eq_state}', which is not a declared state of model "
                    f"'{model.name}' (states: {', '.join(self.state_names) or 'none'})"
                )
        if model.check_units:
            self._declare_units()
        self._resolve_assignments()
        rhs = tuple(self._rhs(s) for s in model.states)
        initial = self._initial_values()
        observables = tuple(self._observable(o) for o in model.observables)
        events = tuple(self._event(e) for e in model.events) + self._extinction_events()
        events += breakpoint_events(rhs, {sp.Symbol(n) for n in self.state_names})
        return ResolvedModel(model, model.states, model.parameters, rhs, initial, observables,
                             events)

    def _declare_units(self):
        model = self.model
        try:
            self.time_unit = U.parse_unit(model.time_unit)
            for item in (*model.states, *model.parameters):
                self.units[item.name] = U.parse_unit(item.unit)
        except UnitError as exc:
            raise UnitError(f"model '{model.name}': {exc.problem}") from None
        self.units["t"] = self.time_unit

    def _resolve_assignments(self):
        parsed = {
            a.name: self.parse(a.expression, f"assignment '{a.name}'")
            for a in self.model.assignments
        }
        deps = {n: {s.name for s in e.free_symbols} & set(parsed) for n, e in parsed.items()}
        declared = {a.name: a.unit for a in self.model.assignments}
        for name in _topological(list(parsed), deps, "assignments"):
            expr = parsed[name]
            if self.model.check_units:
                found = U.unit_of(expr, self.units)
                if declared[name] is not None:
                    expected = U.parse_unit(declared[name])
                    U.check_unit(expr, self.units, expected, f"assignment '{name}'")
                    found = expected
                self.units[name] = U.registry().dimensionless if found is U.WILDCARD else found
            self.expand[sp.Symbol(name)] = expr.xreplace(self.expand)

    def _rhs(self, state: State) -> sp.Basic:
        terms = self.model.equations.get(state.name, ())
        total = sp.Integer(0)
        for i, term in enumerate(terms, 1):
            context = f"equation d({state.name})/dt" + (f" term {i}" if len(terms) > 1 else "")
            expr = self.parse(term, context)
            if self.model.check_units:
                expected = self.units[state.name] / self.time_unit
                U.check_unit(expr, self.units, expected, context)
            total += expr.xreplace(self.expand)
        return total

    def _initial_values(self) -> tuple[sp.Basic, ...]:
        known = set(self.state_names) | set(self.param_names)
        parsed = {}
        for s in self.model.states:
            context = f"initial value of state '{s.name}'"
            parsed[s.name] = self.parse(s.initial, context, known=known)
            if self.model.check_units:
                U.check_unit(parsed[s.name], self.units, self.units[s.name], context)
        deps = {n: {x.name for x in e.free_symbols} & set(parsed) for n, e in parsed.items()}
        resolved: dict[sp.Symbol, sp.Basic] = {}
        for name in _topological(self.state_names, deps, "initial values"):
            resolved[sp.Symbol(name)] = parsed[name].xreplace(resolved)
        for name, expr in resolved.items():
            if TIME in expr.free_symbols:
                raise ModelError(f"initial value of state '{name}' may not depend on time")
        return tuple(resolved[sp.Symbol(n)] for n in self.state_names)

    def _observable(self, obs) -> tuple[str, sp.Basic]:
        context = f"observable '{obs.name}'"
        expr = self.parse(obs.expression, context)
        if self.model.check_units and obs.unit is not None:
            U.check_unit(expr, self.units, U.parse_unit(obs.unit), context)
        return obs.name, expr.xreplace(self.expand)

    def _values(self, event) -> tuple[tuple[tuple[sp.Symbol, sp.Basic], ...], set, dict]:
        """An event's ``let`` values in order, each left a symbol in what follows it; with the
        names and units its actions may read."""
        known, units, values = set(self.known), dict(self.units), []
        for value in event.let:
            context = f"event '{event.name}' value '{value.name}'"
            if value.name in known:
                raise ModelError(f"{context}: the name is already used in the model or the event")
            expr = self.parse(value.expression, context, known=known, random_ok=True)
            if self.model.check_units:
                found = U.unit_of(expr, units)
                units[value.name] = U.registry().dimensionless if found is U.WILDCARD else found
            values.append((sp.Symbol(value.name), expr.xreplace(self.expand)))
            known.add(value.name)
        return tuple(values), known, units

    def _action(self, event_name: str, action, known: set, units: dict) -> ResolvedAction:
        context = f"event '{event_name}' action on '{action.target}'"
        if action.target in self.state_names:
            kind, index = "state", self.state_names.index(action.target)
        elif action.target in self.param_names:
            kind, index = "parameter", self.param_names.index(action.target)
        else:
            raise ModelError(f"{context}: target is neither a state nor a parameter")
        expr = self.parse(action.expression, context, known=known, random_ok=True)
        if self.model.check_units:
            U.check_unit(expr, units, units[action.target], context)
        return ResolvedAction(kind, index, action.mode, expr.xreplace(self.expand))

    def _event(self, event) -> ResolvedEvent:
        values, known, units = self._values(event)
        actions = tuple(self._action(event.name, a, known, units) for a in event.actions)
        if isinstance(event, TimeEvent):
            params = set(self.param_names)
            context = f"time of event '{event.name}'"
            at = self.parse(event.at, context, known=params)
            every = (self.parse(event.every, f"interval of event '{event.name}'", known=params)
                     if event.every is not None else sp.Integer(0))
            for expr in (at, every):
                if TIME in expr.free_symbols:
                    raise ModelError(f"{context} may not depend on time")
                if self.model.check_units:
                    U.check_unit(expr, self.units, self.time_unit, context)
            times = tuple(at + k * every for k in range(event.count))
            return ResolvedEvent(event.name, "time", actions, times=times, values=values)
        assert isinstance(event, StateEvent)
        context = f"condition of event '{event.name}'"
        condition = self.parse(event.when, context)
        if self.model.check_units:
            U.unit_of(condition, self.units)
        g = condition_function(condition, context)
        return ResolvedEvent(event.name, "state", actions, condition=g.xreplace(self.expand),
                             direction=DIRECTIONS[event.direction], terminal=event.terminal,
                             values=values, tie=event.tie,
                             false_at_zero=event.zero_is_false and false_at_zero(condition))

    def _extinction_events(self) -> tuple[ResolvedEvent, ...]:
        events = []
        for i, s in enumerate(self.model.states):
            if s.extinction is None:
                continue
            g = sp.Symbol(s.name) - sp.Float(s.extinction)
            action = ResolvedAction("state", i, "set", sp.Integer(0))
            events.append(ResolvedEvent(f"extinction_{s.name}", "state", (action,),
                                        condition=g, direction=-1))
        return tuple(events)


def false_at_zero(condition: sp.Basic) -> bool:
    """Whether ``condition`` is false where its :func:`condition_function` is 0: a strict
    comparison, or ``and``/``or`` of such (the part at 0 decides), or ``not`` of a non-strict
    comparison. Anything else (a plain function, a mix) counts as not known: False."""
    if isinstance(condition, sp.StrictGreaterThan | sp.StrictLessThan):
        return True
    if isinstance(condition, sp.And | sp.Or):
        return all(false_at_zero(a) for a in condition.args)
    if isinstance(condition, sp.Not):
        return isinstance(condition.args[0], sp.GreaterThan | sp.LessThan)
    return False


def condition_function(condition: sp.Basic, context: str) -> sp.Basic:
    """A function g that is positive exactly where the (boolean) condition holds.

    ``a > b`` gives ``a - b``; ``a < b`` gives ``b - a``; ``and`` is the minimum and ``or`` the
    maximum of the parts; ``not`` negates. A plain expression is returned as it is.
    """
    if isinstance(condition, sp.core.relational.Relational):
        if isinstance(condition, sp.StrictGreaterThan | sp.GreaterThan):
            return condition.lhs - condition.rhs
        if isinstance(condition, sp.StrictLessThan | sp.LessThan):
            return condition.rhs - condition.lhs
        raise ModelError(f"{context}: equality conditions cannot be located in time; use < or >")
    if isinstance(condition, sp.And):
        return sp.Min(*(condition_function(a, context) for a in condition.args))
    if isinstance(condition, sp.Or):
        return sp.Max(*(condition_function(a, context) for a in condition.args))
    if isinstance(condition, sp.Not):
        return -condition_function(condition.args[0], context)
    if condition in (sp.true, sp.false):
        return sp.Integer(1 if condition == sp.true else -1)
    if isinstance(condition, sp.logic.boolalg.Boolean):
        raise ModelError(f"{context}: unsupported condition {condition}")
    return condition


def breakpoint_events(rhs, states: set[sp.Symbol]) -> tuple[ResolvedEvent, ...]:
    """Silent events at the switching points of piecewise right-hand sides.

    A jump in f (``piecewise(a, t <= T_max, b)``) makes an adaptive step straddling it fail
    repeatedly. A switch at a known time becomes a time stop (the integrator lands on it and
    restarts on the other branch); a switch that depends on the state is located like a state
    event. Conditions on parameters alone never switch and are
    skipped, as are equalities (which cannot be located).
    """
    functions: list[sp.Basic] = []
    for expr in rhs:  # atoms are sets: sorted, so the events' order (and the code) is stable
        for piecewise in sorted(expr.atoms(sp.Piecewise), key=sp.default_sort_key):
            for _, condition in piecewise.args:
                for relation in sorted(condition.atoms(sp.core.relational.Relational),
                                       key=sp.default_sort_key):
                    if isinstance(relation, sp.Eq | sp.Ne):
                        continue
                    g = relation.lhs - relation.rhs
                    if not g.free_symbols & (states | {TIME}):
                        continue
                    if g not in functions and -g not in functions:
                        functions.append(g)
    events = []
    for i, g in enumerate(functions):
        switch_time = _time_of_zero(g, states)
        if switch_time is not None:
            events.append(ResolvedEvent(f"breakpoint_{i}", "time", (), times=(switch_time,),
                                        logged=False))
        else:
            events.append(ResolvedEvent(f"breakpoint_{i}", "state", (), condition=g,
                                        direction=0, logged=False))
    return tuple(events)


def _time_of_zero(g: sp.Basic, states: set[sp.Symbol]) -> sp.Basic | None:
    """The one time at which g (of time and parameters only, linear in time) is zero."""
    if g.free_symbols & states or not g.is_polynomial(TIME) or sp.degree(g, TIME) != 1:
        return None
    (solution,) = sp.solve(g, TIME)
    return solution


def resolve(model: Model) -> ResolvedModel:
    """Check a closed model and return its symbolic form."""
    return _Resolver(model).run()
