"""One patient through the whole journey: apheresis, manufacturing, the wait with bridging,
lymphodepletion, infusion, graded monitoring under a management policy, response visits,
failure classification and rescue, with deaths and drop-outs along the way.

The therapy model is simulated from the apheresis day. A disease preset's tumour burden ``T0``
was calibrated as the burden at lymphodepletion, so the patient's burden at apheresis is set
so that a typical wait without bridging reaches ``T0``; a longer wait arrives with more
tumour, bridging with less. Random draws (manufacturing time and failure, drop-out, background
death) come from streams keyed by (seed, purpose), so a journey is reproducible.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np

from cartsim.clinical.response import best_overall_response
from cartsim.errors import SimulationError
from cartsim.journey import assessment as assess_mod
from cartsim.journey.failure import Failure, b_cell_aplasia, classify, early_relapse_days
from cartsim.journey.grading import CYTOPENIAS, GradeSeries, grade_run
from cartsim.journey.outcome import (
    PROGRESSION_DEATH,
    TREATMENT_DEATH,
    Death,
    FailureRecord,
    LineOutcome,
    PatientOutcome,
    ProductRecord,
)
from cartsim.journey.policy import (
    RESPONSE_DELAY_DAYS,
    Schedule,
    next_action,
    resolve_policy,
    with_prophylaxis,
)
from cartsim.journey.protocol import BEST_SUPPORTIVE_CARE, BRIDGING_OPTIONS
from cartsim.journey.rescue import THERAPIES, RescueTherapy, choose_rescue, rescue_parameters
from cartsim.presets import Preset, disease, product
from cartsim.therapy.car_t import CAR_T_STATE_NAMES
from cartsim.therapy.simulate import PatientRun, compiled_therapy_model, preset_parameters

TREATMENT_DEATH_GRADE4_DAYS = 3.0
"""Chosen: CRS or ICANS held at grade 4 for 3 days counts as a treatment-related death (grade
5); the model has no organ failure, and reference/ gives no survival by duration of grade 4."""
MAX_POLICY_DECISIONS = 16
PURPOSE = {"manufacturing": 1, "dropout": 2, "background": 3, "product": 4}
PRODUCT_ATTRIBUTES = ("cd4_fraction", "memory_fraction")
"""Attributes each manufactured product draws around its preset (manufacturing.*_spread)."""


@dataclass
class Journey:
    """What happened: the event list, grades, trajectories and a one-line-per-item outcome."""

    protocol: dict
    events: list[tuple[float, str, str]] = field(default_factory=list)
    grades: GradeSeries | None = None
    runs: list[PatientRun] = field(default_factory=list)
    outcome: PatientOutcome = field(default_factory=PatientOutcome)

    def add(self, day: float, kind: str, detail: str) -> None:
        self.events.append((round(float(day), 4), kind, detail))

    def end_at(self, day: float, kind: str, detail: str) -> None:
        """The journey ends on ``day``: what was planned for later did not happen."""
        self.events = [e for e in self.events if e[0] <= round(float(day), 4)]
        self.add(day, kind, detail)

    def sorted_events(self) -> list[tuple[float, str, str]]:
        return sorted(self.events, key=lambda e: e[0])


@dataclass(frozen=True)
class SimulationRequest:
    """One therapy-model solve a journey needs: parameter ``values`` on the time ``grid``, from
    the model's initial state or from the state vector ``y0``, with the journey's ``seed``
    (its random streams are keyed by the seed and ``stream`` alone, so any batch gives the
    same run)."""

    values: dict[str, float]
    grid: np.ndarray
    seed: int
    y0: np.ndarray | None = None
    stream: int = 0
    """Which of the journey's random streams: each continuation of a line gets its own."""


JourneySteps = Generator[SimulationRequest, PatientRun, None]
"""A journey as a generator: it yields each solve it needs and is sent the solved run, so a
batch driver (:mod:`cartsim.journey.batch`) can solve many journeys' requests together."""


def _rng(seed: int, purpose: str) -> np.random.Generator:
    return np.random.default_rng([seed, PURPOSE[purpose]])


@functools.lru_cache(maxsize=4096)
def _waiting_time(seed: int, purpose: str, per_day: float) -> float:
    """The patient's one exponential draw for ``purpose`` (a drop-out or background death,
    at ``per_day``), in days; never when the rate is 0. Cached: a journey asks for it each
    time it looks for deaths on its run so far."""
    return _rng(seed, purpose).exponential(1.0 / per_day) if per_day > 0 else math.inf


