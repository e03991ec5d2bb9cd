"""The generic kernel: one solver compiled for every model, each model's functions compiled to
native code (cartsim.codegen.native) and found through its record (cartsim.codegen.record).

Checked against the specialised module of the same model (the engine tests' session models),
against Python's math module for every function the SBML importer maps, and against the
tables the record was built from.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cartsim.codegen import native_source
from cartsim.codegen.tables import INT_TABLES, SIZE_NAMES
from cartsim.engine import compile_model
from cartsim.errors import ModelError, SolverOptionsError
from cartsim.examples import cart6_population
from cartsim.sbml import import_sbml
from tests.conftest import (
    cart6_model,
    dosing_model,
    known_solution_model,
    let_model,
    robertson_model,
    sbml_level3v2,
)


@pytest.fixture(scope="module")
def generic_cart6():
    return compile_model(cart6_model(), kernel="generic")


def test_a_model_on_the_generic_kernel_is_the_specialised_one_to_tolerance(cart6, generic_cart6):
    """40 patients of the 6-state model with their own parameters (DOPRI5 and automatic
    switching, events of extinction): the two kernels' trajectories agree to 1e-7 of each
    state's scale, far inside the solver's tolerance of 1e-9."""
    assert generic_cart6.kernel == "generic" and cart6.kernel == "specialised"
    params = cart6_population(40, seed=3)
    times = np.linspace(0.0, 100.0, 101)
    ours = generic_cart6.solve(times, params, rtol=1e-9, atol=1e-12)
    theirs = cart6.solve(times, params, rtol=1e-9, atol=1e-12)
    assert ours.ok.all() and theirs.ok.all()
    scale = np.abs(theirs.states).max(axis=1, keepdims=True) + 1e-9
    assert (np.abs(ours.states - theirs.states) / scale).max() < 1e-7
    np.testing.assert_array_equal(ours.info[:, 4], theirs.info[:, 4])  # the same events


def test_a_stiff_model_and_observables_on_the_generic_kernel(known, robertson):
    """Robertson's stiff kinetics (the Rosenbrock steps and their sparse LU) and a model with
    observables solve on the generic kernel as on the specialised one."""
    times = np.array([0.0, 0.4, 4.0, 40.0, 400.0])
    for specialised, model in ((robertson, robertson_model()), (known, known_solution_model())):
        generic = compile_model(model, kernel="generic")
        ours = generic.solve(times, rtol=1e-10, atol=1e-14)
        theirs = specialised.solve(times, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.states, theirs.states, rtol=1e-7, atol=1e-13)
        np.testing.assert_allclose(ours.observables, theirs.observables, rtol=1e-7, atol=1e-12)


def test_random_draws_on_the_generic_kernel_take_the_events_stream(dosing):
    """A dose drawn once per event (normal jitter) from the event's own stream: 300 patients
    get the specialised module's doses, draw for draw (one draw per event leaves no order to
    differ), so their trajectories agree to the solver's tolerance."""
    generic = compile_model(dosing_model(), kernel="generic")
    assert generic.kernel == "generic"
    times = np.array([0.0, 1.0, 2.5, 4.0])
    ours = generic.solve(times, {"jitter": 0.3}, n_patients=300, seed=5, rtol=1e-10)
    theirs = dosing.solve(times, {"jitter": 0.3}, n_patients=300, seed=5, rtol=1e-10)
    assert np.std(theirs.state("x")[:, 2]) > 0.05  # the draws matter
    np.testing.assert_allclose(ours.state("x"), theirs.state("x"), rtol=1e-8, equal_nan=True)


def test_a_function_the_native_printer_lacks_keeps_a_model_specialised():
    """"auto" compiles a specialised module for it, "generic" says why it cannot; a kernel
    that does not exist is an options error."""
    import sympy as sp

    import cartsim as c

    model = c.Model("mod", states=[c.State("x", "", 1.0)], equations={"x": "-x"},
                    observables=[c.Observable("o", sp.Mod(10 * sp.Symbol("x"), 3))],
                    check_units=False)
    with pytest.raises(ModelError, match="cannot run on the generic kernel.*Mod"):
        compile_model(model, kernel="generic")
    compiled = compile_model(model, kernel="auto")
    assert compiled.kernel == "specialised"
    assert compiled.solve(np.array([0.0, 1.0])).observable("o")[0, 0] == 1.0  # 10 % 3
    with pytest.raises(SolverOptionsError, match="kernel must be one of"):
        compile_model(model, kernel="fast")


def test_the_record_holds_the_tables_it_was_built_from(generic_cart6):
    """Every size and every table entry read back through the generic kernel's accessors."""
    source, _, _ = native_source(cart6_model())
    module, record = generic_cart6.module, generic_cart6.record
    for name in SIZE_NAMES:
        assert getattr(module, name.lower())(record) == source.tables.sizes[name]
    for name in INT_TABLES:
        accessor = getattr(module, name.lower())
        values = [int(accessor(record, i)) for i in range(len(source.tables.ints[name]))]
        assert values == source.tables.ints[name], name
    levels = [module.extinction_level(record, i) for i in range(len(source.tables.ints[
        "NONNEGATIVE"]))]
    assert levels == source.tables.extinction_level


