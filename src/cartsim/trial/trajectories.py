"""Patients' trajectories on a chosen time grid, stored beside their outcomes.

A trial may keep, for every patient, chosen observables or states of the therapy model at
chosen days (from infusion). A journey is simulated as one run per treatment line, each on
its grading times (every 6 h during close monitoring, daily after); a trajectory day takes
the line running on it and reads its output there (linearly interpolated between output
times when the day is not one of them). Days outside the journey (before apheresis, after
death or the end of follow-up) are NaN. A patient whose journey could not be simulated has
no trajectory rows (its patient row holds the reason).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cartsim.errors import CartsimError, SimulationError
from cartsim.journey.run import Journey

DEFAULT_VARIABLES = ("tumour_cells", "cart_cells_per_ul", "cart_copies_per_ug", "il6_pg_ml",
                     "crp_mg_l", "ferritin_ng_ml", "temperature_c", "anc_10e9_l",
                     "platelets_10e9_l", "b_cells_per_ul", "igg_g_l")
"""Chosen: what trial reports plot over time (burden, CAR-T kinetics as counts and as transgene
copies, the cytokine storm, counts, B-cell aplasia and IgG)."""
MAX_DAYS = 10_000
"""Most trajectory days per patient (a guard against a grid typed in hours)."""


@dataclass(frozen=True)
class TrajectorySpec:
    """Which ``variables`` (observable or state names) to keep at which ``days``."""

    days: tuple[float, ...]
    variables: tuple[str, ...] = DEFAULT_VARIABLES

    @classmethod
    def parse(cls, days: str, variables: str | None = None) -> TrajectorySpec:
        """From the command line: ``days`` as ``START:STOP:STEP`` (STOP included) or a
        comma-separated list, ``variables`` comma-separated (default
        :data:`DEFAULT_VARIABLES`)."""
        return cls(_parse_days(days), DEFAULT_VARIABLES if variables is None else tuple(
            name.strip() for name in variables.split(",") if name.strip()))

    def checked(self, known: Sequence[str]) -> TrajectorySpec:
        """This spec, or a clear error when a variable is not the model's or the days are not
        increasing."""
        unknown = [name for name in self.variables if name not in known]
        if unknown:
            raise CartsimError(f"unknown trajectory variable(s) {unknown}; choose observables "
                               "or states of the therapy model (listed in docs/model.md)",
                               element="--trajectory-variables")
        if not self.variables:
            raise CartsimError("no trajectory variables given", element="--trajectory-variables")
        days = np.asarray(self.days)
        if days.size == 0 or not np.all(np.isfinite(days)) or np.any(np.diff(days) <= 0):
            raise CartsimError("trajectory days must be finite and increasing",
                               element="--trajectory-days")
        if days.size > MAX_DAYS:
            raise CartsimError(f"{days.size} trajectory days; at most {MAX_DAYS}",
                               element="--trajectory-days")
        return self

    def table(self, first_patient: int,
              journeys: Sequence[Journey | SimulationError]) -> pa.Table:
        """One row per (patient, day) of the simulated journeys, patient numbers from
        ``first_patient``; columns ``patient``, ``day`` and one per variable."""
        patients, blocks = [], []
        for offset, journey in enumerate(journeys):
            if isinstance(journey, Journey):
                patients.append(first_patient + offset)
                blocks.append(self.sample(journey))
        days = np.asarray(self.days, dtype=float)
        values = (np.concatenate(blocks) if blocks
                  else np.empty((0, len(self.variables))))
        columns = {"patient": pa.array(np.repeat(patients, days.size), type=pa.int64()),
                   "day": pa.array(np.tile(days, len(patients)), type=pa.float64())}
        for j, name in enumerate(self.variables):
            columns[name] = pa.array(values[:, j], type=pa.float64())
        return pa.table(columns)

    def sample(self, journey: Journey) -> np.ndarray:
        """The journey's values at the days (days x variables), NaN outside it."""
        days = np.asarray(self.days, dtype=float)
        out = np.full((days.size, len(self.variables)), np.nan)
        for run in journey.runs:  # in line order: a later line wins from its start on
            inside = (days >= run.time[0] - 1e-9) & (days <= run.time[-1] + 1e-9)
            for j, name in enumerate(self.variables):
                out[inside, j] = np.interp(days[inside], run.time, run[name])
        return out


def _parse_days(text: str) -> tuple[float, ...]:
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if not step > 0:
                raise ValueError("STEP must be positive")
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > MAX_DAYS:
                raise ValueError(f"{count} days; at most {MAX_DAYS}")
            return tuple(float(round(start + i * step, 9)) for i in range(max(count, 0)))
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise CartsimError(f"cannot read trajectory days {text!r} ({error}); write "
                           "START:STOP:STEP, e.g. 0:730:7, or a list, e.g. 0,7,14,28",
                           element="--trajectory-days") from None
