"""RODAS4 step (kernel/rosenbrock.py) and the dense LU it relies on (kernel/linalg.py).

The kernel templates are exercised through modules assembled from hand-written model code, so
the right-hand side, Jacobian and ∂f/∂t are exact and known here. The bounds are tight enough
that a wrong digit in a leading coefficient fails them: the order fits sit within ±0.3 of the
theoretical slope, and the stiff-decay bounds hold only for an L-stable method.
"""

import math

import numpy as np
import pytest

from cartsim.codegen.assemble import assemble
from cartsim.codegen.sparsity import lu_schedule

# The kernel's scratch layout needs every size of the generated header; these modules have
# no parameters, observables or events.
OTHER_SIZES = ("N_PARAMS = 0\nN_OBS = 0\nN_EVENTS = 0\nN_STATE_EVENTS = 0\n"
               "N_TIME_OCCURRENCES = 0\n")


def lu_constants(n: int, nonzeros=None) -> str:
    """The sparse LU schedule constants a generated module carries (dense by default)."""
    pairs = [(i, j) for i in range(n) for j in range(n)] if nonzeros is None else nonzeros
    flat = lu_schedule(n, pairs).flat()
    return "".join(f"{name} = np.array({values!r}, dtype=np.int64)\n"
                   for name, values in flat.items())

# y1' = cos(t)·y1 + (1 + t²)·y2 - 1, y2' = -2t·y2²: exact y1 = exp(sin t), y2 = 1/(1 + t²).
# Non-linear, coupled (J[0, 1] ≠ 0) and non-autonomous, so ∂f/∂t enters every stage.
NONAUTONOMOUS_MODEL = '''
N_STATES = 2


@njit(cache=True)
def model_rhs(m, t, y, p, out):
    out[0] = math.cos(t) * y[0] + (1.0 + t * t) * y[1] - 1.0
    out[1] = -2.0 * t * y[1] * y[1]


@njit(cache=True)
def model_jac(m, t, y, p, J):
    J[0, 0] = math.cos(t)
    J[0, 1] = 1.0 + t * t
    J[1, 0] = 0.0
    J[1, 1] = -4.0 * t * y[1]


@njit(cache=True)
def model_tgrad(m, t, y, p, out):
    out[0] = -math.sin(t) * y[0] + 2.0 * t * y[1]
    out[1] = -2.0 * y[1] * y[1]
'''

# y1' = -y1 + y2, y2' = -λ·y2 with λ = p[0]: eigenvalues -1 and -λ.
LINEAR_STIFF_MODEL = '''
N_STATES = 2


@njit(cache=True)
def model_rhs(m, t, y, p, out):
    out[0] = -y[0] + y[1]
    out[1] = -p[0] * y[1]


@njit(cache=True)
def model_jac(m, t, y, p, J):
    J[0, 0] = -1.0
    J[0, 1] = 1.0
    J[1, 0] = 0.0
    J[1, 1] = -p[0]


@njit(cache=True)
def model_tgrad(m, t, y, p, out):
    out[0] = 0.0
    out[1] = 0.0
'''

NO_PARAMETERS = np.zeros(1)


def exact_nonautonomous(t):
    return np.array([math.exp(math.sin(t)), 1.0 / (1.0 + t * t)])


def exact_linear_stiff(t, rate, y0):
    transient = y0[1] / (rate - 1.0)
    return np.array([(y0[0] + transient) * math.exp(-t) - transient * math.exp(-rate * t),
                     y0[1] * math.exp(-rate * t)])


@pytest.fixture(scope="module")
def nonautonomous(tmp_path_factory):
    return assemble(OTHER_SIZES + lu_constants(2) + NONAUTONOMOUS_MODEL,
                    directory=tmp_path_factory.mktemp("nonautonomous"))


@pytest.fixture(scope="module")
def linear_stiff(tmp_path_factory):
    return assemble(OTHER_SIZES + lu_constants(2, [(0, 0), (0, 1), (1, 1)])
                    + LINEAR_STIFF_MODEL,
                    directory=tmp_path_factory.mktemp("linear_stiff"))


def ros_one_step(module, p, t, y, h, *, drop_time_derivative=False):
    """One ros_step from (t, y) with the caller's f, J, ∂f/∂t; returns (code, y_new, err, k)."""
    n = y.size
    f0, dfdt, jac = np.empty(n), np.empty(n), np.empty((n, n))
    module.model_rhs(0, t, y, p, f0)
    module.model_jac(0, t, y, p, jac)
    module.model_tgrad(0, t, y, p, dfdt)
    if drop_time_derivative:
        dfdt[:] = 0.0
    k = np.empty((module.ROS_STAGES, n))
    y_new, err = np.empty(n), np.empty(n)
    code = module.ros_step(0, t, y, h, p, f0, jac, dfdt, np.empty((n, n)), np.empty(n, np.int64),
                           k, y_new, err, np.empty(n), np.empty(n))
    return code, y_new, err, k


