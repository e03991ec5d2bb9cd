"""Published blood CAR-T kinetics of a product, for comparing simulated kinetics with them:
counts in cells/uL over time (the unit of ``cart_cells_per_ul``) and the typical peak of the
transgene level in copies/ug genomic DNA (``cart_copies_per_ug``), with its between-patient
spread. Both are calibration targets of the products (``presets/products.py``).
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class PublishedPeak:
    """A population PK model's typical transgene peak (Cmax, copies/ug genomic DNA) and its
    day (Tmax), with the between-patient variances of their logs (omega^2)."""

    cmax_copies_per_ug: float
    tmax_days: float
    omega2_cmax: float
    omega2_tmax: float
    source: str

    def range_90(self, typical: float, omega2: float) -> tuple[float, float]:
        """The 5th-95th percentile range of a log-normal value around its typical one."""
        spread = math.exp(1.6449 * math.sqrt(omega2))
        return typical / spread, typical * spread


PUBLISHED_PEAKS = {
    "tisa-cel": PublishedPeak(
        24000.0, 9.3, 0.65, 0.38,
        "Stein 2019 (CPT:PSP 8:285) Table 1, ELIANA and ENSIGN, n=90: typical Cmax and Tmax "
        "of the population model, omega^2 0.65 and 0.38"),
}
"""By product preset name: the transgene peak the population PK of its trials gives."""
