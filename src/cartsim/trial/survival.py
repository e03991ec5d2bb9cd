"""Survival between arms, with lifelines: Kaplan-Meier per arm with its 95% band and landmark
rates, and each arm against the control by the log-rank test and the Cox hazard ratio; over
replicate trials, the power of the primary comparison.

Times are counted for the trial's analysis population (``spec.POPULATIONS``): every enrolled
patient from enrolment (apheresis) by intention to treat, or the infused from infusion (in a
comparator arm without CAR-T, every patient from enrolment, when its therapy starts); a patient
without the event is censored at the end of follow-up.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from cartsim.journey.endpoints import DAYS_PER_MONTH, death_day, progression_or_death_day
from cartsim.journey.outcome import PatientOutcome

LANDMARK_MONTHS = (6, 12, 24)
BAND_STEP_MONTHS = 1.0
"""The Kaplan-Meier curve is reported at whole months (and at each landmark)."""
EVENT_DAY = {"pfs": progression_or_death_day, "os": death_day}


def in_population(o: PatientOutcome, population: str) -> bool:
    """Whether a patient counts in the analysis population (a failed simulation never)."""
    if o.failed:
        return False
    if population == "itt":
        return True
    if not o.treated:  # a comparator arm's patients are treated from enrolment
        return False
    return population == "infused" or not (o.product is not None and o.product.out_of_spec)


def time_to_event(o: PatientOutcome, endpoint: str, population: str,
                  follow_up_days: float) -> tuple[float, bool] | None:
    """(days from the population's origin to the event or to censoring, whether the event
    was seen), or None for a patient outside the population."""
    if not in_population(o, population):
        return None
    origin = o.apheresis_day if population == "itt" and o.apheresis_day is not None else 0.0
    if follow_up_days < origin:  # the data cut came before this patient's origin
        return None
    event = EVENT_DAY[endpoint](o)
    seen = event <= follow_up_days
    return max((event if seen else follow_up_days) - origin, 0.0), bool(seen)


@dataclass
class SurvivalSample:
    """Times to one event of one group of patients."""

    days: list[float] = field(default_factory=list)
    seen: list[bool] = field(default_factory=list)

    def add(self, time: tuple[float, bool] | None) -> None:
        if time is not None:
            self.days.append(time[0])
            self.seen.append(time[1])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.days, dtype=float), np.asarray(self.seen, dtype=bool)

    def __len__(self) -> int:
        return len(self.days)


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier estimate: survival with its 95% band at ``months``, the median (None:
    not reached) with its interval, and landmark rates with their intervals."""

    months: list[float]
    survival: list[float]
    low: list[float]
    high: list[float]
    median_months: float | None
    median_ci95: tuple[float | None, float | None]
    landmarks: dict[str, tuple[float, float, float]]
    n: int
    events: int

    def as_dict(self) -> dict:
        return {"n": self.n, "events": self.events, "median_months": self.median_months,
                "median_ci95": list(self.median_ci95),
                "landmarks": {k: {"value": v, "ci95": [lo, hi]}
                              for k, (v, lo, hi) in self.landmarks.items()},
                "months": self.months, "survival": self.survival, "ci95_low": self.low,
                "ci95_high": self.high}


