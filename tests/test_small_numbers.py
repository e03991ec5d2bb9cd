"""The stochastic tau-leap of the last cells against the exact linear birth-death process."""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.engine import compile_model
from cartsim.model import Parameter, TimeEvent, add_to
from cartsim.therapy.small_numbers import SMALL_NUMBER_PARAMETERS
from tests.conftest import birth_death_model

DEFAULTS = {p.name: p.default for p in SMALL_NUMBER_PARAMETERS}


@pytest.fixture(scope="module")
def birth_death():
    return compile_model(birth_death_model())


def exact_extinction(b, d, n, t):
    growth = np.exp((b - d) * t)
    return (d * (growth - 1) / (b * growth - d)) ** n


@pytest.mark.parametrize("b,d,n", [(0.4, 0.6, 20), (0.5, 0.3, 5), (1.5, 2.5, 50)])
def test_extinction_probability_matches_the_exact_process(birth_death, b, d, n):
    """With constant rates a leap is the exact transition of the birth-death process, so at a
    leap (the first 0.01 day after the start, then every leap_events/(b + d) days) near day 10 the
    extinction probability and the mean size are the exact ones (20,000 patients: sampling
    error of the probability at most 0.0035; bound 4 errors)."""
    patients = 20000
    interval = min(DEFAULTS["leap_events"] / (b + d), DEFAULTS["dt_leap"])
    at = 0.01 + round((10.0 - 0.01) / interval) * interval
    params = {"b": np.full(patients, b), "d": np.full(patients, d), "n0": np.full(patients, n)}
    res = birth_death.solve([0.0, at + 1e-3], params, seed=5, max_logged_events=4)
    assert (res.status == 0).all()
    assert res.events(0)[1][0] == pytest.approx(0.01 + interval)
    cells = res.states[:, -1, 0] / 1e-9
    exact = exact_extinction(b, d, n, at)
    assert np.mean(cells == 0) == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact)
                                                                        / patients) + 1e-4)
    if b < d:  # still stochastic (below 200 cells): the mean is the process's, within 4
        # standard errors (the variance of n cells' descendants is
        # n (b + d)/(b - d) e^{rt} (e^{rt} - 1), r = b - d)
        growth = np.exp((b - d) * at)
        variance = n * (b + d) / (b - d) * growth * (growth - 1)
        assert cells.mean() == pytest.approx(n * growth, abs=4 * np.sqrt(variance / patients))


def test_a_leap_is_exact_for_a_death_rate_linear_in_time():
    """A leap holds each rate at the mean of its values at the leap's ends, which is exact for
    a pure-death rate linear in time: one cell dying at a*t survives to T with probability
    exp(-a*T^2/2). Leaps here are 2 days long (dt_leap), so holding the rate at one end instead
    would miss the probability by many sampling errors (20,000 patients)."""
    a, patients = 0.02, 20000
    slope = Parameter("a", a, "1/day^2", source="test")
    model = compile_model(birth_death_model(death="a*t", parameters=(slope,)))
    at = 10.01  # the sixth leap: 0.01, then 2 days apart
    params = {"b": np.zeros(patients), "n0": np.ones(patients)}
    res = model.solve([0.0, at + 1e-3], params, seed=3, max_logged_events=16)
    assert (res.status == 0).all()
    survivor = int(np.argmax(res.states[:, -1, 0] > 0))
    leaps = [t for t, name in res.events(survivor) if name == "stochastic_leap"]
    assert leaps[-1] == pytest.approx(at)
    exact = np.exp(-a * at**2 / 2)
    survived = np.mean(res.states[:, -1, 0] > 0)
    assert survived == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / patients))


def test_arriving_cells_live_the_rest_of_their_leap():
    """Cells arriving at 5 a day and dying at d = 0.5 a day from none (an immigration-death
    process) number Poisson(5*(1 - exp(-d*T))/d) at T, exactly so with leaps that let each
    arrival die during the rest of its leap. Cells counted as arriving at the leap's end would
    add about 13 % to the mean (60 sampling errors at 20,000 patients)."""
    patients, rate, d = 20000, 5.0, 0.5
    model = compile_model(birth_death_model(inflow="lam*one_cell", parameters=(
        Parameter("lam", rate, "1/day", source="test"),)))
    params = {"b": np.zeros(patients), "d": np.full(patients, d), "n0": np.zeros(patients)}
    res = model.solve([0.0, 20.0], params, seed=4, max_logged_events=0)
    assert (res.status == 0).all()
    cells = np.rint(res.states[:, -1, 0] / 1e-9)
    mean = rate * (1 - np.exp(-d * 20.0)) / d  # 10 cells; the leaps fall anywhere before T
    assert cells.mean() == pytest.approx(mean, abs=4 * np.sqrt(mean / patients))
    assert cells.var() == pytest.approx(mean, rel=0.05)  # Poisson: variance = mean


