# Dormand-Prince 5(4) explicit Runge-Kutta step with FSAL, Hairer's 4th-order dense output and
# stiffness test. Coefficients: Dormand & Prince (1980) J. Comput. Appl. Math. 6:19; dense output
# and stiffness detection: Hairer, Nørsett & Wanner, Solving ODEs I, 2nd ed., sections II.5-II.6.
# Template text: uses model_rhs and n_states(m) from the generated module.
# ruff: noqa: F821

from cartsim.codegen.jit import njit

DP_C2, DP_C3, DP_C4, DP_C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
DP_A21 = 1.0 / 5.0
DP_A31, DP_A32 = 3.0 / 40.0, 9.0 / 40.0
DP_A41, DP_A42, DP_A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
DP_A51, DP_A52 = 19372.0 / 6561.0, -25360.0 / 2187.0
DP_A53, DP_A54 = 64448.0 / 6561.0, -212.0 / 729.0
DP_A61, DP_A62, DP_A63 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0
DP_A64, DP_A65 = 49.0 / 176.0, -5103.0 / 18656.0
DP_A71, DP_A73, DP_A74 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0
DP_A75, DP_A76 = -2187.0 / 6784.0, 11.0 / 84.0
DP_E1, DP_E3, DP_E4 = 71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0
DP_E5, DP_E6, DP_E7 = -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0
DP_D1, DP_D3 = -12715105075.0 / 11282082432.0, 87487479700.0 / 32700410799.0
DP_D4, DP_D5 = -10690763975.0 / 1880347072.0, 701980252875.0 / 199316789632.0
DP_D6, DP_D7 = -1453857185.0 / 822651844.0, 69997945.0 / 29380423.0
DP_STAGES = 7
DP_DENSE_ROWS = 5
DP_ERROR_ORDER = 5


@njit(cache=True)
def dp_step(m, t, y, h, p, k, y_new, err, ytmp):
    """One DOPRI5 step from (t, y); k[0] must hold f(t, y) (FSAL). Fills k[1..6] (k[6] = f at
    the new point), y_new, and the unscaled error estimate err. Returns the stiffness ratio
    h*|λ| estimate (Hairer's test) for the step."""
    n = n_states(m)
    for i in range(n):
        ytmp[i] = y[i] + h * DP_A21 * k[0, i]
    model_rhs(m, t + DP_C2 * h, ytmp, p, k[1])
    for i in range(n):
        ytmp[i] = y[i] + h * (DP_A31 * k[0, i] + DP_A32 * k[1, i])
    model_rhs(m, t + DP_C3 * h, ytmp, p, k[2])
    for i in range(n):
        ytmp[i] = y[i] + h * (DP_A41 * k[0, i] + DP_A42 * k[1, i] + DP_A43 * k[2, i])
    model_rhs(m, t + DP_C4 * h, ytmp, p, k[3])
    for i in range(n):
        ytmp[i] = y[i] + h * (DP_A51 * k[0, i] + DP_A52 * k[1, i] + DP_A53 * k[2, i]
                              + DP_A54 * k[3, i])
    model_rhs(m, t + DP_C5 * h, ytmp, p, k[4])
    for i in range(n):
        ytmp[i] = y[i] + h * (DP_A61 * k[0, i] + DP_A62 * k[1, i] + DP_A63 * k[2, i]
                              + DP_A64 * k[3, i] + DP_A65 * k[4, i])
    model_rhs(m, t + h, ytmp, p, k[5])
    for i in range(n):
        y_new[i] = y[i] + h * (DP_A71 * k[0, i] + DP_A73 * k[2, i] + DP_A74 * k[3, i]
                               + DP_A75 * k[4, i] + DP_A76 * k[5, i])
    model_rhs(m, t + h, y_new, p, k[6])
    num = 0.0
    den = 0.0
    for i in range(n):
        err[i] = h * (DP_E1 * k[0, i] + DP_E3 * k[2, i] + DP_E4 * k[3, i] + DP_E5 * k[4, i]
                      + DP_E6 * k[5, i] + DP_E7 * k[6, i])
        num += (k[6, i] - k[5, i]) ** 2
        den += (y_new[i] - ytmp[i]) ** 2
    if den > 0.0:
        return h * math.sqrt(num / den)
    return 0.0


@njit(cache=True)
def dp_dense_prepare(m, h, y, y_new, k, dense):
    """Coefficients of the 4th-order continuous extension over the last step."""
    n = n_states(m)
    for i in range(n):
        diff = y_new[i] - y[i]
        bspl = h * k[0, i] - diff
        dense[0, i] = y[i]
        dense[1, i] = diff
        dense[2, i] = bspl
        dense[3, i] = diff - h * k[6, i] - bspl
        dense[4, i] = h * (DP_D1 * k[0, i] + DP_D3 * k[2, i] + DP_D4 * k[3, i]
                           + DP_D5 * k[4, i] + DP_D6 * k[5, i] + DP_D7 * k[6, i])


@njit(cache=True)
def dp_dense_eval(m, theta, dense, out):
    """Continuous solution at t + theta*h of the last step."""
    theta1 = 1.0 - theta
    for i in range(n_states(m)):
        out[i] = dense[0, i] + theta * (dense[1, i] + theta1 * (
            dense[2, i] + theta * (dense[3, i] + theta1 * dense[4, i])))
