"""Resolved model → its model functions as native code, in milliseconds.

The generic kernel is compiled once for every model (numba, cached on disk); what is left per
model are its eight scalar functions (initial state, right-hand side, Jacobian, ∂f/∂t,
observables, event functions, event times, event actions). They are written here straight
into LLVM IR from the sympy expressions (common subexpressions shared, as in the numba
source of the specialised module) and compiled by llvmlite's MCJIT, about a millisecond per
function of a small model, where numba needs about a second to compile the same functions.
The kernel calls them through their addresses (:mod:`cartsim.solvers.pointer_calls`).

Arithmetic follows the specialised module's printer (:mod:`cartsim.codegen.printer`): the
same powers by repeated multiplication, the same rounding helpers and Python's ``min``,
``max`` and comparison semantics with NaN, and the same two fast-math freedoms
(:mod:`cartsim.codegen.jit`). Random draws in events call the C-callable draws of
:mod:`cartsim.rng.native_draws` with the event's stream, so they follow the same
distributions, but not in the same order as the specialised module's (which evaluates
Python's conditional expressions lazily, where IR selects evaluate both branches): a
stochastic patient differs draw by draw between the kernels. A model with a function this
printer does not know raises :class:`NotNative`; it is then compiled as a specialised module.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from llvmlite import binding as llvm
from llvmlite import ir

from cartsim.codegen.generate import event_values
from cartsim.codegen.record import FUNCTION_NAMES
from cartsim.codegen.tables import ModelTables, time_occurrences
from cartsim.model.expressions import TIME, RandomDraw
from cartsim.model.resolved import ResolvedModel
from cartsim.rng.native_draws import symbol as draw_symbol
from cartsim.rng.philox import RNG_STATE_SIZE

DOUBLE = ir.DoubleType()
INT64 = ir.IntType(64)
BOOL = ir.IntType(1)
POINTER = DOUBLE.as_pointer()
FAST = ("contract", "arcp")
INTEGRAL_ABOVE = 4503599627370496.0  # 2^52, as scalar_math.py

_INTRINSICS = {sp.exp: "llvm.exp", sp.log: "llvm.log", sp.sin: "llvm.sin", sp.cos: "llvm.cos",
               sp.Abs: "llvm.fabs"}
_LIBM = {sp.tan: "tan", sp.asin: "asin", sp.acos: "acos", sp.atan: "atan", sp.sinh: "sinh",
         sp.cosh: "cosh", sp.tanh: "tanh", sp.asinh: "asinh", sp.acosh: "acosh",
         sp.atanh: "atanh", sp.gamma: "tgamma", sp.loggamma: "lgamma", sp.erf: "erf",
         sp.erfc: "erfc"}
_COMPARE = {sp.StrictLessThan: "<", sp.LessThan: "<=", sp.StrictGreaterThan: ">",
            sp.GreaterThan: ">=", sp.Eq: "=="}
_SIGNATURES = {
    "model_init": [POINTER, POINTER],
    "model_event_times": [POINTER, POINTER],
    "model_apply": [INT64, DOUBLE, POINTER, POINTER, INT64.as_pointer()],
    **{name: [DOUBLE, POINTER, POINTER, POINTER]
       for name in ("model_rhs", "model_jac", "model_tgrad", "model_obs", "model_event_g")},
}


class NotNative(Exception):
    """The model needs something the native printer does not cover."""


class _Emitter:
    """Emits sympy expressions as IR values into one basic block; ``load`` gives a model
    symbol's value (a state, a parameter or time)."""

    def __init__(self, module: ir.Module, builder: ir.IRBuilder,
                 load: Callable[[sp.Symbol], ir.Value], stream: ir.Value | None = None):
        self.module = module
        self.builder = builder
        self.load = load
        self.stream = stream  # the random state an event's draws take (in model_apply)
        self.env: dict[sp.Basic, ir.Value] = {}  # values emitted so far, by expression
        self.lets: dict[sp.Symbol, ir.Value] = {}  # an event's let values, by name

    def bind(self, symbol: sp.Basic, value: ir.Value) -> None:
        self.env[symbol] = value

    def let(self, symbol: sp.Symbol, value: ir.Value) -> None:
        """Name an event's let value; what was emitted before may have read the name as a
        model symbol, so it is forgotten."""
        self.lets[symbol] = value
        self.env = dict(self.lets)

    def number(self, expr: sp.Basic) -> ir.Value:
        value = self.emit(expr)
        return self.builder.uitofp(value, DOUBLE) if value.type == BOOL else value

    def truth(self, expr: sp.Basic) -> ir.Value:
        value = self.emit(expr)
        if value.type == BOOL:
            return value
        return self.builder.fcmp_unordered("!=", value, ir.Constant(DOUBLE, 0.0))

    def reduced(self, exprs: list[sp.Basic]) -> list[ir.Value]:
        """The numbers of ``exprs``, their common subexpressions emitted once."""
        temps, reduced = sp.cse([sp.sympify(e) for e in exprs], symbols=_numbered())
        for symbol, value in temps:
            self.bind(symbol, self.emit(value))
        return [self.number(e) for e in reduced]

    def emit(self, expr: sp.Basic) -> ir.Value:
        if expr in self.env:
            return self.env[expr]
        value = self._emit(expr)
        self.env[expr] = value
        return value

    def _emit(self, expr: sp.Basic) -> ir.Value:  # noqa: C901 - one branch per node kind
        b = self.builder
        if isinstance(expr, sp.Symbol):
            return self.load(expr)
        if expr is sp.true or expr is sp.false:
            return ir.Constant(BOOL, int(expr is sp.true))
        if isinstance(expr, RandomDraw):
            return self._draw(expr)
        if expr is sp.zoo:
            raise NotNative(str(expr))
        if isinstance(expr, sp.Rational) and not isinstance(expr, sp.Integer):
            return ir.Constant(DOUBLE, float(expr.p) / float(expr.q))
        if expr.is_Number or isinstance(expr, sp.NumberSymbol):
            return ir.Constant(DOUBLE, float(expr))
        if isinstance(expr, sp.Add | sp.Mul):
            combine = b.fadd if isinstance(expr, sp.Add) else b.fmul
            values = [self.number(a) for a in expr.args]
            return functools.reduce(lambda x, y: combine(x, y, flags=FAST), values)
        if isinstance(expr, sp.Pow):
            return self._power(expr)
        if isinstance(expr, sp.Piecewise):
            value = ir.Constant(DOUBLE, float("nan"))
            for branch, condition in reversed(expr.args):
                if condition is sp.true:
                    value = self.number(branch)
                else:
                    value = b.select(self.truth(condition), self.number(branch), value)
            return value
        if type(expr) in _COMPARE:
            return b.fcmp_ordered(_COMPARE[type(expr)], self.number(expr.lhs),
                                  self.number(expr.rhs))
        if isinstance(expr, sp.Ne):
            return b.fcmp_unordered("!=", self.number(expr.lhs), self.number(expr.rhs))
        if isinstance(expr, sp.And | sp.Or | sp.Xor):
            combine = {sp.And: b.and_, sp.Or: b.or_, sp.Xor: b.xor}[type(expr)]
            return functools.reduce(combine, [self.truth(a) for a in expr.args])
        if isinstance(expr, sp.Not):
            return b.not_(self.truth(expr.args[0]))
        if isinstance(expr, sp.Max | sp.Min):
            # Python's max/min: the first argument unless a later one is strictly beyond it
            beyond = ">" if isinstance(expr, sp.Max) else "<"
            value = self.number(expr.args[0])
            for arg in expr.args[1:]:
                other = self.number(arg)
                value = b.select(b.fcmp_ordered(beyond, other, value), other, value)
            return value
        if isinstance(expr, sp.floor | sp.ceiling):
            x = self.number(expr.args[0])
            rounding = "llvm.floor" if isinstance(expr, sp.floor) else "llvm.ceil"
            rounded = self._call("llvm.copysign", self._call(rounding, x), x)
            small = b.fcmp_ordered("<", self._call("llvm.fabs", x),
                                   ir.Constant(DOUBLE, INTEGRAL_ABOVE))
            return b.select(small, rounded, x)
        if isinstance(expr, sp.sign):
            x = self.number(expr.args[0])
            return self._chain(x, ((">", 0.0, 1.0), ("<", 0.0, -1.0), ("==", 0.0, 0.0)), x)
        if isinstance(expr, sp.Heaviside):
            x = self.number(expr.args[0])
            return self._chain(x, ((">", 0.0, 1.0), ("==", 0.0, 0.5)),
                               ir.Constant(DOUBLE, 0.0))
        if type(expr) in _INTRINSICS:
            return self._call(_INTRINSICS[type(expr)], self.number(expr.args[0]))
        if type(expr) in _LIBM:
            return self._libm(_LIBM[type(expr)], self.number(expr.args[0]))
        if isinstance(expr, sp.atan2):
            return self._libm("atan2", self.number(expr.args[0]), self.number(expr.args[1]))
        raise NotNative(type(expr).__name__)

    def _draw(self, expr: RandomDraw) -> ir.Value:
        """A draw from the event's stream, by the C-callable functions of
        :mod:`cartsim.rng.native_draws` (its first argument only numbers the draw)."""
        if self.stream is None:
            raise NotNative(f"a random draw outside an event: {expr}")
        args = [self.number(a) for a in expr.args[1:]]
        name = draw_symbol(type(expr).__name__)
        function = self.module.globals.get(name) or ir.Function(
            self.module, ir.FunctionType(DOUBLE, [INT64.as_pointer()] + [DOUBLE] * len(args)),
            name=name)
        return self.builder.call(function, [self.stream, *args])

    def _power(self, expr: sp.Pow) -> ir.Value:
        b = self.builder
        base, exponent = expr.as_base_exp()
        if exponent.is_Integer and 1 < int(exponent) <= 4:
            x = self.number(base)
            return functools.reduce(lambda u, v: b.fmul(u, v, flags=FAST),
                                    [x] * int(exponent))
        if exponent == -1:
            return b.fdiv(ir.Constant(DOUBLE, 1.0), self.number(base), flags=FAST)
        if exponent == sp.Rational(1, 2):
            return self._call("llvm.sqrt", self.number(base))
        return self._call("llvm.pow", self.number(base), self.number(exponent))

    def _chain(self, x, cases, otherwise) -> ir.Value:
        """``value if x OP bound else ...`` for each (OP, bound, value), else ``otherwise``."""
        value = otherwise
        for operator, bound, result in reversed(cases):
            test = self.builder.fcmp_ordered(operator, x, ir.Constant(DOUBLE, bound))
            value = self.builder.select(test, ir.Constant(DOUBLE, result), value)
        return value

    def _call(self, intrinsic: str, *args: ir.Value) -> ir.Value:
        function = self.module.declare_intrinsic(
            intrinsic, [DOUBLE], ir.FunctionType(DOUBLE, [DOUBLE] * len(args)))
        return self.builder.call(function, list(args))

    def _libm(self, name: str, *args: ir.Value) -> ir.Value:
        function = self.module.globals.get(name) or ir.Function(
            self.module, ir.FunctionType(DOUBLE, [DOUBLE] * len(args)), name=name)
        return self.builder.call(function, list(args))


