"""Management policies as data, executed as model events.

A policy says when the simulated clinician gives tocilizumab, corticosteroids or triggers the
safety switch, from the graded physiology. Doses become parameters of the model's time events
(``toci_t1..4``, ``dex1..3`` courses, ``switch_time``), so a managed patient is simulated by the
same compiled model: the journey re-simulates after each decision, and because a dose at time t
changes nothing before t, the decisions are taken in time order on the exact trajectory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from cartsim.journey.schema import number_problem
from cartsim.therapy.drugs import DEX_COURSES, NEVER, TOCILIZUMAB_SLOTS

RESPONSE_DELAY_DAYS = 1.0 / 24.0
"""Chosen: a drug is given an hour after the grading that calls for it (and so the graded
state at that time is the one the decision saw)."""

MP_TO_DEX = 0.1875
"""Dexamethasone mg per mg methylprednisolone (0.75 mg dex = 4 mg MP: standard glucocorticoid
equivalence), so 1000 mg/day MP enters the model as 187.5 mg/day dexamethasone."""

STANDARD_STEROIDS = (
    # (ICANS grade from or None, CRS grade from or None, dex mg/day, days, label)
    (2, 3, 40.0, 3.0, "dexamethasone 10 mg q6h (ICANS >= 2 or CRS >= 3)"),
    (3, 4, 80.0, 3.0, "dexamethasone 20 mg q6h (escalation: ICANS >= 3 or CRS 4)"),
    (4, None, 1000.0 * MP_TO_DEX, 3.0, "methylprednisolone 1000 mg/day (ICANS 4)"),
)
"""clinical_rules.md section 4: dexamethasone 10 mg q6h for refractory/grade 3 CRS and ICANS
grade >= 2, escalation to 20 mg q6h, methylprednisolone 1 g/day at grade 4 (J Clin Med 2023
Table 1, NCI table)."""


@dataclass(frozen=True)
class Tocilizumab:
    """Tocilizumab from a CRS grade, repeated after ``repeat_hours`` while the grade persists
    (EHO 2020 Table 2: repeat after 8 h, at most 3 doses in 24 h and 4 in total)."""

    from_crs_grade: int = 2
    repeat_hours: float = 8.0
    max_per_24h: int = 3
    max_total: int = TOCILIZUMAB_SLOTS


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    tocilizumab: Tocilizumab | None = Tocilizumab()
    steroids: tuple[tuple[int | None, int | None, float, float, str], ...] = STANDARD_STEROIDS
    prophylactic_dex: tuple[float, float, float] | None = None  # (start day, days, mg/day)
    safety_switch_from_grade: int | None = None

    def __post_init__(self):
        courses = len(self.steroids) + (self.prophylactic_dex is not None)
        if courses > DEX_COURSES:
            raise ValueError(f"policy {self.name}: {courses} steroid courses, the model has "
                             f"{DEX_COURSES}")


POLICIES = {p.name: p for p in (
    Policy("standard", "tocilizumab from CRS grade 2 (8 mg/kg, max 800 mg, repeat after 8 h, "
                       "<= 3 in 24 h, <= 4 in total); dexamethasone for ICANS >= 2 or CRS >= 3 "
                       "with escalation; methylprednisolone at ICANS 4"),
    Policy("label-2017", "tocilizumab from CRS grade 3 (the KYMRIAH label's "
                         "Penn-era trigger, CRS needing moderate to aggressive intervention: "
                         "instability despite fluids and vasopressors, high-flow O2); steroids "
                         "as standard", tocilizumab=Tocilizumab(from_crs_grade=3)),
    Policy("early-tocilizumab", "as standard, but tocilizumab from CRS grade 1 (chosen: the "
                                "early-intervention idea of ZUMA-1's safety cohorts, not "
                                "fitted)",
           tocilizumab=Tocilizumab(from_crs_grade=1)),
    Policy("prophylactic-steroids", "as standard, plus dexamethasone 10 mg daily on days 0-2 "
                                    "(chosen: after ZUMA-1 cohort 6's prophylaxis, not "
                                    "fitted)",
           steroids=STANDARD_STEROIDS[:2], prophylactic_dex=(0.0, 3.0, 10.0)),
    Policy("standard-with-safety-switch", "as standard, and the safety switch is triggered "
                                          "at CRS or ICANS grade 4",
           safety_switch_from_grade=4),
    Policy("none", "no anticytokine management (the natural course)", tocilizumab=None,
           steroids=()),
)}


class PolicyError(ValueError):
    """A scenario's own policy is malformed: ``key`` names the part (under ``policy.``)."""

    def __init__(self, key: str, problem: str):
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


