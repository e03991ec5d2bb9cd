"""Small helpers shared by the therapy submodels: cited parameters and unit conversions."""

from __future__ import annotations

from cartsim.model import Parameter


def par(name: str, value: float, unit: str, source: str, description: str) -> Parameter:
    """A parameter whose ``source`` starts with a citation key (``"stein2019: Table 1"``) or
    ``"chosen: why"`` where no source exists (see :mod:`cartsim.presets.citations`)."""
    return Parameter(name, float(value), unit, source=source, description=description)


GCELL_PER_CELL = par(
    "gcell_per_cell", 1e-9, "Gcell/cell", "definition: 1 Gcell = 1e9 cells",
    "converts a cell count to the model's cell unit (Gcell)",
)
"""Doses and thresholds are given in cells; populations are integrated in Gcell (1e9 cells)."""
