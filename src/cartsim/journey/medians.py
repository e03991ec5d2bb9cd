"""The median endpoints a cohort or trial reports: times to an event from Kaplan-Meier estimates
(lifelines), and medians of durations every patient of a group has.

A time to event (overall survival, progression-free survival, duration of response) is each
patient's time from its origin (the infusion, or the response) to the event, censored at the
end of the trial's follow-up for patients without it; its median is the Kaplan-Meier median,
in months, with its 95% confidence interval, or None when fewer than half had the event. A
described duration (CRS onset day, days with CRS, vein-to-vein time) is the plain median over
the patients it concerns, in days.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cartsim.journey.endpoints import (
    DAYS_PER_MONTH,
    EndpointContext,
    death_day,
    progression_or_death_day,
    responded,
)
from cartsim.journey.outcome import GradeSummary, PatientOutcome


@dataclass(frozen=True)
class TimeToEvent:
    """``times(outcome, context)``: (days from origin to the event or inf, days of follow-up
    from the origin), or None when the patient is outside the endpoint."""

    name: str
    description: str
    times: Callable[[PatientOutcome, EndpointContext], tuple[float, float] | None]


@dataclass(frozen=True)
class Described:
    """``of(outcome, context)``: the patient's value in ``unit`` (a duration in days unless
    said), or None when the patient has none."""

    name: str
    description: str
    of: Callable[[PatientOutcome, EndpointContext], float | None]
    unit: str = "days"


@dataclass(frozen=True)
class Median:
    """A median with its 95% interval (None: not reached, or no patients), over ``n``
    patients of whom ``events`` had the event."""

    value: float | None
    ci95: tuple[float | None, float | None] | None
    n: int
    events: int | None  # None: a described duration, not a time to event
    unit: str

    def as_dict(self, description: str) -> dict:
        return {"description": description, "value": self.value, "unit": self.unit,
                "ci95": None if self.ci95 is None else list(self.ci95), "n": self.n,
                "events": self.events}


def _from_infusion(day_of: Callable[[PatientOutcome], float]) -> Callable:
    def times(o: PatientOutcome, ctx: EndpointContext) -> tuple[float, float] | None:
        return (day_of(o), ctx.follow_up_days) if o.treated else None
    return times


def _response_duration(o: PatientOutcome, ctx: EndpointContext) -> tuple[float, float] | None:
    start = o.first_line.response_day
    if not o.treated or start is None or not responded(o, ctx):
        return None
    return progression_or_death_day(o) - start, ctx.follow_up_days - start


def _crs(o: PatientOutcome, ctx: EndpointContext) -> GradeSummary | None:
    """The first line's CRS on the scenario's scale, None without CRS."""
    summary = o.first_line.toxicity[ctx.crs_scale] if o.treated else None
    return None if summary is None or summary.onset_day is None else summary


def _crs_onset(o: PatientOutcome, ctx: EndpointContext) -> float | None:
    crs = _crs(o, ctx)
    return None if crs is None else crs.onset_day


def _crs_duration(o: PatientOutcome, ctx: EndpointContext) -> float | None:
    crs = _crs(o, ctx)
    return None if crs is None else crs.duration_days


TIMES_TO_EVENT = (
    TimeToEvent("os_median_months", "overall survival from infusion, Kaplan-Meier median, of "
                "infused", _from_infusion(death_day)),
    TimeToEvent("pfs_median_months", "progression-free survival from infusion, Kaplan-Meier "
                "median, of infused", _from_infusion(progression_or_death_day)),
    TimeToEvent("dor_median_months", "duration of response (first response to progression or "
                "death), Kaplan-Meier median, of responders", _response_duration),
)
DESCRIBED = (
    Described("crs_onset_median_day", "day of CRS onset (scenario's scale), median of patients "
              "with CRS", _crs_onset),
    Described("crs_duration_median_days", "days at CRS grade >= 1 (scenario's scale), median "
              "of patients with CRS", _crs_duration),
    Described("vein_to_vein_median_days", "apheresis to infusion in days, median of infused",
              lambda o, ctx: o.vein_to_vein_days if o.infused else None),
    Described("cart_peak_median_cells_per_ul", "blood CAR-T peak after infusion (Cmax), "
              "median of infused", lambda o, ctx: o.first_line.cart_peak_cells_per_ul
              if o.infused else None, unit="cells/uL"),
    Described("cart_tmax_median_days", "day of the blood CAR-T peak (Tmax), median of infused",
              lambda o, ctx: o.first_line.cart_peak_day if o.infused else None),
)
MEDIAN_NAMES = tuple(e.name for e in (*TIMES_TO_EVENT, *DESCRIBED))


def kaplan_meier_median(durations: list[float], follow_ups: list[float]) -> Median:
    """The Kaplan-Meier median in months of times to an event (inf: none), each patient
    censored at its follow-up, with lifelines' 95% interval (exponential Greenwood)."""
    durations_a, follow_a = np.asarray(durations, dtype=float), np.asarray(follow_ups, float)
    if durations_a.size == 0:
        return Median(None, None, 0, 0, "months")
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    observed = durations_a <= follow_a
    times = np.maximum(np.where(observed, durations_a, follow_a), 0.0)
    fitter = KaplanMeierFitter().fit(times, observed)
    low, high = median_survival_times(fitter.confidence_interval_).to_numpy()[0]
    return Median(_months(fitter.median_survival_time_), (_months(low), _months(high)),
                  int(durations_a.size), int(observed.sum()), "months")


def _months(days: float) -> float | None:
    return None if not math.isfinite(days) else round(float(days) / DAYS_PER_MONTH, 2)


def described_median(values: list[float], unit: str = "days") -> Median:
    if not values:
        return Median(None, None, 0, None, unit)
    return Median(round(float(np.median(values)), 2), None, len(values), None, unit)
