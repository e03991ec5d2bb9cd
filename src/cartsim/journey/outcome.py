"""What happened to one patient, as typed records: the journey fills them; endpoints, cohort
rows, the trial store (as JSON) and the command line read them.

A patient's outcome has the facts of the way to infusion, the first line (its response,
failure and toxicity on every grading scale), the rescue line when there was one, and death.
``to_json`` and ``from_json`` give the form written to ``outcome.json`` and the store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

PROGRESSION_DEATH = "death (progression)"
TREATMENT_DEATH = "death (treatment-related)"
"""Death causes the endpoints tell apart (the others: drop-out, background death)."""


@dataclass
class GradeSummary:
    """One grading scale over a line: the worst grade, the first day at grade >= 1 (None:
    never) and the days spent there."""

    max: int = 0
    onset_day: float | None = None
    duration_days: float = 0.0


@dataclass
class CountSummary(GradeSummary):
    """A cytopenia scale, with the count's nadir after infusion."""

    nadir_10e9_l: float | None = None
    nadir_day: float | None = None


@dataclass
class FailureRecord:
    """Why a line failed: its kind (primary refractory, incomplete response, early or late
    relapse), the antigen at failure, the mechanism, whether B-cell aplasia held then, and
    the day the failure was established (None: no progression or refractory disease to act
    on, as an incomplete response)."""

    kind: str
    antigen: str | None
    mechanism: str
    b_cell_aplasia: bool | None = None
    day: float | None = None


@dataclass
class Death:
    day: float
    cause: str


@dataclass
class ProductRecord:
    """The manufactured product a patient received."""

    dose_cells: float
    cd4_fraction: float
    memory_fraction: float
    out_of_spec: bool = False  # released out of specification, at a reduced dose


@dataclass
class LineOutcome:
    """One treatment line: its response (best response None: not evaluable, no visit) and
    its toxicity on each grading scale (``toxicity[scale]``)."""

    best_response: str | None = None
    response_day: float | None = None
    progression_day: float | None = None
    failure: FailureRecord | None = None
    mrd_negative: bool | None = None
    best_tumour_change_pct: float | None = None  # best change at the visits from baseline
    cart_peak_cells_per_ul: float | None = None  # blood CAR-T peak of a CAR-T line (Cmax)
    cart_peak_day: float | None = None           # its day from infusion (Tmax)
    toxicity: dict[str, GradeSummary] = field(default_factory=dict)


@dataclass
class PatientOutcome:
    """One patient's journey, from apheresis to the end of follow-up (or its failed
    simulation: ``simulation_failed`` holds the solver's reason and nothing else is known)."""

    itt: bool = True
    infused: bool = False
    standard_of_care: str | None = None
    """A comparator arm's therapy (no CAR-T), given from enrolment on day 0."""
    apheresis_day: float | None = None
    vein_to_vein_days: float | None = None
    not_infused_reason: str | None = None
    product: ProductRecord | None = None
    first_line: LineOutcome = field(default_factory=LineOutcome)
    tocilizumab_doses: int = 0
    steroid_courses: int = 0
    steroid_courses_for_crs: int = 0  # of them, those its CRS grade called for
    tumour_extinct_day: float | None = None
    car_t_extinct_day: float | None = None
    rescue: str | None = None
    rescue_start_day: float | None = None
    rescue_line: LineOutcome | None = None
    death: Death | None = None
    simulation_failed: str | None = None

    @property
    def failed(self) -> bool:
        return self.simulation_failed is not None

    @property
    def treated(self) -> bool:
        """Whether the line the endpoints describe was given: the infusion, or a comparator
        arm's therapy (every enrolled patient, from enrolment on day 0)."""
        return self.infused or self.standard_of_care is not None

    @property
    def death_day(self) -> float | None:
        return None if self.death is None else self.death.day

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (``from_json`` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PatientOutcome:
        values = dict(data)
        values["first_line"] = _line(values["first_line"])
        values["rescue_line"] = (None if values["rescue_line"] is None
                                 else _line(values["rescue_line"]))
        if values["product"] is not None:
            values["product"] = ProductRecord(**values["product"])
        if values["death"] is not None:
            values["death"] = Death(**values["death"])
        return cls(**values)


def _line(data: dict[str, Any]) -> LineOutcome:
    values = dict(data)
    if values["failure"] is not None:
        values["failure"] = FailureRecord(**values["failure"])
    values["toxicity"] = {scale: (CountSummary(**summary) if "nadir_10e9_l" in summary
                                  else GradeSummary(**summary))
                          for scale, summary in values["toxicity"].items()}
    return LineOutcome(**values)
