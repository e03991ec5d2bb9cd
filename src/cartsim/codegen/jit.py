"""The numba decorator every generated and kernel function uses.

IEEE division (``error_model="numpy"``): x/0 gives inf or nan instead of raising, so a patient
whose equations divide by zero ends with a non-finite status while its neighbours carry on, and
the compiled code skips a zero check on every division.
"""

from numba import njit as _numba_njit


def njit(*args, **options):
    """``numba.njit`` with ``error_model="numpy"`` unless told otherwise."""
    options.setdefault("error_model", "numpy")
    return _numba_njit(*args, **options)
