"""A trial's summary, computed from its store one chunk at a time: per arm the cohort
endpoints with their 95% intervals beside published values and the Kaplan-Meier curves;
between arms the log-rank test and Cox hazard ratio; over replicate trials the power of the
primary comparison and the spread of every secondary endpoint's estimate.

Comparisons pool an arm's replicates (the most precise estimate of the design's effect);
power asks of each replicate alone whether it shows the difference.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np

from cartsim.journey.outcome import PatientOutcome
from cartsim.journey.tally import Tally
from cartsim.trial.spec import SURVIVAL_ENDPOINTS, TrialSpec
from cartsim.trial.store import TrialStore
from cartsim.trial.survival import SurvivalSample, compare, kaplan_meier, power, time_to_event

OUTCOME_COLUMN = "outcome_json"
"""The whole outcome of a patient as JSON, from which endpoints are computed."""
ENDPOINT_COLUMNS = ("arm", "endpoint", "value", "ci_low", "ci_high", "n", "published",
                    "within_ci")
COMPARISON_COLUMNS = ("control", "arm", "endpoint", "hazard_ratio", "hr_ci_low", "hr_ci_high",
                      "cox_p", "logrank_p", "n_control", "n_arm", "events_control",
                      "events_arm", "power")


class _Collected:
    """What the summary needs, filled patient by patient: a tally per arm (and per arm and
    replicate when there are several) and survival samples per arm, replicate and endpoint."""

    def __init__(self, spec: TrialSpec):
        self.spec = spec
        self.sizes = spec.arm_patients()
        self.arms = {arm.name: arm for arm in spec.arms}
        self.tallies = {arm.name: Tally(arm.protocol) for arm in spec.arms}
        self.replicate_tallies: dict[tuple[str, int], Tally] = {}
        self.samples: dict[tuple[str, int, str], SurvivalSample] = defaultdict(SurvivalSample)

    def add(self, arm: str, patient: int, replicate: int, outcome: PatientOutcome) -> None:
        """Count an arm's ``patient`` as the analysis sees it (up to the data cut)."""
        until = self.spec.analysed_until(outcome, patient, self.sizes[arm],
                                         self.arms[arm].protocol["follow_up_days"])
        if until is None:  # enrolled after the data cut
            return
        self.tallies[arm].add([outcome], until)
        if self.spec.replicates > 1:
            key = (arm, replicate)
            if key not in self.replicate_tallies:
                self.replicate_tallies[key] = Tally(self.arms[arm].protocol)
            self.replicate_tallies[key].add([outcome], until)
        for endpoint in SURVIVAL_ENDPOINTS:
            self.samples[(arm, replicate, endpoint)].add(
                time_to_event(outcome, endpoint, self.spec.population, until))

    def pooled(self, arm: str, endpoint: str) -> SurvivalSample:
        pooled = SurvivalSample()
        for replicate in range(self.spec.replicates):
            sample = self.samples[(arm, replicate, endpoint)]
            pooled.days += sample.days
            pooled.seen += sample.seen
        return pooled


def summary_from_store(spec: TrialSpec, store: TrialStore) -> dict:
    """The trial's summary from the patients in the store."""
    collected = _Collected(spec)
    for arm, table in store.chunks(["patient", "replicate", OUTCOME_COLUMN]):
        for patient, replicate, text in zip(table.column("patient").to_pylist(),
                                            table.column("replicate").to_pylist(),
                                            table.column(OUTCOME_COLUMN).to_pylist(),
                                            strict=True):
            collected.add(arm, patient, replicate, PatientOutcome.from_json(json.loads(text)))
    control = spec.control
    others = [a.name for a in spec.arms if a.name != control]
    summary = {
        "trial": spec.name, "population": spec.population, "replicates": spec.replicates,
        "patients_per_replicate": collected.sizes,
        "primary": {"endpoint": spec.primary, "control": control, "alpha": spec.alpha},
        "accrual_months": spec.accrual_months, "data_cut_months": spec.data_cut_months,
        "arms": {}, "comparisons": []}
    for arm in spec.arms:
        entry = collected.tallies[arm.name].summary()
        entry["kaplan_meier"] = {}
        for endpoint in SURVIVAL_ENDPOINTS:
            km = kaplan_meier(collected.pooled(arm.name, endpoint),
                              arm.protocol["follow_up_days"])
            entry["kaplan_meier"][endpoint] = None if km is None else km.as_dict()
        summary["arms"][arm.name] = entry
    for name in others:
        for endpoint in SURVIVAL_ENDPOINTS:
            comparison = compare(control, name, endpoint, collected.pooled(control, endpoint),
                                 collected.pooled(name, endpoint)).as_dict()
            if spec.replicates > 1 and endpoint == spec.primary:
                comparison["power"] = power([compare(
                    control, name, endpoint, collected.samples[(control, r, endpoint)],
                    collected.samples[(name, r, endpoint)]) for r in range(spec.replicates)],
                    spec.alpha)
            summary["comparisons"].append(comparison)
    if spec.replicates > 1:
        summary["replicate_estimates"] = _replicate_estimates(spec, collected)
    return summary