def kaplan_meier(sample: SurvivalSample, horizon_days: float) -> KaplanMeier | None:
    """The Kaplan-Meier estimate of ``sample`` up to ``horizon_days`` (None: no patients)."""
    if not len(sample):
        return None
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    days, seen = sample.arrays()
    fitter = KaplanMeierFitter().fit(days / DAYS_PER_MONTH, seen)
    horizon = horizon_days / DAYS_PER_MONTH
    months = np.arange(0.0, horizon + 1e-9, BAND_STEP_MONTHS)
    band = fitter.confidence_interval_survival_function_

    def at(times) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Survival and its band at ``times``: step functions, each the value at the last
        event time at or before."""
        where = np.searchsorted(band.index.to_numpy(), times, side="right") - 1
        return (fitter.survival_function_at_times(times).to_numpy(),
                *(band.iloc[:, k].to_numpy()[np.maximum(where, 0)] for k in (0, 1)))

    curve, low, high = at(months)
    landmarks = {}
    for m in LANDMARK_MONTHS:
        if m <= horizon + 1e-9:
            landmarks[f"{m}mo"] = tuple(round(float(v[0]), 4) for v in at([float(m)]))
    median_low, median_high = median_survival_times(fitter.confidence_interval_).to_numpy()[0]
    return KaplanMeier([round(float(m), 2) for m in months], _rounded(curve), _rounded(low),
                       _rounded(high), _finite(fitter.median_survival_time_),
                       (_finite(median_low), _finite(median_high)), landmarks, len(sample),
                       int(seen.sum()))


def _rounded(values) -> list[float]:
    return [round(float(v), 4) for v in values]


def _finite(value: float) -> float | None:
    return round(float(value), 2) if math.isfinite(value) else None


@dataclass(frozen=True)
class Comparison:
    """An arm against the control on one time to event: the Cox hazard ratio (arm / control)
    with its 95% interval and Wald p, and the log-rank p (None where no test is possible:
    no events, or a Cox model that does not converge)."""

    control: str
    arm: str
    endpoint: str
    n_control: int
    n_arm: int
    events_control: int
    events_arm: int
    hazard_ratio: float | None
    hazard_ratio_ci95: tuple[float | None, float | None]
    cox_p: float | None
    logrank_p: float | None

    def significant(self, alpha: float) -> bool:
        return self.logrank_p is not None and self.logrank_p < alpha

    def as_dict(self) -> dict:
        return {"control": self.control, "arm": self.arm, "endpoint": self.endpoint,
                "n_control": self.n_control, "n_arm": self.n_arm,
                "events_control": self.events_control, "events_arm": self.events_arm,
                "hazard_ratio": self.hazard_ratio,
                "hazard_ratio_ci95": list(self.hazard_ratio_ci95), "cox_p": self.cox_p,
                "logrank_p": self.logrank_p}


def compare(control: str, arm: str, endpoint: str, control_sample: SurvivalSample,
            arm_sample: SurvivalSample) -> Comparison:
    """Log-rank test and Cox proportional-hazards ratio of ``arm`` against ``control``."""
    days_c, seen_c = control_sample.arrays()
    days_a, seen_a = arm_sample.arrays()
    events = int(seen_c.sum()), int(seen_a.sum())
    hazard_ratio, interval, cox_p, logrank_p = None, (None, None), None, None
    if len(days_c) and len(days_a) and sum(events) > 0:
        from lifelines.statistics import logrank_test

        logrank_p = _finite_p(logrank_test(days_c, days_a, seen_c, seen_a).p_value)
        hazard_ratio, interval, cox_p = _cox(days_c, seen_c, days_a, seen_a)
    return Comparison(control, arm, endpoint, len(days_c), len(days_a), *events, hazard_ratio,
                      interval, cox_p, logrank_p)


def _cox(days_c, seen_c, days_a, seen_a) -> tuple:
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    frame = pd.DataFrame({"days": np.concatenate([days_c, days_a]),
                          "event": np.concatenate([seen_c, seen_a]),
                          "arm": np.r_[np.zeros(len(days_c)), np.ones(len(days_a))]})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines warns on separation; reported as None
            fitter = CoxPHFitter().fit(frame, "days", "event")
    except (ConvergenceError, np.linalg.LinAlgError, ValueError):
        return None, (None, None), None
    summary = fitter.summary.loc["arm"]
    values = [float(summary[k]) for k in ("exp(coef)", "exp(coef) lower 95%",
                                          "exp(coef) upper 95%")]
    if not all(math.isfinite(v) and v < 1e6 for v in values):
        return None, (None, None), None
    return (round(values[0], 4), (round(values[1], 4), round(values[2], 4)),
            _finite_p(float(summary["p"])))


def _finite_p(p: float) -> float | None:
    return float(p) if math.isfinite(p) else None


def power(comparisons: list[Comparison], alpha: float) -> float | None:
    """The share of replicate trials whose comparison is significant at ``alpha``."""
    if not comparisons:
        return None
    return sum(c.significant(alpha) for c in comparisons) / len(comparisons)
