# RODAS4: 6-stage, order 4(3), L-stable, stiffly accurate Rosenbrock method with a 3rd-order
# continuous extension. Hairer & Wanner, Solving ODEs II (2nd ed., 1996), section IV.7, in the
# transformed form of their code RODAS, with W = I/(γh) - J and stage increments k_i:
#   W k_i = f(t + c_i h, y + Σ_j a_ij k_j) + Σ_j (c_ij / h) k_j + h d_i ∂f/∂t,
# where RO_C2..RO_C4 are the nodes c_i and RO_Cij the transformed coupling coefficients.
# Stiffly accurate: stage 5's point plus k_5 is the embedded 3rd-order solution, plus k_6 the
# 4th-order one, so k_6 is the error estimate. Coefficient values (c_i, d_i, a_ij, c_ij and the
# dense-output d_2j, d_3j, here RO_H2j, RO_H3j) as in Hairer's rodas.f (METH = 1) and the Rodas4
# tableau of OrdinaryDiffEq.jl; checked by tests/test_rosenbrock.py's order tests.
# Template text: uses model_rhs, n_states(m) and factor_w/lu_solve from the assembled module.
# ruff: noqa: F821
import math

from cartsim.codegen.jit import njit

ROS_STAGES = 6
ROS_ERROR_ORDER = 4
ROS_DENSE_ROWS = 2

RO_GAMMA = 0.25
RO_C2, RO_C3, RO_C4 = 0.386, 0.21, 0.63
RO_D1, RO_D2, RO_D3, RO_D4 = 0.25, -0.1043, 0.1035, -0.03620000000000023
RO_A21 = 1.544
RO_A31, RO_A32 = 0.9466785280815826, 0.2557011698983284
RO_A41, RO_A42, RO_A43 = 3.314825187068521, 2.896124015972201, 0.9986419139977817
RO_A51, RO_A52 = 1.221224509226641, 6.019134481288629
RO_A53, RO_A54 = 12.53708332932087, -0.6878860361058950
RO_C21 = -5.6688
RO_C31, RO_C32 = -2.430093356833875, -0.2063599157091915
RO_C41, RO_C42, RO_C43 = -0.1073529058151375, -9.594562251023355, -20.47028614809616
RO_C51, RO_C52 = 7.496443313967647, -10.24680431464352
RO_C53, RO_C54 = -33.99990352819905, 11.70890893206160
RO_C61, RO_C62, RO_C63 = 8.083246795921522, -7.981132988064893, -31.52159432874371
RO_C64, RO_C65 = 16.31930543123136, -6.058818238834054
RO_H21, RO_H22, RO_H23 = 10.12623508344586, -7.487995877610167, -34.80091861555747
RO_H24, RO_H25 = -7.992771707568823, 1.025137723295662
RO_H31, RO_H32, RO_H33 = -0.6762803392801253, 6.087714651680015, 16.43084320892478
RO_H34, RO_H35 = 24.76722511418386, -6.594389125716872


@njit(cache=True)
def ros_step(m, t, y, h, p, f0, J, dfdt, W, piv, k, y_new, err, ytmp, ftmp):
    """One RODAS4 step of size h from (t, y), given f0 = f(t, y), J = ∂f/∂y and dfdt = ∂f/∂t
    there. Fills the stage increments k (6 × n), y_new and the embedded error err. Returns 0 on
    success, 1 if I/(γh) - J is singular, 2 if the result is not finite."""
    n = n_states(m)
    inv_gh = 1.0 / (RO_GAMMA * h)
    if factor_w(m, J, inv_gh, W, piv) != 0:
        return 1
    inv_h = 1.0 / h
    for i in range(n):
        k[0, i] = f0[i] + h * RO_D1 * dfdt[i]
    lu_solve(m, W, piv, k[0])

    for i in range(n):
        ytmp[i] = y[i] + RO_A21 * k[0, i]
    model_rhs(m, t + RO_C2 * h, ytmp, p, ftmp)
    for i in range(n):
        k[1, i] = ftmp[i] + inv_h * RO_C21 * k[0, i] + h * RO_D2 * dfdt[i]
    lu_solve(m, W, piv, k[1])

    for i in range(n):
        ytmp[i] = y[i] + RO_A31 * k[0, i] + RO_A32 * k[1, i]
    model_rhs(m, t + RO_C3 * h, ytmp, p, ftmp)
    for i in range(n):
        k[2, i] = (ftmp[i] + inv_h * (RO_C31 * k[0, i] + RO_C32 * k[1, i])
                   + h * RO_D3 * dfdt[i])
    lu_solve(m, W, piv, k[2])

    for i in range(n):
        ytmp[i] = y[i] + RO_A41 * k[0, i] + RO_A42 * k[1, i] + RO_A43 * k[2, i]
    model_rhs(m, t + RO_C4 * h, ytmp, p, ftmp)
    for i in range(n):
        k[3, i] = (ftmp[i] + inv_h * (RO_C41 * k[0, i] + RO_C42 * k[1, i] + RO_C43 * k[2, i])
                   + h * RO_D4 * dfdt[i])
    lu_solve(m, W, piv, k[3])

    for i in range(n):
        ytmp[i] = (y[i] + RO_A51 * k[0, i] + RO_A52 * k[1, i] + RO_A53 * k[2, i]
                   + RO_A54 * k[3, i])
    model_rhs(m, t + h, ytmp, p, ftmp)
    for i in range(n):
        k[4, i] = ftmp[i] + inv_h * (RO_C51 * k[0, i] + RO_C52 * k[1, i] + RO_C53 * k[2, i]
                                     + RO_C54 * k[3, i])
    lu_solve(m, W, piv, k[4])

    # Stiffly accurate: the embedded (3rd-order) solution is the 5th stage point.
    for i in range(n):
        ytmp[i] += k[4, i]
    model_rhs(m, t + h, ytmp, p, ftmp)
    for i in range(n):
        k[5, i] = ftmp[i] + inv_h * (RO_C61 * k[0, i] + RO_C62 * k[1, i] + RO_C63 * k[2, i]
                                     + RO_C64 * k[3, i] + RO_C65 * k[4, i])
    lu_solve(m, W, piv, k[5])
    for i in range(n):
        y_new[i] = ytmp[i] + k[5, i]
        err[i] = k[5, i]
        if not (math.isfinite(y_new[i]) and math.isfinite(err[i])):
            return 2
    return 0


@njit(cache=True)
def ros_dense_prepare(m, h, y, y_new, k, dense):
    """Coefficients of RODAS4's 3rd-order continuous extension."""
    for i in range(n_states(m)):
        dense[0, i] = (RO_H21 * k[0, i] + RO_H22 * k[1, i] + RO_H23 * k[2, i]
                       + RO_H24 * k[3, i] + RO_H25 * k[4, i])
        dense[1, i] = (RO_H31 * k[0, i] + RO_H32 * k[1, i] + RO_H33 * k[2, i]
                       + RO_H34 * k[3, i] + RO_H35 * k[4, i])


@njit(cache=True)
def ros_dense_eval(m, theta, y, y_new, dense, out):
    """Continuous solution at t + θh of the last step."""
    theta1 = 1.0 - theta
    for i in range(n_states(m)):
        out[i] = theta1 * y[i] + theta * (y_new[i] + theta1 * (dense[0, i]
                                                                + theta * dense[1, i]))
