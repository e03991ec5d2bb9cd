"""The random draws of :mod:`cartsim.rng.philox` as C-callable functions, for the native model
code of the generic kernel (:mod:`cartsim.codegen.native`): an event's action calls them by
symbol name with its stream's state, as a specialised module calls ``rng_*`` directly. Each
takes the state (RNG_STATE_SIZE uint64) and the draw's float arguments and returns the draw
as a float. Compiled (or loaded from numba's cache) on first import."""

from __future__ import annotations

from numba import carray, cfunc, types

from cartsim.rng.philox import (
    RNG_STATE_SIZE,
    rng_binomial,
    rng_exponential,
    rng_negbinomial,
    rng_normal,
    rng_poisson,
    rng_uniform,
)

_STATE = types.CPointer(types.uint64)
_F64 = types.float64


@cfunc(_F64(_STATE), cache=True)
def _uniform(state):
    return rng_uniform(carray(state, RNG_STATE_SIZE))


@cfunc(_F64(_STATE), cache=True)
def _normal(state):
    return rng_normal(carray(state, RNG_STATE_SIZE))


@cfunc(_F64(_STATE, _F64), cache=True)
def _exponential(state, rate):
    return rng_exponential(carray(state, RNG_STATE_SIZE), rate)


@cfunc(_F64(_STATE, _F64), cache=True)
def _poisson(state, mean):
    return rng_poisson(carray(state, RNG_STATE_SIZE), mean)


@cfunc(_F64(_STATE, _F64, _F64), cache=True)
def _binomial(state, n, p):
    return rng_binomial(carray(state, RNG_STATE_SIZE), n, p)


@cfunc(_F64(_STATE, _F64, _F64), cache=True)
def _negbinomial(state, k, p):
    return rng_negbinomial(carray(state, RNG_STATE_SIZE), k, p)


DRAWS = {"rand_uniform": _uniform, "rand_normal": _normal, "rand_exponential": _exponential,
         "rand_poisson": _poisson, "rand_binomial": _binomial,
         "rand_negbinomial": _negbinomial}
"""The model language's draw → its C-callable function (symbol ``cartsim_<draw>``)."""


def symbol(draw: str) -> str:
    """The symbol name native code calls ``draw`` by."""
    return f"cartsim_{draw}"


def addresses() -> dict[str, int]:
    """Symbol name → machine address of every draw, for the JIT's linker."""
    return {symbol(name): function.address for name, function in DRAWS.items()}
