"""cartsim model → SBML Level 3 Version 2 that libroadrunner (or any SBML simulator) runs.

States become species (amounts, in one unit compartment) driven by rate rules; parameters stay
parameters, with unit and source in their notes; observables become assignment-rule parameters;
each time-event occurrence and each state-event direction becomes an SBML event. Silent solver
breakpoints are not exported: an SBML simulator handles its own discontinuities.
"""

from __future__ import annotations

from html import escape

import libsbml
import sympy as sp

from cartsim.errors import SBMLError
from cartsim.model import Model
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


def export_sbml(model: Model) -> str:
    """SBML L3V2 text for ``model``."""
    resolved = model.resolve()
    document = libsbml.SBMLDocument(3, 2)
    sbml = document.createModel()
    _check(sbml.setId(model.name.replace("+", "_")), "model")
    compartment = sbml.createCompartment()
    compartment.setId(COMPARTMENT)
    compartment.setSize(1.0)
    compartment.setConstant(True)

    for p in resolved.parameters:
        par = sbml.createParameter()
        _check(par.setId(p.name), f"parameter '{p.name}'")
        par.setValue(p.default)
        par.setConstant(False)  # events may change parameters
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

    for event in resolved.events:
        if not event.logged:
            continue
        if event.kind == "time":
            triggers = [(f"{event.name}_{i}" if len(event.times) > 1 else event.name,
                         f"geq(time, {formula(time)})") for i, time in enumerate(event.times)]
        else:
            g = formula(event.condition)
            triggers = []
            if event.direction >= 0:
                triggers.append((event.name if event.direction else f"{event.name}_up",
                                 f"gt({g}, 0)"))
            if event.direction <= 0:
                triggers.append((event.name if event.direction else f"{event.name}_down",
                                 f"lt({g}, 0)"))
        for name, trigger_text in triggers:
            _add_event(sbml, resolved, event, name, trigger_text)

    errors = document.checkInternalConsistency()
    if errors:
        raise SBMLError(f"exported SBML is inconsistent: {document.getError(0).getMessage()}")
    return libsbml.writeSBMLToString(document)


def _add_event(sbml, resolved, event, name: str, trigger_text: str) -> None:
    element = f"event '{name}'"
    sbml_event = sbml.createEvent()
    _check(sbml_event.setId(name), element)
    sbml_event.setUseValuesFromTriggerTime(True)
    trigger = sbml_event.createTrigger()
    trigger.setInitialValue(True)
    trigger.setPersistent(True)
    trigger.setMath(_math(trigger_text, element))
    for action in event.actions:
        target = (resolved.states[action.target_index].name if action.target_kind == "state"
                  else resolved.parameters[action.target_index].name)
        value = action.expression + sp.Symbol(target) if action.mode == "add" \
            else action.expression
        assignment = sbml_event.createEventAssignment()
        assignment.setVariable(target)
        assignment.setMath(_math(formula(value), element))
