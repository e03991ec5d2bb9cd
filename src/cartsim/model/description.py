"""Declarative model description: states, parameters, observables, equations, events.

A :class:`Model` is plain data. Submodels are composed with :func:`compose` (or ``a + b``):
declarations must not clash, and equation terms for the same state add up, so a tumour submodel
can declare ``T`` with its growth while a CAR-T submodel adds ``-kill`` to ``dT/dt``.
:meth:`Model.resolve` checks the closed model (every symbol known, units consistent, no cyclic
assignments) and returns a :class:`~cartsim.model.resolved.ResolvedModel` of sympy expressions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cartsim.errors import ModelError
from cartsim.model.expressions import Expr, check_name


@dataclass(frozen=True)
class State:
    """A state variable.

    ``initial`` is a number or an expression of parameters (and of other states' initial values).
    ``nonnegative`` marks amounts (cells, concentrations) that the solver keeps ≥ 0.
    ``extinction``: when the state falls below this value it becomes exactly zero (a population
    of less than one cell is gone, not 1e-10 cells waiting to regrow).
    ``atol``: absolute tolerance for this state, in its unit (default: the solver's atol).
    """

    name: str
    unit: str = ""
    initial: Expr = 0.0
    description: str = ""
    nonnegative: bool = True
    extinction: float | None = None
    atol: float | None = None

    def __post_init__(self):
        check_name(self.name, "state")
        if self.extinction is not None and not self.extinction > 0:
            raise ModelError(f"state '{self.name}': extinction threshold must be > 0")
        if self.atol is not None and not self.atol > 0:
            raise ModelError(f"state '{self.name}': atol must be > 0")


@dataclass(frozen=True)
class Parameter:
    """A parameter with unit, default, plausible bounds and the source of its value."""

    name: str
    default: float
    unit: str = ""
    bounds: tuple[float, float] | None = None
    source: str = ""
    description: str = ""

    def __post_init__(self):
        check_name(self.name, "parameter")
        if self.bounds is not None:
            low, high = self.bounds
            if not low <= high:
                raise ModelError(f"parameter '{self.name}': bounds {self.bounds} are reversed")
            if not low <= self.default <= high:
                raise ModelError(
                    f"parameter '{self.name}': default {self.default} outside bounds {self.bounds}"
                )


@dataclass(frozen=True)
class Assignment:
    """A named intermediate quantity computed from states and parameters at every instant."""

    name: str
    expression: Expr
    unit: str | None = None
    description: str = ""

    def __post_init__(self):
        check_name(self.name, "assignment")


@dataclass(frozen=True)
class Observable:
    """An output computed from states, parameters and assignments (what a clinician measures)."""

    name: str
    expression: Expr
    unit: str | None = None
    description: str = ""

    def __post_init__(self):
        check_name(self.name, "observable")


@dataclass(frozen=True)
class Action:
    """What an event does to a state or parameter: ``set`` it or ``add`` to it.

    Expressions are evaluated with the values just before the event, all actions of an event at
    once. They may use random draws such as ``rand_uniform()``.
    """

    target: str
    expression: Expr
    mode: Literal["set", "add"] = "set"

    def __post_init__(self):
        if self.mode not in ("set", "add"):
            raise ModelError(f"action on '{self.target}': mode must be 'set' or 'add'")


@dataclass(frozen=True)
class EventValue:
    """A value an event computes once, from the values just before it, for its actions (and
    later values) to read by name: a leap's mean rate, read by several draws, is written once
    and generated once. Its unit follows from its expression."""

    name: str
    expression: Expr

    def __post_init__(self):
        check_name(self.name, "event value")


def set_value(target: str, expression: Expr) -> Action:
    """Action that sets ``target`` to ``expression``."""
    return Action(target, expression, "set")


def add_to(target: str, expression: Expr) -> Action:
    """Action that adds ``expression`` to ``target`` (a dose)."""
    return Action(target, expression, "add")


@dataclass(frozen=True)
class TimeEvent:
    """Actions at given times: ``at`` (an expression of parameters), repeated ``count`` times
    every ``every`` time units (a schedule of drug doses). ``let`` names values the actions
    share (see :class:`EventValue`)."""

    name: str
    at: Expr
    actions: tuple[Action, ...]
    every: Expr | None = None
    count: int = 1
    let: tuple[EventValue, ...] = ()

    def __post_init__(self):
        check_name(self.name, "event")
        object.__setattr__(self, "actions", tuple(self.actions))
        object.__setattr__(self, "let", tuple(self.let))
        if not isinstance(self.count, int) or self.count < 1:
            raise ModelError(f"time event '{self.name}': count must be a positive integer")
        if self.count > 1 and self.every is None:
            raise ModelError(f"time event '{self.name}': count > 1 needs 'every'")


Direction = Literal["rising", "falling", "both"]


@dataclass(frozen=True)
class StateEvent:
    """Actions when a condition is met, located accurately in time.

    ``when`` is either a comparison (``"temperature_c > 38"``, fires when it becomes true) or an
    expression g(t, y, p) whose zero crossing in ``direction`` fires the event; a crossing
    caused by another event's actions fires it at the same instant. ``terminal`` events stop
    the patient's simulation after their actions; ``let`` names values the actions share (see
    :class:`EventValue`). Events firing at the same instant run in the order of the model's
    list, except those sharing a non-empty ``tie``: they run in a random order, drawn from the
    first one's random stream (SBML's simultaneous events of equal priority). By default a
    condition function at exactly 0 keeps the side it was on (a touch is not a crossing; at
    the start it is on neither side); ``zero_is_false`` puts a condition of strict comparisons
    on its false side there, at the start and after events, so it fires when it next becomes
    true (SBML's semantics, e.g. an event that resets its own threshold to equality).
    """

    name: str
    when: Expr
    actions: tuple[Action, ...] = ()
    direction: Direction = "rising"
    terminal: bool = False
    let: tuple[EventValue, ...] = ()
    tie: str = ""
    zero_is_false: bool = False

    def __post_init__(self):
        check_name(self.name, "event")
        object.__setattr__(self, "actions", tuple(self.actions))
        object.__setattr__(self, "let", tuple(self.let))
        if self.direction not in ("rising", "falling", "both"):
            raise ModelError(f"event '{self.name}': direction must be rising, falling or both")


Event = TimeEvent | StateEvent


@dataclass(frozen=True)
class Model:
    """A model or a submodel. ``equations`` maps a state name to (a term of) its derivative."""

    name: str
    states: tuple[State, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    equations: dict[str, Expr] = field(default_factory=dict)
    assignments: tuple[Assignment, ...] = ()
    observables: tuple[Observable, ...] = ()
    events: tuple[Event, ...] = ()
    time_unit: str = "day"
    check_units: bool = True
    description: str = ""

    def __post_init__(self):
        for attr in ("states", "parameters", "assignments", "observables", "events"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        object.__setattr__(self, "equations", {k: _as_terms(v) for k, v in self.equations.items()})
        _check_unique(self)

    def __add__(self, other: Model) -> Model:
        return compose(self, other, name=f"{self.name}+{other.name}")

    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def parameter(self, name: str) -> Parameter:
        for par in self.parameters:
            if par.name == name:
                return par
        raise KeyError(name)

    def with_defaults(self, **values: float) -> Model:
        """A copy with new parameter defaults (sources kept), e.g. a product's parameter set."""
        unknown = set(values) - set(self.parameter_names)
        if unknown:
            raise ModelError(f"model '{self.name}' has no parameter(s) {sorted(unknown)}")
        from dataclasses import replace

        params = tuple(
            replace(p, default=float(values[p.name]), bounds=None) if p.name in values else p
            for p in self.parameters
        )
        return replace(self, parameters=params)

    def resolve(self):
        """Check the closed model and return its symbolic form (see :mod:`.resolved`)."""
        from cartsim.model.resolved import resolve

        return resolve(self)


def _as_terms(value) -> tuple:
    """Equations hold a tuple of terms so composition can add them."""
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _check_unique(model: Model) -> None:
    """Each name is declared once per model, whatever its kind."""
    seen: dict[str, str] = {}
    groups = {
        "state": model.states,
        "parameter": model.parameters,
        "assignment": model.assignments,
        "observable": model.observables,
    }
    for kind, items in groups.items():
        for item in items:
            if item.name in seen:
                raise ModelError(
                    f"name '{item.name}' is declared twice in model '{model.name}' "
                    f"(as {seen[item.name]} and {kind})"
                )
            seen[item.name] = kind
    names = [e.name for e in model.events]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ModelError(f"event name(s) {duplicates} declared twice in model '{model.name}'")


def _merge_parameters(models: tuple[Model, ...]) -> tuple[Parameter, ...]:
    """Identical parameter declarations are shared; differing ones clash."""
    merged: dict[str, tuple[Parameter, str]] = {}
    for model in models:
        for par in model.parameters:
            if par.name in merged:
                first, owner = merged[par.name]
                if first != par:
                    what = "units" if first.unit != par.unit else "definitions"
                    raise ModelError(
                        f"parameter '{par.name}' has different {what} in submodels "
                        f"'{owner}' ({first.unit or 'dimensionless'}, default {first.default}) "
                        f"and '{model.name}' ({par.unit or 'dimensionless'}, default "
                        f"{par.default})"
                    )
                continue
            merged[par.name] = (par, model.name)
    return tuple(p for p, _ in merged.values())


def _check_no_clash(models: tuple[Model, ...]) -> None:
    """Name the two submodels when a state, assignment, observable or event is declared twice."""
    owners: dict[str, str] = {}
    for model in models:
        declared = [s.name for s in model.states] + [a.name for a in model.assignments]
        declared += [o.name for o in model.observables] + [e.name for e in model.events]
        declared += [p.name for p in model.parameters]
        params = {p.name for p in model.parameters}
        for name in declared:
            owner = owners.get(name)
            if owner is not None and not (name in params and owner.endswith(":parameter")):
                raise ModelError(
                    f"name '{name}' is declared in both submodel '{owner.split(':')[0]}' "
                    f"and submodel '{model.name}'"
                )
            owners[name] = f"{model.name}:{'parameter' if name in params else 'other'}"


def compose(*models: Model, name: str | None = None, description: str = "") -> Model:
    """Compose submodels into one model.

    States, assignments, observables and events must be declared in exactly one submodel;
    parameters may be shared when declared identically; equation terms for a state add up.
    """
    if not models:
        raise ModelError("compose() needs at least one model")
    time_units = {m.time_unit for m in models}
    if len(time_units) > 1:
        raise ModelError(f"submodels use different time units: {sorted(time_units)}")
    _check_no_clash(models)
    equations: dict[str, tuple] = {}
    for model in models:
        for state, terms in model.equations.items():
            equations[state] = equations.get(state, ()) + terms
    return Model(
        name=name or "+".join(m.name for m in models),
        states=tuple(s for m in models for s in m.states),
        parameters=_merge_parameters(models),
        equations=equations,
        assignments=tuple(a for m in models for a in m.assignments),
        observables=tuple(o for m in models for o in m.observables),
        events=tuple(e for m in models for e in m.events),
        time_unit=models[0].time_unit,
        check_units=all(m.check_units for m in models),
        description=description,
    )
