"""Events: doses at time points, located state events, terminal events, extinction."""

import numpy as np
import pytest

from tests.conftest import let_model


def test_time_event_adds_dose_and_output_is_right_limit(dosing):
    t = np.array([0.0, 1.0, 2.0, 3.0])
    res = dosing.solve(t, params={"t_dose": [2.0, 2.5]}, rtol=1e-10, atol=1e-12)
    x = res.state("x")
    np.testing.assert_allclose(x[0], [1, np.exp(-1), np.exp(-2) + 1, np.exp(-3) + np.exp(-1)],
                               rtol=1e-8)
    np.testing.assert_allclose(x[1, 3], np.exp(-3) + np.exp(-0.5), rtol=1e-8)
    assert ("dose_event" in [name for _, name in res.events(0)])
    assert res.events(1)[1] == (2.5, "dose_event")


def test_state_event_is_located_accurately(dosing):
    k = np.array([1.0, 0.37, 3.0])
    res = dosing.solve(np.array([0.0, 5.0]), params={"k": k}, rtol=1e-11, atol=1e-13)
    for i in range(3):
        first = [time for time, name in res.events(i) if name == "half"][0]
        assert first == pytest.approx(np.log(2) / k[i], abs=1e-9)
        assert first >= np.log(2) / k[i] - 1e-12  # located just after the crossing


def test_state_event_fires_on_each_crossing(dosing):
    res = dosing.solve(np.array([0.0, 10.0]), rtol=1e-8, atol=1e-10)
    halves = [time for time, name in res.events(0) if name == "half"]
    # crosses 0.5 once before the dose and once after it (x(2+) = e^-2 + 1)
    assert len(halves) == 2
    assert halves[1] == pytest.approx(2 + np.log((np.exp(-2) + 1) / 0.5), abs=1e-8)
    assert res.state("hits")[0, -1] == pytest.approx(2.0)


def test_terminal_event_stops_one_patient_only(dosing):
    t = np.linspace(0.0, 5.0, 11)
    res = dosing.solve(t, params={"x_stop": [0.0, 0.1], "t_dose": 10.0}, rtol=1e-10,
                       atol=1e-12)
    assert list(res.status) == [0, 0]
    assert not np.isnan(res.states[0]).any()
    assert res.t_stop[1] == pytest.approx(np.log(10), abs=1e-8)
    assert np.isnan(res.states[1, t > np.log(10)]).all()
    assert "terminal event" in res.message(1)


def test_many_events_are_counted_beyond_log_capacity(dosing):
    res = dosing.solve(np.array([0.0, 10.0]), max_logged_events=1)
    assert len(res.events(0)) == 1 and res.stats("events")[0] == 3


def test_extinction_sets_population_to_exactly_zero(cart6):
    t = np.linspace(0.0, 100.0, 101)
    res = cart6.solve(t, params={"dose": [0.1, 0.0]}, rtol=1e-6, atol=1e-9)
    assert list(res.status) == [0, 0]
    tp = res.state("Tp")
    extinct_at = [time for time, name in res.events(0) if name == "extinction_Tp"]
    assert len(extinct_at) == 1
    after = t > extinct_at[0]
    assert np.all(tp[0, after] == 0.0)  # exactly zero, and never regrows
    assert np.all(np.diff(tp[1]) > 0)  # no infusion: the tumour keeps growing


def test_failing_patient_does_not_stop_the_others(dosing):
    res = dosing.solve(np.linspace(0, 5, 6), params={"k": [1.0, -800.0, 2.0]})
    assert res.status[0] == 0 and res.status[2] == 0
    assert res.status[1] in (2, 3)
    assert res.message(1).startswith("failed:")
    np.testing.assert_allclose(res.state("x")[2, 1], np.exp(-2.0), rtol=1e-5)


