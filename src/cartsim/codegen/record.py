"""The model record of the generic kernel: a model's sizes, tables and function addresses as
two arrays the engine passes at run time.

Layout of ``ints`` (int64): the sizes (:data:`~cartsim.codegen.tables.SIZE_NAMES`), the start
of each integer table (:data:`~cartsim.codegen.tables.INT_TABLES`), the address of each model
function (:data:`FUNCTION_NAMES`), then the tables' values. ``floats`` holds the extinction
levels. :func:`record_accessors` writes the generic module's accessors from this layout (the
slot numbers, one function per size and table, one call through an address per model
function), so the kernel and this file cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cartsim.codegen.tables import (
    BOOLEAN_TABLES,
    CLOCK_IS_TIME,
    INT_TABLES,
    NOT_CLOCKED,
    SIZE_NAMES,
    ModelTables,
)

_CALLS = {  # model function → (its arguments after m, passed on as they are; the pointer call)
    "model_init": ("p, y0", "call_arrays"),
    "model_rhs": ("t, y, p, out", "call_time_arrays"),
    "model_jac": ("t, y, p, J", "call_time_arrays"),
    "model_tgrad": ("t, y, p, out", "call_time_arrays"),
    "model_obs": ("t, y, p, out", "call_time_arrays"),
    "model_event_g": ("t, y, p, g", "call_time_arrays"),
    "model_event_times": ("p, times", "call_arrays"),
    "model_apply": ("k, t, y, p, streams", "call_event"),
}
FUNCTION_NAMES = tuple(_CALLS)
"""The native model functions, in the record's order (their symbol names too)."""

_SLOTS = (*SIZE_NAMES, *INT_TABLES, *(name.upper() for name in FUNCTION_NAMES))
_SLOT = {name: i for i, name in enumerate(_SLOTS)}


def record_accessors() -> str:
    """Python source of the generic module's view of a model: the kernel reads every size,
    table and model function through these, from the record ``m`` = (ints, floats)."""
    lines = ["from cartsim.solvers.pointer_calls import call_arrays, call_event, "
             "call_time_arrays"]
    lines += [f"R_{name} = {slot}" for name, slot in _SLOT.items()]
    lines += [f"NOT_CLOCKED = {NOT_CLOCKED}", f"CLOCK_IS_TIME = {CLOCK_IS_TIME}"]
    for name in SIZE_NAMES:
        lines += _function(f"{name.lower()}(m)", f"return m[0][R_{name}]")
    for name in INT_TABLES:
        flag = " != 0" if name in BOOLEAN_TABLES else ""
        lines += _function(f"{name.lower()}(m, i)", f"return m[0][m[0][R_{name}] + i]{flag}")
    lines += _function("extinction_level(m, i)", "return m[1][i]")
    for name, (arguments, call) in _CALLS.items():
        lines += _function(f"{name}(m, {arguments})",
                           f"{call}(m[0][R_{name.upper()}], {arguments})")
    return "\n".join(lines) + "\n"


def _function(signature: str, body: str) -> list[str]:
    return ["", "", "@njit(cache=True)", f"def {signature}:", f"    {body}"]


def build_record(tables: ModelTables,
                 addresses: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ints, floats) for a model with these tables and native functions."""
    ints = [0] * len(_SLOTS)
    for name in SIZE_NAMES:
        ints[_SLOT[name]] = tables.sizes[name]
    for name in FUNCTION_NAMES:
        ints[_SLOT[name.upper()]] = addresses[name]
    for name in INT_TABLES:
        ints[_SLOT[name]] = len(ints)
        ints.extend(tables.ints[name])
    floats = np.array(tables.extinction_level or [0.0], dtype=np.float64)
    return np.array(ints, dtype=np.int64), floats
