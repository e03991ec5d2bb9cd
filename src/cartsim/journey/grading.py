"""Grade a simulated patient's physiology the way the bedside is graded.

The model's graded observables (``vasopressors`` 0-3, ``oxygen_need`` 0-4, ``consciousness``
0-3, ``ice_score``, ``temperature_c``) map one-to-one onto the calculators' vocabularies, so a
simulated patient is graded by exactly the rules of :mod:`cartsim.clinical`; so are the
simulated neurological findings (``seizure``, ``cerebral_edema``, ``motor_weakness``), and the
simulated ANC and platelets by CTCAE v5.0. Not simulated, so graded as absent: organ toxicity,
coagulopathy.
Penn's "hospitalisation for CRS symptoms" is taken as fever >= 39 °C (chosen: high fever is
what needs in-patient IV therapy; the model has no hospital).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cartsim.clinical.crs import (
    FEVER_C,
    TEMPERATURE_RANGE_C,
    astct_crs,
    lee2014_crs,
    penn_crs,
)
from cartsim.clinical.cytopenia import neutropenia_grade, thrombocytopenia_grade
from cartsim.clinical.icans import astct_icans
from cartsim.journey.outcome import CountSummary, GradeSummary

HYPOTENSION_BY_LEVEL = ("none", "fluids", "one-vasopressor", "multiple-vasopressors")
OXYGEN_BY_LEVEL = ("none", "low-flow", "high-flow", "facemask", "positive-pressure")
CONSCIOUSNESS_BY_LEVEL = ("awake", "arousable-voice", "arousable-touch", "unarousable")
SEIZURE_BY_LEVEL = ("none", "self-limiting", "prolonged")
EDEMA_BY_LEVEL = ("none", "focal-edema", "diffuse-edema")
MOTOR_BY_LEVEL = ("none", "deep-focal-weakness")
NEURO_FINDINGS = ("seizure", "cerebral_edema", "motor_weakness")
PENN_HOSPITAL_FEVER_C = 39.0
CYTOPENIAS = {"neutropenia": ("anc_10e9_l", neutropenia_grade, "ANC"),
              "thrombocytopenia": ("platelets_10e9_l", thrombocytopenia_grade, "platelets")}
"""CTCAE v5.0 cytopenia scales: the simulated count each is read from."""
REPORTED_DECIMALS = {"anc_10e9_l": 2, "platelets_10e9_l": 0}
"""Chosen: counts are graded as a laboratory reports them, ANC to 0.01 and platelets to 1 x
10^9/L (the usual precision of a full blood count), so a count settling on its lower limit
of normal (a simulated 149.998 x 10^9/L) is not graded a cytopenia for months."""
SCALES = ("crs_astct", "crs_lee2014", "crs_penn", "icans", *CYTOPENIAS)


GRADED_OBSERVABLES = ("temperature_c", "vasopressors", "oxygen_need", "ice_score",
                      "consciousness", *NEURO_FINDINGS)
ANTICYTOKINE = "anticytokine_given"


@dataclass(frozen=True)
class GradeSeries:
    """Grades at each grading time (days from infusion) and the findings they were read from
    (``inputs``: each graded observable, each count, and whether anticytokine therapy had been
    given); the deciding rules are spelled out on demand (:attr:`rules`)."""

    time: np.ndarray
    grades: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]

    def joined(self, later: GradeSeries) -> GradeSeries:
        """This series up to where ``later`` starts, then ``later`` (a rescue segment)."""
        keep = self.time < later.time[0]
        return GradeSeries(np.concatenate([self.time[keep], later.time]),
                           {k: np.concatenate([v[keep], later.grades[k]])
                            for k, v in self.grades.items()},
                           {k: np.concatenate([v[keep], later.inputs[k]])
                            for k, v in self.inputs.items()})

    def until(self, day: float) -> GradeSeries:
        """The grades before ``day`` (a later treatment line replaced the rest)."""
        keep = self.time < day
        return GradeSeries(self.time[keep], {k: v[keep] for k, v in self.grades.items()},
                           {k: v[keep] for k, v in self.inputs.items()})

    @property
    def rules(self) -> dict[str, list[str]]:
        """The rule that decided each grade, per scale ("" where nothing was graded)."""
        rules = {scale: [""] * self.time.size for scale in SCALES}
        for i in np.flatnonzero(~_quiet(self.inputs)):
            for scale, (_, rule) in _grade_point_at(self.inputs, i).items():
                rules[scale][i] = rule
        for scale, (name, _, label) in CYTOPENIAS.items():
            rules[scale] = [f"CTCAE v5.0: {label} {count:.3g} x 10^9/L -> grade {g}"
                            for count, g in zip(self.inputs[name], self.grades[scale],
                                                strict=True)]
        return rules

    def summary(self, scale: str) -> GradeSummary:
        """Maximum grade, onset day (first grade >= 1) and days spent at grade >= 1 (a
        cytopenia scale's summary has room for its count's nadir)."""
        kind = CountSummary if scale in CYTOPENIAS else GradeSummary
        grade = self.grades[scale]
        graded = grade >= 1
        if not graded.any():
            return kind()
        steps = np.diff(self.time, append=self.time[-1])
        return kind(int(grade.max()), float(self.time[graded.argmax()]),
                    float(steps[graded].sum()))


def grade_point(temperature: float, vasopressors: int, oxygen: int, ice: int,
                consciousness: int, anticytokine_given: bool, *, seizure: int = 0,
                cerebral_edema: int = 0, motor_weakness: int = 0) -> dict[str, tuple[int, str]]:
    """All scales at one time point, as (grade, rule)."""
    hypo = HYPOTENSION_BY_LEVEL[vasopressors]
    oxy = OXYGEN_BY_LEVEL[oxygen]
    awake = CONSCIOUSNESS_BY_LEVEL[consciousness]
    results = {
        "crs_astct": astct_crs(temperature, hypo, oxy, anticytokine_given=anticytokine_given),
        "crs_lee2014": lee2014_crs(temperature, hypo, oxy),
        "crs_penn": penn_crs(temperature, hypo, oxy,
                             hospitalised=temperature >= PENN_HOSPITAL_FEVER_C),
        "icans": astct_icans(0 if awake == "unarousable" else ice, awake,
                             seizure=SEIZURE_BY_LEVEL[seizure],
                             motor=MOTOR_BY_LEVEL[motor_weakness],
                             icp=EDEMA_BY_LEVEL[cerebral_edema]),
    }
    return {scale: (g.grade, g.rule) for scale, g in results.items()}


def _grade_point_at(inputs: dict[str, np.ndarray], i: int) -> dict[str, tuple[int, str]]:
    return grade_point(float(inputs["temperature_c"][i]), int(inputs["vasopressors"][i]),
                       int(inputs["oxygen_need"][i]), int(inputs["ice_score"][i]),
                       int(inputs["consciousness"][i]), bool(inputs[ANTICYTOKINE][i]),
                       **{name: int(inputs[name][i]) for name in NEURO_FINDINGS})


def _quiet(inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Time points with nothing to grade (every scale grade 0)."""
    return ((inputs["temperature_c"] < FEVER_C) & (inputs["vasopressors"] == 0)
            & (inputs["oxygen_need"] == 0) & (inputs["ice_score"] >= 10)
            & (inputs["consciousness"] == 0)
            & np.all([inputs[name] == 0 for name in NEURO_FINDINGS], axis=0))


