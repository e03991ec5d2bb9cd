"""RODAS4 step: order, embedded error, dense output, L-stability; the LU it relies on."""

import numpy as np
import pytest

from tests.test_solver import exact_known


def ros_one_step(module, p, t0, y0, h):
    n = y0.size
    f0, dfdt = np.empty(n), np.empty(n)
    jac, w = np.empty((n, n)), np.empty((n, n))
    module.model_rhs(t0, y0, p, f0)
    module.model_jac(t0, y0, p, jac)
    module.model_tgrad(t0, y0, p, dfdt)
    k = np.empty((module.ROS_STAGES, n))
    y_new, err = np.empty(n), np.empty(n)
    code = module.ros_step(t0, y0, h, p, f0, jac, dfdt, w, np.empty(n, np.int64), k, y_new, err,
                           np.empty(n), np.empty(n))
    dense = np.empty((module.ROS_DENSE_ROWS, n))
    module.ros_dense_prepare(h, y0, y_new, k, dense)
    mid = np.empty(n)
    module.ros_dense_eval(0.5, y0, y_new, dense, mid)
    return code, y_new, err, mid


def slope(hs, errors):
    return np.polyfit(np.log(hs), np.log(errors), 1)[0]


def test_local_order_embedded_error_and_dense_output(known):
    """Non-autonomous a' = cos(t)·a makes ∂f/∂t matter; exact solutions are known."""
    t0 = 0.3
    y0 = exact_known(t0)
    hs = np.array([0.1, 0.05, 0.025, 0.0125])
    step, est, dense = [], [], []
    for h in hs:
        code, y_new, err, mid = ros_one_step(known.module, known.defaults, t0, y0, h)
        assert code == 0
        step.append(np.abs(y_new - exact_known(t0 + h)).max())
        est.append(np.abs(err).max())
        dense.append(np.abs(mid - exact_known(t0 + h / 2)).max())
    assert slope(hs, step) == pytest.approx(5.0, abs=0.3)  # order 4: local error O(h^5)
    assert slope(hs, est) == pytest.approx(4.0, abs=0.3)  # embedded order 3
    assert slope(hs, dense) == pytest.approx(4.0, abs=0.4)  # 3rd-order continuous extension


@pytest.mark.parametrize("rate", [1e4, 1e8])
def test_l_stability_damps_stiff_decay(dosing, rate):
    """x' = -k·x with h·k up to 1e8: the step stays bounded and damps x towards 0."""
    p = dosing.defaults.copy()
    p[dosing.parameter_names.index("k")] = rate
    code, y_new, _, _ = ros_one_step(dosing.module, p, 0.0, np.array([1.0, 0.0]), 1.0)
    assert code == 0
    assert abs(y_new[0]) < 1e-3


def test_lu_matches_numpy(known):
    rng = np.random.default_rng(0)
    mod = known.module
    for n in (1, 3, 8):
        a = rng.standard_normal((n, n)) + n * np.eye(n)
        b = rng.standard_normal(n)
        lu, piv = a.copy(), np.empty(n, np.int64)
        assert mod.lu_factor(lu, piv) == 0
        x = b.copy()
        mod.lu_solve(lu, piv, x)
        np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-12, atol=1e-12)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert mod.lu_factor(singular, np.empty(2, np.int64)) == 1