def test_piecewise_switch_in_time_is_stepped_to_exactly():
    """x' = 1 until T, then -x: exact x = 1 + t, then (1 + T)·exp(-(t - T))."""
    import cartsim as c
    from cartsim.engine import compile_model

    model = c.Model("switch", states=[c.State("x", "", 1.0)],
                    parameters=[c.Parameter("T", 2.0, source="test")],
                    equations={"x": "Piecewise((1, t <= T), (-x, True))"},
                    events=[c.StateEvent("late", "t > T + 1")], check_units=False)
    compiled = compile_model(model)
    t = np.linspace(0.0, 6.0, 25)
    T = np.array([2.0, 2.7])
    res = compiled.solve(t, params={"T": T}, rtol=1e-10, atol=1e-12)
    exact = np.where(t <= T[:, None], 1 + t, (1 + T[:, None]) * np.exp(-(t - T[:, None])))
    np.testing.assert_allclose(res.state("x"), exact, rtol=1e-8)
    assert res.stats("rejected").max() <= 3  # the switch is not stepped over blindly
    assert [name for _, name in res.events(0)] == ["late"]  # breakpoints are silent
    assert res.events(1)[0][0] == pytest.approx(3.7, abs=1e-12)
    # An event function that lands exactly on zero at the end has not crossed: no event, and
    # the run ends normally.
    edge = compiled.solve(np.array([0.0, 3.0]), rtol=1e-10, atol=1e-12)
    assert edge.status[0] == 0 and edge.events(0) == []
    assert edge.stats("accepted")[0] < 50


def test_division_by_zero_fails_only_that_patient(cart6):
    """Ka = 0 makes the activation Tp/(Ka + Tp) = 0/0 once the tumour is extinct: that patient
    ends with a non-finite status; its neighbours in the same block are unaffected."""
    res = cart6.solve(np.linspace(0, 100, 11), params={"Ka": [0.5, 0.0, 0.5]})
    assert res.status[0] == 0 and res.status[2] == 0
    assert res.status[1] == 2
    np.testing.assert_array_equal(res.states[0], res.states[2])


def test_a_population_put_below_its_threshold_is_extinct_at_once():
    """An event that knocks a population below one cell, or an initial value below it, gives
    exactly zero (with the extinction logged); the population does not regrow from a fraction
    of a cell, which a crossing-only rule would miss (no crossing happens during a step)."""
    import cartsim as c
    from cartsim.engine import compile_model

    model = c.Model(
        "knockdown", states=[c.State("T", "cell", "T0", extinction=1.0)],
        parameters=[c.Parameter("T0", 1000.0, "cell", source="test"),
                    c.Parameter("r", 0.1, "1/day", source="test"),
                    c.Parameter("cut", 1e-5, "", source="test")],
        equations={"T": "r*T"},
        events=[c.TimeEvent("chemo", 5.0, (c.set_value("T", "T*cut"),))])
    compiled = compile_model(model)
    t = np.linspace(0.0, 60.0, 61)
    res = compiled.solve(t, params={"T0": [1000.0, 1000.0, 0.5], "cut": [1e-5, 0.1, 1e-5]},
                         rtol=1e-8, atol=1e-10)
    T = res.state("T")
    assert np.all(T[0, t >= 5.0] == 0.0)                  # 1000·e^0.5·1e-5 = 0.016 cells
    assert [n for _, n in res.events(0)] == ["chemo", "extinction_T"]
    assert np.all(np.diff(T[1, t >= 5.0]) > 0)            # 165 cells stay and grow
    assert np.all(T[2] == 0.0)                            # half a cell at the start: none
    assert res.events(2)[0] == (0.0, "extinction_T")


def test_a_population_growing_from_zero_is_not_extinguished_by_other_events():
    """An unrelated event while a population is still below one cell, rising by an inflow,
    leaves it alone: only populations the event itself moved are checked."""
    import cartsim as c
    from cartsim.engine import compile_model

    model = c.Model(
        "inflow", states=[c.State("B", "cell", 0.0, extinction=1.0), c.State("x", "", 0.0)],
        parameters=[c.Parameter("inflow", 1.0, "cell/day", source="test")],
        equations={"B": "inflow", "x": "0"},
        events=[c.TimeEvent("mark", 0.5, (c.set_value("x", 1),))], check_units=False)
    res = compile_model(model).solve(np.linspace(0.0, 2.0, 9), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.state("B")[0], np.linspace(0.0, 2.0, 9), atol=1e-9)
    assert [n for _, n in res.events(0)] == ["mark"]


