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

from cartsim.clinical.crs import FEVER_C, astct_crs, lee2014_crs, penn_crs
from cartsim.clinical.cytopenia import neutropenia_grade, thrombocytopenia_grade
from cartsim.clinical.icans import astct_icans

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
SCALES = ("crs_astct", "crs_lee2014", "crs_penn", "icans", *CYTOPENIAS)


@dataclass(frozen=True)
class GradeSeries:
    """Grades at each grading time (days from infusion) and the deciding rules."""

    time: np.ndarray
    grades: dict[str, np.ndarray]
    rules: dict[str, list[str]]

    def joined(self, later: GradeSeries) -> GradeSeries:
        """This series up to where ``later`` starts, then ``later`` (a rescue segment)."""
        keep = self.time < later.time[0]
        return GradeSeries(np.concatenate([self.time[keep], later.time]),
                           {k: np.concatenate([v[keep], later.grades[k]])
                            for k, v in self.grades.items()},
                           {k: [r for r, kept in zip(v, keep, strict=True) if kept]
                            + later.rules[k] for k, v in self.rules.items()})

    def until(self, day: float) -> GradeSeries:
        """The grades before ``day`` (a later treatment line replaced the rest)."""
        keep = self.time < day
        return GradeSeries(self.time[keep], {k: v[keep] for k, v in self.grades.items()},
                           {k: [r for r, kept in zip(v, keep, strict=True) if kept]
                            for k, v in self.rules.items()})

    def summary(self, scale: str) -> dict[str, float | None]:
        """Maximum grade, onset day (first grade >= 1) and days spent at grade >= 1."""
        grade = self.grades[scale]
        graded = grade >= 1
        if not graded.any():
            return {"max": 0, "onset_day": None, "duration_days": 0.0}
        steps = np.diff(self.time, append=self.time[-1])
        return {"max": int(grade.max()), "onset_day": float(self.time[graded.argmax()]),
                "duration_days": float(steps[graded].sum())}


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


def grade_run(run, grid: np.ndarray, anticytokine_from: float) -> GradeSeries:
    """Grade ``run`` (a PatientRun) at the times of ``grid`` that it contains."""
    index = np.searchsorted(run.time, grid)
    observed = {name: run[name][index] for name in
                ("temperature_c", "vasopressors", "oxygen_need", "ice_score", "consciousness",
                 *NEURO_FINDINGS)}
    quiet = ((observed["temperature_c"] < FEVER_C) & (observed["vasopressors"] == 0)
             & (observed["oxygen_need"] == 0) & (observed["ice_score"] >= 10)
             & (observed["consciousness"] == 0)
             & np.all([observed[name] == 0 for name in NEURO_FINDINGS], axis=0))
    grades = {scale: np.zeros(grid.size, dtype=int) for scale in SCALES}
    rules = {scale: [""] * grid.size for scale in SCALES}
    for i in np.flatnonzero(~quiet):
        point = grade_point(float(observed["temperature_c"][i]),
                            int(observed["vasopressors"][i]), int(observed["oxygen_need"][i]),
                            int(observed["ice_score"][i]), int(observed["consciousness"][i]),
                            bool(grid[i] >= anticytokine_from),
                            **{name: int(observed[name][i]) for name in NEURO_FINDINGS})
        for scale, (grade, rule) in point.items():
            grades[scale][i] = grade
            rules[scale][i] = rule
    for scale, (name, grade_of, label) in CYTOPENIAS.items():
        counts = run[name][index]
        grades[scale] = grade_of(counts)
        rules[scale] = [f"CTCAE v5.0: {label} {count:.3g} x 10^9/L -> grade {g}"
                        for count, g in zip(counts, grades[scale], strict=True)]
    return GradeSeries(np.asarray(grid, dtype=float), grades, rules)