def journey_parameters(protocol: dict) -> dict[str, float]:
    """The patient's model parameters: disease, scenario weight, product, then overrides."""
    patient = protocol["patient"]
    presets = [disease(protocol["disease"])]
    if patient["weight_kg"] is not None:
        presets.append(Preset("patient", "patient", "scenario patient",
                              {"weight_kg": (float(patient["weight_kg"]), "scenario")}))
    presets.append(product(protocol["product"]))
    counts = {"anc0": patient["anc_10e9_l"], "plt0": patient["platelets_10e9_l"]}
    return preset_parameters(*presets, **{**counts, **patient["parameters"]})


def _lymphodepletion(ld: dict) -> dict[str, float]:
    regimen = ld["regimen"]
    return {
        "ld_start": ld["start_day"],
        "flu_mg_m2": ld["fludarabine_mg_m2"],
        "flu_days": ld["fludarabine_days"] if regimen == "flu-cy" else 0.0,
        "cy_mg_m2": ld["cyclophosphamide_mg_m2"],
        "cy_days": ld["cyclophosphamide_days"] if regimen == "flu-cy" else 0.0,
        "cy_delay": (0.0 if ld["cyclophosphamide_start_day"] is None
                     else ld["cyclophosphamide_start_day"] - ld["start_day"]),
        "benda_mg_m2": ld["bendamustine_mg_m2"],
        "benda_days": ld["bendamustine_days"] if regimen == "bendamustine" else 0.0,
    }


def _grid(start: float, end: float, step: float) -> np.ndarray:
    """Times anchored on day 0 (so infusion and visits fall on the grid)."""
    first = -math.ceil(-start / step - 1e-9) * step
    return np.round(np.arange(first, end + step / 2, step), 9)


@dataclass(frozen=True)
class GradingTimes:
    """How often a line is graded: every ``close`` days from its start to the end of close
    monitoring (``monitoring_days`` after the line starts), every ``follow_up`` days after.

    Chosen default (``monitoring.follow_up_grading_interval_hours`` 24): after the four weeks
    near the treatment centre a patient is followed as an out-patient, and daily times resolve
    what is still read after them (visits, nadirs, deaths, late toxicity) to the day; grading
    the two years of follow-up every 6 h cost two thirds of a journey's solve in output."""

    close: float
    follow_up: float
    monitoring_days: float

    @classmethod
    def of(cls, protocol: dict) -> GradingTimes:
        monitoring = protocol["monitoring"]
        return cls(monitoring["grading_interval_hours"] / 24.0,
                   monitoring["follow_up_grading_interval_hours"] / 24.0, monitoring["days"])

    def grid(self, start: float, end: float, line_start: float) -> np.ndarray:
        """The grading times from ``start`` to ``end`` of a line that starts on
        ``line_start``; both parts anchored on day 0, so journeys share their times."""
        monitoring_end = min(line_start + self.monitoring_days, end)
        close = _grid(start, monitoring_end, self.close)
        later = _grid(monitoring_end, end, self.follow_up)
        return np.concatenate([close, later[later > close[-1] + 1e-9]])


def _first_day(time: np.ndarray, mask: np.ndarray) -> float | None:
    return float(time[mask.argmax()]) if mask.any() else None


def journey_steps(journey: Journey) -> JourneySteps:
    """The journey of ``journey.protocol``, filling ``journey`` as it goes."""
    values = journey_parameters(journey.protocol)
    if journey.protocol["treatment"]["arm"] == "standard-of-care":
        yield from _standard_of_care(journey, values)
    elif _before_manufacturing(journey, values):
        yield from _simulate_from_apheresis(journey, values)


def _standard_of_care(journey: Journey, values: dict[str, float]) -> JourneySteps:
    """A comparator without CAR-T: enrolled on day 0 with the burden a CAR-T patient has at
    apheresis, the standard of care from then on (a rescue therapy's kill window, or none),
    then visits, failure and death as on a CAR-T line; no rescue follows."""
    p = journey.protocol
    therapy = p["treatment"]["standard_of_care"]
    journey.outcome.apheresis_day = 0.0  # enrolment: the origin of intention-to-treat times
    journey.outcome.standard_of_care = therapy
    values.update(_lymphodepletion({**p["lymphodepletion"], "regimen": "none"}))
    values["T0"] = _burden_at_apheresis(p, values)
    values["dose_cells"] = 0.0
    if therapy != BEST_SUPPORTIVE_CARE:
        values.update(rescue_parameters(THERAPIES[therapy], 0.0, p["disease"]))
    journey.add(0.0, "standard of care", THERAPIES[therapy].description
                if therapy in THERAPIES else "best supportive care, no anti-tumour therapy")
    grid = GradingTimes.of(p).grid(0.0, p["follow_up_days"], line_start=0.0)
    lethal = p["wait"]["lethal_tumour_cells"]

    def end_of(run: PatientRun, grades: GradeSeries) -> float:
        return min(_death_times(journey, run, grades, lethal).values(),
                   default=p["follow_up_days"])

    run, schedule, grades = yield from _managed_run(journey, values, grid, seed=p["seed"],
                                                    horizon=end_of)
    deaths = _death_times(journey, run, grades, lethal)
    end = min(deaths.values(), default=p["follow_up_days"])
    response = _assess_line(journey, run, values, end, baseline_day=0.0, therapy=therapy,
                            death_from_progression=_progression_death(deaths, end))
    _record_response(journey, response, run, values, journey.outcome.first_line)
    journey.grades = grades.until(end)
    _record_toxicity(journey, journey.grades, schedule.until(end))
    _record_cytopenias(journey, run.until(end))
    _record_death(journey, deaths, "on standard of care")
    journey.runs.append(run.until(end))


