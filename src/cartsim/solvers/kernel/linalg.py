# Dense LU factorisation with partial pivoting for the small per-patient systems of the
# Rosenbrock method (n up to a few dozen states). Template text, assembled into each model module;
# loops run to the module constant N_STATES so the compiler knows their length.
# ruff: noqa: F821
import math

from cartsim.codegen.jit import njit


@njit(cache=True)
def lu_factor(a, piv):
    """Factor a in place: L below the diagonal (unit diagonal implied), U above it and the
    reciprocals of U's diagonal on it (each solve then multiplies instead of dividing).
    Returns 0 on success, 1 if a pivot is zero or not finite (singular matrix)."""
    n = N_STATES
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
def lu_solve(a, piv, b):
    """Solve (the factored) a·x = b in place on b."""
    n = N_STATES
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