def dense_output(module, h, y, y_new, k, theta):
    dense = np.empty((module.ROS_DENSE_ROWS, y.size))
    module.ros_dense_prepare(0, h, y, y_new, k, dense)
    out = np.empty(y.size)
    module.ros_dense_eval(0, theta, y, y_new, dense, out)
    return out


def loglog_slope(hs, errors):
    return np.polyfit(np.log(hs), np.log(errors), 1)[0]


STEP_SIZES = np.array([0.1, 0.05, 0.025, 0.0125])
T0 = 0.5


def test_api_constants(nonautonomous):
    assert nonautonomous.ROS_STAGES == 6
    assert nonautonomous.ROS_ERROR_ORDER == 4
    assert nonautonomous.ROS_DENSE_ROWS == 2


def test_local_error_order_4_and_embedded_order_3(nonautonomous):
    """One step from the exact solution: error O(h^5) (order 4), estimate O(h^4) (order 3)."""
    y0 = exact_nonautonomous(T0)
    step_errors, estimates = [], []
    for h in STEP_SIZES:
        code, y_new, err, _ = ros_one_step(nonautonomous, NO_PARAMETERS, T0, y0, h)
        assert code == 0
        step_errors.append(np.abs(y_new - exact_nonautonomous(T0 + h)).max())
        estimates.append(np.abs(err).max())
    assert loglog_slope(STEP_SIZES, step_errors) == pytest.approx(5.0, abs=0.3)
    assert loglog_slope(STEP_SIZES, estimates) == pytest.approx(4.0, abs=0.3)
    # The estimate is the 3rd-order solution's error, so it dominates the 4th-order one's.
    assert all(e > 10 * s for e, s in zip(estimates, step_errors, strict=True))


def test_time_derivative_is_needed_for_the_order(nonautonomous):
    """Dropping ∂f/∂t loses the order: the model really exercises the d_i terms."""
    y0 = exact_nonautonomous(T0)
    step_errors = []
    for h in STEP_SIZES:
        _, y_new, _, _ = ros_one_step(nonautonomous, NO_PARAMETERS, T0, y0, h,
                                      drop_time_derivative=True)
        step_errors.append(np.abs(y_new - exact_nonautonomous(T0 + h)).max())
    assert loglog_slope(STEP_SIZES, step_errors) < 2.5


@pytest.mark.parametrize("theta", [0.25, 0.5, 0.8])
def test_dense_output_order_3(nonautonomous, theta):
    """The continuous extension at t + θh is 3rd order: local error O(h^4); exact at θ = 0, 1."""
    y0 = exact_nonautonomous(T0)
    errors = []
    for h in STEP_SIZES:
        _, y_new, _, k = ros_one_step(nonautonomous, NO_PARAMETERS, T0, y0, h)
        mid = dense_output(nonautonomous, h, y0, y_new, k, theta)
        errors.append(np.abs(mid - exact_nonautonomous(T0 + theta * h)).max())
        np.testing.assert_array_equal(dense_output(nonautonomous, h, y0, y_new, k, 0.0), y0)
        np.testing.assert_allclose(dense_output(nonautonomous, h, y0, y_new, k, 1.0), y_new,
                                   rtol=1e-15, atol=0)
    assert loglog_slope(STEP_SIZES, errors) == pytest.approx(4.0, abs=0.3)


def test_fixed_step_convergence_on_stiff_linear_system(linear_stiff):
    """Eigenvalues -1 and -1e4, fixed steps h = 1 ... 1/32 to t = 1 (h·|λ| = 1e4 ... 312):
    never grows, damps the stiff mode and converges with order 4 from the first refinement."""
    rate = 1e4
    p = np.array([rate])
    y_start = np.array([1.0, 1.0])
    exact_end = exact_linear_stiff(1.0, rate, y_start)
    step_counts = np.array([1, 2, 4, 8, 16, 32])
    errors = []
    for count in step_counts:
        h = 1.0 / count
        y = y_start.copy()
        for i in range(count):
            code, y, _, _ = ros_one_step(linear_stiff, p, i * h, y, h)
            assert code == 0
            assert np.abs(y).max() <= 1.0
        assert abs(y[1]) < 1e-3  # exact: exp(-1e4)
        errors.append(abs(y[0] - exact_end[0]))
    assert errors[0] < 1e-3
    assert loglog_slope(1.0 / step_counts, errors) == pytest.approx(4.0, abs=0.2)


@pytest.mark.parametrize("rate", [1e4, 1e6, 1e8])
def test_l_stability_one_step_damps_stiff_mode(linear_stiff, rate):
    """One step of h = 1 on y2' = -λ·y2: R(-λ) → 0 like 1/λ (L-stable), and y1 keeps its
    non-stiff accuracy."""
    y_start = np.array([0.0, 1.0])
    code, y_new, err, _ = ros_one_step(linear_stiff, np.array([rate]), 0.0, y_start, 1.0)
    assert code == 0
    assert abs(y_new[1]) < 10.0 / rate
    assert np.all(np.isfinite(err))
    assert y_new[0] == pytest.approx(exact_linear_stiff(1.0, rate, y_start)[0], rel=1e-2)


