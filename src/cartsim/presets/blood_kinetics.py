"""Published blood CAR-T counts of a product, for comparing simulated kinetics with them.

Only counts in cells/uL are kept here (the unit of ``cart_cells_per_ul``); transgene levels in
copies/ug (Stein 2019's tisa-cel Cmax and Tmax) are the calibration targets named in
``presets/products.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedCounts:
    """Median blood CAR-T counts (cells/uL) with their interquartile ranges on given days
    after infusion, in ``patients`` patients at the most."""

    days: tuple[float, ...]
    median: tuple[float, ...]
    quartiles: tuple[tuple[float, float], ...]
    patients: int
    source: str


PUBLISHED_COUNTS = {
    "axi-cel": PublishedCounts(
        (7.0, 14.0, 28.0, 90.0), (27.5, 9.1, 2.1, 0.1),
        ((16.5, 57.5), (3.8, 31.1), (0.6, 6.1), (0.01, 0.4)), 23,
        "kimmel2021 Table 1 (obs_CAR_count_day7..day90): Moffitt ZUMA-1 cohort, n=19-23"),
}
"""By product preset name."""
