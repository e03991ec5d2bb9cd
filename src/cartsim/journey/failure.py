"""Why CAR-T therapy failed: the failure type from the response course, the antigen status of
the relapse and the mechanism the simulation shows.

Types: primary refractory (never responded), incomplete response (responded short of CR and
did not progress), early or late relapse (progression after a response, split at
``early_relapse_days`` counted from the start of the line that failed; defaults in the
disease's facts). Mechanisms of a CAR-T line are read off the trajectory in this
order, with chosen thresholds (no source gives numbers): antigen escape, poor expansion,
corticosteroid suppression, short persistence, exhaustion, else tumour outgrowth despite
persisting CAR-T. A later line that is not CAR-T fails by resistance to it (the antigen status
of the progression is given beside it).
"""

from __future__ import annotations

from dataclasses import dataclass

from cartsim.journey.assessment import Assessment, progressed, responded
from cartsim.presets import disease_facts
from cartsim.therapy.targets import SANCTUARY, TUMOUR_CLONES

POOR_EXPANSION_CELLS_PER_UL = 5.0
"""Chosen: a blood CAR-T peak below 5 cells/uL, well under the ZUMA-1 day-7 median of 27.5."""
LOST_CELLS_PER_UL = 0.01
"""Chosen: CAR-T cells below 0.01 cells/uL in blood are lost (about qPCR detection)."""
ESCAPE_SHARE = 0.5
"""Chosen: a relapse is antigen-negative (or -low) when that clone is most of the tumour."""
EXHAUSTED_SHARE = 0.5
"""Chosen: exhaustion explains failure when most CAR-T cells are exhausted at failure."""
def early_relapse_days(disease: str, configured: float | None = None) -> float:
    """The protocol's cut-off if set, else the disease's convention
    (:class:`cartsim.presets.diseases.DiseaseFacts`)."""
    if configured is not None:
        return float(configured)
    return disease_facts(disease).early_relapse_days


B_CELL_APLASIA_SHARE = 0.05
"""Chosen: B cells below 5% of the normal pool count as B-cell aplasia (no threshold in
reference/; clinics use a few percent of lymphocytes or a few cells per uL)."""


def b_cell_aplasia(run, day: float, b_normal: float) -> bool:
    """Whether normal B cells are below :data:`B_CELL_APLASIA_SHARE` of ``b_normal`` on
    ``day``: under a CD19 CAR, the sign that its cells are still at work."""
    return run.at("B", day) < B_CELL_APLASIA_SHARE * b_normal


STEROID_SUPPRESSION_MG = 10.0
"""Chosen: a mean steroid effect-compartment load above 10 mg dexamethasone (the half-maximal
amount, ``ec50_dex``) over the expansion phase (days 0-14) counts as suppression."""


@dataclass(frozen=True)
class Failure:
    kind: str                   # primary refractory, incomplete response, early/late relapse
    antigen: str | None         # antigen-positive / antigen-low / antigen-negative at failure
    mechanism: str
    day: float | None           # when it became evident (None: no progression to act on)


def antigen_status(run, day: float) -> str:
    total = sum(run.at(clone, day) for clone in (*TUMOUR_CLONES, SANCTUARY))
    if total <= 0:
        return "antigen-positive"
    if run.at("Tn", day) / total > ESCAPE_SHARE:
        return "antigen-negative"
    if run.at("Tl", day) / total > ESCAPE_SHARE:
        return "antigen-low"
    return "antigen-positive"


def mechanism(run, day: float, antigen: str, line_start: float = 0.0,
              therapy: str | None = None) -> str:
    """The mechanism of failure visible in the trajectory at ``day`` of a line that started
    (CAR-T: was infused) on ``line_start``; ``therapy`` names a line that is not CAR-T."""
    if therapy is not None:  # the antigen status is reported beside it
        return f"resistance to {therapy}"
    if antigen != "antigen-positive":
        return "antigen escape"
    after = (run.time >= line_start) & (run.time <= day + 1e-9)  # nothing after the failure
    if run["cart_cells_per_ul"][after].max(initial=0.0) < POOR_EXPANSION_CELLS_PER_UL:
        return "poor expansion"
    expansion = (run.time >= line_start) & (run.time <= line_start + 14)
    if expansion.any() and run["dex"][expansion].mean() > STEROID_SUPPRESSION_MG:
        return "suppression (corticosteroids)"
    if run.at("cart_cells_per_ul", day) < LOST_CELLS_PER_UL:
        return "short persistence"
    cells = sum(run.at(s, day) for s in ("Cm", "Ce", "Cx"))
    if cells > 0 and run.at("Cx", day) / cells > EXHAUSTED_SHARE:
        return "exhaustion"
    return "tumour outgrowth despite persisting CAR-T"


def classify(run, assessments: list[Assessment], best, progression: Assessment | None,
             early_relapse_days: float, line_start: float = 0.0,
             therapy: str | None = None) -> Failure | None:
    """The failure of the line that started on ``line_start`` (``therapy``: a line that is not
    CAR-T), or None for a complete response that has not progressed."""
    def failure(kind: str, day: float, shown: float | None) -> Failure:
        antigen = antigen_status(run, day)
        return Failure(kind, antigen, mechanism(run, day, antigen, line_start, therapy), shown)

    ever_responded = any(responded(a) for a in assessments)
    if progression is not None and ever_responded:
        early = progression.day - line_start <= early_relapse_days
        return failure("early relapse" if early else "late relapse", progression.day,
                       progression.day)
    if not ever_responded:
        refractory = next((a.day for a in assessments if progressed(a)), None)
        return failure("primary refractory",
                       refractory if refractory is not None else assessments[-1].day, refractory)
    if best.category not in ("CR", "sCR", "CRi"):
        return failure("incomplete response", assessments[-1].day, None)
    return None
