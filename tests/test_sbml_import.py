"""SBML import: the BioModels CAR-T models and generated feature files agree with libroadrunner.

Test material: BioModels BIOMD0000001011/1012 (León-Triana et al. 2020), 1013 (León-Triana et
al. 2021), 1019/1020 (Barros et al. 2021, CARTmath), 1024/1025 (Chaudhury et al. 2020), 1041
(Kimmel, Locke & Altrock 2021); BioModels, CC BY 4.0 (see ../shared/biomodels/README.md).
tests/data/features_*.xml are generated for these tests: they exercise what those files do not
(amounts and concentrations in a compartment of size 2.5, conversion factors, local parameters,
renamed ids, initial assignments, reaction ids in math, state events, triggers already true at
the start with initialValue true and false, an event without id, SBML Level 2 kinetic-law
parameters). They were written with python-libsbml's API.

Agreement: cartsim (rtol 1e-10, atol 1e-16) and libroadrunner (CVODE, rtol 1e-12, atol 1e-14 on
every state) agree within a relative error of 1e-6 of each value, with an absolute floor of
1e-9 × the largest magnitude of that species over the run.
"""

from pathlib import Path

import libsbml
import numpy as np
import pytest
import sympy as sp

from cartsim.engine import compile_model
from cartsim.errors import SBMLError
from cartsim.model import Assignment, StateEvent, TimeEvent
from cartsim.sbml import import_sbml
from tests.conftest import (
    sbml_counting_event,
    sbml_level3v2,
    sbml_parameters,
    sbml_rate_rule,
)

BIOMODELS = Path(__file__).resolve().parents[1].parent / "shared" / "biomodels"
DATA = Path(__file__).resolve().parent / "data"
needs_biomodels = pytest.mark.skipif(not BIOMODELS.exists(),
                                     reason="../shared/biomodels not present")

# Horizon (days) per model, the time scale each paper simulates. BIOMD1020's tumour grows without
# bound (beta = 0) and kills the CAR-T cells by day ~20; from then on their values (below 1e-20)
# are rounding noise that atol 1e-16 makes the solver resolve with a step count that explodes
# past day ~34 and moves with rounding (2.4 million steps to day 40), so it stops at 30 days.
HORIZONS = {"BIOMD0000001011": 200, "BIOMD0000001012": 200, "BIOMD0000001013": 200,
            "BIOMD0000001019": 300, "BIOMD0000001020": 30, "BIOMD0000001024": 30,
            "BIOMD0000001025": 30, "BIOMD0000001041": 500}
POINTS = 151  # misses BIOMD1025's switch at T_max = 9.3, where CVODE's value overshoots


def roadrunner_reference(path: Path, t_end: float, points: int, extra=(), initial=None):
    """libroadrunner's trajectories of every species, in the species' own units (concentration
    unless hasOnlySubstanceUnits), then of the ``extra`` ids.

    Every state gets the absolute tolerance 1e-14 itself: libroadrunner scales a scalar
    absolute_tolerance by each species' initial value (2e-8 for BIOMD1019's 2e6 tumour cells),
    too loose where that tumour falls by 30 orders of magnitude; much below 1e-14, CVODE cannot
    step over BIOMD1025's switch at T_max. ``initial`` sets initial
    values (initial assignments that depend on them follow).
    """
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner is the test oracle")
    rr = roadrunner.RoadRunner(str(path))
    document = libsbml.readSBMLFromFile(str(path))  # keep alive while its elements are read
    model = document.getModel()
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.maximum_num_steps = 1_000_000
    rules = list(model.getListOfRules())
    assigned = {r.getVariable() for r in rules if r.isAssignment()}
    states = set(rr.model.getFloatingSpeciesIds()) - assigned
    for state in states | {r.getVariable() for r in rules if r.isRate()}:
        rr.integrator.setIndividualTolerance(state, 1e-14)
    for sbml_id, value in (initial or {}).items():
        rr.setValue(f"init({sbml_id})", value)
    rr.resetAll()
    species = [s.getId() if s.getHasOnlySubstanceUnits() else f"[{s.getId()}]"
               for s in model.getListOfSpecies()]
    result = rr.simulate(0, t_end, points, selections=["time", *species, *extra])
    return np.array(result)[:, 1:]