def _before_manufacturing(journey: Journey, values: dict[str, float]) -> bool:
    """Apheresis and manufacturing; False (journey over) when no product is released."""
    p = journey.protocol
    aph, man = p["apheresis"], p["manufacturing"]
    rng = _rng(p["seed"], "manufacturing")
    days = man["median_days"] * math.exp(man["spread"] * rng.standard_normal())
    journey.outcome.vein_to_vein_days = round(days + man["release_to_infusion_days"], 2)
    apheresis_day = -journey.outcome.vein_to_vein_days
    journey.outcome.apheresis_day = apheresis_day
    blood_ul = values["blood_ul_per_kg"] * values["weight_kg"]
    collected = (p["patient"]["lymphocytes_per_ul"] * blood_ul * aph["blood_volumes"]
                 * aph["collection_efficiency"])
    journey.add(apheresis_day, "apheresis", f"{collected:.3g} lymphocytes collected")
    if collected < aph["minimum_cells"]:
        journey.add(apheresis_day + 1, "manufacturing failure", "apheresis yield "
                    f"{collected:.3g} below the {aph['minimum_cells']:.3g} cells needed")
        journey.outcome.not_infused_reason = "manufacturing failure (low apheresis yield)"
        return False
    release_day = apheresis_day + days
    if rng.random() < man["failure_probability"]:
        journey.add(release_day, "manufacturing failure", "product failed release testing")
        journey.outcome.not_infused_reason = "manufacturing failure"
        return False
    attributes = _product_attributes(p, values)
    out_of_spec = bool(rng.random() < man["out_of_spec_probability"])
    if out_of_spec:
        values["dose_cells"] *= man["out_of_spec_dose_fraction"]
        journey.add(release_day, "manufacturing", "product out of specification, infused at "
                    f"{man['out_of_spec_dose_fraction']:g} of the dose; {attributes}")
    else:
        journey.add(release_day, "manufacturing", f"product released after {days:.1f} days; "
                                                  f"{attributes}")
    journey.outcome.product = ProductRecord(*(round(values[key], 4)
                                              for key in ("dose_cells", *PRODUCT_ATTRIBUTES)),
                                            out_of_spec=out_of_spec)
    return True


def _product_attributes(protocol: dict, values: dict[str, float]) -> str:
    """Draw this patient's product composition (logit-normal around the preset) into
    ``values``; returns it as text."""
    rng = _rng(protocol["seed"], "product")
    for key in PRODUCT_ATTRIBUTES:
        spread = protocol["manufacturing"][f"{key}_spread"]
        if spread > 0:
            typical = min(max(values[key], 1e-6), 1 - 1e-6)
            logit = math.log(typical / (1 - typical)) + spread * rng.standard_normal()
            values[key] = 1 / (1 + math.exp(-logit))
    return f"CD4 {values['cd4_fraction']:.0%}, memory {values['memory_fraction']:.0%}"


def _burden_at_apheresis(p: dict, values: dict[str, float]) -> float:
    """The tumour at apheresis: the preset burden (at lymphodepletion) grown back over the
    nominal wait, so a patient with the typical wait reaches it."""
    nominal_wait = (p["manufacturing"]["median_days"]
                    + p["manufacturing"]["release_to_infusion_days"] + values["ld_start"])
    return values["T0"] * math.exp(-values["r_tumour"] * max(nominal_wait, 0.0))


