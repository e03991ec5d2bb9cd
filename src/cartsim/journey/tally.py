"""A cohort's endpoints tallied as its patients' outcomes arrive, chunk by chunk.

Each proportion endpoint keeps two counts (patients with the event, patients in its
denominator), each time to event two numbers per patient and each described duration one,
so a trial of a million patients is summarised from its store without holding its outcomes:
the summary is the same however the outcomes were cut into chunks.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable

from cartsim.journey.endpoints import ENDPOINTS, EndpointContext, month_days
from cartsim.journey.medians import (
    DESCRIBED,
    TIMES_TO_EVENT,
    described_median,
    kaplan_meier_median,
)
from cartsim.journey.outcome import PatientOutcome

FAILED = "simulation_failed"
"""Summary key of the patients whose journey could not be simulated, with the reasons."""
WILSON_Z = 1.959964
"""The 97.5th percentile of the standard normal distribution (95% two-sided intervals)."""
LEGACY_MEDIANS = ("crs_onset_median_day", "pfs_median_months", "dor_median_months")
"""Medians that summaries also give at their top level (as before they were endpoints)."""


def wilson_interval(events: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (good at small n and at 0% or 100%)."""
    if n == 0:
        return (math.nan, math.nan)
    p = events / n
    z2 = WILSON_Z ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = WILSON_Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


class Tally:
    """Endpoint counts and times of the outcomes added so far (patients in order)."""

    def __init__(self, protocol: dict):
        self.protocol = protocol
        self.ctx = EndpointContext.of(protocol)
        follow_up = protocol["follow_up_days"]
        self.proportions = [e for e in ENDPOINTS
                            if e.months is None or follow_up >= month_days(e.months)]
        self.counts = {e.name: [0, 0] for e in self.proportions}   # events, n
        self.times = {e.name: (array("d"), array("d")) for e in TIMES_TO_EVENT}
        self.described = {e.name: array("d") for e in DESCRIBED}
        self.patients = 0
        self.failed: list[int] = []
        self.reasons: Counter = Counter()
        self.not_infused: Counter = Counter()

    def add(self, outcomes: Iterable[PatientOutcome],
            followed_until: float | None = None) -> Tally:
        """Count the next patients' outcomes, each seen up to day ``followed_until`` from
        infusion (a trial's data cut; None: the whole follow-up): a time-point endpoint
        counts a patient followed that long, a time to event is censored there."""
        cut = 0.0 if followed_until is None else self.ctx.follow_up_days - followed_until
        for o in outcomes:
            patient, self.patients = self.patients, self.patients + 1
            if o.failed:
                self.failed.append(patient)
                self.reasons[o.simulation_failed] += 1
                continue
            if not o.treated:
                self.not_infused[o.not_infused_reason] += 1
            for endpoint in self.proportions:
                if endpoint.months is not None and cut > 0 and (
                        followed_until < month_days(endpoint.months)):
                    continue
                flag = endpoint.counts(o, self.ctx)
                if flag is not None:
                    count = self.counts[endpoint.name]
                    count[0] += bool(flag)
                    count[1] += 1
            for endpoint in TIMES_TO_EVENT:
                pair = endpoint.times(o, self.ctx)
                if pair is not None and pair[1] - cut >= 0:  # its origin is before the cut
                    durations, follow_ups = self.times[endpoint.name]
                    durations.append(pair[0])
                    follow_ups.append(pair[1] - cut)
            for endpoint in DESCRIBED:
                value = endpoint.of(o, self.ctx)
                if value is not None:
                    self.described[endpoint.name].append(value)
        return self

    def summary(self) -> dict:
        """Endpoint proportions with 95% intervals, medians, not-infused reasons, and the
        scenario's published values beside the simulated ones. Patients whose simulation
        failed are in no endpoint; each endpoint and the summary say how many they are."""
        endpoints = {}
        for endpoint in self.proportions:
            events, n = self.counts[endpoint.name]
            low, high = wilson_interval(events, n)
            entry = endpoints[endpoint.name] = {
                "description": endpoint.description, "events": events, "n": n,
                "pct": round(100 * events / n, 1) if n else None,
                "ci95_pct": [round(100 * low, 1), round(100 * high, 1)] if n else None}
            if self.failed:
                entry[FAILED] = len(self.failed)
            published = self.protocol["published"].get(endpoint.name)
            if published is not None:
                entry["published"] = _with_interval(published)
        for endpoint in TIMES_TO_EVENT:
            durations, follow_ups = self.times[endpoint.name]
            endpoints[endpoint.name] = kaplan_meier_median(
                list(durations), list(follow_ups)).as_dict(endpoint.description)
        for endpoint in DESCRIBED:
            endpoints[endpoint.name] = described_median(
                list(self.described[endpoint.name]), endpoint.unit).as_dict(endpoint.description)
        return {
            "scenario": self.protocol["name"],
            "patients": self.patients,
            FAILED: {"patients": self.failed, "reasons": dict(self.reasons)},
            "crs_scale": self.protocol["monitoring"]["crs_scale"],
            "endpoints": endpoints,
            "not_infused_reasons": dict(self.not_infused),
            # the medians' values again, where scripts written before the endpoints read them
            **{name: endpoints[name]["value"] for name in LEGACY_MEDIANS},
        }


def _with_interval(published: dict) -> dict:
    """A published value with the 95% Wilson interval of its own trial (``ci95_pct``) when
    the scenario gives the patients it is a share of (``n``)."""
    if "n" not in published:
        return published
    n = published["n"]
    low, high = wilson_interval(round(published["value"] * n / 100), n)
    return {**published, "ci95_pct": [round(100 * low, 1), round(100 * high, 1)]}