def cartsim_values(path: Path, t_end: float, points: int, extra=(), params=None):
    """cartsim's trajectories, laid out as :func:`roadrunner_reference`'s."""
    imported = import_sbml(path)
    result = compile_model(imported.model).solve(
        np.linspace(0, t_end, points), params=params, rtol=1e-10, atol=1e-16,
        max_steps=2_000_000)
    assert result.ok[0], result.messages
    columns = [imported.species_values(result)[0]]
    columns += [result.state(imported.name_of(sbml_id))[0][:, None] for sbml_id in extra]
    return np.concatenate(columns, axis=1)


def assert_agree(ours: np.ndarray, reference: np.ndarray, label: str) -> None:
    floor = 1e-9 * np.abs(reference).max(axis=0)
    relative = np.abs(ours - reference) / (np.abs(reference) + floor)
    assert relative.max() < 1e-6, (label, relative.max(axis=0))


@needs_biomodels
@pytest.mark.parametrize("model_id", sorted(HORIZONS))
def test_biomodel_matches_libroadrunner(model_id):
    path = BIOMODELS / f"{model_id}.xml"
    t_end = HORIZONS[model_id]
    reference = roadrunner_reference(path, t_end, POINTS)
    assert_agree(cartsim_values(path, t_end, POINTS), reference, model_id)


@needs_biomodels
def test_parameters_carry_through_initial_assignments():
    """BIOMD1020's IDO switch: ModelValue_9 = Raji_IDO_CAT19 (an initial assignment) selects the
    killing rate alpha (an assignment rule); overriding the switch must reach alpha."""
    path = BIOMODELS / "BIOMD0000001020.xml"
    reference = roadrunner_reference(path, 20, 41, initial={"Raji_IDO_CAT19": 1.0})
    ours = cartsim_values(path, 20, 41, params={"Raji_IDO_CAT19": 1.0})
    assert_agree(ours, reference, "BIOMD0000001020 with Raji_IDO_CAT19 = 1")
    assert not np.allclose(ours, cartsim_values(path, 20, 41), rtol=1e-3)


@pytest.mark.parametrize("name, t_end, points, extra", [
    ("features_l3v2.xml", 10, 64, ("lambda", "counter", "accumulated")),
    ("features_l2v4.xml", 5, 41, ("level",)),
])
def test_feature_file_matches_libroadrunner(name, t_end, points, extra):
    path = DATA / name
    reference = roadrunner_reference(path, t_end, points, extra)
    assert_agree(cartsim_values(path, t_end, points, extra), reference, name)


def test_names_kinds_and_sources():
    imported = import_sbml(DATA / "features_l3v2.xml")
    model = imported.model
    renamed = {"t": "sbml_t", "exp": "sbml_exp", "lambda": "sbml_lambda",
               "_nucleus": "sbml__nucleus", "R1.k": "R1_k", "k": "k"}
    assert {sbml_id: imported.name_of(sbml_id) for sbml_id in renamed} == renamed
    assert model.parameter("R1_k").default == 0.4 and model.parameter("k").default == 99.0
    assert model.parameter("k").source == "SBML features (features_l3v2.xml)"
    kinds = {a.name: a for a in model.assignments}
    assert str(kinds["doubled_kcat"].expression) == "2*kcat"  # follows kcat
    start_b = kinds["start_B"].expression  # B + H at the start, H = 0.4 × compartment size
    assert start_b.free_symbols == {sp.Symbol("cell")} and start_b.subs("cell", 2.5) == 2.0
    assert imported.outputs["G"] == "value_of_G" and "G" in kinds
    assert imported.species == ["A", "B", "C", "D", "E", "F", "G", "H"]
    events = {e.name: type(e) for e in model.events}
    assert events == {  # "at_start": the firing at t = 0 of a trigger with initialValue false
        "pulse": TimeEvent, "threshold": StateEvent, "already_true": StateEvent,
        "already_true_at_start": TimeEvent, "dip": StateEvent, "just_after_start": TimeEvent,
        "true_at_start": StateEvent, "fires_at_start": StateEvent,
        "fires_at_start_at_start": TimeEvent}
    assert isinstance(kinds["R1"], Assignment)  # reaction rates, readable by other math


def mutate(tmp_path, name: str, change) -> Path:
    """A copy of a feature file with ``change(model)`` applied."""
    document = libsbml.readSBMLFromFile(str(DATA / name))
    change(document.getModel())
    path = tmp_path / name
    libsbml.writeSBMLToFile(document, str(path))
    return path


def formula(text: str):
    return libsbml.parseL3Formula(text)