def _set_pre_infusion_values(journey: Journey, values: dict[str, float]) -> None:
    """Lymphodepletion, tumour at apheresis, bridging and infusion, into ``values``."""
    p = journey.protocol
    apheresis_day = journey.outcome.apheresis_day
    values.update(_lymphodepletion(p["lymphodepletion"]))
    values["T0"] = _burden_at_apheresis(p, values)
    bridging = p["bridging"]
    bridge_end = values["ld_start"] - bridging["stop_days_before_lymphodepletion"]
    if bridging["therapy"] != "none" and bridge_end > apheresis_day + 1:
        values.update(bridge_start=apheresis_day + 1, bridge_days=bridge_end - apheresis_day - 1,
                      bridge_kill=BRIDGING_OPTIONS[bridging["therapy"]][0])
        journey.add(apheresis_day + 1, "bridging", f"{bridging['therapy']} until day "
                    f"{bridge_end:g}")
    infusion = p["infusion"]
    if infusion["dose_cells"] is not None:
        values["dose_cells"] = float(infusion["dose_cells"])
    if infusion["schedule"] == "split":
        values.update(split_second_fraction=1.0 - infusion["first_fraction"],
                      t_second_infusion=float(infusion["second_day"]))
    elif infusion["schedule"] == "fractionated":
        later = list(zip(infusion["fractions"], infusion["fraction_days"], strict=True))[1:]
        for (fraction, day), which in zip(later, ("second", "third"), strict=False):
            values.update({f"split_{which}_fraction": float(fraction),
                           f"t_{which}_infusion": float(day)})
    if values["weight_kg"] < 30:
        values["toci_mg_per_kg"] = 12.0  # label: 12 mg/kg below 30 kg (clinical_rules.md)


def _managed_run(journey: Journey, values: dict[str, float], grid: np.ndarray, *, seed: int,
                 horizon: Callable[[PatientRun, GradeSeries], float],
                 y0: np.ndarray | None = None, start: float = 0.0,
                 ) -> Generator[SimulationRequest, PatientRun,
                                tuple[PatientRun, Schedule, GradeSeries]]:
    """Simulate under the policy, deciding in time order on the exact trajectory.

    The line is first simulated to the end of close monitoring (where the policy's decisions
    fall), then on through follow-up in pieces that double in length (:func:`_piece_end`).
    After each decision only the part from the decision's grading time is simulated again
    (from the state there, with a fresh random stream: what follows a decision is new), and
    so is the part after monitoring when a decision falls there. ``horizon`` says, from the
    run so far, from which day on nothing is read any more (a death, a rescue replacing the
    line); a day within the run is final (it reads nothing later), a later one only says the
    line goes on. No decision is taken from a final horizon on, and the line is simulated no
    further: the rest of follow-up would be counterfactual (it was half of a journey's
    solving when every line ran to the end of follow-up)."""
    policy = resolve_policy(journey.protocol["policy"])
    # a rescue segment starts without prophylaxis (it is relative to the first infusion)
    schedule = with_prophylaxis(policy) if start == 0.0 else Schedule()
    toci_dose = min(values["toci_mg_per_kg"] * values["weight_kg"], values["toci_max_mg"])
    graded = grid[grid >= start]
    monitoring_end = start + journey.protocol["monitoring"]["days"]
    first = grid[grid <= monitoring_end] if grid[0] < monitoring_end < grid[-1] else grid
    request = SimulationRequest({**values, **schedule.parameters()}, first, seed, y0)
    run = _checked((yield request), journey, start)
    grades = grade_run(run, graded[graded <= run.time[-1]], schedule.anticytokine_from())
    last, decisions, stream = start - 1e-9, 0, 1

    settled: float | None = None  # the final horizon of the run so far, once asked

    def final_horizon() -> float:
        """The horizon where the run so far settles it, else never."""
        nonlocal settled
        if settled is None:
            day = horizon(run, grades)
            settled = day if day <= run.time[-1] or run.time[-1] >= grid[-1] else math.inf
        return settled

    while True:
        if decisions < MAX_POLICY_DECISIONS and next_action(
                policy, schedule, grades.time, grades.grades["crs_astct"],
                grades.grades["icans"], last, toci_dose, before=final_horizon):
            decisions += 1
            last = schedule.log[-1][0]
            restart, until = last - RESPONSE_DELAY_DAYS, run.time[-1]
        elif run.time[-1] < grid[-1] and final_horizon() == math.inf:
            restart = run.time[-1]
            until = max(_piece_end(restart, start, journey.protocol["monitoring"]["days"],
                                   grid[-1]), grid[np.searchsorted(grid, restart + 1e-9)])
        else:
            break
        current = {**values, **schedule.parameters()}
        restart = _restart_day(run.time, restart, current)
        part = grid[(grid >= restart - 1e-9) & (grid <= until + 1e-9)]
        if part.size < 2:  # decided at the run's last time: the continuation carries it
            continue
        request = SimulationRequest(current, part, seed, run.state_vector(restart), stream)
        later = _checked((yield request), journey, start)
        run = _spliced(run, later)
        settled = None
        # the grades before the restart stand: the run and the drugs given are the same there
        regraded = graded[(graded >= later.time[0] - 1e-9) & (graded <= later.time[-1])]
        grades = grades.joined(grade_run(later, regraded, schedule.anticytokine_from()))
        stream += 1
    return run, schedule, grades


