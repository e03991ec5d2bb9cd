# Scalar rounding functions for generated model code, equal to np.floor, np.ceil and np.sign
# on every float. NumPy's ufuncs on scalars do not compile for the GPU target, and math.floor
# returns an integer, so these keep floats: every float of magnitude >= 2^52 is already an
# integer (and math.floor of it could overflow int64), NaN and infinities pass through, and a
# zero result keeps the argument's sign, as NumPy's does.
# Template text.
import math

from cartsim.codegen.jit import njit

INTEGRAL_ABOVE = 4503599627370496.0  # 2^52


@njit(cache=True)
def model_floor(x):
    if not abs(x) < INTEGRAL_ABOVE:
        return x
    return math.copysign(float(math.floor(x)), x)


@njit(cache=True)
def model_ceil(x):
    if not abs(x) < INTEGRAL_ABOVE:
        return x
    return math.copysign(float(math.ceil(x)), x)


@njit(cache=True)
def model_sign(x):
    """-1, 0 or 1 as a float (NaN stays NaN)."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    if x == 0.0:
        return 0.0
    return x
