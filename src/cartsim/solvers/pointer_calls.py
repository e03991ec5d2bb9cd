"""Calls through a function's machine address from numba-compiled code.

The generic kernel (see :mod:`cartsim.codegen.record`) is compiled once for every model: it
finds the model's functions, compiled separately to native code (:mod:`cartsim.codegen.native`),
by their addresses in the model record and calls them with the data pointers of its arrays.
Each intrinsic below emits that indirect call inline; numba caches code that uses them like
any other.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_DOUBLE = ir.DoubleType()
_INT64 = ir.IntType(64)
_POINTER = _DOUBLE.as_pointer()


def _data_pointers(context, builder, array_types, values) -> list:
    return [context.make_array(ty)(context, builder, value).data
            for ty, value in zip(array_types, values, strict=True)]


@intrinsic
def call_arrays(typingctx, address, a, b):
    """``f(double *a, double *b)`` at ``address`` (model_init, model_event_times)."""
    def codegen(context, builder, signature, args):
        function_type = ir.FunctionType(ir.VoidType(), [_POINTER, _POINTER])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        builder.call(function, _data_pointers(context, builder, signature.args[1:], args[1:]))
        return context.get_dummy_value()
    return types.void(address, a, b), codegen


@intrinsic
def call_time_arrays(typingctx, address, t, y, p, out):
    """``f(double t, double *y, double *p, double *out)`` at ``address`` (model_rhs,
    model_jac, model_tgrad, model_obs, model_event_g)."""
    def codegen(context, builder, signature, args):
        function_type = ir.FunctionType(ir.VoidType(), [_DOUBLE, _POINTER, _POINTER, _POINTER])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        builder.call(function, [args[1], *_data_pointers(context, builder, signature.args[2:],
                                                            args[2:])])
        return context.get_dummy_value()
    return types.void(address, t, y, p, out), codegen


@intrinsic
def call_event(typingctx, address, k, t, y, p, streams):
    """``f(int64 k, double t, double *y, double *p, uint64 *streams)`` at ``address``
    (model_apply; ``streams`` the events' random states, one row each)."""
    def codegen(context, builder, signature, args):
        function_type = ir.FunctionType(ir.VoidType(), [_INT64, _DOUBLE, _POINTER, _POINTER,
                                                        _INT64.as_pointer()])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        builder.call(function, [args[1], args[2],
                                *_data_pointers(context, builder, signature.args[3:], args[3:])])
        return context.get_dummy_value()
    return types.void(address, k, t, y, p, streams), codegen