def _piece_end(day: float, line_start: float, monitoring_days: float, end: float) -> float:
    """Where the piece of follow-up that starts on ``day`` ends: the first of ``line_start +
    monitoring_days * 2**k`` after it (so a line of close monitoring's 28 days runs on to
    days 56, 112, 224, 448), at most ``end``.

    Chosen: doubling pieces make a line that runs to the end of follow-up a few more
    requests (log2 of follow-up over monitoring), while a line that ends early (progression
    and rescue, death) is simulated at most about as far again as it lasted. Growing by 1.5
    was clearly slower (more requests); by 3 or 4 within this machine's run-to-run noise of
    2 (400 journeys of ZUMA-1 and ELIANA on one core)."""
    piece = max(monitoring_days, 1.0)
    while line_start + piece <= day + 1e-9:
        piece *= 2.0
    return min(line_start + piece, end)


def _checked(run: PatientRun, journey: Journey, start: float) -> PatientRun:
    if not run.status.startswith("ok"):
        raise SimulationError(f"the therapy model failed from day {start:g}: {run.status}",
                              element=f"journey of '{journey.protocol['name']}', seed "
                                      f"{journey.protocol['seed']}")
    return run


def _restart_day(time: np.ndarray, day: float, values: dict[str, float]) -> float:
    """The last output time at or before ``day`` at which no time event falls: a
    continuation fires the events at its first time, which the run so far already applied."""
    events = compiled_therapy_model().time_event_times(values)
    i = int(np.searchsorted(time, day + 1e-9, side="right")) - 1
    while i > 0 and np.any(np.abs(events - time[i]) <= 1e-9):
        i -= 1
    return float(time[max(i, 0)])


def _spliced(run: PatientRun, later: PatientRun) -> PatientRun:
    """``run`` up to where ``later`` starts, then ``later``."""
    keep = run.time < later.time[0] - 1e-9
    return PatientRun(np.concatenate([run.time[keep], later.time]), run.observable_names,
                      np.concatenate([run.observable_values[keep], later.observable_values]),
                      run.state_names,
                      np.concatenate([run.state_values[keep], later.state_values]),
                      later.status, [])


@dataclass(frozen=True)
class _FirstLineEnd:
    """How the first line ends on its run: the candidate deaths, the end of follow-up or the
    first death (``end``), the response, and the rescue that replaces the line from
    ``line_end`` (None: the line runs to ``end``)."""

    deaths: dict[str, float]
    end: float
    response: LineResponse | None  # None: the journey ended before infusion
    rescue: RescueTherapy | None
    line_end: float


def _first_line_end(journey: Journey, run: PatientRun, grades: GradeSeries,
                    values: dict[str, float]) -> _FirstLineEnd:
    """Where the first line ends; it reads the run and grades only up to that day, so a
    policy decision from that day on changes nothing."""
    p = journey.protocol
    deaths = _death_times(journey, run, grades, p["wait"]["lethal_tumour_cells"])
    end = min(deaths.values(), default=p["follow_up_days"])
    if end < 0:
        return _FirstLineEnd(deaths, end, None, None, end)
    # a run simulated part of the way is assessed as far as it goes: every visit up to there
    # is as in the whole run (they read nothing later), and a rescue starting there is final
    response = _assess_line(journey, run, values, min(end, float(run.time[-1])),
                            baseline_day=values["ld_start"] - 1.0,
                            death_from_progression=_progression_death(deaths, end))
    failure, therapy, line_end = response.failure, None, end
    if failure is not None and failure.day is not None and p["rescue"]["enabled"]:
        therapy = choose_rescue(failure, p["disease"], p["patient"]["transplant_eligible"])
        line_end = min(end, failure.day + p["rescue"]["delay_days"] + therapy.delay_days)
    return _FirstLineEnd(deaths, end, response, therapy, line_end)


