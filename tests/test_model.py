"""Model description: composition, clashes, unknown symbols, units, cycles, events."""

import pytest
import sympy as sp

import cartsim as c
from cartsim.errors import ModelError, UnitError


def tumour():
    return c.Model(
        "tumour",
        states=[c.State("T", "cell", "T0", extinction=1.0)],
        parameters=[c.Parameter("r", 0.05, "1/day", source="test"),
                    c.Parameter("T0", 1e9, "cell", source="test")],
        equations={"T": "r*T"},
    )


def killing():
    return c.Model(
        "killing",
        states=[c.State("E", "cell", 1e7)],
        parameters=[c.Parameter("kappa", 3.0, "1/day", source="test"),
                    c.Parameter("K", 1e9, "cell", source="test")],
        equations={"T": "-kappa*E*T/(K + T)", "E": "-0.1*E*kappa"},
    )


def test_composition_adds_terms_for_the_same_state():
    resolved = (tumour() + killing()).resolve()
    T, E, r, kappa, K = sp.symbols("T E r kappa K")
    assert sp.simplify(resolved.rhs[0] - (r * T - kappa * E * T / (K + T))) == 0
    assert resolved.initial[0] == sp.Symbol("T0")


def test_jacobian_is_exact():
    resolved = (tumour() + killing()).resolve()
    T, E, r, kappa, K = sp.symbols("T E r kappa K")
    expected = sp.diff(r * T - kappa * E * T / (K + T), T)
    assert sp.simplify(resolved.jacobian()[0, 0] - expected) == 0


def test_clashing_state_names_between_submodels():
    with pytest.raises(ModelError, match="'T' is declared in both submodel 'tumour'"):
        c.compose(tumour(), c.Model("other", states=[c.State("T", "cell")]))


def test_shared_parameter_must_agree():
    same = c.Model("other", parameters=[c.Parameter("r", 0.05, "1/day", source="test")])
    c.compose(tumour(), same)  # identical declaration: shared
    different = c.Model("other", parameters=[c.Parameter("r", 0.05, "1/hour", source="x")])
    with pytest.raises(ModelError, match="parameter 'r' has different units"):
        c.compose(tumour(), different)


def test_unknown_symbol_names_the_equation():
    model = c.Model("m", states=[c.State("x", "cell")], equations={"x": "-kk*x"})
    with pytest.raises(ModelError, match=r"unknown symbol 'kk' in equation d\(x\)/dt"):
        model.resolve()


def test_equation_for_undeclared_state():
    with pytest.raises(ModelError, match="equation for 'y', which is not a declared state"):
        c.Model("m", states=[c.State("x")], equations={"y": "1"}).resolve()


def test_unit_mismatch_in_sum():
    model = c.Model("m", states=[c.State("x", "cell")],
                    parameters=[c.Parameter("k", 1.0, "1/day"), c.Parameter("b", 1.0, "cell")],
                    equations={"x": "k*x + b"})
    with pytest.raises(UnitError, match="mix units"):
        model.resolve()


def test_unit_mismatch_of_derivative():
    model = c.Model("m", states=[c.State("x", "cell")], parameters=[c.Parameter("k", 1.0, "1/day")],
                    equations={"x": "k"})
    with pytest.raises(UnitError, match="expected cell / d"):
        model.resolve()


def test_units_pass_with_bare_numbers_and_functions():
    model = c.Model("m", states=[c.State("x", "cell")],
                    parameters=[c.Parameter("k", 1.0, "1/day"), c.Parameter("K", 1.0, "cell")],
                    equations={"x": "k*x*(1 - x/K)*exp(-x/K)"})
    model.resolve()


def test_exp_of_dimensioned_argument_is_rejected():
    model = c.Model("m", states=[c.State("x", "cell")], parameters=[c.Parameter("k", 1.0, "1/day")],
                    equations={"x": "k*x*exp(x)"})
    with pytest.raises(UnitError, match="must be dimensionless"):
        model.resolve()


def test_cyclic_assignments():
    model = c.Model("m", states=[c.State("x")], equations={"x": "a"},
                    assignments=[c.Assignment("a", "b"), c.Assignment("b", "a")],
                    check_units=False)
    with pytest.raises(ModelError, match="cyclic assignments"):
        model.resolve()


def test_assignments_are_inlined_in_order():
    model = c.Model("m", states=[c.State("x")], equations={"x": "b"},
                    assignments=[c.Assignment("b", "2*a"), c.Assignment("a", "x + 1")],
                    check_units=False)
    assert model.resolve().rhs[0] == 2 * (sp.Symbol("x") + 1)


def test_random_draws_only_in_event_actions():
    model = c.Model("m", states=[c.State("x")], equations={"x": "rand_uniform()"},
                    check_units=False)
    with pytest.raises(ModelError, match="only allowed in event actions"):
        model.resolve()


def test_each_textual_draw_is_independent():
    event = c.StateEvent("e", "x < 1", [c.set_value("x", "rand_uniform() + rand_uniform()")])
    model = c.Model("m", states=[c.State("x")], events=[event], check_units=False)
    expr = model.resolve().events[0].actions[0].expression
    assert len(expr.args) == 2  # two distinct draws, not 2*rand_uniform()


def test_a_draw_parses_the_same_whatever_was_parsed_before():
    """Draw numbers come from the text, not a process-wide counter: the same model resolves
    to the same expressions (and cache key) however many models the process built before."""
    def build():
        event = c.StateEvent("e", "x < 1", [c.set_value("x", "rand_normal() + 1")])
        return c.Model("m", states=[c.State("x")], events=[event], check_units=False)

    first = build().resolve().events[0].actions[0].expression
    for _ in range(3):
        build().resolve()
    assert build().resolve().events[0].actions[0].expression == first
    assert repr(build()) == repr(build())


def test_condition_becomes_zero_crossing_function():
    event = c.StateEvent("fever", "temp > 38", [])
    model = c.Model("m", states=[c.State("temp", "degC", 37.0)], events=[event],
                    check_units=False)
    resolved = model.resolve()
    assert resolved.events[0].condition == sp.Symbol("temp") - 38
    assert resolved.events[0].direction == 1


def test_extinction_becomes_a_falling_state_event():
    resolved = tumour().resolve()
    (event,) = resolved.state_events
    assert event.name == "extinction_T" and event.direction == -1
    assert event.condition == sp.Symbol("T") - 1.0


def test_time_event_schedule_expands():
    dose = c.TimeEvent("dose", at="t0", every=7, count=3, actions=[c.add_to("x", 1)])
    model = c.Model("m", states=[c.State("x")], parameters=[c.Parameter("t0", 1.0)],
                    events=[dose], check_units=False)
    times = model.resolve().time_events[0].times
    assert [float(t.subs(sp.Symbol("t0"), 1.0)) for t in times] == [1.0, 8.0, 15.0]


@pytest.mark.parametrize("name", ["t", "exp", "_x", "1x", "a-b"])
def test_bad_names(name):
    with pytest.raises(ModelError):
        c.State(name)


def test_parameter_default_outside_bounds():
    with pytest.raises(ModelError, match="outside bounds"):
        c.Parameter("k", 5.0, bounds=(0.0, 1.0))


def test_with_defaults_rejects_unknown_parameters():
    with pytest.raises(ModelError, match="no parameter"):
        tumour().with_defaults(nope=1.0)
    assert tumour().with_defaults(r=0.1).parameter("r").default == 0.1
