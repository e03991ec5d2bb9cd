"""A cohort of journeys: many patients of one scenario, summarised the way a trial reports.

Patient i gets the presets' between-patient variability (``sample_population``, stream
(seed, i)) and its own journey seed derived from (seed, i), so patient i is the same patient in
a cohort of any size, and two scenarios with the same seed share their patients. Endpoints are
counted by intention to treat (every enrolled patient) or over the infused patients, as the
trials in ``reference/trials_training.csv`` report them, each with a Wilson 95% interval.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields

import numpy as np

from cartsim.errors import SimulationError
from cartsim.journey.batch import run_journeys
from cartsim.journey.endpoints import EndpointContext
from cartsim.journey.outcome import PatientOutcome
from cartsim.journey.protocol import protocol_from_mapping
from cartsim.journey.run import Journey, journey_parameters
from cartsim.journey.tally import Tally
from cartsim.presets.variability import variability
from cartsim.therapy.population import sample_population


@dataclass(frozen=True)
class PatientRow:
    """One patient's flat row (a cohort's patients.csv, a trial store's columns beside the
    sampled parameters and the whole outcome): the first line's facts, None where there are
    none."""

    patient: int
    simulation_failed: str | None
    infused: bool | None
    not_infused_reason: str | None
    best_response: str | None
    best_tumour_change_pct: float | None
    cart_peak_cells_per_ul: float | None
    cart_peak_day: float | None
    crs_max: int | None
    crs_onset_day: float | None
    icans_max: int | None
    anc_nadir_10e9_l: float | None
    platelets_nadir_10e9_l: float | None
    tocilizumab_doses: int | None
    steroid_courses: int | None
    progression_day: float | None
    failure: str | None
    relapse_antigen: str | None
    b_cell_aplasia_at_failure: bool | None
    tumour_extinct_day: float | None
    car_t_extinct_day: float | None
    rescue: str | None
    death_day: float | None
    death_cause: str | None

    @classmethod
    def of(cls, patient: int, o: PatientOutcome, crs_scale: str) -> PatientRow:
        if o.failed:
            return cls(patient, o.simulation_failed, *([None] * (len(fields(cls)) - 2)))
        line, toxicity, infused = o.first_line, o.first_line.toxicity, o.infused
        crs, icans = toxicity.get(crs_scale), toxicity.get("icans")
        anc, platelets = toxicity.get("neutropenia"), toxicity.get("thrombocytopenia")
        failure = line.failure
        return cls(
            patient, None, infused, o.not_infused_reason, line.best_response,
            line.best_tumour_change_pct, line.cart_peak_cells_per_ul, line.cart_peak_day,
            crs.max if crs else None, crs.onset_day if crs else None,
            icans.max if icans else None, anc.nadir_10e9_l if anc else None,
            platelets.nadir_10e9_l if platelets else None,
            o.tocilizumab_doses if infused else None, o.steroid_courses if infused else None,
            line.progression_day, failure.kind if failure else None,
            failure.antigen if failure else None, failure.b_cell_aplasia if failure else None,
            o.tumour_extinct_day, o.car_t_extinct_day, o.rescue, o.death_day,
            None if o.death is None else o.death.cause)


def patient_seed(seed: int, patient: int) -> int:
    """Journey seed of cohort patient ``patient``: independent streams per (seed, patient)."""
    return int(np.random.SeedSequence([seed, patient]).generate_state(1)[0])


@dataclass(frozen=True)
class Cohort:
    """The scenario, each patient's varied parameters and each journey's outcome."""

    protocol: dict
    parameters: dict[str, np.ndarray]
    outcomes: list[PatientOutcome]

    def failed(self) -> list[int]:
        """Patients whose journey could not be simulated."""
        return [i for i, o in enumerate(self.outcomes) if o.failed]

    def summary(self) -> dict:
        """The cohort's endpoints (see :class:`cartsim.journey.tally.Tally`)."""
        return Tally(self.protocol).add(self.outcomes).summary()

    def rows(self) -> list[dict]:
        """One flat row per patient (:class:`PatientRow`, then the sampled parameters)."""
        crs_scale = EndpointContext.of(self.protocol).crs_scale
        return [{**asdict(PatientRow.of(i, o, crs_scale)),
                 **{name: float(values[i]) for name, values in self.parameters.items()}}
                for i, o in enumerate(self.outcomes)]


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


def outcome_of(journey: Journey | SimulationError) -> PatientOutcome:
    """The journey's outcome, or the reason its simulation failed (failure is data: the
    cohort goes on, and the summary counts the patient as failed)."""
    if isinstance(journey, SimulationError):
        return PatientOutcome(simulation_failed=str(journey))
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
                      threads: int | None = None,
                      ) -> tuple[list[PatientOutcome], dict[str, np.ndarray]]:
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
    outcomes: list[PatientOutcome] = []
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
