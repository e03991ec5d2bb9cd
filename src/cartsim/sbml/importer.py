"""SBML (python-libsbml) → cartsim :class:`~cartsim.model.Model`.

Mapping, following the SBML Level 2/3 semantics:

- A species is a state in the units its symbol has in math: concentration unless
  ``hasOnlySubstanceUnits``. Reactions change amounts, so a reaction moves a concentration
  species by rate / compartment size (times the L3 conversion factor, if any). A species that
  is constant, or that nothing changes, is a parameter; one defined by an assignment rule is an
  assignment. Every species also has an output (its state, or an observable) for trajectories.
- Compartments must be constant: their sizes are parameters. Parameters are parameters, unless
  a rate rule or an event changes them (states) or an assignment rule defines them
  (assignments). Reaction-local parameters are parameters named ``<reaction>_<parameter>``.
- Each reaction's rate is an assignment named by the reaction id (math may refer to it).
- Initial assignments give states their initial values. A constant with an initial
  assignment takes the numeric value when it comes out a number, else it becomes an assignment
  of the parameters it depends on, so overriding those parameters carries through.
- Function definitions are inlined; piecewise, relational and logical operators, ``time`` and
  Avogadro's constant are supported.
- Events fire when their trigger becomes true. A trigger ``time >= T`` (or ``time > T``) with T
  a positive expression of parameters becomes an exact :class:`TimeEvent`; any other trigger a
  located :class:`StateEvent`. ``time > 0`` fires at the start (SBML fires it just after, so
  cartsim's values at t = 0 are already after it). A trigger already true at the start fires
  then only when its ``initialValue`` is false. Simultaneous events apply one after the other,
  each reading what the previous left (``useValuesFromTriggerTime="false"``), in the order of
  their priorities, which must be constant (events without one come last). As in SBML, a
  trigger made true by another event's assignments fires at the same instant (each event at
  most once per instant).
- Hierarchical models (the comp package) are flattened by libsbml first; a document that
  requires any other package is refused.
- A compartment whose size changes (rules, events) is a state or assignment; each
  concentration species in it is simulated by its amount (reactions change amounts, a new
  size leaves them), its symbol the amount over the size (a rate rule for such a
  concentration needs the size's own rate rule).
- An event's delay: its trigger notes when the assignments are due (holding their values
  with useValuesFromTriggerTime), an event at that time runs them, and a non-persistent
  trigger that turns false cancels them; one execution may be pending per event
  (:meth:`SBMLModel.check_delays` refuses a run where a trigger fired again before it ran).
- An algebraic rule is solved (sympy) for the one variable it determines, which then is an
  assignment; a differential-algebraic system that needs more is refused.
- A Level 3 species reference with an id is a variable (its stoichiometry), as a parameter.
- Refused with :class:`SBMLError` (file, element, problem): ``delay()``, fast reactions, a
  rate rule for a concentration in a compartment whose size changes by an assignment or
  events, and Level 2 stoichiometryMath.

SBML ids that cartsim cannot use as names (reserved words such as ``t``, ``pi`` or ``exp``,
Python keywords, a leading underscore) are renamed ``sbml_<id>``; names are never reused.
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libsbml
import numpy as np
import sympy as sp

from cartsim.errors import CartsimError, ModelError, SBMLError, did_you_mean
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
from cartsim.sbml.mathml import MathConverter, as_boolean, as_number


@dataclass(frozen=True)
class SpeciesUnits:
    """Where a species lives and whether its own value (its symbol in math) is an amount
    (``hasOnlySubstanceUnits``) or a concentration."""

    compartment: str
    amount: bool


@dataclass(frozen=True)
class SBMLModel:
    """An imported model and the way back to SBML ids.

    ``ids`` maps each cartsim name to the SBML id it stands for; the parameter ``k`` local to
    reaction ``R1`` is named ``R1_k`` and maps back to ``R1.k``. ``species`` lists the SBML
    species ids in document order; ``variables`` every species, compartment, global
    parameter and reaction (its rate), in that order, each in document order; ``outputs`` the
    state or observable that carries each variable's values (a species in its own units).
    """

    model: Model
    ids: dict[str, str]
    species: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    variables: list[str] = field(default_factory=list)
    species_units: dict[str, SpeciesUnits] = field(default_factory=dict)
    delay_counters: dict[str, str] = field(default_factory=dict)
    """Each delayed event's state counting triggers that fired while an execution was due."""

    def check_delays(self, result) -> None:
        """An error when a delayed event's trigger fired again before its assignments ran:
        SBML would run both, this import keeps one pending execution per event."""
        for event, counter in self.delay_counters.items():
            fired = np.nonzero(result.state(counter)[:, -1] > 0)[0]
            if fired.size:
                raise CartsimError(f"event '{event}' fired again before its delayed "
                                   "assignments ran; one pending execution per event is "
                                   f"supported (patient {int(fired[0])})",
                                   element=f"event '{event}'")

    def name_of(self, sbml_id: str) -> str:
        """The cartsim name of an SBML id."""
        for name, original in self.ids.items():
            if original == sbml_id:
                return name
        raise KeyError(sbml_id)

    def species_values(self, result) -> np.ndarray:
        """(patients, times, species) values of every species, in document order."""
        return self.values(result, self.species)

    def values(self, result, ids: list[str], *, amounts: frozenset[str] = frozenset(),
               concentrations: frozenset[str] = frozenset()) -> np.ndarray:
        """(patients, times, ids) values of the variables ``ids``; a species named in
        ``amounts`` (``concentrations``) as an amount (a concentration) whatever its own
        units, through its compartment's size."""
        self.check_variables(ids)
        columns = [self._column(result, sbml_id, amounts, concentrations) for sbml_id in ids]
        if not columns:  # nothing asked, or a model of parameters and rules alone
            return np.zeros((result.n_patients, len(result.t), 0))
        return np.stack(columns, axis=2)

    def check_variables(self, ids: list[str]) -> None:
        """An error naming the first of ``ids`` that is no variable of the model."""
        unknown = [i for i in ids if i not in self.outputs]
        if unknown:
            raise CartsimError(f"'{unknown[0]}' is not a species, compartment, parameter or "
                               f"reaction of the model{did_you_mean(unknown[0], self.outputs)}",
                               element="--variables")

    def _column(self, result, sbml_id: str, amounts, concentrations) -> np.ndarray:
        name = self.outputs[sbml_id]
        column = (result.state(name) if name in result.state_names
                  else result.observable(name))
        units = self.species_units.get(sbml_id)
        if units is None:
            return column
        size = self._column(result, units.compartment, frozenset(), frozenset())
        if sbml_id in amounts and not units.amount:
            return column * size
        if sbml_id in concentrations and units.amount:
            return column / size
        return column