def _simulate_from_apheresis(journey: Journey, values: dict[str, float]) -> JourneySteps:
    p = journey.protocol
    _set_pre_infusion_values(journey, values)
    times = GradingTimes.of(p)
    grid = times.grid(journey.outcome.apheresis_day, p["follow_up_days"], line_start=0.0)
    run, schedule, grades = yield from _managed_run(
        journey, values, grid, seed=p["seed"],
        horizon=lambda run, grades: _first_line_end(journey, run, grades, values).line_end)
    ending = _first_line_end(journey, run, grades, values)
    if ending.response is None:
        cause = min(ending.deaths, key=ending.deaths.get)
        journey.end_at(ending.end, cause, "before infusion")
        journey.outcome.not_infused_reason = cause
        journey.runs.append(run.until(ending.end))
        return
    journey.outcome.infused = True
    ld = values["ld_start"]
    if values["flu_days"] + values["cy_days"] + values["benda_days"] > 0:
        journey.add(ld, "lymphodepletion", p["lymphodepletion"]["regimen"])
    later = {which: values[f"split_{which}_fraction"] for which in ("second", "third")}
    first_dose = values["dose_cells"] * (1 - sum(later.values()))
    journey.add(0.0, "infusion", f"{first_dose:.3g} CAR+ cells")
    end, line_end = ending.end, ending.line_end
    for which, fraction in later.items():
        if fraction > 0 and values[f"t_{which}_infusion"] < end:
            journey.add(values[f"t_{which}_infusion"], "infusion", f"{which} fraction "
                        f"{values['dose_cells'] * fraction:.3g} cells")
    monitoring = p["monitoring"]
    journey.add(0.0, "monitoring", f"close monitoring for {monitoring['days']:g} days, graded "
                                   f"every {monitoring['grading_interval_hours']:g} h (then "
                                   f"every {monitoring['follow_up_grading_interval_hours']:g} h)")
    if monitoring["days"] < end:
        journey.add(monitoring["days"], "monitoring", "end of close monitoring")
    _record_response(journey, ending.response, run, values, journey.outcome.first_line)
    # the first-line simulation runs to follow-up; after a rescue starts it is counterfactual
    schedule, grades = schedule.until(line_end), grades.until(line_end)
    for day, kind, detail in schedule.log:
        journey.add(day, kind, detail)
    journey.grades = grades
    _record_toxicity(journey, grades, schedule)
    first_line = run.until(line_end)
    _record_extinctions(journey, first_line)
    _record_cytopenias(journey, first_line)
    _record_peak(journey.outcome.first_line, first_line)
    journey.runs.append(first_line)
    if line_end < end:
        yield from _rescue(journey, run, values, schedule, ending.rescue, line_end, times)
        return
    _record_death(journey, ending.deaths, "after infusion")


def _progression_death(deaths: dict[str, float], end: float) -> float | None:
    """The day of death from progression when that is how the line ends."""
    day = deaths.get(PROGRESSION_DEATH)
    return day if day is not None and day <= end else None


def _record_death(journey: Journey, deaths: dict[str, float], when: str) -> None:
    if deaths:
        cause = min(deaths, key=deaths.get)
        journey.add(deaths[cause], cause, when)
        journey.outcome.death = Death(deaths[cause], cause)


def _death_times(journey: Journey, run: PatientRun, grades: GradeSeries,
                 lethal: float) -> dict[str, float]:
    """Candidate death / drop-out days (only those within the run)."""
    p = journey.protocol
    start = journey.outcome.apheresis_day
    found = {}
    progression = _first_day(run.time, run["tumour_cells"] >= lethal)
    if progression is not None:
        found[PROGRESSION_DEATH] = progression
    dropout = _waiting_time(p["seed"], "dropout", p["wait"]["dropout_per_day"])
    if start + dropout < 0:
        found["drop-out"] = start + dropout
    background = _waiting_time(p["seed"], "background",
                               p["patient"]["background_mortality_per_year"] / 365.25)
    if start + background <= run.time[-1]:
        found["death (background)"] = start + background
    severe = np.maximum(grades.grades["crs_astct"], grades.grades["icans"]) >= 4
    run_length = 0.0
    steps = np.diff(grades.time, prepend=grades.time[0])
    first = int(severe.argmax()) if severe.any() else severe.size  # grade 4 is rare
    for t, is_severe, dt in zip(grades.time[first:], severe[first:], steps[first:],
                                strict=True):
        run_length = run_length + dt if is_severe else 0.0
        if run_length >= TREATMENT_DEATH_GRADE4_DAYS:
            found[TREATMENT_DEATH] = float(t)
            break
    return found


def _record_extinctions(journey: Journey, run: PatientRun) -> None:
    """When the last tumour cell and the last CAR-T cell died (first line, None if not)."""
    days = run.extinction_days(after=0.0)
    journey.outcome.tumour_extinct_day = days["tumour_extinct_day"]
    journey.outcome.car_t_extinct_day = days["car_t_extinct_day"]
    for day, what in ((journey.outcome.tumour_extinct_day, "last tumour cell gone"),
                      (journey.outcome.car_t_extinct_day, "last CAR-T cell gone")):
        if day is not None:
            journey.add(day, "extinction", what)


def _record_cytopenias(journey: Journey, run: PatientRun) -> None:
    """Nadirs of ANC and platelets from infusion to the end of the first line, beside their
    grade summaries."""
    after = run.time >= 0.0
    for scale, (observable, _, _) in CYTOPENIAS.items():
        values = run[observable][after]
        if values.size:
            i = int(values.argmin())
            summary = journey.outcome.first_line.toxicity[scale]
            summary.nadir_10e9_l, summary.nadir_day = float(values[i]), float(run.time[after][i])


