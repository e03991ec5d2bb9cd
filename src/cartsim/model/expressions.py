"""Turn equation text into sympy expressions, refusing any symbol the model does not declare.

Equations are written as text (``"r*T*(1 - T/K)"``) or as sympy expressions. Text is parsed in a
closed namespace: only the model's own names, the time symbol ``t``, a few math functions and the
random draws below are known, so a typo is an error instead of a silent new symbol.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable

import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from cartsim.errors import ModelError

TIME = sp.Symbol("t")
"""The independent variable (model time) in every expression."""

Expr = str | float | int | sp.Expr | sp.logic.boolalg.Boolean


class RandomDraw(sp.Function):
    """A random draw inside an event action; the first argument numbers the draw.

    Each textual call gets its own number so that ``rand_uniform() + rand_uniform()`` stays two
    independent draws instead of being merged by sympy into ``2*rand_uniform()``.
    """

    is_real = True


class rand_uniform(RandomDraw):  # noqa: N801 - names match the text users write
    """Uniform draw on [0, 1)."""


class rand_normal(RandomDraw):  # noqa: N801
    """Standard normal draw."""


class rand_exponential(RandomDraw):  # noqa: N801
    """Exponential draw with the given rate: ``rand_exponential(rate)``."""


class rand_poisson(RandomDraw):  # noqa: N801
    """Poisson count with the given mean: ``rand_poisson(mean)``."""


class rand_binomial(RandomDraw):  # noqa: N801
    """Binomial count: ``rand_binomial(n, p)``."""


class rand_negbinomial(RandomDraw):  # noqa: N801
    """Negative binomial count: failures before ``k`` successes of probability ``p``,
    ``rand_negbinomial(k, p)`` (mean k(1 - p)/p)."""


RANDOM_DRAWS: dict[str, type[RandomDraw]] = {
    cls.__name__: cls
    for cls in (rand_uniform, rand_normal, rand_exponential, rand_poisson, rand_binomial,
                rand_negbinomial)
}


def ifelse(condition, if_true, if_false):
    """``ifelse(cond, a, b)``: a when cond holds, else b (a readable Piecewise)."""
    return sp.Piecewise((if_true, condition), (if_false, True))


MATH_FUNCTIONS: dict[str, object] = {
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "log10": lambda x: sp.log(x, 10),
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "min": sp.Min,
    "Min": sp.Min,
    "max": sp.Max,
    "Max": sp.Max,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": sp.tanh,
    "floor": sp.floor,
    "ceiling": sp.ceiling,
    "Piecewise": sp.Piecewise,
    "ifelse": ifelse,
    "pi": sp.pi,
    "true": sp.true,
    "false": sp.false,
    "True": sp.true,
    "False": sp.false,
}

RESERVED = {"t", *MATH_FUNCTIONS, *RANDOM_DRAWS}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DRAW_CALL = re.compile(r"\b(" + "|".join(RANDOM_DRAWS) + r")\s*\(\s*(\)?)")


def check_name(name: str, what: str) -> None:
    """Names must be identifiers (they become variables in generated code) and not reserved."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ModelError(f"{what} name {name!r} is not a valid identifier")
    if name in RESERVED:
        raise ModelError(f"{what} name {name!r} is reserved (time, math or random function)")
    if name.startswith("_"):
        raise ModelError(f"{what} name {name!r} may not start with an underscore")


def _number_draws(text: str) -> str:
    """Give each draw call in ``text`` a number from the text and the call's position: the
    same text always parses to the same expression (whatever was parsed before in the
    process, so cache keys and docs are stable), and two calls never share a number."""
    position = itertools.count()

    def repl(match: re.Match) -> str:
        digest = hashlib.sha256(f"{text}|{next(position)}".encode()).hexdigest()
        closing = match.group(2)
        return f"{match.group(1)}({int(digest[:8], 16)}{')' if closing else ', '}"

    return _DRAW_CALL.sub(repl, text)


def parse(value: Expr, known: Iterable[str], *, context: str) -> sp.Basic:
    """Parse ``value`` into sympy, allowing only ``known`` names, ``t`` and built-in functions.

    ``context`` names the place the expression comes from, for the error message.
    """
    known = set(known)
    if isinstance(value, bool):
        expr = sp.true if value else sp.false
    elif isinstance(value, int | float):
        expr = sp.Float(value) if isinstance(value, float) else sp.Integer(value)
    elif isinstance(value, sp.Basic):
        expr = value
    elif isinstance(value, str):
        if not value.strip():
            raise ModelError(f"empty expression in {context}")
        namespace = {name: sp.Symbol(name) for name in known}
        namespace["t"] = TIME
        namespace.update(MATH_FUNCTIONS)
        namespace.update(RANDOM_DRAWS)
        global_ns = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational,
                     "Symbol": sp.Symbol, "Function": sp.Function}
        try:
            expr = parse_expr(
                _number_draws(value),
                local_dict=namespace,
                global_dict=global_ns,
                transformations=standard_transformations + (convert_xor,),
            )
        except Exception as exc:  # sympy raises many types for bad syntax
            raise ModelError(f"cannot parse {value!r} in {context}: {exc}") from None
    else:
        raise ModelError(f"{context}: expected an expression, got {type(value).__name__}")
    unknown = sorted(s.name for s in expr.free_symbols if s != TIME and s.name not in known)
    if unknown:
        listing = ", ".join(sorted(known)) or "(none)"
        raise ModelError(
            f"unknown symbol{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"in {context}; known names: {listing}"
        )
    undefined = sorted({f.func.__name__ for f in expr.atoms(sp.core.function.AppliedUndef)})
    if undefined:
        raise ModelError(f"unknown function {', '.join(undefined)} in {context}")
    return expr


def has_random_draw(expr: sp.Basic) -> bool:
    """True when ``expr`` contains a random draw (allowed only in event actions)."""
    return any(isinstance(a, RandomDraw) for a in sp.preorder_traversal(expr))
