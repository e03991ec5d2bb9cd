"""The endpoints a cohort or trial reports: each a proportion over its denominator (all
enrolled, the infused, the relapses...) of patients whose outcome has the event, as the
training trials report them, plus the time helpers they share.

"Of infused" counts the treated (:attr:`PatientOutcome.treated`): in a comparator arm without
CAR-T, every enrolled patient, treated from enrolment (day 0), so its response, survival and
toxicity are its own therapy's, as a randomised trial's control arm reports them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from cartsim.clinical.response import RESPONDERS
from cartsim.journey import assessment as assess_mod
from cartsim.journey.failure import B_CELL_APLASIA_SHARE
from cartsim.journey.outcome import PROGRESSION_DEATH, TREATMENT_DEATH, PatientOutcome

COMPLETE = ("CR", "sCR")


DAYS_PER_MONTH = 365.25 / 12
"""A calendar month on average, in days."""


def month_days(months: float) -> float:
    """Days in ``months`` calendar months, to whole days (6 -> 183, 12 -> 365)."""
    return float(round(months * DAYS_PER_MONTH))


@dataclass(frozen=True)
class EndpointContext:
    """What the endpoints read from the scenario: its response criteria and their responder
    categories, its follow-up, and the CRS scale it reports."""

    criteria: str
    responders: tuple[str, ...]
    follow_up_days: float
    crs_scale: str

    @classmethod
    def of(cls, protocol: dict) -> EndpointContext:
        criteria = assess_mod.criteria_of(protocol)
        return cls(criteria, tuple(RESPONDERS[assess_mod.SCALE_OF[criteria]]),
                   protocol["follow_up_days"], f"crs_{protocol['monitoring']['crs_scale']}")


Test = Callable[[PatientOutcome, EndpointContext], bool | None]


@dataclass(frozen=True)
class Endpoint:
    """A proportion: ``counts(outcome, context)`` says whether a patient has the event, or
    None when the patient is outside the endpoint's denominator."""

    name: str
    description: str
    counts: Test
    months: float | None = None   # a time-point endpoint: needs this much follow-up


def _infused(test: Test) -> Test:
    return lambda o, ctx: test(o, ctx) if o.treated else None


def responded(o: PatientOutcome, ctx: EndpointContext) -> bool:
    """The first line's best response is a responder category of the criteria."""
    return o.first_line.best_response in ctx.responders


def _complete(o: PatientOutcome, ctx: EndpointContext) -> bool:
    return o.first_line.best_response in COMPLETE


def _grade_at_least(scale: str | None, grade: int) -> Test:
    """The first line's worst grade on ``scale`` (None: the scenario's CRS scale)."""
    def test(o: PatientOutcome, ctx: EndpointContext) -> bool:
        return o.first_line.toxicity[scale or ctx.crs_scale].max >= grade
    return test


def death_day(o: PatientOutcome) -> float:
    """The day of death, inf for a patient alive at the end."""
    return math.inf if o.death is None else o.death.day


def _alive_at(months: float) -> Test:
    return lambda o, ctx: death_day(o) > month_days(months)


def disease_event_day(o: PatientOutcome) -> float:
    """The first line's progression, or the day its refractory disease was established (ALL
    calls a non-response refractory, not progression; for progression-free survival and
    non-relapse mortality it is the disease's event all the same); inf: neither."""
    line = o.first_line
    refractory = (line.failure.day if line.failure is not None
                  and line.failure.kind == "primary refractory" else None)
    return min(math.inf if day is None else day for day in (line.progression_day, refractory))


def progression_or_death_day(o: PatientOutcome) -> float:
    return min(disease_event_day(o), death_day(o))


def _progression_free_at(months: float) -> Test:
    return lambda o, ctx: progression_or_death_day(o) > month_days(months)


def _event_free_at(months: float) -> Test:
    pfs = _progression_free_at(months)
    return lambda o, ctx: responded(o, ctx) and pfs(o, ctx)


def _antigen_negative_of(kinds: tuple[str, ...]) -> Test:
    """Escape (antigen-negative or -low) among infused patients whose failure is of ``kinds``
    and was seen as progression."""
    def test(o: PatientOutcome, ctx: EndpointContext) -> bool | None:
        failure = o.first_line.failure
        if (not o.treated or failure is None or failure.kind not in kinds
                or o.first_line.progression_day is None):
            return None
        return failure.antigen != "antigen-positive"
    return test


_relapse_escape = _antigen_negative_of(("early relapse", "late relapse"))


def _escape_relapse_with_b_cell_aplasia(o: PatientOutcome, ctx: EndpointContext) -> bool | None:
    """B-cell aplasia persisting at an antigen-negative or -low relapse (the CAR-T cells were
    still there: escape, not loss of surveillance)."""
    return bool(o.first_line.failure.b_cell_aplasia) if _relapse_escape(o, ctx) else None


def _mrd_negative(o: PatientOutcome, ctx: EndpointContext) -> bool | None:
    """MRD below the disease's threshold at a response assessment (ALL 10^-4, myeloma
    10^-5), of infused whose criteria assess MRD."""
    return o.first_line.mrd_negative if o.treated else None


def _disease_controlled(o: PatientOutcome, ctx: EndpointContext) -> bool | None:
    """RECIST disease control (CR, PR or SD as best response), of infused solid tumours."""
    if not o.treated or ctx.criteria != "RECIST":
        return None
    return o.first_line.best_response in ("CR", "PR", "SD")


