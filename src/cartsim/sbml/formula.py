"""sympy → SBML Level 3 infix formula text (parsed into MathML by libsbml.parseL3Formula).

Natural logarithms print as ``ln`` (the L3 parser may read ``log`` as base 10); min and max print
as ``piecewise`` so the export stays within what every SBML simulator evaluates.
"""

from __future__ import annotations

import sympy as sp

from cartsim.errors import SBMLError
from cartsim.model.expressions import TIME, RandomDraw

_FUNCTION_NAMES = {sp.exp: "exp", sp.Abs: "abs", sp.floor: "floor", sp.ceiling: "ceil",
                   sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.tanh: "tanh",
                   sp.sinh: "sinh", sp.cosh: "cosh", sp.asin: "asin", sp.acos: "acos",
                   sp.atan: "atan"}
_RELATIONS = {sp.StrictLessThan: "lt", sp.LessThan: "leq", sp.StrictGreaterThan: "gt",
              sp.GreaterThan: "geq", sp.Eq: "eq", sp.Ne: "neq"}


def formula(expr: sp.Basic) -> str:
    """Infix text for ``expr``; raises :class:`SBMLError` for what SBML cannot express."""
    if expr == TIME:
        return "time"
    if isinstance(expr, sp.Symbol):
        return expr.name
    if expr in (sp.true, sp.false):
        return "true" if expr == sp.true else "false"
    if expr is sp.pi:
        return "pi"
    if expr is sp.E:
        return "exponentiale"
    if expr.is_Number:
        return repr(float(expr))
    if isinstance(expr, RandomDraw):
        raise SBMLError("random draws in event actions cannot be exported to SBML")
    args = expr.args
    if isinstance(expr, sp.Add):
        return "(" + " + ".join(formula(a) for a in args) + ")"
    if isinstance(expr, sp.Mul):
        return "(" + " * ".join(formula(a) for a in args) + ")"
    if isinstance(expr, sp.Pow):
        return f"pow({formula(args[0])}, {formula(args[1])})"
    if isinstance(expr, sp.log):
        return f"ln({formula(args[0])})"
    if isinstance(expr, sp.Min | sp.Max):
        first, rest = args[0], args[1:]
        other = type(expr)(*rest) if len(rest) > 1 else rest[0]
        test = "lt" if isinstance(expr, sp.Min) else "gt"
        a, b = formula(first), formula(other)
        return f"piecewise({a}, {test}({a}, {b}), {b})"
    if isinstance(expr, sp.Piecewise):
        parts = []
        for value, condition in args:
            if condition == sp.true:
                parts.append(formula(value))
                break
            parts += [formula(value), formula(condition)]
        return f"piecewise({', '.join(parts)})"
    if type(expr) in _RELATIONS:
        return f"{_RELATIONS[type(expr)]}({formula(args[0])}, {formula(args[1])})"
    if isinstance(expr, sp.And | sp.Or):
        name = "and" if isinstance(expr, sp.And) else "or"
        return f"{name}({', '.join(formula(a) for a in args)})"
    if isinstance(expr, sp.Not):
        return f"not({formula(args[0])})"
    if expr.func in _FUNCTION_NAMES:
        return f"{_FUNCTION_NAMES[expr.func]}({', '.join(formula(a) for a in args)})"
    raise SBMLError(f"cannot express '{expr}' in SBML")