POLICY_KEYS = ("based_on", "description", "tocilizumab", "steroids", "prophylactic_dex",
               "safety_switch_from_grade")


def resolve_policy(given: str | dict) -> Policy:
    """A built-in policy by name, or a scenario's own: a mapping that replaces parts of the
    built-in policy ``based_on`` (default ``standard``), for example

    ``{based_on: standard, tocilizumab: {from_crs_grade: 3, max_total: 2}}``,
    ``{tocilizumab: null, steroids: [{from_icans_grade: 3, dex_mg_per_day: 40, days: 3}]}``.
    """
    if isinstance(given, str):
        if given not in POLICIES:
            raise PolicyError("", f"unknown policy {given!r}; choose one of "
                                  f"{', '.join(POLICIES)} or write one as a mapping")
        return POLICIES[given]
    if not isinstance(given, dict):
        raise PolicyError("", "must be a built-in policy name or a mapping")
    unknown = sorted(map(str, set(given) - set(POLICY_KEYS)))
    if unknown:
        raise PolicyError(unknown[0], f"unknown key (known: {', '.join(POLICY_KEYS)})")
    based_on = given.get("based_on", "standard")
    if not isinstance(based_on, str) or based_on not in POLICIES:
        raise PolicyError("based_on", f"must name a built-in policy ({', '.join(POLICIES)}), "
                                      f"got {based_on!r}")
    base = POLICIES[based_on]
    parts = {"name": "custom", "description": _text(
        "description", given.get("description", f"scenario policy based on {base.name}"))}
    if "tocilizumab" in given:
        parts["tocilizumab"] = _tocilizumab(given["tocilizumab"])
    if "steroids" in given:
        parts["steroids"] = _steroids(given["steroids"])
    if "prophylactic_dex" in given:
        parts["prophylactic_dex"] = _prophylaxis(given["prophylactic_dex"])
    if "safety_switch_from_grade" in given:
        grade = given["safety_switch_from_grade"]
        parts["safety_switch_from_grade"] = None if grade is None else _integer(
            "safety_switch_from_grade", grade, 1, 4)
    try:
        return replace(base, **parts)
    except ValueError as exc:  # more steroid courses than the model holds
        raise PolicyError("prophylactic_dex" if "prophylactic_dex" in given else "steroids",
                          f"{exc} (prophylaxis counts as a course)") from None


def _text(key: str, value) -> str:
    if not isinstance(value, str):
        raise PolicyError(key, f"must be text, got {value!r}")
    return value


def _number(key: str, value, low: float, high: float) -> float:
    problem = number_problem(value, low, high)
    if problem:
        raise PolicyError(key, problem)
    return float(value)


def _integer(key: str, value, low: int, high: int) -> int:
    _number(key, value, low, high)
    if not isinstance(value, int):
        raise PolicyError(key, f"must be a whole number, got {value!r}")
    return value


