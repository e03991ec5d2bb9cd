"""The stochastic tau-leap of the last cells against the exact linear birth-death process."""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.engine import compile_model
from tests.conftest import birth_death_model


@pytest.fixture(scope="module")
def birth_death():
    return compile_model(birth_death_model())


def exact_extinction(b, d, n, t):
    growth = np.exp((b - d) * t)
    return (d * (growth - 1) / (b * growth - d)) ** n


@pytest.mark.parametrize("b,d,n", [(0.4, 0.6, 20), (0.5, 0.3, 5), (1.5, 2.5, 50)])
def test_extinction_probability_matches_the_exact_process(birth_death, b, d, n):
    """With constant rates a leap is the exact transition of the birth-death process, so at a
    leap (the first 0.01 day after the start, then every 0.25/(b + d) days) near day 10 the
    extinction probability and the mean size are the exact ones (20,000 patients: sampling
    error of the probability at most 0.0035; bound 4 errors)."""
    patients = 20000
    interval = 0.25 / (b + d)
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


def test_leaps_are_few_while_the_rates_are_slow(birth_death):
    """Leaps last until a cell expects a quarter of an event, at most dt_leap (1 day): ten
    slow cells need a leap a day (after the first, 0.01 day in, which sets the schedule), not
    the twenty a day of fixed 0.05-day leaps; the solver steps to each leap, so a leap costs
    about one step."""
    params = {"b": np.array([0.01]), "d": np.array([0.02]), "n0": np.array([10.0])}
    res = birth_death.solve([0.0, 10.0 + 1e-3], params, seed=2, max_logged_events=100)
    leaps = [t for t, name in res.events(0) if name == "stochastic_leap"]
    assert len(leaps) == 10
    assert leaps[:3] == pytest.approx([0.01, 1.01, 2.01])
    assert res.stats("accepted")[0] <= 2 * len(leaps) + 5


def test_leaves_stochastic_mode_when_large(birth_death):
    """A growing population switches back to deterministic growth above 200 cells."""
    params = {"b": np.array([1.0]), "d": np.array([0.0]), "n0": np.array([50.0])}
    res = birth_death.solve([0.0, 20.0], params, seed=1, max_logged_events=0)
    names = [s.name for s in birth_death.resolved.states]
    assert res.states[0, -1, names.index("stoch_X")] == 0
    assert res.states[0, -1, 0] > 1e-6  # far above 200 cells, growing deterministically


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