X = 0.3
MATHML_FUNCTIONS = {  # MathML body applied to x, and Python's value of it
    "exp": ("<exp/><ci>x</ci>", math.exp(X)),
    "ln": ("<ln/><ci>x</ci>", math.log(X)),
    "log10": ("<log/><ci>x</ci>", math.log10(X)),
    "abs": ("<abs/><cn>-0.3</cn>", 0.3),
    "floor": ("<floor/><cn>-2.5</cn>", -3.0),
    "ceiling": ("<ceiling/><cn>-2.5</cn>", -2.0),
    "power": ("<power/><ci>x</ci><cn>2.5</cn>", X ** 2.5),
    "root": ("<root/><degree><cn>3</cn></degree><ci>x</ci>", X ** (1 / 3)),
    "sin": ("<sin/><ci>x</ci>", math.sin(X)),
    "cos": ("<cos/><ci>x</ci>", math.cos(X)),
    "tan": ("<tan/><ci>x</ci>", math.tan(X)),
    "sinh": ("<sinh/><ci>x</ci>", math.sinh(X)),
    "cosh": ("<cosh/><ci>x</ci>", math.cosh(X)),
    "tanh": ("<tanh/><ci>x</ci>", math.tanh(X)),
    "arcsin": ("<arcsin/><ci>x</ci>", math.asin(X)),
    "arccos": ("<arccos/><ci>x</ci>", math.acos(X)),
    "arctan": ("<arctan/><ci>x</ci>", math.atan(X)),
    "arcsinh": ("<arcsinh/><ci>x</ci>", math.asinh(X)),
    "arccosh": ("<arccosh/><cn>1.3</cn>", math.acosh(1.3)),
    "arctanh": ("<arctanh/><ci>x</ci>", math.atanh(X)),
    "sec": ("<sec/><ci>x</ci>", 1 / math.cos(X)),
    "csc": ("<csc/><ci>x</ci>", 1 / math.sin(X)),
    "cot": ("<cot/><ci>x</ci>", 1 / math.tan(X)),
    "arccoth": ("<arccoth/><cn>1.3</cn>", math.atanh(1 / 1.3)),
    "factorial": ("<factorial/><cn>4</cn>", 24.0),
    "quotient": ("<quotient/><cn>7</cn><cn>-2</cn>", -3.0),
    "rem": ("<rem/><cn>7</cn><cn>-2</cn>", 1.0),
    "max": ("<max/><ci>x</ci><cn>0.2</cn>", 0.3),
    "min": ("<min/><ci>x</ci><cn>0.2</cn>", 0.2),
    "piecewise": ("<piecewise/>", None),
}


def _function_model() -> str:
    math_open = '<math xmlns="http://www.w3.org/1998/Math/MathML">'
    parameters = ['<parameter id="x" value="0.3" constant="true"/>']
    rules = []
    for name, (body, _) in MATHML_FUNCTIONS.items():
        parameters.append(f'<parameter id="r_{name}" constant="false"/>')
        if name == "piecewise":  # x if x > 0.2 and not x >= 1, else 0
            body_math = ("<piecewise><piece><ci>x</ci><apply><and/><apply><gt/><ci>x</ci>"
                         "<cn>0.2</cn></apply><apply><not/><apply><geq/><ci>x</ci><cn>1</cn>"
                         "</apply></apply></apply></piece><otherwise><cn>0</cn></otherwise>"
                         "</piecewise>")
        else:
            body_math = f"<apply>{body}</apply>"
        rules.append(f'<assignmentRule variable="r_{name}">{math_open}{body_math}</math>'
                     "</assignmentRule>")
    return sbml_level3v2("functions", f"<listOfParameters>{''.join(parameters)}"
                         f"</listOfParameters><listOfRules>{''.join(rules)}</listOfRules>")


def test_every_mathml_function_runs_natively_with_pythons_value():
    """Each MathML function the importer maps, evaluated by the native code of the generic
    kernel, gives the value of Python's math module to 1e-14 (relative)."""
    imported = import_sbml(_function_model())
    compiled = compile_model(imported.model, kernel="generic")
    ids = [f"r_{name}" for name in MATHML_FUNCTIONS]
    values = imported.values(compiled.solve(np.array([0.0, 1.0])), ids)[0][0]
    for (name, (_, expected)), value in zip(MATHML_FUNCTIONS.items(), values, strict=True):
        expected = X if expected is None else expected
        assert value == pytest.approx(expected, rel=1e-14, abs=1e-15), name


def test_event_values_on_the_generic_kernel():
    """An event's let values (the second reading the first) computed from the values just
    before it, and a draw held in a value one number for every action reading it, as
    tests/test_events.py checks on the specialised module."""
    result = compile_model(let_model(), kernel="generic").solve(np.array([0.0, 2.0]),
                                                                n_patients=3, seed=4)
    np.testing.assert_array_equal(result.state("x")[:, -1], 3.5)
    np.testing.assert_array_equal(result.state("y")[:, -1], 0.75)
    a, b = result.state("a")[:, -1], result.state("b")[:, -1]
    np.testing.assert_array_equal(a, b)
    assert np.all((a > 0) & (a < 1)) and len(set(a)) == 3