def test_leaps_are_few_while_the_rates_are_slow(birth_death):
    """Leaps last until a cell expects leap_events events, at most dt_leap (2 days): ten slow
    cells need a leap every 2 days (after the first, 0.01 day in, which sets the schedule), not
    the twenty a day of fixed 0.05-day leaps; the solver steps to each leap, so a leap costs
    about one step."""
    params = {"b": np.array([0.01]), "d": np.array([0.02]), "n0": np.array([10.0])}
    res = birth_death.solve([0.0, 10.0 + 1e-3], params, seed=2, max_logged_events=100)
    leaps = [t for t, name in res.events(0) if name == "stochastic_leap"]
    assert len(leaps) == 5
    assert leaps[:3] == pytest.approx([0.01, 2.01, 4.01])
    assert res.stats("accepted")[0] <= 2 * len(leaps) + 5


def test_leaves_stochastic_mode_when_large(birth_death):
    """A growing population switches back to deterministic growth above 200 cells."""
    params = {"b": np.array([1.0]), "d": np.array([0.0]), "n0": np.array([50.0])}
    res = birth_death.solve([0.0, 20.0], params, seed=1, max_logged_events=0)
    names = [s.name for s in birth_death.resolved.states]
    assert res.states[0, -1, names.index("stoch_X")] == 0
    assert res.states[0, -1, 0] > 1e-6  # far above 200 cells, growing deterministically


def test_cells_added_to_a_stochastic_population_grow_at_once():
    """An infusion of 10,000 cells into a stochastic population (leaps a day apart) ends its
    stochastic mode at once, so the cells grow from the infusion (at b = 1: e^0.5 by half a day
    later), not from the next leap."""
    infusion = TimeEvent("infusion", "0.5", (add_to("X", "1e4*one_cell"),))
    model = compile_model(birth_death_model(events=(infusion,)))
    params = {"b": np.array([1.0]), "d": np.array([0.0]), "n0": np.array([10.0])}
    res = model.solve([0.0, 0.75, 1.0], params, seed=1, max_logged_events=16)
    names = [s.name for s in model.resolved.states]
    assert res.states[0, 1, names.index("stoch_X")] == 0
    assert res.states[0, 2, 0] / 1e-9 == pytest.approx(1e4 * np.exp(0.5), rel=0.01)


def test_last_car_t_cells_die_out_by_chance():
    """Effector CAR-T cells that bind nothing, without niche or memory conversion, decline at
    d = d_eff + eps_mem; below 100 cells each dies independently, so extinction comes after
    H(100)/d = 5.19/d days on average (SD 1.28/d), at a different day in each patient."""
    from cartsim.presets import disease, product
    from cartsim.therapy.population import simulate_population
    from cartsim.therapy.simulate import preset_parameters

    run = simulate_population("axi-cel", "lbcl", 40, t_end=400.0, variations=(), binds_CD19=0.0,
                              memory_fraction=0.0, niche_weight=0.0, eps_mem=0.0)
    after = run.time >= 1.0  # from the day after infusion
    time, cells = run.time[after], run.states["Ce"][:, after] / 1e-9
    assert np.all(cells[:, -1] == 0.0)  # every patient's product is gone, exactly
    below = np.argmax(cells < 100, axis=1)
    gone = np.argmax(cells == 0, axis=1)
    assert np.all(gone > below) and np.all(below > 0)
    waited = time[gone] - time[below]
    d = preset_parameters(disease("lbcl"), product("axi-cel"))["d_eff"]  # eps_mem set to 0
    harmonic_100 = float(np.sum(1.0 / np.arange(1, 101)))
    se = 1.28 / d / np.sqrt(len(waited))
    assert abs(waited.mean() - harmonic_100 / d) < 4 * se + 1.0  # + 1 day: daily output
    assert len(set(time[gone])) > 10  # chance decides the day


def test_car_t_birth_and_death_agree_with_the_deterministic_equations():
    """In the mean, the stochastic mode of memory and effector CAR-T cells changes them as
    their equations do: (birth - death) * cells + inflow equals the net change."""
    import sympy as sp

    from cartsim.therapy.car_t import CAR_T_RATES, NET_CHANGE

    rng = np.random.default_rng(0)
    for state, (birth, death, inflow) in CAR_T_RATES.items():
        stochastic = sp.sympify(f"(({birth}) - ({death}))*{state} + {inflow}")
        net = sp.sympify(NET_CHANGE[state])
        names = sorted(stochastic.free_symbols | net.free_symbols, key=str)
        for _ in range(20):
            values = {n: rng.uniform(-1, 1) if str(n) == "homeostasis" else rng.uniform(0, 2)
                      for n in names}
            assert float(stochastic.subs(values)) == pytest.approx(float(net.subs(values)))