def _non_relapse_death(o: PatientOutcome, ctx: EndpointContext) -> bool | None:
    """Death without progression or refractory disease before it (treatment, background), of
    infused."""
    if not o.treated:
        return None
    return (o.death is not None and o.death.cause != PROGRESSION_DEATH
            and disease_event_day(o) > o.death.day)


def _in_response_after(months: float) -> Test:
    """Still responding (no progression or death) ``months`` after the first response, of
    responders followed that long."""
    def test(o: PatientOutcome, ctx: EndpointContext) -> bool | None:
        start = o.first_line.response_day
        if not o.treated or start is None or not responded(o, ctx):
            return None
        if start + month_days(months) > ctx.follow_up_days:
            return None
        return progression_or_death_day(o) > start + month_days(months)
    return test


_TIME_POINTS = {
    "pfs": ("alive without progression {} months after infusion", _progression_free_at),
    "efs": ("responded, alive and without progression at {} months", _event_free_at),
    "os": ("alive {} months after infusion", _alive_at),
}


def _at_month(kind: str, months: int) -> Endpoint:
    """PFS, EFS or OS at ``months`` after infusion, of infused (e.g. ``pfs_12mo``)."""
    text, test = _TIME_POINTS[kind]
    return Endpoint(f"{kind}_{months}mo", text.format(months) + ", of infused",
                    _infused(test(months)), months)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("infused", "enrolled patients who were infused (ITT)", lambda o, ctx: o.infused),
    Endpoint("orr_itt", "best response a responder category, of all enrolled (ITT; a "
             "patient never infused has none, a comparator arm's response is its therapy's)",
             responded),
    Endpoint("orr", "best response a responder category (ALL: CR/CRi; Lugano, RECIST: CR/PR; "
                    "IMWG: PR or better), of infused", _infused(responded)),
    Endpoint("cr", "best response CR (IMWG: CR or sCR), of infused", _infused(_complete)),
    Endpoint("crs_any", "CRS grade >= 1 on the scenario's scale, of infused",
             _infused(_grade_at_least(None, 1))),
    Endpoint("crs_grade3plus", "CRS grade >= 3 on the scenario's scale, of infused",
             _infused(_grade_at_least(None, 3))),
    Endpoint("icans_any", "ICANS grade >= 1 (ASTCT), of infused",
             _infused(_grade_at_least("icans", 1))),
    Endpoint("icans_grade3plus", "ICANS grade >= 3 (ASTCT), of infused",
             _infused(_grade_at_least("icans", 3))),
    Endpoint("neutropenia_grade3plus", "ANC below 1.0 x 10^9/L after infusion (CTCAE grade "
             ">= 3), of infused", _infused(_grade_at_least("neutropenia", 3))),
    Endpoint("thrombocytopenia_grade3plus", "platelets below 50 x 10^9/L after infusion "
             "(CTCAE grade >= 3), of infused",
             _infused(_grade_at_least("thrombocytopenia", 3))),
    Endpoint("tocilizumab", "received tocilizumab, of infused",
             _infused(lambda o, ctx: o.tocilizumab_doses > 0)),
    Endpoint("steroids", "received a corticosteroid course, of infused",
             _infused(lambda o, ctx: o.steroid_courses > 0)),
    Endpoint("steroids_for_crs", "received a corticosteroid course for CRS (its CRS grade met "
             "the policy's rule), of infused",
             _infused(lambda o, ctx: o.steroid_courses_for_crs > 0)),
    Endpoint("treatment_related_death", "died of treatment (grade 4 held), of infused",
             _infused(lambda o, ctx: o.death is not None
                      and o.death.cause == TREATMENT_DEATH)),
    Endpoint("tumour_eradicated", "every tumour cell died (all clones extinct) after the "
             "infusion, before any rescue, of infused",
             _infused(lambda o, ctx: o.tumour_extinct_day is not None)),
    *(_at_month("pfs", m) for m in (6, 12, 24)),
    *(_at_month("efs", m) for m in (6, 12)),
    *(_at_month("os", m) for m in (6, 12, 18, 24)),
    Endpoint("relapse_antigen_negative", "antigen-negative or -low at relapse, of relapses",
             _relapse_escape),
    Endpoint("escape_relapse_with_b_cell_aplasia", f"B cells below "
             f"{B_CELL_APLASIA_SHARE:.0%} of normal at an antigen-negative or -low relapse, "
             "of such relapses",
             _escape_relapse_with_b_cell_aplasia),
    Endpoint("progression_antigen_negative", "antigen-negative or -low at progression "
             "(relapse or primary refractory), of progressions",
             _antigen_negative_of(("early relapse", "late relapse", "primary refractory"))),
    Endpoint("mrd_neg", "MRD-negative at a response assessment (ALL: below 10^-4, myeloma: "
             "below 10^-5 of nucleated marrow cells), of infused", _mrd_negative),
    Endpoint("dcr", "disease control (RECIST CR, PR or SD as best response), of infused",
             _disease_controlled),
    Endpoint("manufacturing_failure", "no product released (low apheresis yield or failed "
             "release testing), of enrolled (ITT)",
             lambda o, ctx: (o.not_infused_reason or "").startswith(
                 "manufacturing failure")),
    Endpoint("non_relapse_mortality", "died without progression before (treatment-related "
             "or background death), of infused", _non_relapse_death),
    *(Endpoint(f"dor_{m}mo", f"still responding {m} months after the first response, of "
               f"responders followed that long", _in_response_after(m), m) for m in (6, 12)),
)
ENDPOINT_NAMES = tuple(e.name for e in ENDPOINTS)