def _usable(name: str) -> bool:
    try:
        check_name(name, "id")
    except ModelError:
        return False
    return not keyword.iskeyword(name)


class _Names:
    """SBML ids (and ``reaction.parameter`` keys) → distinct cartsim names."""

    def __init__(self):
        self.of: dict[str, str] = {}
        self.ids: dict[str, str] = {}  # only names that stand for something in the SBML
        self.taken: set[str] = set()

    def add(self, key: str, wanted: str | None = None, *, record: bool = True) -> str:
        name = wanted or key
        name = name if _usable(name) else f"sbml_{name}"
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        self.of[key] = name
        if record:
            self.ids[name] = key
        return name


NEVER = sp.Float(1e300)
"""When a delayed event's assignments are due while none is pending."""


def _number(value: sp.Basic) -> float | None:
    """The value of an expression without symbols, else None."""
    if value.free_symbols:
        return None
    try:
        return float(value)
    except TypeError:
        return None


def _read(source: str | Path) -> tuple[libsbml.SBMLDocument, str]:
    """Parse a file (or SBML text); read errors of severity error or fatal are refused."""
    text = str(source)
    if isinstance(source, Path) or (not text.lstrip().startswith("<") and len(text) < 4096):
        path = Path(source)
        if not path.is_file():
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
    return _flattened(document, where), where


PACKAGE_URI = re.compile(r"/level3/version\d+/(\w+)/version\d+")
"""A Level 3 package's namespace URI (its name in the group)."""


