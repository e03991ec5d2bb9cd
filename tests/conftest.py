"""Shared test models. Each distinct model costs one numba compilation (cached on disk after the
first run), so the engine tests share a handful of models through session fixtures."""

from __future__ import annotations

import numpy as np
import pytest

import cartsim as c
from cartsim.engine import compile_model
from cartsim.examples import cart6_model


def sbml_level3v2(model_id: str, body: str) -> str:
    """An SBML Level 3 Version 2 document of one model: ``body`` its lists of elements."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sbml xmlns="http://www.sbml.org/sbml/'
            f'level3/version2/core" level="3" version="2">\n<model id="{model_id}">\n{body}'
            '</model>\n</sbml>\n')


def sbml_parameters(*parameters: tuple[str, float, bool]) -> str:
    """A listOfParameters of (id, value, constant)."""
    rows = "".join(f'<parameter id="{pid}" value="{value}" constant="{str(constant).lower()}"/>'
                   for pid, value, constant in parameters)
    return f"<listOfParameters>{rows}</listOfParameters>"


def sbml_rate_rule(variable: str, mathml: str) -> str:
    """A listOfRules holding one rate rule (``mathml`` inside its math element)."""
    return ('<listOfRules><rateRule variable="' + variable + '"><math xmlns="http://www.w3.org'
            f'/1998/Math/MathML">{mathml}</math></rateRule></listOfRules>')


def sbml_counting_event(trigger: str, delay: str | None = None) -> str:
    """A listOfEvents of one event ``tick`` adding 1 to ``hits`` whenever ``trigger`` (MathML)
    becomes true, after ``delay`` (MathML) if given."""
    math = '<math xmlns="http://www.w3.org/1998/Math/MathML">'
    delayed = f"<delay>{math}{delay}</math></delay>" if delay is not None else ""
    return ('<listOfEvents><event id="tick" useValuesFromTriggerTime="true">'
            f'<trigger initialValue="true" persistent="true">{math}{trigger}</math></trigger>'
            f'{delayed}<listOfEventAssignments><eventAssignment variable="hits">{math}'
            "<apply><plus/><ci>hits</ci><cn>1</cn></apply></math></eventAssignment>"
            "</listOfEventAssignments></event></listOfEvents>")


def known_solution_model() -> c.Model:
    """a' = cos(t)·a (a = a0·exp(sin t)); x'' = -w²x as (x, v) (x = cos(wt)); all exact."""
    return c.Model(
        "known",
        states=[c.State("a", "", "a0", nonnegative=False), c.State("x", "", 1.0, nonnegative=False),
                c.State("v", "", 0.0, nonnegative=False)],
        parameters=[c.Parameter("a0", 1.0, source="test"), c.Parameter("w", 2.0, source="test")],
        equations={"a": "cos(t)*a", "x": "v", "v": "-w^2*x"},
        observables=[c.Observable("energy", "v^2 + w^2*x^2")],
        check_units=False,
    )


def birth_death_model(events=(), death: str = "d", inflow: str = "0",
                      parameters=()) -> c.Model:
    """A population X growing at b, dying at ``death`` (per cell and day) and fed by ``inflow``
    (Gcell/day), whose last cells (below 200) are simulated as a stochastic birth-death process;
    ``events`` and ``parameters`` are added to the population model."""
    from cartsim.therapy.common import GCELL_PER_CELL
    from cartsim.therapy.small_numbers import StochasticPopulation, small_numbers_model

    population = c.Model(
        "population",
        states=[c.State("X", "Gcell", "n0*one_cell", "cells")],
        parameters=[c.Parameter("b", 0.4, "1/day", source="test"),
                    c.Parameter("d", 0.6, "1/day", source="test"),
                    c.Parameter("n0", 20.0, "", source="test"), GCELL_PER_CELL, *parameters],
        equations={"X": f"(1 - stoch_X)*((b - ({death}))*X + {inflow})"},
        events=list(events),
    )
    return c.compose(population,
                     small_numbers_model((StochasticPopulation("X", "b", death, inflow),)))