def _numbered() -> itertools.count:
    return (sp.Dummy(f"c{i}") for i in itertools.count())


class _Writer:
    """Builds the model's eight functions into one IR module."""

    def __init__(self, resolved: ResolvedModel):
        self.resolved = resolved
        self.module = ir.Module(name=f"cartsim_native_{resolved.name}")
        self.states = {sp.Symbol(s.name): i for i, s in enumerate(resolved.states)}
        self.params = {sp.Symbol(p.name): i for i, p in enumerate(resolved.parameters)}

    def function(self, name: str) -> tuple[ir.IRBuilder, tuple]:
        function = ir.Function(self.module, ir.FunctionType(ir.VoidType(), _SIGNATURES[name]),
                               name=name)
        return ir.IRBuilder(function.append_basic_block("entry")), function.args

    def emitter(self, builder: ir.IRBuilder, t, y, p, stream=None) -> _Emitter:
        def load(symbol: sp.Symbol) -> ir.Value:
            if symbol == TIME and t is not None:
                return t
            if symbol in self.states and y is not None:
                return builder.load(builder.gep(y, [ir.Constant(INT64, self.states[symbol])]))
            if symbol in self.params:
                return builder.load(builder.gep(p, [ir.Constant(INT64, self.params[symbol])]))
            raise NotNative(f"symbol {symbol}")
        return _Emitter(self.module, builder, load, stream)

    @staticmethod
    def store(emitter: _Emitter, targets: list[tuple[ir.Value, int]],
              exprs: list[sp.Basic]) -> None:
        """Store each expression's value at its (array, index)."""
        b = emitter.builder
        for (array, index), value in zip(targets, emitter.reduced(exprs), strict=True):
            b.store(value, b.gep(array, [ir.Constant(INT64, index)]))

    def simple(self, name: str, exprs: list[sp.Basic], indices: list[int] | None = None,
               zero: int = 0) -> None:
        """A function storing ``exprs`` into its output at ``indices`` (0, 1, ... by default),
        after setting its first ``zero`` entries to 0."""
        builder, args = self.function(name)
        t, y, p, out = (None, None, *args) if len(args) == 2 else args
        emitter = self.emitter(builder, t, y, p)
        for i in range(zero):
            builder.store(ir.Constant(DOUBLE, 0.0), builder.gep(out, [ir.Constant(INT64, i)]))
        indices = list(range(len(exprs))) if indices is None else indices
        self.store(emitter, [(out, i) for i in indices], exprs)
        builder.ret_void()

    def apply(self) -> None:
        """model_apply(k, t, y, p, streams): event k's actions, all values from the pre-event
        state, its draws from row k of the random streams."""
        builder, (k, t, y, p, streams) = self.function("model_apply")
        done = builder.append_basic_block("done")
        switch = builder.switch(k, done)
        for index, event in enumerate(self.resolved.events):
            block = builder.append_basic_block(f"event{index}")
            switch.add_case(ir.Constant(INT64, index), block)
            with builder.goto_block(block):
                stream = builder.gep(streams, [ir.Constant(INT64, index * RNG_STATE_SIZE)])
                emitter = self.emitter(builder, t, y, p, stream)
                for symbol, expr in event.values:  # its let values, in order
                    emitter.let(symbol, emitter.reduced([expr])[0])
                targets = [(y if a.target_kind == "state" else p, a.target_index)
                           for a in event.actions]
                self.store(emitter, targets, event_values(self.resolved, event))
                builder.branch(done)
        builder.position_at_end(done)
        builder.ret_void()


