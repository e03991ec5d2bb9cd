# Scalar rounding functions for generated model code. NumPy's ufuncs on scalars (np.floor,
# np.sign) do not compile for the GPU target, and math.floor returns an integer, so these keep
# floats: every float of magnitude >= 2^52 is already an integer (and math.floor of it could
# overflow int64), and NaN passes through.
# Template text.
import math

from cartsim.codegen.jit import njit

INTEGRAL_ABOVE = 4503599627370496.0  # 2^52


@njit(cache=True)
def model_floor(x):
    return float(math.floor(x)) if abs(x) < INTEGRAL_ABOVE else x


@njit(cache=True)
def model_ceil(x):
    return float(math.ceil(x)) if abs(x) < INTEGRAL_ABOVE else x


@njit(cache=True)
def model_sign(x):
    """-1, 0 or 1 as a float (0 keeps its sign bit; NaN stays NaN)."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x
