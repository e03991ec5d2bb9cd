"""Cellular-kinetic summaries of a CAR-T trajectory, as Stein 2019 reports them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KineticSummary:
    """Tmax (days), Cmax, and log-linear decline rates (1/day) of the early contraction
    (``alpha``, Tmax+5 to Tmax+20 days) and of the slow phase (``beta``, days 200 to 365); and
    Stein 2019's F_B, the ``slow_fraction`` of Cmax that declines at beta: the slow phase
    extrapolated back to Tmax, over Cmax. Rates and fraction are NaN where a level is 0 (or
    the trajectory ends before day 365)."""

    tmax: float
    cmax: float
    alpha: float
    beta: float
    slow_fraction: float


def _value_at(time: np.ndarray, level: np.ndarray, day: float) -> float:
    return float(np.interp(day, time, level))


def kinetic_summary(time, level) -> KineticSummary:
    """Summarise a blood CAR-T level (cells/uL or copies/ug) sampled at ``time`` (days);
    the trajectory must reach day 365 for ``beta``."""
    time = np.asarray(time, dtype=float)
    level = np.asarray(level, dtype=float)
    after = time >= 0
    i = int(np.argmax(np.where(after, level, -np.inf)))
    tmax, cmax = float(time[i]), float(level[i])

    def rate(start: float, stop: float) -> float:
        a, b = _value_at(time, level, start), _value_at(time, level, stop)
        return float(np.log(a / b) / (stop - start)) if a > 0 and b > 0 else float("nan")

    beta = rate(200.0, 365.0) if time[-1] >= 365 else float("nan")
    slow_fraction = (_value_at(time, level, 200.0) * np.exp(beta * (200.0 - tmax)) / cmax
                     if np.isfinite(beta) else float("nan"))
    return KineticSummary(tmax, cmax, rate(tmax + 5, tmax + 20), beta, float(slow_fraction))


def onset_day(time, values, threshold: float) -> float:
    """First day (from infusion) when ``values`` reaches ``threshold``; nan if never."""
    time = np.asarray(time, dtype=float)
    hit = (np.asarray(values) >= threshold) & (time >= 0)
    return float(time[np.argmax(hit)]) if hit.any() else float("nan")


def engrafted_and_total(states) -> tuple[np.ndarray, np.ndarray]:
    """Engrafted CAR-T cells (memory and effector) and all CAR-T cells (with those not yet
    engrafted and the exhausted) from a run's ``states`` (one patient's rows or many's)."""
    engrafted = states["Cm"] + states["Ce"]
    return engrafted, engrafted + states["Cd"] + states["Cx"]


def fold_expansion(time, total, engrafted) -> float:
    """Peak CAR-T number after infusion over the engrafted number at infusion (Stein 2019's
    fold expansion from the baseline level); ``time`` must include the infusion time 0."""
    time = np.asarray(time, dtype=float)
    after = time >= 0
    start = float(np.asarray(engrafted)[np.argmax(after)])
    return float(np.max(np.asarray(total)[after]) / start) if start > 0 else float("nan")
