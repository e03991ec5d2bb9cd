"""Solver accuracy: order of the DOPRI5 step, tolerance proportionality, a stiff classic."""

import numpy as np
import pytest

from cartsim.errors import SolverOptionsError


def exact_known(t, w=2.0, a0=1.0):
    return np.stack([a0 * np.exp(np.sin(t)), np.cos(w * t), -w * np.sin(w * t)], axis=-1)


def test_dopri5_local_order(known):
    """Local error of one step is O(h^6), the embedded estimate O(h^5), dense output O(h^5)."""
    mod = known.module
    p = known.defaults.copy()
    t0 = 0.3
    y0 = exact_known(t0)
    hs = np.array([0.2, 0.1, 0.05, 0.025])
    step_err, est_err, dense_err = [], [], []
    for h in hs:
        k = np.empty((mod.DP_STAGES, 3))
        mod.model_rhs(0, t0, y0, p, k[0])
        y_new, err, tmp = np.empty(3), np.empty(3), np.empty(3)
        mod.dp_step(0, t0, y0, h, p, k, y_new, err, tmp)
        dense = np.empty((mod.DP_DENSE_ROWS, 3))
        mod.dp_dense_prepare(0, h, y0, y_new, k, dense)
        mid = np.empty(3)
        mod.dp_dense_eval(0, 0.5, dense, mid)
        step_err.append(np.abs(y_new - exact_known(t0 + h)).max())
        est_err.append(np.abs(err).max())
        dense_err.append(np.abs(mid - exact_known(t0 + 0.5 * h)).max())
    slope = lambda e: np.polyfit(np.log(hs), np.log(e), 1)[0]  # noqa: E731
    assert slope(step_err) == pytest.approx(6.0, abs=0.35)
    assert slope(est_err) == pytest.approx(5.0, abs=0.35)
    assert slope(dense_err) == pytest.approx(5.0, abs=0.5)


@pytest.mark.parametrize("method", ["dopri5", "rosenbrock"])
def test_global_error_follows_tolerance(known, method):
    t = np.linspace(0.0, 10.0, 41)
    errors = []
    for rtol in (1e-6, 1e-9):
        res = known.solve(t, rtol=rtol, atol=rtol, method=method)
        assert res.status[0] == 0
        errors.append(np.abs(res.states[0] - exact_known(t)).max())
        assert errors[-1] < 200 * rtol
    assert errors[1] < errors[0] / 30  # tighter tolerance, proportionally smaller error


def test_observables_follow_states(known):
    t = np.linspace(0.0, 3.0, 7)
    res = known.solve(t, rtol=1e-10, atol=1e-12)
    x, v = res.state("x")[0], res.state("v")[0]
    np.testing.assert_allclose(res.observable("energy")[0], v**2 + 4 * x**2, rtol=1e-12)
    np.testing.assert_allclose(res.observable("energy")[0], 4.0, rtol=1e-8)


def robertson_reference(t_eval):
    """Independent oracle: scipy's Radau at tight tolerance."""
    from scipy.integrate import solve_ivp

    def f(_, y):
        return [-0.04 * y[0] + 1e4 * y[1] * y[2],
                0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2]

    def jac(_, y):
        return [[-0.04, 1e4 * y[2], 1e4 * y[1]],
                [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]], [0, 6e7 * y[1], 0]]

    sol = solve_ivp(f, (0, t_eval[-1]), [1, 0, 0], method="Radau", t_eval=t_eval, rtol=1e-12,
                    atol=[1e-14, 1e-18, 1e-14], jac=jac)
    return sol.y.T


def test_robertson_stiff(robertson):
    t = np.concatenate([[0.0], np.logspace(-4, 5, 19)])
    ref = robertson_reference(t)
    for method in ("rosenbrock", "auto"):
        res = robertson.solve(t, rtol=1e-8, atol=1e-10, method=method)
        assert res.status[0] == 0, res.messages
        y = res.states[0]
        # within a small multiple of the requested tolerance (y2 declares atol 1e-12)
        scale = 1e-8 * np.abs(ref) + np.array([1e-10, 1e-12, 1e-10])
        assert (np.abs(y - ref) / scale).max() < 50, (method, (np.abs(y - ref) / scale).max())
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-8)
        assert res.stats("accepted")[0] < 2000
    auto = robertson.solve(t, rtol=1e-8, atol=1e-10, method="auto")
    assert auto.stats("switches")[0] >= 1 and auto.stats("stiff_steps")[0] > 0


def test_explicit_method_fails_cleanly_on_stiff_problem(robertson):
    t = np.array([0.0, 1e5])
    res = robertson.solve(t, method="dopri5", max_steps=5000)
    assert res.status[0] == 1
    assert res.message(0).startswith("failed: too many steps at t = ")
    assert np.isnan(res.states[0, -1]).all()


def test_bad_solver_inputs(known):
    t = np.linspace(0, 1, 5)
    cases = [
        (dict(t_eval=[]), "empty"),
        (dict(t_eval=[0.0]), "at least"),
        (dict(t_eval=[0.0, 2.0, 1.0]), "strictly increasing"),
        (dict(t_eval=[0.0, np.inf]), "non-finite"),
        (dict(rtol=-1e-6), "rtol must be a positive"),
        (dict(atol=-1.0), "atol must be positive"),
        (dict(atol={"nope": 1.0}), "unknown state"),
        (dict(method="euler"), "unknown method"),
        (dict(params={"nope": 1.0}), "unknown parameter"),
        (dict(params={"w": [1.0, np.nan]}), "not finite"),
        (dict(params={"w": [1.0, 2.0], "a0": [1.0, 2.0, 3.0]}), "different lengths"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(threads=0), "threads"),
        (dict(max_steps=0), "max_steps"),
    ]
    for kwargs, message in cases:
        kwargs.setdefault("t_eval", t)
        with pytest.raises(SolverOptionsError, match=message):
            known.solve(**kwargs)
