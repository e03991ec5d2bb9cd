"""Input checks shared by the clinical rules: impossible values raise ``ClinicalValueError``.

Each check names the argument that failed, so the CLI can report it as the matching flag.
The numeric checks accept scalars and numpy arrays alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cartsim.errors import CartsimError


class ClinicalValueError(CartsimError):
    """An impossible clinical input: ``field`` is the argument, ``shown`` the bad value and
    ``allowed`` says what would be accepted."""

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.shown = f"{value:g}" if isinstance(value, float | np.floating) else str(value)
        self.allowed = allowed
        super().__init__(f"{field} = {self.shown}: {allowed}")


def number(field: str, value, low: float = 0.0, high: float = np.inf, *, unit: str = "",
           above: bool = False) -> np.ndarray:
    """``value`` as a float array, each element finite and in [low, high] ((low, high] when
    ``above``)."""
    values = np.asarray(value, dtype=float)
    bad = ~np.isfinite(values) | (values > high) | ((values <= low) if above else (values < low))
    if bad.any():
        lower = f"> {low:g}" if above else f">= {low:g}"
        allowed = f"must be {lower}" if high == np.inf else f"must be from {low:g} to {high:g}"
        raise ClinicalValueError(field, float(values[bad].flat[0]), f"{allowed} {unit}".strip())
    return values


def integer(field: str, value, low: int, high: int) -> np.ndarray:
    """``value`` as an int array, each element a whole number from ``low`` to ``high``."""
    values = np.asarray(value)
    as_float = values.astype(float)
    bad = (as_float != np.round(as_float)) | (as_float < low) | (as_float > high)
    if bad.any():
        raise ClinicalValueError(field, values[bad].flat[0],
                                 f"must be a whole number from {low} to {high}")
    return values.astype(int)


def choice(field: str, value: str, table: Mapping[str, tuple[int, str]],
           scale: str) -> tuple[int, str]:
    """The (level, description) of ``value`` in a scale's vocabulary ``table``."""
    if value not in table:
        raise ClinicalValueError(field, value, f"must be one of {', '.join(table)} ({scale})")
    return table[value]


def reached(value: float, threshold: float) -> bool:
    """``value >= threshold``, forgiving the rounding of a computed ratio at the boundary."""
    return value >= threshold - 1e-9 * max(1.0, abs(threshold))
