"""A cohort of journeys: many patients of one scenario, summarised the way a trial reports.

Patient i gets the presets' between-patient variability (``sample_population``, stream
(seed, i)) and its own journey seed derived from (seed, i), so patient i is the same patient in
a cohort of any size, and two scenarios with the same seed share their patients. Endpoints are
counted by intention to treat (every enrolled patient) or over the infused patients, as the
trials in ``reference/trials_training.csv`` report them, each with a Wilson 95% interval.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from cartsim.errors import SimulationError
from cartsim.journey.batch import run_journeys
from cartsim.journey.protocol import protocol_from_mapping
from cartsim.journey.run import Journey, journey_parameters
from cartsim.journey.tally import FAILED, Tally, endpoint_context
from cartsim.presets.variability import variability
from cartsim.therapy.population import sample_population


def _blank_if_none(value):
    return "" if value is None else value


def patient_seed(seed: int, patient: int) -> int:
    """Journey seed of cohort patient ``patient``: independent streams per (seed, patient)."""
    return int(np.random.SeedSequence([seed, patient]).generate_state(1)[0])


@dataclass(frozen=True)
class Cohort:
    """The scenario, each patient's varied parameters and each journey's outcome."""

    protocol: dict
    parameters: dict[str, np.ndarray]
    outcomes: list[dict]

    def failed(self) -> list[int]:
        """Patients whose journey could not be simulated."""
        return [i for i, o in enumerate(self.outcomes) if FAILED in o]

    def summary(self) -> dict:
        """The cohort's endpoints (see :class:`cartsim.journey.tally.Tally`)."""
        return Tally(self.protocol).add(self.outcomes).summary()

    def rows(self) -> list[dict]:
        """One flat row per patient (the per-patient table of a trial)."""
        ctx = endpoint_context(self.protocol)
        rows = []
        for i, o in enumerate(self.outcomes):
            crs = o.get(ctx["crs_scale"], {})
            rows.append({
                "patient": i, FAILED: o.get(FAILED, ""), "infused": o.get("infused", ""),
                "not_infused_reason": o.get("not_infused_reason", ""),
                "best_response": o.get("best_response") or "",
                "crs_max": crs.get("max", ""),
                "crs_onset_day": _blank_if_none(crs.get("onset_day")),
                "icans_max": o.get("icans", {}).get("max", ""),
                "anc_nadir_10e9_l": o.get("neutropenia", {}).get("nadir_10e9_l", ""),
                "platelets_nadir_10e9_l": o.get("thrombocytopenia", {}).get("nadir_10e9_l", ""),
                "tocilizumab_doses": o.get("tocilizumab_doses", ""),
                "steroid_courses": o.get("steroid_courses", ""),
                "progression_day": o.get("progression_day", ""),
                "failure": (o["failure"]["kind"] if "failure" in o else ""),
                "relapse_antigen": (o["failure"]["antigen"] if "failure" in o else ""),
                "b_cell_aplasia_at_failure": _blank_if_none(
                    o["failure"]["b_cell_aplasia"] if "failure" in o else None),
                "tumour_extinct_day": _blank_if_none(o.get("tumour_extinct_day")),
                "car_t_extinct_day": _blank_if_none(o.get("car_t_extinct_day")),
                "rescue": o.get("rescue", ""),
                "death_day": o["death"]["day"] if "death" in o else "",
                "death_cause": o["death"]["cause"] if "death" in o else "",
                **{name: float(values[i]) for name, values in self.parameters.items()},
            })
        return rows


def toxicity_protocol(protocol: dict, days: float = 60.0, **overrides: float) -> dict:
    """``protocol`` reduced to what toxicity rates over infused patients need: every enrolled
    patient infused (no manufacturing failure, drop-out or background death), ``days`` of
    follow-up without rescue, and model parameter ``overrides`` for every patient."""
    patient = protocol["patient"]
    return protocol_from_mapping({
        **protocol, "follow_up_days": days, "visits": {"days": [min(28.0, days)]},
        "rescue": {"enabled": False},
        "manufacturing": {**protocol["manufacturing"], "failure_probability": 0.0},
        "wait": {**protocol["wait"], "dropout_per_day": 0.0},
        "patient": {**patient, "background_mortality_per_year": 0.0,
                    "parameters": {**patient["parameters"], **overrides}}})


COHORT_CHUNK = 256
"""Patients whose journeys are batched together (a chunk's results hold some 2 MB each)."""


def outcome_of(journey: Journey | SimulationError) -> dict:
    """The journey's outcome, or the reason its simulation failed (failure is data: the
    cohort goes on, and the summary counts the patient as failed)."""
    if isinstance(journey, SimulationError):
        return {FAILED: str(journey)}
    return journey.outcome


def cohort_protocols(protocol: dict, first: int, last: int) -> tuple[list[dict],
                                                                      dict[str, np.ndarray]]:
    """The protocols of cohort patients ``first .. last - 1`` (each with the presets'
    variability and its own journey seed) and their varied parameters."""
    variations = variability(protocol["product"], protocol["disease"])
    typical = journey_parameters(protocol)
    table = sample_population(typical, variations, last - first, seed=protocol["seed"],
                              first_patient=first)
    varied = {v.parameter: table[v.parameter] for v in variations}
    protocols = []
    for j, i in enumerate(range(first, last)):
        patient = {**protocol["patient"], "parameters": {
            **protocol["patient"]["parameters"],
            **{name: float(values[j]) for name, values in varied.items()}}}
        protocols.append(protocol_from_mapping({**protocol, "patient": patient,
                                                "seed": patient_seed(protocol["seed"], i)}))
    return protocols, varied


def simulate_journeys(protocol: dict, first: int, last: int, *, target: str = "cpu",
                      threads: int | None = None,
                      ) -> tuple[list[Journey | SimulationError], dict[str, np.ndarray]]:
    """The batched journeys of cohort patients ``first .. last - 1`` and their varied
    parameters."""
    protocols, varied = cohort_protocols(protocol, first, last)
    return run_journeys(protocols, target=target, threads=threads), varied


def simulate_patients(protocol: dict, first: int, last: int, *, target: str = "cpu",
                      threads: int | None = None) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Outcomes of cohort patients ``first .. last - 1``, their journeys batched, and their
    varied parameters."""
    journeys, varied = simulate_journeys(protocol, first, last, target=target, threads=threads)
    return [outcome_of(j) for j in journeys], varied


def run_cohort(protocol: dict, n: int, *, progress: bool = False,
               workers: int | None = None) -> Cohort:
    """``n`` patients of ``protocol`` (validated), each with the presets' variability, in
    chunks of :data:`COHORT_CHUNK` whose journeys are solved together on ``workers`` threads
    (default: every core); the outcomes do not depend on either."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    outcomes: list[dict] = []
    varied: dict[str, list[np.ndarray]] = {}
    for first in range(0, n, COHORT_CHUNK):
        last = min(first + COHORT_CHUNK, n)
        chunk, values = simulate_patients(protocol, first, last, threads=workers)
        outcomes += chunk
        for name, column in values.items():
            varied.setdefault(name, []).append(column)
        if progress:
            print(f"cohort: {last}/{n} patients", file=sys.stderr, flush=True)
    return Cohort(protocol, {k: np.concatenate(v) for k, v in varied.items()}, outcomes)