def native_ir(resolved: ResolvedModel, tables: ModelTables) -> str:
    """The LLVM IR of ``resolved``'s model functions (raises :class:`NotNative`)."""
    w = _Writer(resolved)
    n = len(resolved.states)
    w.simple("model_init", list(resolved.initial))
    w.simple("model_rhs", list(resolved.rhs))
    jac = resolved.jacobian()
    pairs = tables.jacobian_nonzeros
    w.simple("model_jac", [jac[i, j] for i, j in pairs], [i * n + j for i, j in pairs],
             zero=n * n)
    tgrad = resolved.time_gradient()
    rows = [i for i in range(n) if tgrad[i] != 0]
    w.simple("model_tgrad", [tgrad[i] for i in rows], rows, zero=n)
    w.simple("model_obs", [expr for _, expr in resolved.observables])
    w.simple("model_event_g", [e.condition for e in resolved.state_events])
    w.simple("model_event_times", [time for _, time in time_occurrences(resolved)])
    w.apply()
    return str(w.module)


@dataclass(frozen=True)
class NativeModel:
    """Compiled model functions: their addresses, valid while this object lives."""

    engine: llvm.ExecutionEngine
    addresses: dict[str, int]


@functools.cache
def _prepare_llvm() -> None:
    """Once per process: the native target, and libm's functions for the JIT's linker."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    for name in {*_LIBM.values(), "atan2"}:
        llvm.add_symbol(name, ctypes.cast(getattr(libm, name), ctypes.c_void_p).value)


def _target_machine() -> llvm.TargetMachine:
    """A new target machine: each execution engine owns (and frees) its own."""
    _prepare_llvm()
    return llvm.Target.from_default_triple().create_target_machine(opt=2)


def compile_native(ir_text: str) -> NativeModel:
    """Compile IR from :func:`native_ir` to machine code in this process."""
    if draw_symbol("rand_") in ir_text:  # the draws are compiled only for models with draws
        from cartsim.rng.native_draws import addresses

        for name, address in addresses().items():
            llvm.add_symbol(name, address)
    module = llvm.parse_assembly(ir_text)
    module.verify()
    engine = llvm.create_mcjit_compiler(module, _target_machine())
    engine.finalize_object()
    return NativeModel(engine, {name: engine.get_function_address(name)
                                for name in FUNCTION_NAMES})
