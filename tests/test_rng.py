"""Philox streams: identical to numpy's Philox block function, layout-free, and the samplers
have the right distributions (checked at fixed seeds with bounds a wrong sampler would fail)."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from cartsim.rng.philox import (
    RNG_STATE_SIZE,
    normal_draws,
    philox_block,
    purpose_id,
    rng_binomial,
    rng_exponential,
    rng_gamma,
    rng_negbinomial,
    rng_poisson,
    rng_seed,
    uniform_draws,
)


def test_block_function_matches_numpy_philox():
    key = np.array([0x0123456789ABCDEF, 0xFEDCBA9876543210], dtype=np.uint64)
    counter = np.array([2**64 - 1, 6, 7, 8], dtype=np.uint64)
    # numpy increments the counter (with carry) before producing each block of four outputs
    raw = np.random.Philox(key=key, counter=counter).random_raw(8)
    first, second = np.empty(4, np.uint64), np.empty(4, np.uint64)
    philox_block(np.uint64(0), np.uint64(7), np.uint64(7), np.uint64(8), key[0], key[1], first)
    philox_block(np.uint64(1), np.uint64(7), np.uint64(7), np.uint64(8), key[0], key[1], second)
    np.testing.assert_array_equal(raw, np.concatenate([first, second]))


def test_streams_do_not_depend_on_layout():
    a = uniform_draws(3, [5, 6, 7], "test", 10)
    b = uniform_draws(3, [7, 5], "test", 10)
    np.testing.assert_array_equal(a[0], b[1])
    np.testing.assert_array_equal(a[2], b[0])
    np.testing.assert_array_equal(a, uniform_draws(3, [5, 6, 7], "test", 10))


def test_seeds_purposes_and_streams_differ():
    base = uniform_draws(1, [0], "a", 8)
    assert not np.array_equal(base, uniform_draws(2, [0], "a", 8))
    assert not np.array_equal(base, uniform_draws(1, [1], "a", 8))
    assert not np.array_equal(base, uniform_draws(1, [0], "b", 8))
    assert purpose_id("a") == purpose_id("a") != purpose_id("b")


def test_uniform_and_normal_distributions():
    u = uniform_draws(0, np.arange(1000), "dist", 200).ravel()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    z = normal_draws(0, np.arange(1000), "dist", 200).ravel()
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-3


@njit  # not disk-cached: numba's cache would not see changes in the samplers it calls
def _sample(kind, a, b, n, seed):
    state = np.zeros(RNG_STATE_SIZE, dtype=np.uint64)
    rng_seed(state, seed, 0, 99)
    out = np.empty(n)
    for i in range(n):
        if kind == 0:
            out[i] = rng_poisson(state, a)
        elif kind == 1:
            out[i] = rng_binomial(state, a, b)
        elif kind == 3:
            out[i] = rng_negbinomial(state, a, b)
        elif kind == 4:
            out[i] = rng_gamma(state, a)
        else:
            out[i] = rng_exponential(state, a)
    return out


N = 200_000


def check_moments(x, mean, var):
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / x.size), (x.mean(), mean)
    # standard error of the sample variance ≈ var·sqrt(2/n) (plus excess kurtosis; 8σ margin)
    assert abs(x.var() - var) < 8 * var * np.sqrt(2 / x.size) + 1e-12, (x.var(), var)


@pytest.mark.parametrize("mean", [0.3, 4.0, 9.9, 10.0, 37.5, 1000.0])
def test_poisson_moments(mean):
    check_moments(_sample(0, mean, 0.0, N, np.uint64(1)), mean, mean)


@pytest.mark.parametrize("n,p", [(5, 0.3), (100, 0.05), (40, 0.9), (100, 0.4), (10_000, 0.01),
                                 (1_000_000, 0.7)])
def test_binomial_moments(n, p):
    check_moments(_sample(1, n, p, N, np.uint64(2)), n * p, n * p * (1 - p))


def chi_square_pvalue(x, pmf, support):
    observed = np.array([(x == k).sum() for k in support] + [(x > support[-1]).sum()])
    expected = np.array([pmf(k) for k in support] + [0.0]) * x.size
    expected[-1] = x.size - expected[:-1].sum()
    keep = expected > 5
    return stats.chisquare(observed[keep], expected[keep] * observed[keep].sum()
                           / expected[keep].sum()).pvalue


def test_poisson_and_binomial_goodness_of_fit():
    pois = _sample(0, 3.2, 0.0, N, np.uint64(3))
    assert chi_square_pvalue(pois, lambda k: stats.poisson.pmf(k, 3.2), range(15)) > 1e-3
    pois_large = _sample(0, 25.0, 0.0, N, np.uint64(4))
    assert chi_square_pvalue(pois_large, lambda k: stats.poisson.pmf(k, 25.0),
                             range(5, 50)) > 1e-3
    binom = _sample(1, 200, 0.3, N, np.uint64(5))
    assert chi_square_pvalue(binom, lambda k: stats.binom.pmf(k, 200, 0.3), range(35, 90)) > 1e-3


@pytest.mark.parametrize("k,p", [(1, 0.5), (3, 0.9), (50, 0.3), (200, 0.999)])
def test_negative_binomial_moments(k, p):
    check_moments(_sample(3, k, p, N, np.uint64(8)), k * (1 - p) / p, k * (1 - p) / p ** 2)


def test_negative_binomial_and_gamma_goodness_of_fit():
    nb = _sample(3, 4, 0.4, N, np.uint64(9))
    assert chi_square_pvalue(nb, lambda x: stats.nbinom.pmf(x, 4, 0.4), range(30)) > 1e-3
    for shape in (1.0, 7.5):
        x = _sample(4, shape, 0.0, N, np.uint64(10))
        assert stats.kstest(x, "gamma", args=(shape,)).pvalue > 1e-3


def test_exponential_distribution():
    x = _sample(2, 2.5, 0.0, N, np.uint64(6))
    assert stats.kstest(x, "expon", args=(0, 1 / 2.5)).pvalue > 1e-3


def test_edge_cases():
    assert np.all(_sample(0, 0.0, 0.0, 10, np.uint64(7)) == 0)
    assert np.all(_sample(1, 10, 0.0, 10, np.uint64(7)) == 0)
    assert np.all(_sample(1, 10, 1.0, 10, np.uint64(7)) == 10)
    assert np.all(_sample(1, 0, 0.5, 10, np.uint64(7)) == 0)
    assert np.all(_sample(3, 0, 0.5, 10, np.uint64(7)) == 0)
    assert np.all(_sample(3, 5, 1.0, 10, np.uint64(7)) == 0)