def test_an_event_can_trigger_another_at_the_same_instant():
    """SBML semantics: a dose at t = 1 makes x > 5 true, so that state event fires at t = 1
    too, and its own assignment triggers a third event; none fires twice."""
    import cartsim as c
    from cartsim.engine import compile_model

    model = c.Model(
        "cascade", states=[c.State("x", "", 0.0), c.State("y", "", 0.0),
                           c.State("hits", "", 0.0)],
        equations={"x": "0", "y": "0", "hits": "0"},
        events=[c.TimeEvent("dose", 1.0, (c.set_value("x", 10),)),
                c.StateEvent("high", "x > 5", (c.set_value("y", 1),
                                               c.add_to("hits", 1))),
                c.StateEvent("flagged", "y > 0.5", (c.add_to("hits", 10),))],
        check_units=False)
    res = compile_model(model).solve(np.array([0.0, 0.5, 1.0, 2.0]), rtol=1e-10, atol=1e-12)
    assert res.events(0) == [(1.0, "dose"), (1.0, "high"), (1.0, "flagged")]
    np.testing.assert_allclose(res.state("hits")[0], [0, 0, 11, 11])
    np.testing.assert_allclose(res.state("y")[0], [0, 0, 1, 1])


def _clock_model(scale: str):
    """x' = -x with a leap-like schedule: a clock ``c`` (c' = 1) against a held length
    ``due`` (constant between events) and a time ``t_next`` held in a state; each event
    restarts its schedule. ``scale`` 1 gives the clock form the integrator steps to exactly;
    another factor hides it, so the crossings are searched for."""
    import cartsim as c

    return c.Model(
        "clocks", states=[c.State("x", "", 1.0), c.State("c", "", 0.0),
                          c.State("due", "", 0.3), c.State("t_next", "", 0.25),
                          c.State("leaps", "", 0.0), c.State("ticks", "", 0.0)],
        parameters=[c.Parameter("T", 1.55, source="test")],
        equations={"x": "-x", "c": "1", "due": "0", "t_next": "0", "leaps": "0",
                   "ticks": "0"},
        events=[c.StateEvent("leap", f"({scale})*(c - due)",
                             (c.set_value("c", 0), c.set_value("due", "0.3 + 0.05*leaps"),
                              c.add_to("leaps", 1))),
                c.StateEvent("tick", f"({scale})*(t - t_next)",
                             (c.add_to("t_next", 0.7), c.add_to("ticks", 1))),
                c.StateEvent("once", f"({scale})*(t - T)", (c.add_to("x", 1),))],
        check_units=False)


def test_clocked_events_are_stepped_to_not_searched_for():
    """A state event whose function is a clock minus a held value fires exactly where the
    clock reaches it (at the next float, as a located crossing), with the same times and
    solution as the searched-for form, and without the searched form's retaken steps."""
    from cartsim.engine import compile_model

    t = np.linspace(0.0, 4.0, 9)
    clocked = compile_model(_clock_model("1")).solve(t, rtol=1e-10, atol=1e-12)
    searched = compile_model(_clock_model("2")).solve(t, rtol=1e-10, atol=1e-12)
    leaps, due = [], 0.3  # each leap's length is set from the count before it
    while sum(leaps) + due <= 4.0:
        leaps.append(due)
        due = 0.3 + 0.05 * (len(leaps) - 1)
    expected_leaps = np.cumsum(leaps)
    for res in (clocked, searched):
        names = res.events(0)
        leap_times = [time for time, name in names if name == "leap"]
        tick_times = [time for time, name in names if name == "tick"]
        np.testing.assert_allclose(leap_times, expected_leaps, atol=1e-9)
        np.testing.assert_allclose(tick_times, 0.25 + 0.7 * np.arange(6), atol=1e-9)
        assert [time for time, name in names if name == "once"] == [pytest.approx(1.55,
                                                                                  abs=1e-12)]
        exact = np.exp(-t) + np.where(t > 1.55, np.exp(-(t - 1.55)), 0.0)
        np.testing.assert_allclose(res.state("x")[0], exact, rtol=1e-8)
    # the clocked form fires at the first float after its time, as the located crossing does
    tick = [time for time, name in clocked.events(0) if name == "tick"][1]
    assert tick == np.nextafter(0.95, 1.0)
    assert clocked.stats("retaken")[0] == 0
    assert searched.stats("retaken")[0] >= len(clocked.events(0)) - 2