def dosing_model() -> c.Model:
    """First-order decay, a (optionally random) dose at t_dose, a located event counting each
    fall below half the dose, and a terminal event when x falls below x_stop."""
    return c.Model(
        "dosing",
        states=[c.State("x", "cell", 1.0), c.State("hits", "cell", 0.0)],
        parameters=[c.Parameter("k", 1.0, "1/day", source="test"),
                    c.Parameter("dose", 1.0, "cell", source="test"),
                    c.Parameter("t_dose", 2.0, "day", source="test"),
                    c.Parameter("jitter", 0.0, "", source="test"),
                    c.Parameter("x_stop", 0.0, "cell", source="test")],
        equations={"x": "-k*x"},
        observables=[c.Observable("x_doubled", "2*x", "cell")],
        events=[c.TimeEvent("dose_event", at="t_dose",
                            actions=[c.add_to("x", "dose*(1 + jitter*rand_normal())")]),
                c.StateEvent("half", "x < 0.5*dose", [c.add_to("hits", "dose")]),
                c.StateEvent("stop", "x < x_stop", terminal=True)],
    )


def let_model(**names) -> c.Model:
    """x' = 0 from 1 (by default); at t = 1 an event computes half = x/2, quarter = half/2 and
    one uniform draw u, and sets x, y, a and b from them (``names`` renames the values)."""
    half, quarter, u = (names.get(k, k) for k in ("half", "quarter", "u"))
    return c.Model(
        "let", states=[c.State(s, "", 1.0 if s == "x" else 0.0) for s in ("x", "y", "a", "b")],
        equations={s: "0" for s in ("x", "y", "a", "b")},
        events=[c.TimeEvent("split", 1.0, (c.set_value("x", f"{half} + 3"),
                                           c.set_value("y", f"{half} + {quarter}"),
                                           c.set_value("a", u), c.set_value("b", u)),
                            let=(c.EventValue(half, "x/2"),
                                 c.EventValue(quarter, f"{half}/2"),
                                 c.EventValue(u, "rand_uniform()")))],
        check_units=False)


def robertson_model() -> c.Model:
    """Robertson's stiff chemical kinetics (Hairer & Wanner, Solving ODEs II, IV.1)."""
    return c.Model(
        "robertson",
        states=[c.State("y1", "", 1.0), c.State("y2", "", 0.0, atol=1e-12), c.State("y3", "")],
        parameters=[c.Parameter("k1", 0.04, source="Robertson 1966"),
                    c.Parameter("k2", 3e7, source="Robertson 1966"),
                    c.Parameter("k3", 1e4, source="Robertson 1966")],
        equations={"y1": "-k1*y1 + k3*y2*y3", "y2": "k1*y1 - k3*y2*y3 - k2*y2^2",
                   "y3": "k2*y2^2"},
        time_unit="s",
        check_units=False,
    )


@pytest.fixture(scope="session")
def known():
    return compile_model(known_solution_model())


@pytest.fixture(scope="session")
def dosing():
    return compile_model(dosing_model())


@pytest.fixture(scope="session")
def robertson():
    return compile_model(robertson_model())


@pytest.fixture(scope="session")
def cart6():
    return compile_model(cart6_model())


def peak(run, name, after=0.0):
    """Largest value of a patient run's output ``name`` from day ``after`` on."""
    return run[name][run.time >= after].max()


def at(run, name, day):
    """A patient run's output ``name`` on ``day`` (linear between output times)."""
    return float(np.interp(day, run.time, run[name]))


@pytest.fixture(scope="module")
def tisa_all():
    """The typical tisa-cel B-ALL patient, one year."""
    from cartsim.therapy.simulate import simulate_patient

    return simulate_patient("tisa-cel", "b-all", t_end=365)


@pytest.fixture(scope="module")
def axi_lbcl():
    """The typical axi-cel LBCL patient, 120 days."""
    from cartsim.therapy.simulate import simulate_patient

    return simulate_patient("axi-cel", "lbcl", t_end=120)