def add_algebraic_rule(m):
    m.createAlgebraicRule().setMath(formula("S - 1"))


def add_event_delay(m):
    m.getEvent(0).createDelay().setMath(formula("1"))


def add_rate_rule(text: str):
    def change(m):
        rule = m.createRateRule()
        rule.setVariable("level")
        rule.setMath(formula(text))
    return change


def make_fast(m):
    m.getReaction(0).setFast(True)


def vary_compartment(m):
    """The compartment grows (0.2 a day) under its concentration species S."""
    m.getCompartment(0).setConstant(False)
    rule = m.createRateRule()
    rule.setVariable("default")
    rule.setMath(formula("0.2"))


def vary_stoichiometry(m):
    product = m.getReaction("R2").getProduct(0)
    product.setId("n_C")
    product.setConstant(False)
    rule = m.createRateRule()
    rule.setVariable("n_C")
    rule.setMath(formula("0.1"))


@pytest.mark.parametrize("name, change, element, problem", [
    ("features_l2v4.xml", add_algebraic_rule, "algebraicRule",
     "differential-algebraic system"),
    ("features_l2v4.xml", add_rate_rule("delay(S, 1)"), "rate rule for 'level'", "delay()"),
    ("features_l2v4.xml", add_rate_rule("foo(S)"), "rate rule for 'level'",
     "unknown function 'foo'"),
    ("features_l2v4.xml", add_rate_rule("kk * S"), "rate rule for 'level'",
     "unknown symbol 'kk'"),
    ("features_l2v4.xml", make_fast, "reaction 'conversion'", "fast reactions"),
])
def test_unsupported_sbml_is_refused_clearly(tmp_path, name, change, element, problem):
    path = mutate(tmp_path, name, change)
    with pytest.raises(SBMLError, match="not supported|unknown") as info:
        import_sbml(path)
    error = info.value
    assert (error.file, error.element) == (str(path), element)
    assert problem in error.problem


def test_a_stoichiometry_changed_by_a_rule_matches_libroadrunner(tmp_path):
    """A Level 3 species reference whose id a rate rule changes (n_C grows by 0.1 a day)
    scales its reaction's effect on the species as it grows (refused before)."""
    path = mutate(tmp_path, "features_l3v2.xml", vary_stoichiometry)
    reference = roadrunner_reference(path, 10, 64, ("n_C",))
    ours = cartsim_values(path, 10, 64, ("n_C",))
    assert_agree(ours, reference, "variable stoichiometry")
    assert ours[-1, -1] == pytest.approx(ours[0, -1] + 1.0)  # n_C after 10 days at 0.1/day


def test_a_growing_compartment_dilutes_its_concentrations_as_libroadrunner_does(tmp_path):
    """A compartment whose size a rate rule changes (refused before): its concentration
    species are simulated by amount, so growth dilutes them, as in libroadrunner."""
    path = mutate(tmp_path, "features_l2v4.xml", vary_compartment)
    reference = roadrunner_reference(path, 5, 41, ("default",))
    ours = cartsim_values(path, 5, 41, ("default",))
    assert_agree(ours, reference, "growing compartment")
    assert ours[-1, -1] == pytest.approx(1.5 + 0.2 * 5)


def test_a_delayed_event_matches_libroadrunner(tmp_path):
    """An event whose assignments run a day after its trigger (refused before)."""
    path = mutate(tmp_path, "features_l2v4.xml", add_event_delay)
    reference = roadrunner_reference(path, 5, 41, ("level",))
    assert_agree(cartsim_values(path, 5, 41, ("level",)), reference, "delayed event")
    undelayed = DATA / "features_l2v4.xml"
    assert not np.allclose(cartsim_values(path, 5, 41, ("level",)),
                           cartsim_values(undelayed, 5, 41, ("level",)))


REFIRING = sbml_level3v2("refiring", sbml_parameters(("hits", 0, False), ("x", 0, False))
                         + sbml_rate_rule("x", """
        <apply><times/><cn>6.283185307179586</cn><apply><cos/><apply><times/>
          <cn>6.283185307179586</cn><csymbol encoding="text"
          definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol></apply></apply>
        </apply>""") + sbml_counting_event(
                             "<apply><gt/><ci>x</ci><cn>0.5</cn></apply>", "<cn>DELAY</cn>"))
"""x = sin(2 pi t) by its rate rule; ``tick`` fires each time x rises through 0.5."""