def test_event_values_read_the_values_before_the_event_and_are_drawn_once():
    """An event's values are computed from the values just before it (x's new value does not
    reach y), later values read earlier ones, and a draw held in a value is one number however
    many actions read it."""
    from cartsim.engine import compile_model

    res = compile_model(let_model()).solve(np.array([0.0, 2.0]), n_patients=3, seed=4)
    np.testing.assert_allclose(res.state("x")[:, -1], 3.5)
    np.testing.assert_allclose(res.state("y")[:, -1], 0.75)
    a, b = res.state("a")[:, -1], res.state("b")[:, -1]
    np.testing.assert_array_equal(a, b)
    assert np.all((a > 0) & (a < 1)) and len(set(a)) == 3


@pytest.mark.parametrize("names, problem", [
    ({"half": "x"}, "event 'split' value 'x': the name is already used"),
    ({"quarter": "half"}, "event 'split' value 'half': the name is already used"),
])
def test_an_event_value_may_not_shadow_a_name(names, problem):
    from cartsim.errors import ModelError

    with pytest.raises(ModelError, match=problem):
        let_model(**names).resolve()


def test_events_of_one_tie_at_the_same_instant_run_in_random_order():
    """Two state events firing together: in the model's order without a tie (the first always
    first), in random order with one (SBML's simultaneous events of equal priority), both
    every time; over 400 patients each goes first in 130-270 of them (5 standard deviations
    of a fair coin)."""
    import cartsim as c
    from cartsim.engine import compile_model

    def model(tie: str) -> c.Model:
        events = [c.StateEvent(name, "t > 1", (
            c.set_value("first", f"ifelse(first < 0.5, {mark}, first)"),
            c.add_to("hits", "1")), tie=tie) for name, mark in (("a", 1), ("b", 2))]
        return c.Model(f"tie{bool(tie)}", states=[c.State("first", "", 0.0),
                                                  c.State("hits", "", 0.0)],
                       equations={"first": "0", "hits": "0"}, events=events,
                       check_units=False)

    times = np.array([0.0, 2.0])
    for tie in ("", "same priority"):
        result = compile_model(model(tie)).solve(times, n_patients=400, seed=2)
        first = result.state("first")[:, -1]
        assert np.all(result.state("hits")[:, -1] == 2)
        if tie:
            assert 130 < np.sum(first == 1) < 270 and np.all((first == 1) | (first == 2))
        else:
            assert np.all(first == 1)


def test_a_strict_condition_at_exactly_zero_is_false_when_asked():
    """q rises by 1 each day (a time event); "q > mark" sets mark = q, which puts its function
    at exactly 0, where it also starts. By default a zero is on neither side at the start, so
    the event never fires; with ``zero_is_false`` (SBML: a strict comparison is false at
    equality) it fires at each of the five rises."""
    import cartsim as c
    from cartsim.engine import compile_model

    def model(zero_is_false: bool) -> c.Model:
        return c.Model(
            f"zero{int(zero_is_false)}",
            states=[c.State(s, "", 0.0) for s in ("q", "mark", "hits")],
            equations={s: "0" for s in ("q", "mark", "hits")},
            events=[c.TimeEvent("rise", at=0.5, every=1.0, count=5, actions=(c.add_to("q", "1"),)),
                    c.StateEvent("record", "q > mark", (c.set_value("mark", "q"),
                                                        c.add_to("hits", "1")),
                                 zero_is_false=zero_is_false)],
            check_units=False)

    times = np.array([0.0, 6.0])
    for zero_is_false, hits in ((False, 0.0), (True, 5.0)):
        result = compile_model(model(zero_is_false)).solve(times)
        assert result.state("q")[0, -1] == 5.0 and result.state("hits")[0, -1] == hits
