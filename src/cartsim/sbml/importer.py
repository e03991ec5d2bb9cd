"""SBML (python-libsbml) → cartsim :class:`~cartsim.model.Model`.

Mapping, following the SBML Level 3 semantics:

- species → states, in the units the species' symbol has in math: concentration unless
  ``hasOnlySubstanceUnits``. Reactions change amounts, so a concentration species changes by
  rate / compartment size. Boundary species are untouched by reactions; constant species are
  parameters.
- compartments (constant size) and constant parameters → parameters; non-constant parameters
  with a rate rule (or changed only by events) → states; assignment rules → assignments.
- initial assignments → initial-value expressions of states, or the numeric default of a
  parameter (evaluated from the other defaults).
- function definitions are inlined; ``piecewise``, relational and logical operators, ``time``
  and Avogadro are supported.
- events → state events firing when the trigger becomes true, or time events when the trigger
  is ``time >= T`` with T constant (exact). Triggers already true at the start do not fire
  (the ``initialValue="true"`` reading). Delays, algebraic rules, fast reactions,
  non-constant compartments and variable stoichiometry are refused with a clear error.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from pathlib import Path

import libsbml
import numpy as np
import sympy as sp

from cartsim.errors import ModelError, SBMLError
from cartsim.model import (
    Assignment,
    Model,
    Observable,
    Parameter,
    State,
    StateEvent,
    TimeEvent,
    set_value,
)
from cartsim.model.expressions import TIME, check_name
from cartsim.sbml.mathml import MathConverter

RULE_OUTPUT_PREFIX = "value_of_"


@dataclass(frozen=True)
class SBMLModel:
    """An imported model plus the map from cartsim names back to SBML ids.

    ``species`` lists the SBML species ids in document order; each is a state, or (when an
    assignment rule defines it) an observable named ``value_of_<name>``.
    """

    model: Model
    ids: dict[str, str]
    species: list[str] = field(default_factory=list)

    def name_of(self, sbml_id: str) -> str:
        """The cartsim name of an SBML id."""
        for name, original in self.ids.items():
            if original == sbml_id:
                return name
        raise KeyError(sbml_id)

    def species_values(self, result) -> np.ndarray:
        """(patients, times, species) values of every species, in document order."""
        columns = []
        for sbml_id in self.species:
            name = self.name_of(sbml_id)
            if name in result.state_names:
                columns.append(result.state(name))
            else:
                columns.append(result.observable(RULE_OUTPUT_PREFIX + name))
        return np.stack(columns, axis=2)


def _safe_name(sbml_id: str, taken: set[str]) -> str:
    """The id itself when cartsim accepts it, else a deterministic ``sbml_`` variant."""
    name = sbml_id
    try:
        check_name(name, "id")
        ok = not keyword.iskeyword(name)
    except ModelError:
        ok = False
    if not ok:
        name = "sbml_" + sbml_id.lstrip("_")
    while name in taken:
        name += "_"
    return name


def _read(source: str | Path) -> tuple[libsbml.SBMLDocument, str]:
    text = str(source)
    if isinstance(source, Path) or (not text.lstrip().startswith("<") and len(text) < 4096):
        path = Path(source)
        if not path.exists():
            raise SBMLError("file not found", file=str(path))
        document = libsbml.readSBMLFromFile(str(path))
        where = str(path)
    else:
        document = libsbml.readSBMLFromString(text)
        where = "<SBML string>"
    errors = [document.getError(i) for i in range(document.getNumErrors())]
    serious = [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if serious or document.getModel() is None:
        message = serious[0].getMessage().strip() if serious else "no <model> element"
        line = f" (line {serious[0].getLine()})" if serious else ""
        raise SBMLError(f"not valid SBML{line}: {message}", file=where)
    return document, where


class _Importer:
    def __init__(self, document: libsbml.SBMLDocument, where: str):
        self.doc = document
        self.sbml = document.getModel()
        self.where = where
        self.ids: dict[str, str] = {}  # cartsim name -> SBML id
        self.names: dict[str, str] = {}  # SBML id -> cartsim name

    def fail(self, problem: str, element: str) -> SBMLError:
        return SBMLError(problem, file=self.where, element=element)

    def name(self, sbml_id: str) -> str:
        if sbml_id not in self.names:
            name = _safe_name(sbml_id, set(self.ids))
            self.names[sbml_id] = name
            self.ids[name] = sbml_id
        return self.names[sbml_id]

    def run(self) -> SBMLModel:
        m = self.sbml
        self._refuse_unsupported()
        functions = {}
        for fd in m.getListOfFunctionDefinitions():
            lam = fd.getMath()
            if lam is None or lam.getNumChildren() == 0:
                raise self.fail("function definition without a body", f"function '{fd.getId()}'")
            args = [lam.getChild(i).getName() for i in range(lam.getNumChildren() - 1)]
            functions[fd.getId()] = (args, lam.getChild(lam.getNumChildren() - 1))
        for element in [*m.getListOfCompartments(), *m.getListOfSpecies(),
                        *m.getListOfParameters()]:
            self.name(element.getId())
        for reaction in m.getListOfReactions():
            law = reaction.getKineticLaw()
            if law is None:
                continue
            for local in [*law.getListOfParameters(), *law.getListOfLocalParameters()]:
                self.name(f"{reaction.getId()}_{local.getId()}")
        self.math = MathConverter(self.names, functions, self.where)

        rules = {r.getVariable(): r for r in m.getListOfRules()}
        rate_rules = {v: r for v, r in rules.items() if r.isRate()}
        assign_rules = {v: r for v, r in rules.items() if r.isAssignment()}
        initial = {ia.getSymbol(): ia for ia in m.getListOfInitialAssignments()}
        event_targets = {a.getVariable() for e in m.getListOfEvents()
                         for a in e.getListOfEventAssignments()}

        parameters: list[Parameter] = []
        states: list[State] = []
        assignments: list[Assignment] = []
        equations: dict[str, list] = {}
        source = f"SBML {m.getId() or 'model'} ({Path(self.where).name})"

        def convert(node, element):
            return self.math.convert(node, element)

        for c in m.getListOfCompartments():
            cid = c.getId()
            if not c.getConstant() or cid in rate_rules or cid in assign_rules \
                    or cid in event_targets:
                raise self.fail("non-constant compartments are not supported",
                                f"compartment '{cid}'")
            size = c.getSize() if c.isSetSize() else 1.0
            parameters.append(Parameter(self.name(cid), size, source=source,
                                        description="compartment size"))
        for p in m.getListOfParameters():
            pid = p.getId()
            value = p.getValue() if p.isSetValue() else 0.0
            if pid in assign_rules:
                assignments.append(Assignment(self.name(pid), convert(
                    assign_rules[pid].getMath(), f"assignment rule for '{pid}'")))
            elif p.getConstant() and pid not in rate_rules:
                parameters.append(Parameter(self.name(pid), value, source=source,
                                            description=p.getName() or ""))
            else:
                states.append(State(self.name(pid), initial=value, nonnegative=False,
                                    description=p.getName() or "non-constant parameter"))
                if pid in rate_rules:
                    equations[self.name(pid)] = [convert(rate_rules[pid].getMath(),
                                                         f"rate rule for '{pid}'")]
        for reaction in m.getListOfReactions():
            law = reaction.getKineticLaw()
            if law is None:
                continue
            for local in [*law.getListOfParameters(), *law.getListOfLocalParameters()]:
                parameters.append(Parameter(self.name(f"{reaction.getId()}_{local.getId()}"),
                                            local.getValue(), source=source,
                                            description=f"local to reaction {reaction.getId()}"))

        species_ids, observables = [], []
        sizes = {c.getId(): c for c in m.getListOfCompartments()}
        for s in m.getListOfSpecies():
            sid = s.getId()
            name = self.name(sid)
            species_ids.append(sid)
            amount_units = s.getHasOnlySubstanceUnits()
            volume = sizes[s.getCompartment()].getSize() if s.getCompartment() in sizes else 1.0
            if s.isSetInitialAmount():
                value = s.getInitialAmount() if amount_units else s.getInitialAmount() / volume
            elif s.isSetInitialConcentration():
                value = (s.getInitialConcentration() * volume if amount_units
                         else s.getInitialConcentration())
            else:
                value = 0.0
            if sid in assign_rules:
                assignments.append(Assignment(name, convert(assign_rules[sid].getMath(),
                                                            f"assignment rule for '{sid}'")))
                observables.append(Observable(RULE_OUTPUT_PREFIX + name, name,
                                              description=f"species {sid} (assignment rule)"))
            elif s.getConstant() and sid not in rate_rules and sid not in event_targets:
                parameters.append(Parameter(name, value, source=source,
                                            description="constant species"))
            else:
                states.append(State(name, initial=value, nonnegative=False,
                                    description=s.getName() or "species"))
                if sid in rate_rules:
                    equations[name] = [convert(rate_rules[sid].getMath(),
                                               f"rate rule for '{sid}'")]
                else:
                    equations.setdefault(name, [])

        self._reaction_terms(equations, sizes)
        parameters, states = self._initial_assignments(initial, parameters, states, assignments)
        events = self._events(event_targets)
        model = Model(
            name=_safe_name(m.getId() or "sbml_model", set()),
            states=tuple(states),
            parameters=tuple(parameters),
            equations={k: tuple(v) for k, v in equations.items() if v},
            assignments=tuple(assignments),
            observables=tuple(observables),
            events=tuple(events),
            time_unit="",
            check_units=False,
            description=m.getName() or "",
        )
        try:
            model.resolve()
        except ModelError as exc:
            raise SBMLError(str(exc), file=self.where) from None
        return SBMLModel(model, dict(self.ids), species_ids)

    def _refuse_unsupported(self) -> None:
        m = self.sbml
        for rule in m.getListOfRules():
            if rule.isAlgebraic():
                raise self.fail("algebraic rules are not supported", "algebraicRule")
        for event in m.getListOfEvents():
            if event.isSetDelay():
                raise self.fail("event delays are not supported", f"event '{event.getId()}'")
        for reaction in m.getListOfReactions():
            if reaction.isSetFast() and reaction.getFast():
                raise self.fail("fast reactions are not supported",
                                f"reaction '{reaction.getId()}'")

    def _reaction_terms(self, equations: dict, compartments: dict) -> None:
        m = self.sbml
        species = {s.getId(): s for s in m.getListOfSpecies()}
        variable_ids = {r.getVariable() for r in m.getListOfRules()}
        for reaction in m.getListOfReactions():
            rid = reaction.getId()
            law = reaction.getKineticLaw()
            if law is None:
                continue
            local = {lp.getId(): self.name(f"{rid}_{lp.getId()}")
                     for lp in [*law.getListOfParameters(), *law.getListOfLocalParameters()]}
            converter = MathConverter({**self.names, **local}, self.math.functions, self.where)
            rate = converter.convert(law.getMath(), f"kinetic law of reaction '{rid}'")
            for refs, sign in ((reaction.getListOfReactants(), -1),
                               (reaction.getListOfProducts(), 1)):
                for ref in refs:
                    sid = ref.getSpecies()
                    s = species[sid]
                    if ref.isSetStoichiometryMath() or (ref.isSetId() and ref.getId()
                                                        in variable_ids):
                        raise self.fail("variable stoichiometry is not supported",
                                        f"reaction '{rid}'")
                    if s.getBoundaryCondition() or s.getConstant():
                        continue
                    stoich = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                    term = sign * sp.Float(stoich) * rate if stoich != 1 else sign * rate
                    if not s.getHasOnlySubstanceUnits():
                        term = term / sp.Symbol(self.names[s.getCompartment()])
                    name = self.names[sid]
                    if name not in equations:
                        raise self.fail(f"species '{sid}' is changed by a reaction and a rule",
                                        f"reaction '{rid}'")
                    equations[name].append(term)

    def _initial_assignments(self, initial: dict, parameters, states, assignments):
        if not initial:
            return parameters, states
        inline = {sp.Symbol(a.name): a.expression for a in assignments}
        defaults = {sp.Symbol(p.name): sp.Float(p.default) for p in parameters}
        new_params, new_states = [], []
        by_name = {self.names[sid]: ia for sid, ia in initial.items() if sid in self.names}
        for p in parameters:
            ia = by_name.get(p.name)
            if ia is None:
                new_params.append(p)
                continue
            value = self._initial_value(ia, inline).xreplace(defaults)
            if value.free_symbols or not value.is_number:
                raise self.fail("initial assignment of a constant depends on changing "
                                "quantities", f"initial assignment '{ia.getSymbol()}'")
            new_params.append(Parameter(p.name, float(value), p.unit, source=p.source,
                                        description=p.description))
            defaults[sp.Symbol(p.name)] = sp.Float(value)
        for s in states:
            ia = by_name.get(s.name)
            if ia is None:
                new_states.append(s)
                continue
            new_states.append(State(s.name, s.unit, self._initial_value(ia, inline),
                                    s.description, s.nonnegative))
        return new_params, new_states

    def _initial_value(self, initial_assignment, inline) -> sp.Basic:
        """An initial assignment's math with assignment-rule symbols replaced by their rules."""
        expr = self.math.convert(initial_assignment.getMath(),
                                 f"initial assignment '{initial_assignment.getSymbol()}'")
        for _ in range(len(inline) + 1):
            expanded = expr.xreplace(inline)
            if expanded == expr:
                break
            expr = expanded
        return expr

    def _events(self, targets: set[str]) -> list:
        events = []
        state_like = set(self.names)
        for index, event in enumerate(self.sbml.getListOfEvents()):
            eid = event.getId() or f"event{index + 1}"
            element = f"event '{eid}'"
            if not event.isSetTrigger() or event.getTrigger().getMath() is None:
                raise self.fail("event without a trigger", element)
            trigger = self.math.convert(event.getTrigger().getMath(), element)
            actions = []
            for a in event.getListOfEventAssignments():
                if a.getVariable() not in state_like:
                    raise self.fail(f"assignment to unknown '{a.getVariable()}'", element)
                actions.append(set_value(self.names[a.getVariable()],
                                         self.math.convert(a.getMath(), element)))
            name = _safe_name(eid, set())
            at = _time_trigger(trigger)
            if at is not None:
                events.append(TimeEvent(name, at=at, actions=tuple(actions)))
            else:
                events.append(StateEvent(name, trigger, tuple(actions)))
        return events


def _time_trigger(trigger: sp.Basic):
    """T for a trigger ``time >= T`` (or ``time > T``, ``T <= time``) with T free of time."""
    if isinstance(trigger, sp.GreaterThan | sp.StrictGreaterThan):
        lhs, rhs = trigger.lhs, trigger.rhs
    elif isinstance(trigger, sp.LessThan | sp.StrictLessThan):
        lhs, rhs = trigger.rhs, trigger.lhs
    else:
        return None
    if lhs == TIME and TIME not in rhs.free_symbols:
        return rhs
    return None


def import_sbml(source: str | Path) -> SBMLModel:
    """Read an SBML file (or an SBML string) into a cartsim model."""
    document, where = _read(source)
    return _Importer(document, where).run()
