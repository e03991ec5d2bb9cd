"""SBML export: libroadrunner reproduces exported cartsim models; export → import round-trips."""

from dataclasses import replace

import numpy as np
import pytest

import cartsim as c
from cartsim.engine import compile_model
from cartsim.errors import SBMLError
from cartsim.examples import cart6_model
from cartsim.sbml import export_sbml, import_sbml
from tests.conftest import dosing_model

roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner is the test oracle")


def simulate_roadrunner(text: str, times, selections):
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-16
    return np.array(rr.simulate(times=list(times), selections=["time", *selections]))[:, 1:]


def test_roadrunner_reproduces_exported_cart6(cart6):
    t = np.linspace(0, 100, 101)
    names = ["E", "M", "Tp", "Tn", "C", "tumour"]
    theirs = simulate_roadrunner(export_sbml(cart6_model()), t, names)
    result = cart6.solve(t, rtol=1e-11, atol=1e-15)
    ours = np.stack([result.state(n)[0] for n in names[:-1]]
                    + [result.observable("tumour")[0]], axis=1)
    scale = np.abs(theirs).max(axis=0)
    assert (np.abs(ours - theirs) / scale).max() < 1e-7  # includes the extinction event


def test_roadrunner_reproduces_exported_events():
    """A time event (dose at t = 2) and a state event (counts each fall below half the dose)
    survive export: libroadrunner matches the exact solution."""
    model = dosing_model()
    deterministic = replace(model, events=tuple(
        c.TimeEvent("dose_event", at="t_dose", actions=[c.add_to("x", "dose")])
        if e.name == "dose_event" else e for e in model.events))
    t = np.linspace(0, 6, 25) + 0.01  # away from the dose instant (left/right limits differ)
    t[0] = 0.0
    x, hits = simulate_roadrunner(export_sbml(deterministic), t, ["x", "hits"]).T
    exact = np.where(t < 2, np.exp(-t), (np.exp(-2) + 1) * np.exp(-(t - 2)))
    np.testing.assert_allclose(x, exact, rtol=1e-8)
    crossings = [np.log(2), 2 + np.log((np.exp(-2) + 1) / 0.5)]
    np.testing.assert_array_equal(hits, np.searchsorted(crossings, t))


def test_export_then_import_round_trips(cart6):
    imported = import_sbml(export_sbml(cart6_model()))
    t = np.linspace(0, 50, 11)
    again = compile_model(imported.model).solve(t, rtol=1e-10, atol=1e-14)
    original = cart6.solve(t, rtol=1e-10, atol=1e-14)
    for name in ("E", "Tp", "C"):
        np.testing.assert_allclose(again.state(name), original.state(name), rtol=1e-6,
                                   atol=1e-12)


def test_random_actions_cannot_be_exported():
    with pytest.raises(SBMLError, match="random draws"):
        export_sbml(dosing_model())