def test_step_reports_singular_matrix_and_non_finite_result(linear_stiff):
    """Code 1 when I/(γh) - J is singular (λ = -1/(γh)), code 2 on a non-finite result."""
    y = np.array([1.0, 1.0])
    code, _, _, _ = ros_one_step(linear_stiff, np.array([-4.0]), 0.0, y, 1.0)  # γ = 1/4
    assert code == 1
    code, _, _, _ = ros_one_step(linear_stiff, np.array([1.0]), 0.0, np.array([np.nan, 1.0]),
                                 0.1)
    assert code == 2


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    """A kernel module for n states (its LU loops run to the module's N_STATES)."""
    modules = {}

    def module(n):
        if n not in modules:
            modules[n] = assemble(f"\nN_STATES = {n}\n{OTHER_SIZES}{lu_constants(n)}",
                                  directory=tmp_path_factory.mktemp(f"lu{n}"))
        return modules[n]
    return module


@pytest.mark.parametrize("n", [1, 2, 5, 12, 40])
def test_lu_solve_matches_numpy(sized, n):
    module = sized(n)
    rng = np.random.default_rng(n)
    for _ in range(5):
        a = rng.standard_normal((n, n)) + 2.0 * math.sqrt(n) * np.eye(n)
        b = rng.standard_normal(n)
        lu, piv = a.copy(), np.empty(n, np.int64)
        assert module.lu_factor(0, lu, piv) == 0
        x = b.copy()
        module.lu_solve(0, lu, piv, x)
        np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)


def _factor_and_solve(module, jac, inv_gh, b):
    n = b.size
    lu, piv = np.empty((n, n)), np.zeros(n, np.int64)
    assert module.factor_w(0, jac, inv_gh, lu, piv) == 0
    x = b.copy()
    module.lu_solve(0, lu, piv, x)
    np.testing.assert_allclose(x, np.linalg.solve(np.eye(n) * inv_gh - jac, b), rtol=1e-8,
                               atol=1e-10)
    return piv[0] < 0  # the sparse factorisation was used


@pytest.mark.parametrize("n", [5, 40])
def test_sparse_factorisation_of_w_matches_numpy(tmp_path, n):
    """W = I/(γh) - J factored along the schedule of J's pattern (a random sparse one, with
    fill) solves as numpy does."""
    rng = np.random.default_rng(n)
    pattern = [(i, j) for i in range(n) for j in range(n) if i == j or rng.random() < 0.15]
    module = assemble(f"\nN_STATES = {n}\n{OTHER_SIZES}{lu_constants(n, pattern)}",
                      directory=tmp_path)
    jac = np.zeros((n, n))
    for i, j in pattern:
        jac[i, j] = rng.standard_normal()
    for inv_gh in (10.0, 0.3):
        assert _factor_and_solve(module, jac, inv_gh, rng.standard_normal(n))


def test_a_zero_pivot_on_the_schedule_falls_back_to_dense_pivoting(sized):
    """J's first pivot equal to 1/(γh) makes W's pivot zero: the dense factorisation with
    partial pivoting takes over and the solve is still right."""
    rng = np.random.default_rng(1)
    module = sized(5)
    jac = rng.standard_normal((5, 5))
    jac[module.LU_ORDER[0], module.LU_ORDER[0]] = 2.0
    assert not _factor_and_solve(module, jac, 2.0, rng.standard_normal(5))


def test_schedule_of_a_sparse_pattern_saves_work():
    """An arrow pattern (row and column 0 full, diagonal): eliminating the leaves before the
    hub makes no fill, 2(n - 1) multiply-adds instead of about n^3/3."""
    n = 30
    arrow = [(0, j) for j in range(n)] + [(i, 0) for i in range(n)] + [(i, i) for i in range(n)]
    schedule = lu_schedule(n, arrow)
    assert 0 in schedule.order[-2:]
    assert schedule.flops == 2 * (n - 1)


def test_lu_pivots_past_a_zero_diagonal(sized):
    a = np.array([[0.0, 2.0, 1.0], [1.0, 0.0, 0.0], [3.0, 1.0, 0.0]])
    b = np.array([1.0, 2.0, 3.0])
    lu, piv = a.copy(), np.empty(3, np.int64)
    assert sized(3).lu_factor(0, lu, piv) == 0
    sized(3).lu_solve(0, lu, piv, b)
    np.testing.assert_allclose(b, np.linalg.solve(a, [1.0, 2.0, 3.0]), rtol=1e-14)


@pytest.mark.parametrize("matrix", [
    [[1.0, 2.0], [2.0, 4.0]],
    [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.0, 0.0, 0.0]],
    [[1.0, 1.0], [np.nan, 1.0]],
])
def test_lu_reports_singular_matrix(sized, matrix):
    a = np.array(matrix)
    assert sized(a.shape[0]).lu_factor(0, a, np.empty(a.shape[0], np.int64)) == 1
