"""cartsim model → SBML Level 3 Version 2 that libroadrunner (or any SBML simulator) runs.

States become species (amounts, in one unit compartment) driven by rate rules; parameters stay
parameters (constant unless an event changes them), with unit and source in their notes;
observables become assignment-rule parameters; each time-event occurrence and each state-event
direction becomes an SBML event. Time-event triggers ``time >= T`` start "false", so an event at
t = 0 (an infusion at the start) fires at the start as it does in cartsim; state-event triggers
start "true", so a condition already met at the start does not fire, as in cartsim. Where one
event's actions make another's condition true, an SBML simulator fires the second and cartsim
does not. SBML cannot stop a simulation: a terminal event's actions are exported and its note
says it is terminal. Silent solver breakpoints are not exported: an SBML simulator handles its
own discontinuities. SBML's clock starts at 0: a model simulated from another time is
exported with that ``start`` (see :func:`export_sbml`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape

import libsbml
import sympy as sp

from cartsim.errors import SBMLError
from cartsim.model import Model
from cartsim.model.expressions import TIME
from cartsim.model.resolved import ResolvedModel
from cartsim.sbml.formula import formula

COMPARTMENT = "cartsim_compartment"


def _math(text: str, element: str):
    ast = libsbml.parseL3Formula(text)
    if ast is None:
        raise SBMLError(f"cannot write formula {text!r}: {libsbml.getLastParseL3Error()}",
                        element=element)
    return ast


def _check(code: int, element: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        reason = libsbml.OperationReturnValue_toString(code)
        raise SBMLError(f"libsbml refused the element ({reason})", element=element)


def _notes(item, text: str) -> None:
    if text:
        item.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p></body>')


def _check_ids(resolved) -> None:
    """Refuse names that the SBML formula parser reads as built-ins (``time``, ``inf``...)."""
    names = [s.name for s in resolved.states] + [p.name for p in resolved.parameters]
    for name in names + [name for name, _ in resolved.observables]:
        ast = libsbml.parseL3Formula(name)
        if ast is None or ast.getType() != libsbml.AST_NAME or ast.getName() != name:
            raise SBMLError(f"'{name}' means a built-in symbol in SBML formulas; rename it",
                            element=f"'{name}'")


def export_sbml(model: Model, *, start: float = 0.0) -> str:
    """SBML L3V2 text for ``model``. An SBML simulation starts at time 0 (libroadrunner
    evaluates triggers there whatever the start it is given): a model simulated from another
    time (the therapy model from day -7) is exported with that ``start``, and its formulas
    read cartsim's time as ``time + start``."""
    resolved = _shifted(model.resolve(), float(start))
    _check_ids(resolved)
    document = libsbml.SBMLDocument(3, 2)
    sbml = document.createModel()
    _check(sbml.setId(re.sub(r"^(?=\d|$)", "_", re.sub(r"\W", "_", model.name))), "model")
    _notes(sbml, f"cartsim model {model.name}; time unit: {model.time_unit or 'unspecified'}")
    compartment = sbml.createCompartment()
    compartment.setId(COMPARTMENT)
    compartment.setSize(1.0)
    compartment.setConstant(True)

    changed = {a.target_index for e in resolved.events for a in e.actions
               if a.target_kind == "parameter"}
    for index, p in enumerate(resolved.parameters):
        par = sbml.createParameter()
        _check(par.setId(p.name), f"parameter '{p.name}'")
        par.setValue(p.default)
        par.setConstant(index not in changed)
        _notes(par, f"unit: {p.unit or 'dimensionless'}; source: {p.source}")

    for state, initial, rhs in zip(resolved.states, resolved.initial, resolved.rhs, strict=True):
        species = sbml.createSpecies()
        _check(species.setId(state.name), f"state '{state.name}'")
        species.setCompartment(COMPARTMENT)
        species.setHasOnlySubstanceUnits(True)
        species.setBoundaryCondition(False)
        species.setConstant(False)
        _notes(species, f"unit: {state.unit or 'dimensionless'}; {state.description}")
        if initial.is_Number:
            species.setInitialAmount(float(initial))
        else:
            species.setInitialAmount(0.0)
            assignment = sbml.createInitialAssignment()
            assignment.setSymbol(state.name)
            assignment.setMath(_math(formula(initial), f"initial value of '{state.name}'"))
        rule = sbml.createRateRule()
        rule.setVariable(state.name)
        rule.setMath(_math(formula(rhs), f"equation of '{state.name}'"))

    for name, expr in resolved.observables:
        par = sbml.createParameter()
        _check(par.setId(name), f"observable '{name}'")
        par.setConstant(False)
        rule = sbml.createAssignmentRule()
        rule.setVariable(name)
        rule.setMath(_math(formula(expr), f"observable '{name}'"))

    taken = {COMPARTMENT, *(s.name for s in resolved.states),
             *(p.name for p in resolved.parameters), *(name for name, _ in resolved.observables)}
    for event in resolved.events:
        if not event.logged:
            continue
        for name, trigger_text, initial_value in _triggers(event):
            while name in taken:  # events have their own namespace in cartsim, not in SBML
                name += "_event"
            taken.add(name)
            _add_event(sbml, resolved, event, name, trigger_text, initial_value)

    errors = document.checkInternalConsistency()
    if errors:
        raise SBMLError(f"exported SBML is inconsistent: {document.getError(0).getMessage()}")
    return libsbml.writeSBMLToString(document)