def _flattened(document: libsbml.SBMLDocument, where: str) -> libsbml.SBMLDocument:
    """The document with hierarchical model composition (the comp package) flattened by
    libsbml's converter into one model (submodel ids prefixed, ``sub1__S1``); any other
    package the document requires is refused (it would change the math)."""
    namespaces = document.getNamespaces()
    declared = {match.group(1) for i in range(namespaces.getLength())
                if (match := PACKAGE_URI.search(namespaces.getURI(i)))}
    for package in sorted(declared - {"comp"}):
        if document.getPackageRequired(package):
            raise SBMLError(f"the SBML package '{package}' is not supported", file=where)
    if not document.isPackageEnabled("comp"):
        return document
    properties = libsbml.ConversionProperties()
    properties.addOption("flatten comp", True)
    if document.convert(properties) != libsbml.LIBSBML_OPERATION_SUCCESS:
        errors = [document.getError(i) for i in range(document.getNumErrors())
                  if document.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
        reason = errors[0].getMessage().strip().splitlines()[0] if errors else "no reason given"
        raise SBMLError(f"the comp package could not be flattened: {reason}", file=where)
    return document


def _time_trigger(trigger: sp.Basic) -> tuple[sp.Basic, bool] | None:
    """(T, strict) for a trigger ``time >= T`` (``time > T``, ``T <= time``...), T free of time."""
    if isinstance(trigger, sp.GreaterThan | sp.StrictGreaterThan):
        lhs, rhs = trigger.lhs, trigger.rhs
    elif isinstance(trigger, sp.LessThan | sp.StrictLessThan):
        lhs, rhs = trigger.rhs, trigger.lhs
    else:
        return None
    strict = isinstance(trigger, sp.StrictGreaterThan | sp.StrictLessThan)
    return (rhs, strict) if lhs == TIME and TIME not in rhs.free_symbols else None


class _Importer:
    def __init__(self, document: libsbml.SBMLDocument, where: str):
        self.sbml = document.getModel()
        self.where = where
        self.names = _Names()
        self.source = f"SBML {self.sbml.getId() or 'model'} ({Path(where).name})"

    def fail(self, problem: str, element: str) -> SBMLError:
        return SBMLError(problem, file=self.where, element=element)

    def convert(self, node, element: str) -> sp.Basic:
        """A value (a boolean as 1 or 0)."""
        return as_number(self.math.convert(node, element))

    def condition(self, node, element: str) -> sp.Basic:
        """A condition (a number as true unless 0)."""
        return as_boolean(self.math.convert(node, element))

    # -- overview ----------------------------------------------------------------------------
    def run(self) -> SBMLModel:
        m = self.sbml
        self._refuse_unsupported()
        self._name_everything()
        self.rates: dict[str, str] = {}  # quantity -> name of its rateOf assignment
        self.math = MathConverter(self.names.of, self._functions(), self._rate_symbol, self.where)
        rules = list(m.getListOfRules())
        # Level 3 Version 2: a rule or assignment without math has no effect
        self.rate_rules = {r.getVariable(): r.getMath() for r in rules
                           if r.isRate() and r.getMath() is not None}
        self.assignment_rules = {r.getVariable(): r.getMath() for r in rules
                                 if r.isAssignment() and r.getMath() is not None}
        self.initial = {ia.getSymbol(): ia.getMath() for ia in m.getListOfInitialAssignments()
                        if ia.getMath() is not None}
        self.event_targets = {a.getVariable() for e in m.getListOfEvents()
                              for a in e.getListOfEventAssignments()}
        self.solved = self._solved_algebraic_rules(rules)
        self.varying_compartments = {
            c.getId() for c in m.getListOfCompartments()
            if not c.getConstant() or c.getId() in {*self.rate_rules, *self.assignment_rules,
                                                    *self.solved, *self.event_targets}}
        self.delay_counters: dict[str, str] = {}  # delayed event -> its fired-again count
        self.amounts: dict[str, str] = {}  # concentration species in a varying compartment
        # -> the name of its amount
        self.constants: dict[str, sp.Basic] = {}  # name -> value expression
        self.states: dict[str, sp.Basic] = {}  # name -> initial value expression
        self.descriptions: dict[str, str] = {}
        self.assignments: dict[str, sp.Basic] = {}
        self.equations: dict[str, list] = {}

        for c in m.getListOfCompartments():
            self._compartment(c)
        for p in m.getListOfParameters():
            self._parameter(p)
        for ref in self._references():
            value = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
            self._classify("species reference", ref.getId(), sp.Float(value),
                           ref.getConstant(), f"stoichiometry of {ref.getSpecies()}")
        changed_by_reactions = self._reacting_species()
        for s in m.getListOfSpecies():
            self._species(s, s.getId() in changed_by_reactions)
        for reaction in m.getListOfReactions():
            self._reaction(reaction)
        species_ids = [s.getId() for s in m.getListOfSpecies()]
        variables = [*species_ids, *(c.getId() for c in m.getListOfCompartments()),
                     *(p.getId() for p in m.getListOfParameters()),
                     *(r.getId() for r in m.getListOfReactions()
                       if self.names.of.get(r.getId()) in self.assignments),
                     *(ref.getId() for ref in self._references())]
        outputs, observables = self._outputs(variables)
        events = self._events()
        self._define_rates()
        parameters, assignments = self._constants()
        states = [State(name, initial=self._at_start(value, f"initial value of '{name}'"),
                        nonnegative=False, description=self.descriptions.get(name, ""))
                  for name, value in self.states.items()]
        model = Model(
            name=m.getId() or "sbml_model",
            states=states,
            parameters=parameters,
            equations={k: tuple(v) for k, v in self.equations.items() if v},
            assignments=assignments + [Assignment(k, v) for k, v in self.assignments.items()],
            observables=observables,
            events=events,
            time_unit="",
            check_units=False,
            description=m.getName() or "",
        )
        try:
            model.resolve()
        except ModelError as exc:
            raise SBMLError(str(exc), file=self.where) from None
        units = {s.getId(): SpeciesUnits(s.getCompartment(), s.getHasOnlySubstanceUnits())
                 for s in m.getListOfSpecies()}
        return SBMLModel(model, dict(self.names.ids), species_ids, outputs, variables, units,
                         dict(self.delay_counters))

    def _outputs(self, variables: list[str]) -> tuple[dict[str, str], list[Observable]]:
        """The state or observable carrying each variable's values."""
        outputs, observables = {}, []
        for sbml_id in variables:
            name = outputs[sbml_id] = self.names.of[sbml_id]
            if name not in self.states:
                outputs[sbml_id] = self.names.add(f"value of {sbml_id}", f"value_of_{name}",
                                                  record=False)
                observables.append(Observable(outputs[sbml_id], sp.Symbol(name),
                                              description=f"value of {sbml_id}"))
        return outputs, observables

    def _rate_symbol(self, name: str) -> sp.Symbol:
        """The symbol of ``rateOf(name)``, defined by :meth:`_define_rates` once all rules and
        reactions are read."""
        if name not in self.rates:
            self.rates[name] = self.names.add(f"rateOf {name}", f"rate_of_{name}", record=False)
        return sp.Symbol(self.rates[name])

    def _define_rates(self) -> None:
        """Each requested rate as an assignment: a state's right-hand side (0 for one only
        events change), 0 for a constant."""
        for name, rate in self.rates.items():
            self.assignments[rate] = self._rate_expression(name)

    def _rate_expression(self, name: str) -> sp.Basic:
        if name in self.assignments:  # SBML L3V2 section 3.4.6 forbids it
            raise self.fail("rateOf() of a quantity set by an assignment rule",
                            f"rateOf({self.names.ids.get(name, name)})")
        return sp.Add(*self.equations.get(name, [])) if name in self.states else sp.Integer(0)

    def _refuse_unsupported(self) -> None:
        m = self.sbml
        for reaction in m.getListOfReactions():
            if reaction.isSetFast() and reaction.getFast():
                raise self.fail("fast reactions are not supported",
                                f"reaction '{reaction.getId()}'")

    def _name_everything(self) -> None:
        """Ids cartsim can use keep their names first, so renamed ones never take them."""
        m = self.sbml
        ids = [x.getId() for group in (m.getListOfCompartments(), m.getListOfSpecies(),
                                       m.getListOfParameters(), m.getListOfReactions(),
                                       m.getListOfEvents()) for x in group if x.getId()]
        ids += [ref.getId() for ref in self._references()]
        for sid in sorted(ids, key=lambda i: not _usable(i)):
            self.names.add(sid)
        for reaction in m.getListOfReactions():
            for local in self._locals(reaction):
                rid, lid = reaction.getId(), local.getId()
                self.names.add(f"{rid}.{lid}", f"{rid}_{lid}")

    def _references(self) -> list:
        """The reactants and products that have an id: in Level 3 the id stands for the
        stoichiometry, which rules, initial assignments and events may set."""
        return [ref for r in self.sbml.getListOfReactions()
                for ref in [*r.getListOfReactants(), *r.getListOfProducts()] if ref.isSetId()]

    @staticmethod
    def _locals(reaction) -> list:
        """A kinetic law's own parameters (libsbml lists L3 local parameters here too)."""
        law = reaction.getKineticLaw()
        return list(law.getListOfParameters()) if law is not None else []

    def _functions(self) -> dict[str, tuple]:
        """Function definitions: id → (argument names, body AST), inlined where called."""
        functions = {}
        for fd in self.sbml.getListOfFunctionDefinitions():
            lam = fd.getMath()
            if lam is None or not lam.isLambda() or lam.getNumChildren() == 0:
                raise self.fail("function definition without a lambda body",
                                f"function '{fd.getId()}'")
            count = lam.getNumChildren()
            args = [lam.getChild(i).getName() for i in range(count - 1)]
            functions[fd.getId()] = (args, lam.getChild(count - 1))
        return functions

    # -- quantities --------------------------------------------------------------------------
    def _classify(self, kind: str, sbml_id: str, value: sp.Basic, constant: bool,
                  description: str, changing: bool = False) -> None:
        """Record ``sbml_id`` as an assignment, a state or a constant."""
        name = self.names.of[sbml_id]
        self.descriptions[name] = description
        if sbml_id in self.solved:
            self.assignments[name] = self.solved[sbml_id]
            return
        if sbml_id in self.assignment_rules:
            self.assignments[name] = self.convert(self.assignment_rules[sbml_id],
                                                  f"assignment rule for '{sbml_id}'")
            return
        if sbml_id in self.initial:
            value = self.convert(self.initial[sbml_id], f"initial assignment to '{sbml_id}'")
        moving = sbml_id in self.rate_rules or sbml_id in self.event_targets or changing
        if constant and moving:
            raise self.fail("declared constant but changed by a rule, reaction or event",
                            f"{kind} '{sbml_id}'")
        if moving:
            self.states[name] = value
            self.equations[name] = []
            if sbml_id in self.rate_rules:
                self.equations[name].append(self.convert(self.rate_rules[sbml_id],
                                                         f"rate rule for '{sbml_id}'"))
        else:
            self.constants[name] = value

    def _solved_algebraic_rules(self, rules: list) -> dict[str, sp.Basic]:
        """Each algebraic rule 0 = f solved for the one variable it determines, as an
        assignment (SBML id -> expression): the variable is one of f's that the model
        declares non-constant and that nothing else sets (no other rule, no reaction); rules
        are matched to such variables one at a time. A rule left without exactly one
        variable, or whose equation sympy cannot solve uniquely, is a differential-algebraic
        system: refused."""
        algebraic = [r for r in rules if r.isAlgebraic() and r.getMath() is not None]
        if not algebraic:
            return {}
        m = self.sbml
        declared = {x.getId(): x for group in (m.getListOfCompartments(),
                                               m.getListOfSpecies(), m.getListOfParameters())
                    for x in group}
        declared.update({ref.getId(): ref for ref in self._references()})
        reacting = {s for s in self._reacting_species()
                    if not m.getSpecies(s).getBoundaryCondition()}
        free = {i for i, x in declared.items() if not x.getConstant()
                and i not in {*self.rate_rules, *self.assignment_rules} and i not in reacting}
        by_name = {self.names.of[i]: i for i in free}
        equations = [self.convert(r.getMath(), "algebraicRule") for r in algebraic]
        solved: dict[str, sp.Basic] = {}

        def unknowns(f: sp.Basic) -> list[str]:
            return sorted(by_name[s.name] for s in f.free_symbols
                          if s.name in by_name and by_name[s.name] not in solved)

        while equations:
            ready = next((f for f in equations if len(unknowns(f)) == 1), None)
            if ready is None:
                raise self.fail("an algebraic rule that does not determine one variable (a "
                                "differential-algebraic system) is not supported",
                                "algebraicRule")
            (variable,) = unknowns(ready)
            equations.remove(ready)
            roots = sp.solve(ready, sp.Symbol(self.names.of[variable]), dict=False)
            if len(roots) != 1:
                raise self.fail(f"the algebraic rule for '{variable}' has {len(roots)} "
                                "solutions (one is needed)", "algebraicRule")
            solved[variable] = roots[0]
        return solved

    def _compartment(self, c) -> None:
        size = sp.Float(c.getSize()) if c.isSetSize() else sp.Integer(1)
        self._classify("compartment", c.getId(), size, c.getConstant(),
                       c.getName() or "compartment size")

    def _parameter(self, p) -> None:
        value = sp.Float(p.getValue()) if p.isSetValue() else sp.Integer(0)
        self._classify("parameter", p.getId(), value, p.getConstant(), p.getName() or "")

    def _species(self, s, reacting: bool) -> None:
        """Initial value in the species' units: amount only with hasOnlySubstanceUnits."""
        sid = s.getId()
        if self.sbml.getCompartment(s.getCompartment()) is None:
            raise self.fail(f"unknown compartment '{s.getCompartment()}'", f"species '{sid}'")
        size = sp.Symbol(self.names.of[s.getCompartment()])
        amounts = s.getHasOnlySubstanceUnits()
        if s.isSetInitialAmount():
            amount = sp.Float(s.getInitialAmount())
            value = amount if amounts else amount / size
        elif s.isSetInitialConcentration():
            concentration = sp.Float(s.getInitialConcentration())
            value = concentration * size if amounts else concentration
        else:
            value = sp.Integer(0)
        changing = reacting and not s.getBoundaryCondition()
        if s.getCompartment() in self.varying_compartments and not amounts \
                and sid not in self.assignment_rules and sid not in self.solved:
            self._by_amount(s, value, changing)
            return
        self._classify("species", sid, value, s.getConstant(), s.getName() or f"species {sid}",
                       changing)

    def _by_amount(self, s, concentration: sp.Basic, changing: bool) -> None:
        """A concentration species in a compartment whose size changes: its amount is the
        state (reactions change amounts; a new size leaves them as they are) and the
        species' symbol its amount over the size, as SBML defines it."""
        sid, name = s.getId(), self.names.of[s.getId()]
        cid = s.getCompartment()
        if sid in self.rate_rules and cid not in self.rate_rules:
            raise self.fail("a rate rule for a concentration in a compartment whose size "
                            "changes other than by a rate rule is not supported",
                            f"species '{sid}'")
        size = sp.Symbol(self.names.of[cid])
        if sid in self.initial:
            concentration = self.convert(self.initial[sid], f"initial assignment to '{sid}'")
        amount = self.names.add(f"amount of {sid}", f"{name}_amount", record=False)
        self.amounts[sid] = amount
        self.descriptions[amount] = f"amount of species {sid}"
        moving = changing or sid in self.event_targets or sid in self.rate_rules
        if s.getConstant() and moving:
            raise self.fail("declared constant but changed by a rule, reaction or event",
                            f"species '{sid}'")
        if moving:
            self.states[amount] = concentration * size
            self.equations[amount] = []
            if sid in self.rate_rules:  # d(c V)/dt = V dc/dt + c dV/dt
                rate = self.convert(self.rate_rules[sid], f"rate rule for '{sid}'")
                growth = self.convert(self.rate_rules[cid], f"rate rule for '{cid}'")
                self.equations[amount].append(size * rate + sp.Symbol(name) * growth)
        else:
            self.constants[amount] = concentration * size
        self.assignments[name] = sp.Symbol(amount) / size

    def _reacting_species(self) -> set[str]:
        """Species that reactions consume or produce (modifiers are only read)."""
        return {ref.getSpecies() for r in self.sbml.getListOfReactions()
                for ref in [*r.getListOfReactants(), *r.getListOfProducts()]}

    # -- reactions ---------------------------------------------------------------------------
    def _reaction(self, reaction) -> None:
        rid = reaction.getId()
        law = reaction.getKineticLaw()
        if law is None or law.getMath() is None:
            return
        local = {lp.getId(): self.names.of[f"{rid}.{lp.getId()}"] for lp in self._locals(reaction)}
        for lp in self._locals(reaction):
            self.constants[local[lp.getId()]] = sp.Float(lp.getValue())
            self.descriptions[local[lp.getId()]] = f"local to reaction {rid}"
        converter = MathConverter({**self.names.of, **local}, self.math.functions,
                                  self._rate_symbol, self.where)
        rate_name = self.names.of[rid]
        self.assignments[rate_name] = as_number(converter.convert(
            law.getMath(), f"kinetic law of reaction '{rid}'"))
        rate = sp.Symbol(rate_name)
        species = {s.getId(): s for s in self.sbml.getListOfSpecies()}
        for refs, sign in ((reaction.getListOfReactants(), -1), (reaction.getListOfProducts(), 1)):
            for ref in refs:
                s = species.get(ref.getSpecies())
                if s is None:
                    raise self.fail(f"unknown species '{ref.getSpecies()}'", f"reaction '{rid}'")
                name = self.amounts.get(s.getId(), self.names.of[s.getId()])
                if name not in self.states or s.getBoundaryCondition():
                    continue
                if s.getId() in self.rate_rules:
                    raise self.fail(f"species '{s.getId()}' is changed by a reaction and a rule",
                                    f"reaction '{rid}'")
                self.equations[name].append(sign * self._stoichiometry(ref, rid)
                                            * self._conversion(s) * rate)

    def _stoichiometry(self, ref, rid: str) -> sp.Basic:
        """A number, or the symbol of a species reference's id (a stoichiometry that rules,
        initial assignments or events set, or that math reads)."""
        if ref.isSetStoichiometryMath():
            raise self.fail("stoichiometryMath (Level 2) is not supported", f"reaction '{rid}'")
        if ref.isSetId():
            return sp.Symbol(self.names.of[ref.getId()])
        value = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
        return sp.Integer(int(value)) if float(value).is_integer() else sp.Float(value)

    def _conversion(self, s) -> sp.Basic:
        """Amount change → change of the species' value: conversion factor / compartment."""
        factor_id = s.getConversionFactor() if s.isSetConversionFactor() else (
            self.sbml.getConversionFactor() if self.sbml.isSetConversionFactor() else None)
        factor = sp.Symbol(self.names.of[factor_id]) if factor_id else sp.Integer(1)
        if s.getHasOnlySubstanceUnits() or s.getId() in self.amounts:
            return factor
        return factor / sp.Symbol(self.names.of[s.getCompartment()])

    # -- values at the start ----------------------------------------------------------------
    def _at_start(self, expr: sp.Basic, element: str, *, keep_states: bool = True) -> sp.Basic:
        """``expr`` at t = 0 with assignments (and, unless ``keep_states``, states and derived
        constants) replaced by their definitions, so only states and parameters remain."""
        values = {sp.Symbol(k): v for k, v in self.assignments.items()}
        values.update({sp.Symbol(k): v for k, v in self.constants.items()
                       if _number(v) is None})
        if not keep_states:
            values.update({sp.Symbol(k): v for k, v in self.states.items()})
        values[TIME] = sp.Integer(0)
        for _ in range(len(values) + 1):
            expanded = expr.xreplace(values)
            if expanded == expr:
                return expr
            expr = expanded
        raise self.fail("initial values depend on each other in a cycle", element)

    def _constants(self) -> tuple[list[Parameter], list[Assignment]]:
        """Numeric constants are parameters; the others assignments of the parameters."""
        parameters, derived = [], []
        for name, value in self.constants.items():
            if _number(value) is None:
                value = self._at_start(value, "initial assignment to "
                                              f"'{self.names.ids.get(name, name)}'",
                                       keep_states=False)
            if _number(value) is not None:
                parameters.append(Parameter(name, _number(value), source=self.source,
                                            description=self.descriptions.get(name, "")))
            else:
                derived.append(Assignment(name, value, description="initial assignment"))
        return parameters, derived

    # -- events ------------------------------------------------------------------------------
    def _by_priority(self) -> list[tuple[int, object, float]]:
        """(document index, event, priority), highest priority first (stable; events without
        a priority last, at -inf, which SBML allows: their order among simultaneous events is
        unspecified)."""
        ranked = []
        for index, event in enumerate(self.sbml.getListOfEvents()):
            priority = -np.inf
            if event.isSetPriority() and event.getPriority().getMath() is not None:
                element = f"priority of event '{event.getId() or index + 1}'"
                value = self.convert(event.getPriority().getMath(), element)
                priority = (None if TIME in value.free_symbols
                            else self._at_defaults(self._at_start(value, element)))
                if priority is None:
                    raise self.fail("event priorities that change during the run are not "
                                    "supported", element)
            ranked.append((-priority, index, event))
        return [(index, event, -negated) for negated, index, event in
                sorted(ranked, key=lambda r: r[:2])]

    def _events(self) -> list:
        events = []
        ranked = self._by_priority()
        shared = {p for p, n in Counter(p for _, _, p in ranked).items()
                  if n > 1 and np.isfinite(p)}
        for index, event, priority in ranked:
            eid = event.getId()
            name = self.names.of[eid] if eid else self.names.add(
                f"event {index + 1}", f"event_{index + 1}", record=False)
            element = f"event '{eid or index + 1}'"
            if not event.isSetTrigger() or event.getTrigger().getMath() is None:
                raise self.fail("event without a trigger", element)
            trigger = self.condition(event.getTrigger().getMath(), element)
            assigned = [(a.getVariable(), self.convert(a.getMath(), element))
                        for a in event.getListOfEventAssignments()
                        if a.getMath() is not None]  # without math: no effect (L3V2)
            for variable, _ in assigned:
                if variable not in self.names.of:
                    raise self.fail(f"assignment to unknown '{variable}'", element)
            delay = (self.convert(event.getDelay().getMath(), f"delay of {element}")
                     if event.isSetDelay() and event.getDelay().getMath() is not None
                     else sp.Integer(0))
            later: list = []
            if delay != 0:
                actions, later = self._delayed(event, name, trigger, delay, assigned)
            else:
                actions = [self._assigning(variable, value) for variable, value in assigned]
                if not event.getTrigger().getPersistent():
                    actions = self._guarded(actions, trigger)
            at = self._event_time(trigger)
            if at is not None:
                events.append(TimeEvent(name, at=at, actions=actions))
            else:  # simultaneous events of equal priority run in random order (SBML 4.12.6)
                tie = f"priority {priority!r}" if priority in shared else ""
                events.append(StateEvent(name, trigger, actions, tie=tie, zero_is_false=True))
                if not event.getTrigger().getInitialValue():
                    start = self.names.add(f"{name} at start", f"{name}_at_start",
                                           record=False)
                    events.append(TimeEvent(start, at=0,
                                            actions=self._guarded(actions, trigger)))
            events.extend(later)
        return events

    @staticmethod
    def _guarded(actions: list, trigger: sp.Basic) -> list:
        """The actions, each leaving its target as it is unless ``trigger`` holds when they
        run: a non-persistent event whose trigger an earlier event of the same instant made
        false does not execute (SBML L3 4.12.2)."""
        return [set_value(a.target, sp.Piecewise((a.expression, trigger),
                                                 (sp.Symbol(a.target), True)))
                for a in actions]

    def _assigning(self, variable: str, value: sp.Basic):
        """The action setting an SBML variable (a concentration species kept by amount: its
        amount at the compartment's present size)."""
        if variable in self.amounts:
            size = self.names.of[self.sbml.getSpecies(variable).getCompartment()]
            return set_value(self.amounts[variable], value * sp.Symbol(size))
        return set_value(self.names.of[variable], value)

    def _delayed(self, event, name: str, trigger: sp.Basic, delay: sp.Basic,
                 assigned: list[tuple[str, sp.Basic]]) -> tuple[list, list]:
        """An event whose assignments run ``delay`` after its trigger fires: the trigger's
        actions note when they are due (and, with useValuesFromTriggerTime, hold their
        values), an event at the due time runs them, and a non-persistent trigger that turns
        false cancels them. One execution may be pending at a time: a trigger firing again
        before it ran is counted (:meth:`SBMLModel.check_delays` refuses such a run, since
        SBML would queue both). Returns (the trigger's actions, the events that follow it)."""
        due = self.names.add(f"{name} due", f"{name}_due", record=False)
        again = self.names.add(f"{name} fired again", f"{name}_fired_again", record=False)
        for state, initial in ((due, NEVER), (again, sp.Integer(0))):
            self.states[state], self.equations[state] = initial, []
        self.delay_counters[event.getId() or name] = again
        pending = sp.StrictLessThan(sp.Symbol(due), NEVER / 2)
        actions = [set_value(again, sp.Symbol(again) + sp.Piecewise((1, pending), (0, True))),
                   set_value(due, TIME + delay)]
        held = assigned  # read when they run, unless held from the trigger's time:
        if event.getUseValuesFromTriggerTime():
            held = []
            for k, (variable, value) in enumerate(assigned):
                state = self.names.add(f"{name} held {k}", f"{name}_held_{k}", record=False)
                self.states[state], self.equations[state] = sp.Integer(0), []
                actions.append(set_value(state, value))
                held.append((variable, sp.Symbol(state)))
        run = [self._assigning(variable, value) for variable, value in held]
        runs = self.names.add(f"{name} runs", f"{name}_runs", record=False)
        later = [StateEvent(runs, sp.GreaterThan(TIME, sp.Symbol(due)),
                            [*run, set_value(due, NEVER)])]
        if not event.getTrigger().getPersistent():
            cancelled = self.names.add(f"{name} cancelled", f"{name}_cancelled", record=False)
            later.append(StateEvent(cancelled, sp.Not(trigger), [set_value(due, NEVER)]))
        return actions, later

    def _event_time(self, trigger: sp.Basic) -> sp.Basic | None:
        """The time T of a trigger ``time >= T`` (``time > T``) that is false at the start, T an
        expression of parameters; None for any other trigger."""
        found = _time_trigger(trigger)
        if found is None:
            return None
        at = self._at_start(found[0], "event time", keep_states=True)
        value = self._at_defaults(at)
        false_at_start = value is not None and (value > 0 or (value == 0 and found[1]))
        return at if false_at_start else None

    def _at_defaults(self, expr: sp.Basic) -> float | None:
        """The value of ``expr`` (from :meth:`_at_start`) with the parameters at their
        defaults; None if it depends on a state."""
        defaults = {sp.Symbol(k): v for k, v in self.constants.items() if _number(v) is not None}
        return _number(expr.xreplace(defaults))


def import_sbml(source: str | Path) -> SBMLModel:
    """Read an SBML file (or SBML text) into a cartsim model."""
    document, where = _read(source)
    return _Importer(document, where).run()
