"""Print sympy expressions as scalar Python that numba compiles for the CPU and the GPU."""

from __future__ import annotations

import sympy as sp
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.pycode import PythonCodePrinter

from cartsim.errors import ModelError
from cartsim.model.expressions import RandomDraw

_DRAW_CALLS = {
    "rand_uniform": "rng_uniform",
    "rand_normal": "rng_normal",
    "rand_exponential": "rng_exponential",
    "rand_poisson": "rng_poisson",
    "rand_binomial": "rng_binomial",
    "rand_negbinomial": "rng_negbinomial",
}


class KernelPrinter(PythonCodePrinter):
    """Python printer with numba-friendly choices: float literals, math.* functions (no NumPy
    ufuncs: they do not compile for the GPU; rounding goes through the kernel's model_floor,
    model_ceil, model_sign), NaN instead of None for an unmatched Piecewise, random draws from
    the patient's stream."""

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Rational(self, expr):
        return f"({int(expr.p)}.0/{int(expr.q)}.0)"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.as_base_exp()
        if exponent.is_Integer and 1 < int(exponent) <= 4:
            factor = f"({self._print(base)})"
            return "(" + "*".join([factor] * int(exponent)) + ")"
        if exponent == -1:
            return f"(1.0/({self._print(base)}))"
        if exponent == sp.Rational(1, 2):
            return f"math.sqrt({self._print(base)})"
        return f"(({self._print(base)})**({self._print(exponent)}))"

    def _print_Piecewise(self, expr):
        text = "math.nan"
        for value, condition in reversed(expr.args):
            if condition == sp.true:
                text = f"({self._print(value)})"
            else:
                text = f"(({self._print(value)}) if ({self._print(condition)}) else {text})"
        return text

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    def _print_Min(self, expr):
        return self._fold("min", expr.args)

    def _print_Max(self, expr):
        return self._fold("max", expr.args)

    def _fold(self, name, args):
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"{name}({text}, {self._print(arg)})"
        return text

    def _print_floor(self, expr):
        return f"model_floor({self._print(expr.args[0])})"

    def _print_ceiling(self, expr):
        return f"model_ceil({self._print(expr.args[0])})"

    def _print_sign(self, expr):
        return f"model_sign({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        arg = self._print(expr.args[0])
        return f"(1.0 if ({arg}) > 0 else (0.5 if ({arg}) == 0 else 0.0))"

    def _print_Function(self, expr):
        if isinstance(expr, RandomDraw):
            args = ", ".join(self._print(a) for a in expr.args[1:])
            call = _DRAW_CALLS[type(expr).__name__]
            return f"{call}(rng{', ' if args else ''}{args})"
        return super()._print_Function(expr)


def print_expr(expr: sp.Basic) -> str:
    """Source text for one expression; a function the kernel cannot compute (the polygamma
    that differentiating a factorial of a state gives) is a :class:`ModelError`."""
    try:
        return KernelPrinter({"fully_qualified_modules": True, "strict": True}).doprint(expr)
    except PrintMethodNotImplementedError as error:
        missing = str(error).splitlines()[0].rsplit(": ", 1)[-1]
        raise ModelError(f"cannot be compiled: the kernel has no '{missing}'") from None
