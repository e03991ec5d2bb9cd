"""libsbml MathML trees → sympy, walked node by node (no detour through formula strings)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import libsbml
import sympy as sp
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom, BooleanFunction

from cartsim.errors import SBMLError
from cartsim.model.expressions import TIME

AVOGADRO = 6.02214179e23
"""Avogadro's constant as SBML Level 3 defines its ``avogadro`` symbol (1/mol; the CODATA 2006
value the L3V1 and L3V2 specifications give, and the SBML Test Suite expects; SI 2019 fixes
6.02214076e23, 1.7e-7 smaller, outside the suite's tolerances)."""

def _quotient(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """The integer part of a / b, towards zero (SBML Level 3 Version 2 ``quotient``)."""
    return sp.sign(a / b) * sp.floor(sp.Abs(a / b))


_FUNCTIONS: dict[int, Callable] = {
    libsbml.AST_FUNCTION_EXP: sp.exp,
    libsbml.AST_FUNCTION_LN: sp.log,
    libsbml.AST_FUNCTION_ABS: sp.Abs,
    libsbml.AST_FUNCTION_FLOOR: sp.floor,
    libsbml.AST_FUNCTION_CEILING: sp.ceiling,
    libsbml.AST_FUNCTION_SIN: sp.sin,
    libsbml.AST_FUNCTION_COS: sp.cos,
    libsbml.AST_FUNCTION_TAN: sp.tan,
    libsbml.AST_FUNCTION_TANH: sp.tanh,
    libsbml.AST_FUNCTION_SINH: sp.sinh,
    libsbml.AST_FUNCTION_COSH: sp.cosh,
    libsbml.AST_FUNCTION_ARCSIN: sp.asin,
    libsbml.AST_FUNCTION_ARCCOS: sp.acos,
    libsbml.AST_FUNCTION_ARCTAN: sp.atan,
    libsbml.AST_FUNCTION_ARCSINH: sp.asinh,
    libsbml.AST_FUNCTION_ARCCOSH: sp.acosh,
    libsbml.AST_FUNCTION_ARCTANH: sp.atanh,
    # the reciprocal functions through the ones the kernel's math module has
    libsbml.AST_FUNCTION_SEC: lambda x: 1 / sp.cos(x),
    libsbml.AST_FUNCTION_CSC: lambda x: 1 / sp.sin(x),
    libsbml.AST_FUNCTION_COT: lambda x: 1 / sp.tan(x),
    libsbml.AST_FUNCTION_SECH: lambda x: 1 / sp.cosh(x),
    libsbml.AST_FUNCTION_CSCH: lambda x: 1 / sp.sinh(x),
    libsbml.AST_FUNCTION_COTH: lambda x: 1 / sp.tanh(x),
    libsbml.AST_FUNCTION_ARCSEC: lambda x: sp.acos(1 / x),
    libsbml.AST_FUNCTION_ARCCSC: lambda x: sp.asin(1 / x),
    libsbml.AST_FUNCTION_ARCCOT: lambda x: sp.atan(1 / x),
    libsbml.AST_FUNCTION_ARCSECH: lambda x: sp.acosh(1 / x),
    libsbml.AST_FUNCTION_ARCCSCH: lambda x: sp.asinh(1 / x),
    libsbml.AST_FUNCTION_ARCCOTH: lambda x: sp.atanh(1 / x),
    libsbml.AST_FUNCTION_FACTORIAL: lambda x: sp.gamma(x + 1),
    # L3V2: the quotient's integer part (towards zero) and the remainder with a's sign
    libsbml.AST_FUNCTION_QUOTIENT: lambda a, b: _quotient(a, b),
    libsbml.AST_FUNCTION_REM: lambda a, b: a - b * _quotient(a, b),
}

_RELATIONS: dict[int, Callable] = {
    libsbml.AST_RELATIONAL_LT: sp.StrictLessThan,
    libsbml.AST_RELATIONAL_LEQ: sp.LessThan,
    libsbml.AST_RELATIONAL_GT: sp.StrictGreaterThan,
    libsbml.AST_RELATIONAL_GEQ: sp.GreaterThan,
    libsbml.AST_RELATIONAL_EQ: sp.Eq,
    libsbml.AST_RELATIONAL_NEQ: sp.Ne,
}


BOOLEAN_KINDS = (BooleanAtom, BooleanFunction, Relational)
"""What a condition converts to (a sympy Symbol is a Boolean too, but SBML names hold
numbers)."""


def as_number(value: sp.Basic) -> sp.Basic:
    """A boolean used as a number is 1 or 0 (SBML Level 3 Version 2 lets them mix)."""
    return sp.Piecewise((sp.Integer(1), value), (sp.Integer(0), True)) \
        if isinstance(value, BOOLEAN_KINDS) else value


def as_boolean(value: sp.Basic) -> sp.Basic:
    """A number used as a boolean is true unless it is 0 (SBML Level 3 Version 2)."""
    return value if isinstance(value, BOOLEAN_KINDS) else sp.Ne(value, 0)


class MathConverter:
    """Converts ASTs, resolving names through ``names`` (SBML id → cartsim name) and inlining
    function definitions (``functions``: id → (argument names, body AST)). ``rate_of`` turns
    the cartsim name in ``rateOf(x)`` into the symbol standing for x's rate of change."""

    def __init__(self, names: Mapping[str, str], functions: Mapping[str, tuple],
                 rate_of: Callable[[str], sp.Basic], where: str = ""):
        self.names = names
        self.functions = functions
        self.where = where
        self.rate_of = rate_of

    def fail(self, problem: str, element: str) -> SBMLError:
        return SBMLError(problem, file=self.where or None, element=element)

    def convert(self, node, element: str, bound: Mapping[str, sp.Basic] | None = None):
        """sympy expression for ``node``; ``bound`` maps lambda arguments while inlining."""
        if node is None:
            raise self.fail("missing math", element)
        bound = bound or {}
        kind = node.getType()
        kids = [node.getChild(i) for i in range(node.getNumChildren())]

        def args():  # operands of arithmetic, relations and functions: numbers
            return [as_number(self.convert(k, element, bound)) for k in kids]

        def conditions():  # operands of logic: booleans
            return [as_boolean(self.convert(k, element, bound)) for k in kids]

        if kind == libsbml.AST_INTEGER:
            return sp.Integer(node.getInteger())
        if kind in (libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
            return sp.Float(node.getReal())
        if kind == libsbml.AST_NAME:
            name = node.getName()
            if name in bound:
                return bound[name]
            if name not in self.names:
                raise self.fail(f"unknown symbol '{name}'", element)
            return sp.Symbol(self.names[name])
        if kind == libsbml.AST_NAME_TIME:
            return TIME
        if kind == libsbml.AST_NAME_AVOGADRO:
            return sp.Float(AVOGADRO)
        if kind == libsbml.AST_CONSTANT_E:
            return sp.E
        if kind == libsbml.AST_CONSTANT_PI:
            return sp.pi
        if kind == libsbml.AST_CONSTANT_TRUE:
            return sp.true
        if kind == libsbml.AST_CONSTANT_FALSE:
            return sp.false
        if kind == libsbml.AST_PLUS:
            return sp.Add(*args()) if kids else sp.Integer(0)
        if kind == libsbml.AST_TIMES:
            return sp.Mul(*args()) if kids else sp.Integer(1)
        if kind == libsbml.AST_MINUS:
            values = args()
            return -values[0] if len(values) == 1 else values[0] - values[1]
        if kind == libsbml.AST_DIVIDE:
            a, b = args()
            return a / b
        if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            a, b = args()
            return a**b
        if kind == libsbml.AST_FUNCTION_ROOT:
            values = args()
            return values[-1] ** (1 / values[0]) if len(values) == 2 else sp.sqrt(values[0])
        if kind == libsbml.AST_FUNCTION_LOG:
            values = args()
            return sp.log(values[-1], values[0]) if len(values) == 2 else sp.log(values[0], 10)
        if kind in _FUNCTIONS:
            return _FUNCTIONS[kind](*args())
        if kind == libsbml.AST_FUNCTION_MAX:
            return sp.Max(*args())
        if kind == libsbml.AST_FUNCTION_MIN:
            return sp.Min(*args())
        if kind in _RELATIONS:
            values = args()
            relation = _RELATIONS[kind]
            pairs = [relation(a, b) for a, b in zip(values, values[1:], strict=False)]
            return sp.And(*pairs) if len(pairs) > 1 else pairs[0]
        if kind == libsbml.AST_LOGICAL_AND:
            return sp.And(*conditions())
        if kind == libsbml.AST_LOGICAL_OR:
            return sp.Or(*conditions())
        if kind == libsbml.AST_LOGICAL_NOT:
            return sp.Not(*conditions())
        if kind == libsbml.AST_LOGICAL_XOR:
            return sp.Xor(*conditions())
        if kind == libsbml.AST_LOGICAL_IMPLIES:
            a, b = conditions()
            return sp.Or(sp.Not(a), b)
        if kind == libsbml.AST_FUNCTION_PIECEWISE:
            raw = [self.convert(k, element, bound) for k in kids]
            pieces = [(as_number(raw[i]), as_boolean(raw[i + 1]))
                      for i in range(0, len(raw) - 1, 2)]
            otherwise = as_number(raw[-1]) if len(raw) % 2 else sp.nan
            return sp.Piecewise(*pieces, (otherwise, True))
        if kind == libsbml.AST_FUNCTION:  # arguments as given: a function may take booleans
            return self._call(node.getName(), [self.convert(k, element, bound) for k in kids],
                              element)
        if kind == libsbml.AST_FUNCTION_RATE_OF:
            return self._rate_of(kids, element, bound)
        if kind == libsbml.AST_FUNCTION_DELAY:
            raise self.fail("delay() is not supported (cartsim solves ODEs, not DDEs)", element)
        raise self.fail(f"unsupported MathML element '{node.getName() or kind}'", element)

    def _rate_of(self, kids: list, element: str, bound: Mapping[str, sp.Basic]) -> sp.Basic:
        """``rateOf(x)``: x must name a model quantity (after inlining function arguments)."""
        target = self.convert(kids[0], element, bound) if len(kids) == 1 else None
        if not isinstance(target, sp.Symbol) or target == TIME:
            raise self.fail("rateOf() takes one species, compartment or parameter", element)
        return self.rate_of(target.name)

    def _call(self, name: str, values: list, element: str):
        if name not in self.functions:
            raise self.fail(f"unknown function '{name}'", element)
        arg_names, body = self.functions[name]
        if len(arg_names) != len(values):
            raise self.fail(f"function '{name}' takes {len(arg_names)} arguments, "
                            f"got {len(values)}", element)
        return self.convert(body, element, dict(zip(arg_names, values, strict=True)))
