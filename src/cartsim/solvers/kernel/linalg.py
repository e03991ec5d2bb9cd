# LU factorisation of the per-patient Rosenbrock matrix W = I/(γh) - J. First along the model's
# sparse schedule (generated constants LU_ORDER, LU_ROW_START, LU_ROWS, LU_COL_START, LU_COLS:
# a fill-reducing order and the structural nonzeros after fill, cartsim/codegen/sparsity.py),
# without pivoting; if a pivot is zero, tiny (below 1e-12 of the identity part 1/(γh)) or not
# finite, W is rebuilt and factored densely with partial pivoting. piv[0] == -1 marks a sparse
# factorisation for the solves. Template text, assembled into each model module; loops run to
# the module constant n_states(m) so the compiler knows their length.
# ruff: noqa: F821
import math

from cartsim.codegen.jit import njit


@njit(cache=True)
def build_w(m, J, inv_gh, W):
    """W = I/(γh) - J."""
    for i in range(n_states(m)):
        for j in range(n_states(m)):
            W[i, j] = -J[i, j]
        W[i, i] += inv_gh


@njit(cache=True)
def sparse_lu_factor(m, a, tiny):
    """Factor a in place along the sparse schedule (same storage as lu_factor); returns 1 if
    a pivot's magnitude is not above ``tiny``."""
    for s in range(n_states(m)):
        k = lu_order(m, s)
        pivot = a[k, k]
        if not (abs(pivot) > tiny and math.isfinite(pivot)):
            return 1
        inv = 1.0 / pivot
        a[k, k] = inv
        for r in range(lu_row_start(m, s), lu_row_start(m, s + 1)):
            i = lu_rows(m, r)
            factor = a[i, k] * inv
            a[i, k] = factor
            if factor != 0.0:
                for c in range(lu_col_start(m, s), lu_col_start(m, s + 1)):
                    j = lu_cols(m, c)
                    a[i, j] -= factor * a[k, j]
    return 0


@njit(cache=True)
def factor_w(m, J, inv_gh, W, piv):
    """Build and factor W = I/(γh) - J: sparse schedule first, dense pivoting as fallback.
    Returns 0 on success, 1 if W is singular."""
    build_w(m, J, inv_gh, W)
    if sparse_lu_factor(m, W, 1e-12 * inv_gh) == 0:
        piv[0] = -1
        return 0
    build_w(m, J, inv_gh, W)
    return lu_factor(m, W, piv)


@njit(cache=True)
def sparse_lu_solve(m, a, b):
    """Solve with a sparse factorisation, in place on b."""
    for s in range(n_states(m)):
        k = lu_order(m, s)
        bk = b[k]
        if bk != 0.0:
            for r in range(lu_row_start(m, s), lu_row_start(m, s + 1)):
                i = lu_rows(m, r)
                b[i] -= a[i, k] * bk
    for s in range(n_states(m) - 1, -1, -1):
        k = lu_order(m, s)
        acc = b[k]
        for c in range(lu_col_start(m, s), lu_col_start(m, s + 1)):
            j = lu_cols(m, c)
            acc -= a[k, j] * b[j]
        b[k] = acc * a[k, k]


@njit(cache=True)
def lu_factor(m, a, piv):
    """Factor a in place: L below the diagonal (unit diagonal implied), U above it and the
    reciprocals of U's diagonal on it (each solve then multiplies instead of dividing).
    Returns 0 on success, 1 if a pivot is zero or not finite (singular matrix)."""
    n = n_states(m)
    for col in range(n):
        best = col
        size = abs(a[col, col])
        for row in range(col + 1, n):
            if abs(a[row, col]) > size:
                size = abs(a[row, col])
                best = row
        piv[col] = best
        if not (size > 0.0 and math.isfinite(size)):
            return 1
        if best != col:
            for j in range(n):
                a[col, j], a[best, j] = a[best, j], a[col, j]
        inv = 1.0 / a[col, col]
        a[col, col] = inv
        for row in range(col + 1, n):
            factor = a[row, col] * inv
            a[row, col] = factor
            if factor != 0.0:
                for j in range(col + 1, n):
                    a[row, j] -= factor * a[col, j]
    return 0


@njit(cache=True)
def lu_solve(m, a, piv, b):
    """Solve (the factored) a·x = b in place on b."""
    n = n_states(m)
    if piv[0] < 0:
        sparse_lu_solve(m, a, b)
        return
    for i in range(n):
        j = piv[i]
        if j != i:
            b[i], b[j] = b[j], b[i]
    for i in range(n):
        acc = b[i]
        for j in range(i):
            acc -= a[i, j] * b[j]
        b[i] = acc
    for i in range(n - 1, -1, -1):
        acc = b[i]
        for j in range(i + 1, n):
            acc -= a[i, j] * b[j]
        b[i] = acc * a[i, i]