def _fields(key: str, value, allowed: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise PolicyError(key, "must be a mapping")
    unknown = sorted(map(str, set(value) - set(allowed)))
    if unknown:
        raise PolicyError(f"{key}.{unknown[0]}", f"unknown key (known: {', '.join(allowed)})")
    return value


def _tocilizumab(value) -> Tocilizumab | None:
    if value is None:
        return None
    given = _fields("tocilizumab", value, ("from_crs_grade", "repeat_hours", "max_per_24h",
                                           "max_total"))
    default = Tocilizumab()
    return Tocilizumab(
        from_crs_grade=_integer("tocilizumab.from_crs_grade",
                                given.get("from_crs_grade", default.from_crs_grade), 1, 4),
        repeat_hours=_number("tocilizumab.repeat_hours",
                             given.get("repeat_hours", default.repeat_hours), 1, 168),
        max_per_24h=_integer("tocilizumab.max_per_24h",
                             given.get("max_per_24h", default.max_per_24h), 1, 24),
        max_total=_integer("tocilizumab.max_total", given.get("max_total", default.max_total),
                           1, TOCILIZUMAB_SLOTS))


def _steroids(value) -> tuple:
    if not isinstance(value, list):
        raise PolicyError("steroids", "must be a list of courses (escalation steps, in order)")
    courses = []
    for i, item in enumerate(value):
        key = f"steroids.{i}"
        course = _fields(key, item, ("from_icans_grade", "from_crs_grade", "dex_mg_per_day",
                                     "days", "label"))
        icans, crs = course.get("from_icans_grade"), course.get("from_crs_grade")
        if icans is None and crs is None:
            raise PolicyError(key, "needs from_icans_grade or from_crs_grade")
        rate = _number(f"{key}.dex_mg_per_day", course.get("dex_mg_per_day"), 0.1, 1000)
        days = _number(f"{key}.days", course.get("days"), 0.1, 60)
        courses.append((None if icans is None else _integer(f"{key}.from_icans_grade",
                                                            icans, 1, 4),
                        None if crs is None else _integer(f"{key}.from_crs_grade", crs, 1, 4),
                        rate, days, _text(f"{key}.label", course.get(
                            "label", f"dexamethasone {rate:g} mg/day"))))
    return tuple(courses)


def _prophylaxis(value) -> tuple[float, float, float] | None:
    if value is None:
        return None
    given = _fields("prophylactic_dex", value, ("start_day", "days", "dex_mg_per_day"))
    return (_number("prophylactic_dex.start_day", given.get("start_day", 0.0), -10, 30),
            _number("prophylactic_dex.days", given.get("days"), 0.1, 60),
            _number("prophylactic_dex.dex_mg_per_day", given.get("dex_mg_per_day"), 0.1, 1000))


@dataclass
class Schedule:
    """Drugs given so far: what the model's dose parameters encode."""

    toci_times: list[float] = field(default_factory=list)
    dex_courses: list[list[float]] = field(default_factory=list)  # [start, days, mg/day]
    dex_reasons: list[str] = field(default_factory=list)  # each course's: CRS, ICANS, ...
    steroid_steps: list[int] = field(default_factory=list)
    switch_time: float | None = None
    log: list[tuple[float, str, str]] = field(default_factory=list)  # (day, kind, detail)

    def parameters(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for i in range(TOCILIZUMAB_SLOTS):
            values[f"toci_t{i + 1}"] = self.toci_times[i] if i < len(self.toci_times) else NEVER
        for i in range(DEX_COURSES):
            start, days, rate = (self.dex_courses[i] if i < len(self.dex_courses)
                                 else (NEVER, 0.0, 0.0))
            values.update({f"dex{i + 1}_start": start, f"dex{i + 1}_days": days,
                           f"dex{i + 1}_mg_per_day": rate})
        values["switch_time"] = NEVER if self.switch_time is None else self.switch_time
        return values

    def until(self, day: float) -> Schedule:
        """The drugs given before ``day``, when a later treatment line replaced the rest (a
        record and the next line's parameters; not for further decisions)."""
        kept = [(start, days, rate, reason) for (start, days, rate), reason
                in zip(self.dex_courses, self.dex_reasons, strict=True) if start < day]
        courses = [[start, min(days, day - start), rate] for start, days, rate, _ in kept]
        switch = self.switch_time if self.switch_time is not None and self.switch_time < day \
            else None
        return Schedule([t for t in self.toci_times if t < day], courses,
                        [reason for *_, reason in kept], [], switch,
                        [entry for entry in self.log if entry[0] < day])

    def anticytokine_from(self) -> float:
        """When tocilizumab or steroids were first given (ASTCT: fever no longer required)."""
        starts = self.toci_times + [c[0] for c in self.dex_courses]
        return min(starts, default=np.inf)

    def start_dex(self, day: float, days: float, rate: float, label: str,
                  reason: str) -> None:
        """A course from ``day``; ``reason``: what it answers (CRS, ICANS, prophylaxis)."""
        for course in self.dex_courses:  # an escalation replaces the running course
            if course[0] <= day < course[0] + course[1]:
                course[1] = day - course[0]
        self.dex_courses.append([day, days, rate])
        self.dex_reasons.append(reason)
        self.log.append((day, "steroids", label))

    @property
    def courses_for_crs(self) -> int:
        return sum(reason == "CRS" for reason in self.dex_reasons)


def with_prophylaxis(policy: Policy) -> Schedule:
    schedule = Schedule()
    if policy.prophylactic_dex is not None:
        start, days, rate = policy.prophylactic_dex
        schedule.start_dex(start, days, rate, f"prophylactic dexamethasone {rate:g} mg/day "
                                              f"for {days:g} days", "prophylaxis")
    return schedule


def next_action(policy: Policy, schedule: Schedule, time: np.ndarray, crs: np.ndarray,
                icans: np.ndarray, after: float, toci_dose_mg: float,
                before: Callable[[], float] | None = None) -> bool:
    """Apply the earliest decision after ``after`` to ``schedule``; False when none is due.
    ``before`` gives the day from which no decision is taken (asked only when a rule is met:
    it may cost a look at the whole trajectory)."""
    time = np.asarray(time)
    met = _RulesMet.of(policy, np.asarray(crs), np.asarray(icans))
    due = np.flatnonzero(met.anywhere & (time + RESPONSE_DELAY_DAYS >= after) & (time >= 0))
    if due.size and before is not None:
        due = due[time[due] < before()]
    for i in due:
        crs_grade, icans_grade = crs[i], icans[i]
        when = float(time[i]) + RESPONSE_DELAY_DAYS
        if met.tocilizumab[i] and _toci_allowed(policy.tocilizumab, schedule.toci_times, when):
            schedule.toci_times.append(when)
            schedule.log.append((when, "tocilizumab", f"tocilizumab {toci_dose_mg:.0f} mg "
                                 f"(dose {len(schedule.toci_times)}, CRS grade {crs_grade:g})"))
            return True
        for step, (_, crs_from, rate, days, label) in enumerate(policy.steroids):
            if met.steroids[step][i] and all(done < step for done in schedule.steroid_steps):
                schedule.steroid_steps.append(step)
                for_crs = crs_from is not None and crs_grade >= crs_from
                schedule.start_dex(when, days, rate, label, "CRS" if for_crs else "ICANS")
                return True
        if met.switch[i] and schedule.switch_time is None:
            schedule.switch_time = when
            schedule.log.append((when, "safety switch", f"safety switch triggered (grade "
                                 f"{max(crs_grade, icans_grade):g})"))
            return True
    return False


@dataclass(frozen=True)
class _RulesMet:
    """Where each rule of a policy is met, per grading point (the only points where a
    decision can be due)."""

    tocilizumab: np.ndarray
    steroids: tuple[np.ndarray, ...]
    switch: np.ndarray

    @classmethod
    def of(cls, policy: Policy, crs: np.ndarray, icans: np.ndarray) -> _RulesMet:
        never = np.zeros(crs.shape, dtype=bool)

        def from_grade(grade: np.ndarray, threshold: float | None) -> np.ndarray:
            return never if threshold is None else grade >= threshold

        toci = policy.tocilizumab
        return cls(from_grade(crs, None if toci is None else toci.from_crs_grade),
                   tuple(from_grade(icans, icans_from) | from_grade(crs, crs_from)
                         for icans_from, crs_from, *_ in policy.steroids),
                   from_grade(np.maximum(crs, icans), policy.safety_switch_from_grade))

    @property
    def anywhere(self) -> np.ndarray:
        return np.logical_or.reduce([self.tocilizumab, *self.steroids, self.switch])


def _toci_allowed(toci: Tocilizumab, given: list[float], t: float) -> bool:
    if len(given) >= toci.max_total:
        return False
    if given and t < given[-1] + toci.repeat_hours / 24.0 - 1e-9:
        return False
    return sum(1 for g in given if g > t - 1.0) < toci.max_per_24h
