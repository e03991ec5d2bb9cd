"""Dimensional analysis of model equations with pint.

Every state, parameter and observable declares a unit string ("cell", "1/day", "pg/mL").
:func:`unit_of` walks a sympy expression and returns its unit, raising :class:`UnitError` where
terms of a sum, sides of a comparison or branches of a piecewise disagree, or where a function
such as ``exp`` gets a dimensioned argument. Bare numbers adapt to their neighbours in sums (the
usual convention for literals like ``1 - T/K``) and are dimensionless factors in products.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

import sympy as sp

from cartsim.errors import UnitError
from cartsim.model.expressions import RandomDraw

if TYPE_CHECKING:  # pint itself is imported on first use: a quarter of a second of start-up
    import pint

WILDCARD = None
"""Unit of a bare number: it takes the unit of whatever it is added to."""


@functools.cache
def registry() -> pint.UnitRegistry:
    """The unit registry, with counting units for cells and transgene copies."""
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("cell = [cell] = _ = cells")
    ureg.define("copy = [copies] = _ = copies")
    ureg.define("IU = [international_unit]")
    ureg.define("Gcell = 1e9 * cell")
    ureg.define("AU = [arbitrary_unit]")
    return ureg


@functools.cache
def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string; "" and "1" mean dimensionless."""
    text = (text or "").strip()
    if text in ("", "1", "dimensionless"):
        return registry().dimensionless
    try:
        return registry().parse_units(text)
    except Exception as exc:
        raise UnitError(f"cannot parse unit {text!r}: {exc}") from None


def same_unit(a: pint.Unit, b: pint.Unit) -> bool:
    """True when ``a`` and ``b`` are the same unit (same dimension and scale)."""
    from pint import DimensionalityError

    ureg = registry()
    try:
        factor = ureg.Quantity(1.0, a).to(b).magnitude
    except DimensionalityError:
        return False
    return abs(factor - 1.0) < 1e-12


def _fmt(unit) -> str:
    return "dimensionless" if unit is WILDCARD or unit.dimensionless else f"{unit:~}"


def _agree(units: list, expr: sp.Basic, what: str):
    """All non-wildcard units must be equal; returns the common unit (or WILDCARD)."""
    fixed = [u for u in units if u is not WILDCARD]
    if not fixed:
        return WILDCARD
    first = fixed[0]
    for other in fixed[1:]:
        if not same_unit(first, other):
            raise UnitError(f"{what} in '{expr}' mix units {_fmt(first)} and {_fmt(other)}")
    return first


def _dimensionless(unit, expr: sp.Basic, what: str) -> None:
    if unit is not WILDCARD and not unit.dimensionless:
        raise UnitError(f"{what} of '{expr}' must be dimensionless, got {_fmt(unit)}")


def unit_of(expr: sp.Basic, units: Mapping[str, pint.Unit]):
    """The unit of ``expr`` given the unit of each symbol (WILDCARD for a bare number)."""
    ureg = registry()
    if isinstance(expr, sp.Symbol):
        try:
            return units[expr.name]
        except KeyError:
            raise UnitError(f"no unit known for symbol '{expr.name}'") from None
    if expr.is_Number or expr in (sp.pi, sp.E, sp.true, sp.false):
        return WILDCARD
    if isinstance(expr, RandomDraw):
        for arg in expr.args[1:]:
            unit_of(arg, units)
        return WILDCARD
    args = [unit_of(a, units) for a in expr.args] if not isinstance(expr, sp.Piecewise) else None
    if isinstance(expr, sp.Add):
        return _agree(args, expr, "terms")
    if isinstance(expr, sp.Mul):
        result = ureg.dimensionless
        for unit in args:
            if unit is not WILDCARD:
                result = result * unit
        return result
    if isinstance(expr, sp.Pow):
        base, exponent = args
        _dimensionless(exponent, expr, "exponent")
        if base is WILDCARD or base.dimensionless:
            return base
        if not expr.exp.is_Number:
            raise UnitError(f"'{expr}' raises a dimensioned base to a symbolic power")
        return base ** float(expr.exp)
    if isinstance(expr, sp.Piecewise):
        values, conditions = [], []
        for value, condition in expr.args:
            values.append(unit_of(value, units))
            conditions.append(unit_of(condition, units))
        return _agree(values, expr, "branches")
    if isinstance(expr, sp.core.relational.Relational):
        _agree(args, expr, "sides")
        return WILDCARD
    if isinstance(expr, sp.logic.boolalg.BooleanFunction):
        return WILDCARD
    if isinstance(expr, sp.Min | sp.Max):
        return _agree(args, expr, "arguments")
    if isinstance(expr, sp.Abs | sp.floor | sp.ceiling | sp.sign):
        return args[0] if not isinstance(expr, sp.sign) else WILDCARD
    if isinstance(expr, sp.Function):
        for unit in args:
            _dimensionless(unit, expr, "argument")
        return ureg.dimensionless
    raise UnitError(f"cannot determine the unit of '{expr}' ({type(expr).__name__})")


def check_unit(expr: sp.Basic, units: Mapping[str, pint.Unit], expected: pint.Unit, what: str):
    """Raise :class:`UnitError` unless ``expr`` has unit ``expected`` (a bare number passes)."""
    try:
        found = unit_of(expr, units)
    except UnitError as exc:
        raise UnitError(f"{what}: {exc.problem}") from None
    if found is not WILDCARD and not same_unit(found, expected):
        raise UnitError(f"{what} has unit {_fmt(found)}, expected {_fmt(expected)}")