def _shifted(resolved: ResolvedModel, start: float) -> ResolvedModel:
    """``resolved`` on a clock that reads 0 at cartsim time ``start``."""
    if start == 0.0:
        return resolved
    later = {TIME: TIME + sp.Float(start)}

    def shift(expr: sp.Basic) -> sp.Basic:
        return expr.xreplace(later)

    events = tuple(replace(
        e, times=tuple(time - sp.Float(start) for time in e.times),
        condition=None if e.condition is None else shift(e.condition),
        actions=tuple(replace(a, expression=shift(a.expression)) for a in e.actions),
        values=tuple((symbol, shift(value)) for symbol, value in e.values))
        for e in resolved.events)
    return replace(resolved, rhs=tuple(map(shift, resolved.rhs)),
                   initial=tuple(map(shift, resolved.initial)),
                   observables=tuple((name, shift(e)) for name, e in resolved.observables),
                   events=events)


def _triggers(event) -> list[tuple[str, str, bool]]:
    """(SBML event id, trigger formula, trigger value at the start) for each SBML event that
    stands for ``event``: one per time-event occurrence, one per state-event direction."""
    if event.kind == "time":
        return [(f"{event.name}_{i}" if len(event.times) > 1 else event.name,
                 f"geq(time, {formula(time)})", False) for i, time in enumerate(event.times)]
    g = formula(event.condition)
    triggers = []
    if event.direction >= 0:
        triggers.append((event.name if event.direction else f"{event.name}_up",
                         f"gt({g}, 0)", True))
    if event.direction <= 0:
        triggers.append((event.name if event.direction else f"{event.name}_down",
                         f"lt({g}, 0)", True))
    return triggers


def _add_event(sbml, resolved, event, name: str, trigger_text: str,
               initial_value: bool) -> None:
    element = f"event '{name}'"
    sbml_event = sbml.createEvent()
    _check(sbml_event.setId(name), element)
    if event.terminal:
        _notes(sbml_event, "terminal in cartsim: the simulation stops after this event")
    # Simultaneous events apply one after the other in cartsim: each must read the values the
    # previous one left, which SBML calls using the values at execution time.
    sbml_event.setUseValuesFromTriggerTime(False)
    trigger = sbml_event.createTrigger()
    trigger.setInitialValue(initial_value)
    trigger.setPersistent(True)
    trigger.setMath(_math(trigger_text, element))
    for action in event.actions:
        target = (resolved.states[action.target_index].name if action.target_kind == "state"
                  else resolved.parameters[action.target_index].name)
        value = action.expression + sp.Symbol(target) if action.mode == "add" \
            else action.expression
        value = event.inlined(value)
        assignment = sbml_event.createEventAssignment()
        assignment.setVariable(target)
        assignment.setMath(_math(formula(value), element))
