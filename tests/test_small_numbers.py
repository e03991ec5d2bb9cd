"""The stochastic tau-leap of the last cells against the exact linear birth-death process."""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.engine import compile_model
from cartsim.model import Model, Parameter, State, compose
from cartsim.therapy.common import GCELL_PER_CELL
from cartsim.therapy.small_numbers import StochasticPopulation, small_numbers_model


@pytest.fixture(scope="module")
def birth_death():
    population = Model(
        "population",
        states=[State("X", "Gcell", "n0*one_cell", "cells")],
        parameters=[Parameter("b", 0.4, "1/day", source="test"),
                    Parameter("d", 0.6, "1/day", source="test"),
                    Parameter("n0", 20.0, "", source="test"), GCELL_PER_CELL],
        equations={"X": "(1 - stoch_X)*(b - d)*X"},
    )
    leap = small_numbers_model((StochasticPopulation("X", "b", "d"),))
    return compile_model(compose(population, leap))


def exact_extinction(b, d, n, t):
    growth = np.exp((b - d) * t)
    return (d * (growth - 1) / (b * growth - d)) ** n


@pytest.mark.parametrize("b,d,n", [(0.4, 0.6, 20), (0.5, 0.3, 5)])
def test_extinction_probability_matches_the_exact_process(birth_death, b, d, n):
    """First-order leaps (dt 0.05 day) stay within 0.03 of the exact extinction probability
    (4,000 patients: sampling error about 0.008)."""
    patients = 4000
    params = {"b": np.full(patients, b), "d": np.full(patients, d), "n0": np.full(patients, n)}
    res = birth_death.solve([0.0, 10.0], params, seed=5, max_logged_events=0)
    assert (res.status == 0).all()
    extinct = np.mean(res.states[:, -1, 0] == 0)
    assert extinct == pytest.approx(exact_extinction(b, d, n, 10.0), abs=0.03)


def test_leaves_stochastic_mode_when_large(birth_death):
    """A growing population switches back to deterministic growth above 200 cells."""
    params = {"b": np.array([1.0]), "d": np.array([0.0]), "n0": np.array([50.0])}
    res = birth_death.solve([0.0, 20.0], params, seed=1, max_logged_events=0)
    names = [s.name for s in birth_death.resolved.states]
    assert res.states[0, -1, names.index("stoch_X")] == 0
    assert res.states[0, -1, 0] > 1e-6  # far above 200 cells, growing deterministically