def _record_peak(line: LineOutcome, run: PatientRun) -> None:
    """The blood CAR-T peak of a CAR-T line after its infusion on day 0 (Cmax, Tmax)."""
    after = run.time >= 0.0
    if after.any():
        counts = run["cart_cells_per_ul"][after]
        i = int(counts.argmax())
        line.cart_peak_cells_per_ul = float(counts[i])
        line.cart_peak_day = float(run.time[after][i])


def _record_toxicity(journey: Journey, grades: GradeSeries, schedule: Schedule) -> None:
    for scale in grades.grades:
        summary = journey.outcome.first_line.toxicity[scale] = grades.summary(scale)
        if summary.onset_day is not None and scale in ("crs_astct", "icans"):
            name = "CRS" if scale == "crs_astct" else "ICANS"
            journey.add(summary.onset_day, f"{name} onset",
                        f"max grade {summary.max} (ASTCT), {summary.duration_days:g} "
                        "days at grade >= 1")
    journey.outcome.tocilizumab_doses = len(schedule.toci_times)
    journey.outcome.steroid_courses = len(schedule.dex_courses)
    journey.outcome.steroid_courses_for_crs = schedule.courses_for_crs


@dataclass(frozen=True)
class LineResponse:
    """A line's response assessment: the visits it had (up to its first progression), its best
    response, progression and failure; ``days`` the visit days planned before its end, and
    ``unscheduled`` those of them the disease brought the patient in for."""

    days: list[float]
    found: list[assess_mod.Assessment]
    best: str | None
    progression: assess_mod.Assessment | None
    failure: Failure | None
    unscheduled: dict[float, str] = field(default_factory=dict)
    baseline_day: float = 0.0  # the burden changes are measured from


def _assess_line(journey: Journey, run: PatientRun, values: dict[str, float], end: float, *,
                 baseline_day: float, offset: float = 0.0, therapy: str | None = None,
                 death_from_progression: float | None = None) -> LineResponse:
    """Assess at the visits from ``offset`` (the line's start) up to ``end`` (a visit on the
    last day of follow-up counts), and between them when the disease is back (see
    :func:`_unscheduled_visits`): what the line's response was (``therapy``: a line that is
    not CAR-T). Reads the run only up to the last visit it keeps."""
    p = journey.protocol
    criteria = assess_mod.criteria_of(p)
    scheduled = [offset + d for d in p["visits"]["days"] if offset + d <= end]
    unscheduled = _unscheduled_visits(run, baseline_day, scheduled[0] if scheduled else end,
                                      end, death_from_progression)
    days = sorted({*scheduled, *unscheduled})
    found = assess_mod.assess(run, criteria, days, baseline_day=baseline_day,
                              n_lesions=values["n_lesions"])
    stop = next((i for i, a in enumerate(found) if assess_mod.progressed(a)), None)
    found = found if stop is None else found[:stop + 1]  # no further visits on this line
    if not found:
        return LineResponse(days, found, None, None, None, baseline_day=baseline_day)
    best = best_overall_response([(a.day, a.response) for a in found],
                                 assess_mod.SCALE_OF[criteria])
    progression = assess_mod.first_progression(found)
    cut_off = early_relapse_days(p["disease"], p["failure"]["early_relapse_days"])
    failure = classify(run, found, best, progression, cut_off, line_start=offset,
                       therapy=therapy)
    return LineResponse(days, found, best.category, progression, failure, unscheduled,
                        baseline_day)


def _unscheduled_visits(run: PatientRun, baseline_day: float, after: float, end: float,
                        death_from_progression: float | None) -> dict[float, str]:
    """Days a patient is assessed between visits, and why.

    Chosen (clinical practice, not in reference/): a disease that has grown back to the
    burden it had at the line's baseline, when it was clinically evident, brings the patient
    in (symptoms, blood counts, a palpable mass), so the first day after the first visit on
    which the burden rises back to its baseline is assessed; so is a death from progression
    (the progression that killed is on record). Without them a relapse between visits, or
    after the last one, went unrecorded until death, with no failure and no rescue."""
    visits = {}
    time, tumour = run.time, run["tumour_cells"]
    baseline = run.at("tumour_cells", baseline_day)
    below = np.concatenate([[False], tumour[:-1] < baseline])
    back = (time > after + 1e-9) & (time <= end + 1e-9) & below & (tumour >= baseline)
    if back.any():
        visits[float(time[back.argmax()])] = "the disease back at its baseline burden"
    if death_from_progression is not None:
        visits.setdefault(float(death_from_progression), "at death from progression")
    return visits