_GRADES_BY_FINDINGS: dict[tuple, dict[str, int]] = {}
"""Grades of each combination of discrete findings, filled as combinations are met."""


def _grades_of(inputs: dict[str, np.ndarray], points: np.ndarray) -> dict[str, np.ndarray]:
    """Grades at ``points``. A point's grades depend on its temperature only through fever
    (>= 38 °C) and Penn's hospitalisation fever (>= 39 °C), so the rules are applied once per
    combination of findings (to the point first met with it: out-of-range findings raise as
    the calculators do) and reused."""
    temperature = inputs["temperature_c"][points]
    keys = np.column_stack([temperature >= FEVER_C, temperature >= PENN_HOSPITAL_FEVER_C,
                            *(inputs[name][points] for name in GRADED_OBSERVABLES[1:]),
                            inputs[ANTICYTOKINE][points]]).astype(np.int64)
    low, high = TEMPERATURE_RANGE_C
    out_of_range = (temperature < low) | (temperature > high)
    if out_of_range.any():
        _grade_point_at(inputs, int(points[out_of_range.argmax()]))  # raises the calculator's error
    combinations, which = _unique_rows(keys)
    grades = {scale: np.zeros(points.size, dtype=int) for scale in SCALES[:4]}
    for c, key in enumerate(map(tuple, combinations)):
        members = which == c
        if key not in _GRADES_BY_FINDINGS:
            first = int(points[members.argmax()])
            _GRADES_BY_FINDINGS[key] = {scale: grade for scale, (grade, _)
                                        in _grade_point_at(inputs, first).items()}
        for scale, grade in _GRADES_BY_FINDINGS[key].items():
            grades[scale][members] = grade
    return grades


def _unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, axis=0, return_inverse=True)`` for integer rows, by sorting one
    mixed-radix code per row (several times faster than sorting the rows)."""
    low = keys.min(axis=0)
    span = keys.max(axis=0) - low + 1
    if float(np.prod(span.astype(float))) >= 2.0**62:
        combinations, which = np.unique(keys, axis=0, return_inverse=True)
        return combinations, which.ravel()
    radix = np.concatenate([[1], np.cumprod(span[:0:-1])])[::-1]
    _, first, which = np.unique((keys - low) @ radix, return_index=True, return_inverse=True)
    return keys[first], which


def grade_run(run, grid: np.ndarray, anticytokine_from: float) -> GradeSeries:
    """Grade ``run`` (a PatientRun) at the times of ``grid`` that it contains."""
    index = np.searchsorted(run.time, grid)
    inputs = {name: run[name][index] for name in GRADED_OBSERVABLES}
    inputs[ANTICYTOKINE] = np.asarray(grid) >= anticytokine_from
    grades = {scale: np.zeros(grid.size, dtype=int) for scale in SCALES}
    points = np.flatnonzero(~_quiet(inputs))
    if points.size:
        for scale, values in _grades_of(inputs, points).items():
            grades[scale][points] = values
    for scale, (name, grade_of, _) in CYTOPENIAS.items():
        inputs[name] = np.round(run[name][index], REPORTED_DECIMALS[name])
        grades[scale] = grade_of(inputs[name])
    return GradeSeries(np.asarray(grid, dtype=float), grades, inputs)