def _replicate_estimates(spec: TrialSpec, collected: _Collected) -> dict:
    """Each arm's secondary endpoints over the replicates: mean, SD and the 2.5-97.5%
    range of the per-replicate estimates (rates as fractions, medians in their unit)."""
    estimates: dict = {}
    for arm in spec.arms:
        values: dict[str, list[float]] = defaultdict(list)
        for replicate in range(spec.replicates):
            tally = collected.replicate_tallies.get((arm.name, replicate))
            endpoints = {} if tally is None else tally.summary()["endpoints"]
            for name in spec.secondary:
                value = _estimate(endpoints.get(name))
                if value is not None:
                    values[name].append(value)
        estimates[arm.name] = {
            name: {"replicates": len(v), "mean": round(float(np.mean(v)), 4),
                   "sd": round(float(np.std(v, ddof=1)), 4) if len(v) > 1 else None,
                   "p2_5": round(float(np.percentile(v, 2.5)), 4),
                   "p97_5": round(float(np.percentile(v, 97.5)), 4)}
            for name, v in values.items()}
    return estimates


def _estimate(entry: dict | None) -> float | None:
    """An endpoint's estimate: a rate as a fraction, a median in its unit."""
    if entry is None:
        return None
    if "unit" in entry:
        return entry["value"]
    return None if entry["pct"] is None else entry["pct"] / 100


def endpoint_rows(summary: dict) -> list[dict]:
    """One row per arm and endpoint: rates as fractions, the published value and whether it
    lies inside the simulated 95% interval; medians in their unit (months or days; value
    None: not reached)."""
    rows = []
    for arm, arm_summary in summary["arms"].items():
        for name, entry in arm_summary["endpoints"].items():
            if "unit" in entry:
                if entry["n"]:
                    low, high = entry["ci95"] or (None, None)
                    rows.append({"arm": arm, "endpoint": name, "value": entry["value"],
                                 "ci_low": low, "ci_high": high, "n": entry["n"],
                                 "published": None, "within_ci": None})
                continue
            if entry["pct"] is None:
                continue
            low, high = (round(v / 100, 4) for v in entry["ci95_pct"])
            published = entry.get("published", {}).get("value")
            published = None if published is None else round(published / 100, 4)
            rows.append({"arm": arm, "endpoint": name, "value": round(entry["pct"] / 100, 4),
                         "ci_low": low, "ci_high": high, "n": entry["n"],
                         "published": published,
                         "within_ci": None if published is None else low <= published <= high})
    return rows


def comparison_rows(summary: dict) -> list[dict]:
    """One row per arm compared with the control and time to event."""
    return [{"control": c["control"], "arm": c["arm"], "endpoint": c["endpoint"],
             "hazard_ratio": c["hazard_ratio"], "hr_ci_low": c["hazard_ratio_ci95"][0],
             "hr_ci_high": c["hazard_ratio_ci95"][1], "cox_p": _p(c["cox_p"]),
             "logrank_p": _p(c["logrank_p"]), "n_control": c["n_control"], "n_arm": c["n_arm"],
             "events_control": c["events_control"], "events_arm": c["events_arm"],
             "power": c.get("power")} for c in summary["comparisons"]]


def _p(p: float | None) -> float | None:
    return None if p is None else float(f"{p:.4g}")