def _record_response(journey: Journey, response: LineResponse, run: PatientRun,
                     values: dict[str, float], line: LineOutcome, label: str = "") -> None:
    """Put a line's visits, best response, progression and failure in the journey's events
    and in ``line`` (``label`` prefixes the events' kinds)."""
    if not response.found:
        if response.days:
            journey.add(response.days[0], f"{label}response", "not evaluable: no measurable "
                                                              "disease at baseline")
        return
    for a in response.found:
        mrd = f", {a.mrd}" if a.mrd else ""
        why = response.unscheduled.get(a.day)
        seen = f" (unscheduled: {why})" if why else ""
        journey.add(a.day, f"{label}response",
                    f"{a.response.category}{mrd}: {a.response.rule}{seen}")
    criteria = assess_mod.criteria_of(journey.protocol)
    line.best_response = response.best
    # here, not in _assess_line: a line is assessed at every look at its run so far
    line.best_tumour_change_pct = assess_mod.best_change_pct(
        run, criteria, response.found, baseline_day=response.baseline_day)
    line.mrd_negative = assess_mod.mrd_negative(response.found, criteria)
    line.response_day = next((a.day for a in response.found if assess_mod.responded(a)), None)
    progression, failure = response.progression, response.failure
    if progression is not None:
        journey.add(progression.day, f"{label}progression", progression.response.rule)
        line.progression_day = progression.day
    if failure is not None:
        journey.add(failure.day if failure.day is not None else response.found[-1].day,
                    f"{label}failure", f"{failure.kind}, {failure.antigen}, {failure.mechanism}")
        line.failure = FailureRecord(failure.kind, failure.antigen, failure.mechanism,
                                     None if failure.day is None else b_cell_aplasia(
                                         run, failure.day, values["B_normal"]), failure.day)


def _rescue(journey: Journey, run: PatientRun, values: dict[str, float], schedule: Schedule,
            therapy: RescueTherapy, start: float, times: GradingTimes) -> JourneySteps:
    """Simulate ``therapy`` onward from the patient's state on day ``start``."""
    p = journey.protocol
    start = float(run.time[run.index(start)])
    y0 = run.state_vector(start)
    if therapy.retarget:  # the first product's cells target the lost antigen: dropped
        names = list(run.state_names)
        for cell in CAR_T_STATE_NAMES:
            y0[names.index(cell)] = 0.0
    rescue_values = {**values, **schedule.parameters(),
                     **rescue_parameters(therapy, start, p["disease"])}
    if schedule.switch_time is not None:
        rescue_values["switch_on"] = 1.0  # the switch fired in the first segment
    journey.add(start, "rescue", f"{therapy.name}: {therapy.description}")
    journey.outcome.rescue = therapy.name
    # the trial follows its patients to follow_up_days, rescued or not: a rescue line is
    # simulated (and recorded) no further
    end = min(start + p["rescue"]["follow_up_days"], p["follow_up_days"])
    grid = times.grid(start, end, line_start=start)
    grid = grid[grid >= start]
    lethal = p["wait"]["lethal_tumour_cells"]

    def line_deaths(run: PatientRun, grades: GradeSeries) -> dict[str, float]:
        return {cause: day for cause, day in _death_times(journey, run, grades, lethal).items()
                if day >= start}

    second, second_schedule, grades = yield from _managed_run(
        journey, rescue_values, grid, seed=p["seed"] + 1, y0=y0, start=start,
        horizon=lambda run, grades: min(line_deaths(run, grades).values(), default=end))
    deaths = line_deaths(second, grades)
    ended = min(deaths.values(), default=end)
    for day, kind, detail in second_schedule.until(ended).log:
        journey.add(day, kind, f"{detail} (rescue)")
    infusion_day = rescue_values.get("t_infusion", start) if therapy.kind == "car-t" else start
    if therapy.kind == "car-t":
        journey.add(start, "lymphodepletion", "before the rescue infusion")
        journey.add(infusion_day, "infusion", f"rescue {therapy.name}")
    grades = grades.until(ended)  # a journey ends at death
    if grades.time.size:
        journey.grades = journey.grades.joined(grades)
    journey.outcome.rescue_start_day = start
    journey.outcome.rescue_line = LineOutcome(
        toxicity={scale: grades.summary(scale) for scale in grades.grades})
    response = _assess_line(journey, second, values, ended, baseline_day=start,
                            offset=infusion_day,
                            therapy=None if therapy.kind == "car-t" else therapy.name,
                            death_from_progression=_progression_death(deaths, ended))
    _record_response(journey, response, second, values, journey.outcome.rescue_line,
                     label="rescue ")
    _record_death(journey, deaths, "after rescue")
    journey.runs.append(second.until(ended))