def test_a_trigger_firing_again_while_its_delay_runs_is_refused_not_lost():
    """x = sin(2 pi t) > 0.5 fires once a period: with a delay of 0.3 each firing runs before the
    next (three runs in 3 days); with 1.5 a second firing would queue behind the first, which
    this import does not do, so the run is refused instead of losing an execution."""
    from cartsim.errors import CartsimError

    for delay, counted in (("0.3", 3.0), ("1.5", None)):
        imported = import_sbml(REFIRING.replace("DELAY", delay))
        result = compile_model(imported.model).solve(np.linspace(0, 3.2, 33), rtol=1e-10)
        if counted is None:
            with pytest.raises(CartsimError, match="fired again before its delayed"):
                imported.check_delays(result)
        else:
            imported.check_delays(result)
            assert result.state(imported.name_of("hits"))[0][-1] == counted


def test_malformed_file(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<sbml><model id='m'>")
    with pytest.raises(SBMLError, match="not valid SBML") as info:
        import_sbml(path)
    assert info.value.file == str(path)


def test_missing_file(tmp_path):
    with pytest.raises(SBMLError, match="file not found"):
        import_sbml(tmp_path / "nope.xml")


def test_sbml_text_imports():
    imported = import_sbml((DATA / "features_l2v4.xml").read_text())
    assert imported.model.state_names == ["level", "S", "P"]


def add_rate_of_integrals(m):
    """grown_X' = rateOf(X): grown_X integrates X's continuous change (events excluded)."""
    for pid, text in (("grown_A", "rateOf(A)"), ("grown_lambda", "rateOf(lambda)"),
                      ("grown_C", "rateOf(kcat) + rateOf(C) + rateOf(counter)")):
        p = m.createParameter()
        p.setId(pid)
        p.setValue(0.0)
        p.setConstant(False)
        rule = m.createRateRule()
        rule.setVariable(pid)
        rule.setMath(formula(text))


def test_rate_of_is_the_rate_of_change(tmp_path):
    """rateOf of a rate-rule parameter, a species in amounts, a constant and an event-only
    parameter against libroadrunner; rateOf of a concentration species against its own
    trajectory (A(t) - A(0) - the pulse of 1 at t = 4), because libroadrunner 2.x returns a
    value hundreds of times too large there."""
    path = mutate(tmp_path, "features_l3v2.xml", add_rate_of_integrals)
    extra = ("grown_lambda", "grown_C")
    reference = roadrunner_reference(path, 10, 41, extra)
    ours = cartsim_values(path, 10, 41, extra)
    assert_agree(ours[:, -2:], reference[:, -2:], "rateOf")
    imported = import_sbml(path)
    result = compile_model(imported.model).solve(np.linspace(0, 10, 41), rtol=1e-10,
                                                 atol=1e-16)
    grown_a = result.state(imported.name_of("grown_A"))[0]
    a = result.state(imported.name_of("A"))[0]
    time = np.linspace(0, 10, 41)
    np.testing.assert_allclose(grown_a, a - a[0] - (time >= 4.0), atol=1e-8)
    assert np.ptp(grown_a) > 1  # A changes, so the check has something to compare


def rate_of_argument(m) -> libsbml.ASTNode:
    """``speed(2)`` with ``speed = lambda(x, rateOf(x))``: rateOf of a number once inlined
    (libsbml will not write ``rateOf(2)`` itself)."""
    speed = m.createFunctionDefinition()
    speed.setId("speed")
    speed.setMath(formula("lambda(x, rateOf(x))"))
    return formula("speed(2)")


@pytest.mark.parametrize("math, problem", [
    (lambda m: formula("rateOf(E)"), "rateOf() of a quantity set by an assignment rule"),
    (rate_of_argument, "rateOf() takes one species, compartment or parameter"),
])
def test_bad_rate_of_is_refused(tmp_path, math, problem):
    def change(m):
        p = m.createParameter()
        p.setId("level")
        p.setConstant(False)
        p.setValue(0.0)
        rule = m.createRateRule()
        rule.setVariable("level")
        rule.setMath(math(m))
    path = mutate(tmp_path, "features_l3v2.xml", change)
    with pytest.raises(SBMLError) as info:
        import_sbml(path)
    assert problem in info.value.problem


def prioritised_events(tmp_path, priorities) -> Path:
    """An L3V2 model whose ``level`` grows at rate 1 from 0 and two events at t = 1 with the
    given priorities: one doubles ``level``, the other adds 1, so the order decides the value
    (3 doubling first, 4 adding first). ``k`` is a parameter (7)."""
    document = libsbml.SBMLDocument(3, 2)
    m = document.createModel()
    m.setId("priorities")
    compartment = m.createCompartment()
    compartment.setId("c")
    compartment.setSize(1.0)
    compartment.setConstant(True)
    species = m.createSpecies()  # the helpers compare species; this one stays put
    for setter, value in (("setId", "X"), ("setCompartment", "c"),
                          ("setInitialConcentration", 1.0), ("setConstant", True),
                          ("setBoundaryCondition", True), ("setHasOnlySubstanceUnits", False)):
        getattr(species, setter)(value)
    for pid, value, constant in (("level", 0.0, False), ("k", 7.0, True),
                                 ("S", 1.0, False)):
        p = m.createParameter()
        p.setId(pid)
        p.setValue(value)
        p.setConstant(constant)
    for variable in ("level", "S"):
        rule = m.createRateRule()
        rule.setVariable(variable)
        rule.setMath(formula("1"))
    for eid, text, priority in (("double", "level * 2", priorities[0]),
                                ("increment", "level + 1", priorities[1])):
        event = m.createEvent()
        event.setId(eid)
        event.setUseValuesFromTriggerTime(False)  # each reads what the other left
        trigger = event.createTrigger()
        trigger.setMath(formula("time >= 1"))
        trigger.setInitialValue(False)
        trigger.setPersistent(True)
        event.createPriority().setMath(formula(priority))
        assignment = event.createEventAssignment()
        assignment.setVariable("level")
        assignment.setMath(formula(text))
    path = tmp_path / "priorities.xml"
    libsbml.writeSBMLToFile(document, str(path))
    return path


def test_simultaneous_events_fire_by_priority(tmp_path):
    """Priorities k and 1 + k (k a parameter) put the second event first: 4, where document
    order would give 3."""
    path = prioritised_events(tmp_path, ("k", "1 + k"))
    reference = roadrunner_reference(path, 1.5, 4, ("level",))
    ours = cartsim_values(path, 1.5, 4, ("level",))
    assert ours[2, -1] == pytest.approx(4.0)  # t = 1, just after the events
    assert_agree(ours, reference, "priorities")


def test_priority_changing_with_the_state_is_refused(tmp_path):
    path = prioritised_events(tmp_path, ("S", "1"))
    with pytest.raises(SBMLError, match="priorities that change") as info:
        import_sbml(path)
    assert info.value.element == "priority of event 'double'"


MIXED_L3V2 = sbml_level3v2("mixed", """
    <listOfParameters>
      <parameter id="five" value="5" constant="true"/>
      <parameter id="number_test" constant="true"/>
      <parameter id="boolean_sum" constant="true"/>
      <parameter id="logic_of_numbers" constant="true"/>
      <parameter id="boolean_value" constant="true"/>
    </listOfParameters>
    <listOfInitialAssignments>
      <initialAssignment symbol="number_test"><math xmlns="http://www.w3.org/1998/Math/MathML">
        <piecewise><piece><cn>10</cn><ci>five</ci></piece><otherwise><cn>20</cn></otherwise>
        </piecewise></math></initialAssignment>
      <initialAssignment symbol="boolean_sum"><math xmlns="http://www.w3.org/1998/Math/MathML">
        <apply><plus/><true/><true/><apply><lt/><ci>five</ci><cn>3</cn></apply></apply>
      </math></initialAssignment>
      <initialAssignment symbol="logic_of_numbers">
        <math xmlns="http://www.w3.org/1998/Math/MathML">
        <apply><and/><cn>2</cn><apply><or/><cn>0</cn><ci>five</ci></apply></apply>
      </math></initialAssignment>
      <initialAssignment symbol="boolean_value"><math xmlns="http://www.w3.org/1998/Math/MathML">
        <piecewise><piece><true/><cn>0</cn></piece><otherwise><false/></otherwise></piecewise>
      </math></initialAssignment>
    </listOfInitialAssignments>
""")


def test_numbers_and_booleans_mix_as_level_3_version_2_allows():
    """A number as a condition is true unless 0, a boolean as a value is 1 or 0 (L3V2 section
    3.4.9); before, such models failed with a sympy TypeError."""
    model = import_sbml(MIXED_L3V2).model
    values = {p.name: p.default for p in model.resolve().parameters}
    # initial assignments that read a parameter stay assignments (a changed 'five' counts)
    values.update({a.name: float(sp.sympify(a.expression).subs(sp.Symbol("five"), 5))
                   for a in model.assignments})
    assert values["number_test"] == 10.0      # 5 is true
    assert values["boolean_sum"] == 2.0       # true + true + (5 < 3)
    assert values["logic_of_numbers"] == 1.0  # 2 and (0 or 5)
    assert values["boolean_value"] == 0.0     # otherwise false: never reached, 0 is a number


SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "sbml-test-suite" / "semantic"


@pytest.mark.skipif(not SUITE.exists(), reason="../shared/sbml-test-suite not present")
@pytest.mark.parametrize("case", ["01282", "01283"])
def test_suite_cases_mixing_numbers_and_booleans_start_where_expected(case):
    """The SBML Test Suite's own expected values at time 0 (its results.csv)."""
    import csv

    folder = SUITE / case
    with open(folder / "results.csv") as handle:
        first = next(csv.DictReader(handle))
    values = {p.name: p.default for p in import_sbml(folder / "sbml-l3v2.xml").model.resolve()
              .parameters}
    for name, expected in first.items():
        if name != "Time":
            assert values[name] == pytest.approx(float(expected)), name


@pytest.mark.skipif(not SUITE.exists(), reason="../shared/sbml-test-suite not present")
def test_a_hierarchical_model_is_flattened_and_a_required_package_refused(tmp_path):
    """Suite case 01129 (comp: submodels within submodels) imports as one model with libsbml's
    flattened ids; a document requiring a package cartsim does not know is refused."""
    imported = import_sbml(SUITE / "01129" / "sbml-l3v2.xml")
    assert imported.species == ["S1", "sub1__S1", "sub2__S1", "sub2__sub1__S1"]
    text = (SUITE / "00001" / "sbml-l3v2.xml").read_text().replace(
        'level="3" version="2"', 'xmlns:distrib="http://www.sbml.org/sbml/level3/version1/'
        'distrib/version1" distrib:required="true" level="3" version="2"', 1)
    with pytest.raises(SBMLError, match="package 'distrib' is not supported"):
        import_sbml(text)


def _algebraic(rule: str) -> str:
    return sbml_level3v2("algebraic", sbml_parameters(("k", 3, True), ("x", 0, False),
                                                      ("y", 0, False)) + f"""
    <listOfRules>
      <algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML">{rule}</math>
      </algebraicRule>
    </listOfRules>
""")


def test_an_algebraic_rule_is_solved_for_the_variable_it_determines():
    """0 = 2x - k determines x (k is constant, y is not in it): x is k/2, and follows k."""
    model = import_sbml(_algebraic("<apply><minus/><apply><times/><cn>2</cn><ci>x</ci></apply>"
                                   "<ci>k</ci></apply>")).model
    (x,) = [a for a in model.assignments if a.name == "x"]
    assert sp.simplify(sp.sympify(x.expression) - sp.Symbol("k") / 2) == 0


@pytest.mark.parametrize("rule, problem", [
    ("<apply><minus/><apply><plus/><ci>x</ci><ci>y</ci></apply><cn>1</cn></apply>",
     "does not determine one variable"),
    ("<apply><minus/><apply><power/><ci>x</ci><cn>2</cn></apply><cn>4</cn></apply>",
     "has 2 solutions"),
])
def test_an_algebraic_rule_that_is_not_one_equation_for_one_variable_is_refused(rule, problem):
    with pytest.raises(SBMLError, match=problem):
        import_sbml(_algebraic(rule))


def test_math_without_a_kernel_function_is_refused_not_a_crash():
    """factorial of a changing quantity differentiates to polygamma, which the kernel's math
    module lacks: compiling says so (a printer traceback before); of a constant it runs."""
    from cartsim.errors import ModelError

    def model(argument: str) -> str:
        return sbml_level3v2("factorial", sbml_parameters(("n", 3, True), ("x", 1, False))
                             + sbml_rate_rule("x", "<apply><times/><cn>0.01</cn><apply>"
                                                   f"<factorial/>{argument}</apply></apply>"))

    with pytest.raises(ModelError, match="the kernel has no 'polygamma'"):
        compile_model(import_sbml(model("<ci>x</ci>")).model)
    result = compile_model(import_sbml(model("<ci>n</ci>")).model).solve(np.array([0.0, 1.0]))
    assert result.state("x")[0][-1] == pytest.approx(1.06)  # 1 + 0.01 * 3! * 1
