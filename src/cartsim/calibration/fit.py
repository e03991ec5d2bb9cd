"""Fit shared, product and disease parameters to the training trials' published endpoints.

Every evaluation simulates each trial's scenario as a cohort with the same patients (the
scenario's seed: common random numbers, so the objective is a deterministic function of the
parameters) and scores each published share against the simulated one by the binomial
deviance of the published trial's own n, summed over trials and endpoints: a trial of 155
patients weighs more than one of 37, and an endpoint is missed by how unlikely its published
count is under the simulated rate. scipy's Powell method (bounded, derivative-free: a cohort's
shares move in steps of 1/N) searches the parameters on a log scale.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from cartsim.calibration.store import SHARED, CalibrationFile, ScopedValue, in_scope
from cartsim.errors import CartsimError

TOXICITY_ENDPOINTS = ("crs_any", "crs_grade3plus", "icans_any", "icans_grade3plus",
                      "tocilizumab", "steroids", "steroids_for_crs", "neutropenia_grade3plus",
                      "thrombocytopenia_grade3plus")
"""Endpoints a toxicity horizon (the first weeks after infusion) can score."""


@dataclass(frozen=True)
class FittedParameter:
    """A model parameter to fit within [low, high], for the scenarios of ``scope``."""

    parameter: str
    scope: str
    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> FittedParameter:
        """``[product:NAME:|disease:NAME:]PARAMETER=LOW:HIGH``, e.g. ``ec50_endo=300:1200``
        or ``product:tisa-cel:cytokine_potency=0.2:1``."""
        try:
            target, _, bounds = text.partition("=")
            low, high = (float(b) for b in bounds.split(":"))
            parts = target.split(":")
            scope = SHARED if len(parts) == 1 else ":".join(parts[:2])
            if len(parts) not in (1, 3) or (len(parts) == 3 and parts[0] not in (
                    "product", "disease")):
                raise ValueError("scope must be product:NAME or disease:NAME")
            if not 0 < low < high:
                raise ValueError("bounds must satisfy 0 < LOW < HIGH")
            return cls(parts[-1], scope, low, high)
        except ValueError as error:
            raise CartsimError(f"cannot read {text!r} ({error}); write NAME=LOW:HIGH or "
                               "product:NAME:PARAMETER=LOW:HIGH", element="--parameter") from None

@dataclass(frozen=True)
class CalibrationSpec:
    """What to fit to what: scenarios (training trials), parameters, the endpoints scored
    (None: every published endpoint with its n that the horizon reaches), cohort size, the
    follow-up simulated (``horizon_days``: that many days, every patient infused, for
    toxicity; None: the whole journey) and the evaluation budget."""

    trials: tuple[str, ...]
    parameters: tuple[FittedParameter, ...]
    endpoints: tuple[str, ...] | None = None
    patients: int = 1000
    horizon_days: float | None = 60.0
    max_evaluations: int = 40


@dataclass(frozen=True)
class _Target:
    trial: str
    endpoint: str
    value: float   # %
    n: int
    source: str


def deviance(published_pct: float, n: int, simulated_pct: float, patients: int) -> float:
    """Binomial deviance of a published share of ``n`` patients under a simulated rate (kept
    half a patient away from 0 and 1, so a rate the cohort never saw is unlikely, not
    impossible)."""
    p_hat = published_pct / 100
    floor = 0.5 / patients
    p = min(max(simulated_pct / 100, floor), 1 - floor)
    total = 0.0
    for observed, expected in ((p_hat, p), (1 - p_hat, 1 - p)):
        if observed > 0:
            total += observed * math.log(observed / expected)
    return 2 * n * total


def calibrate(spec: CalibrationSpec, *, progress: bool = False) -> CalibrationFile:
    """Fit ``spec``'s parameters; the file holds the fitted values and the fit's provenance."""
    import scipy
    from scipy.optimize import minimize

    from cartsim import __version__

    protocols = {name: _protocol(name, spec.horizon_days) for name in spec.trials}
    targets = _targets(protocols, spec)
    if not targets:
        raise CartsimError("no published endpoint with its n to fit in the chosen trials")
    start = np.log([_start_value(p, protocols) for p in spec.parameters])
    bounds = [(math.log(p.low), math.log(p.high)) for p in spec.parameters]
    evaluations: list[tuple[float, np.ndarray]] = []

    def objective(log_values: np.ndarray) -> float:
        score = _score(protocols, targets, spec, np.exp(log_values))
        evaluations.append((score, np.array(log_values)))
        if progress:
            shown = ", ".join(f"{p.parameter}={v:.4g}" for p, v in
                              zip(spec.parameters, np.exp(log_values), strict=True))
            print(f"calibrate: evaluation {len(evaluations)}: deviance {score:.2f} ({shown})",
                  file=sys.stderr, flush=True)
        return score

    minimize(objective, start, method="Powell", bounds=bounds,
             options={"maxfev": spec.max_evaluations, "xtol": 1e-2, "ftol": 1e-3})
    # the best point evaluated (a search stopped by its budget may not have returned to it)
    best_score, best = min(evaluations, key=lambda e: e[0])
    fitted = np.exp(best)
    values = tuple(ScopedValue(p.parameter, p.scope, float(round(v, 6)), p.low, p.high)
                   for p, v in zip(spec.parameters, fitted, strict=True))
    provenance = {
        "cartsim_version": __version__,
        "library": f"scipy {scipy.__version__}: scipy.optimize.minimize, method Powell, on "
                   "log parameters, bounded",
        "objective": "sum over trials and endpoints of the binomial deviance of the published "
                     "share (its trial's n) under the simulated share",
        "trials": {name: {"seed": p["seed"], "patients": spec.patients}
                   for name, p in protocols.items()},
        "horizon_days": spec.horizon_days,
        "data": [{"trial": t.trial, "endpoint": t.endpoint, "value_pct": t.value, "n": t.n,
                  "source": t.source} for t in targets],
        "start": {f"{p.scope}/{p.parameter}": float(round(math.exp(x), 6))
                  for p, x in zip(spec.parameters, start, strict=True)},
        "deviance_start": round(evaluations[0][0], 3),
        "deviance_fitted": round(float(best_score), 3),
        "evaluations": len(evaluations),
    }
    return CalibrationFile(values, provenance)


def _protocol(name: str, horizon_days: float | None) -> dict:
    from cartsim.journey import load_protocol
    from cartsim.journey.cohort import toxicity_protocol
    from cartsim.journey.scenarios import scenario_path

    protocol = load_protocol(scenario_path(name))
    return protocol if horizon_days is None else toxicity_protocol(protocol, horizon_days)


def _targets(protocols: dict[str, dict], spec: CalibrationSpec) -> list[_Target]:
    """The published endpoints scored: those with their n, of the chosen endpoints (by
    default those the horizon reaches)."""
    wanted = spec.endpoints or (TOXICITY_ENDPOINTS if spec.horizon_days is not None else None)
    return [_Target(name, endpoint, entry["value"], entry["n"], entry["source"])
            for name, protocol in protocols.items()
            for endpoint, entry in protocol["published"].items()
            if "n" in entry and (wanted is None or endpoint in wanted)]


def _start_value(parameter: FittedParameter, protocols: dict[str, dict]) -> float:
    """The value the first scenario of the parameter's scope has today, within its bounds."""
    from cartsim.journey.run import journey_parameters

    scoped = [p for p in protocols.values() if in_scope(parameter.scope, p)]
    if not scoped:
        raise CartsimError(f"no chosen trial is in the scope {parameter.scope!r}",
                           element=f"--parameter {parameter.parameter}")
    values = journey_parameters(scoped[0])
    if parameter.parameter not in values:
        raise CartsimError(f"unknown model parameter {parameter.parameter!r}",
                           element="--parameter")
    return min(max(values[parameter.parameter], parameter.low), parameter.high)


def _score(protocols: dict[str, dict], targets: list[_Target], spec: CalibrationSpec,
           values: np.ndarray) -> float:
    from cartsim.journey.cohort import run_cohort

    calibration = CalibrationFile(tuple(
        ScopedValue(p.parameter, p.scope, float(v), p.low, p.high)
        for p, v in zip(spec.parameters, values, strict=True)))
    total = 0.0
    for name, protocol in protocols.items():
        scored = [t for t in targets if t.trial == name]
        if not scored:
            continue
        endpoints = run_cohort(calibration.applied(protocol), spec.patients).summary()[
            "endpoints"]
        for target in scored:
            entry = endpoints[target.endpoint]
            total += deviance(target.value, target.n, entry["pct"], entry["n"])
    return total
