"""Why CAR-T therapy failed: the failure type from the response course, the antigen status of
the relapse and the mechanism the simulation shows.

Types: primary refractory (never responded), incomplete response (responded short of CR and
did not progress), early or late relapse (progression after a response, split at
``early_relapse_days``; default 180 days: the BFM "within 6 months" early-relapse convention,
clinical_rules.md section 6). Mechanisms are read off the trajectory in this order, with
chosen thresholds (no source gives numbers): antigen escape, poor expansion, corticosteroid
suppression, short persistence, exhaustion, else tumour outgrowth despite persisting CAR-T.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartsim.journey.assessment import Assessment, progressed, responded

POOR_EXPANSION_CELLS_PER_UL = 5.0
"""Chosen: a blood CAR-T peak below 5 cells/uL, well under the ZUMA-1 day-7 median of 27.5."""
LOST_CELLS_PER_UL = 0.01
"""Chosen: CAR-T cells below 0.01 cells/uL in blood are lost (about qPCR detection)."""
ESCAPE_SHARE = 0.5
"""Chosen: a relapse is antigen-negative (or -low) when that clone is most of the tumour."""
EXHAUSTED_SHARE = 0.5
"""Chosen: exhaustion explains failure when most CAR-T cells are exhausted at failure."""
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
    total = sum(run.at(clone, day) for clone in ("Tp", "Tl", "Tn"))
    if total <= 0:
        return "antigen-positive"
    if run.at("Tn", day) / total > ESCAPE_SHARE:
        return "antigen-negative"
    if run.at("Tl", day) / total > ESCAPE_SHARE:
        return "antigen-low"
    return "antigen-positive"


def mechanism(run, day: float, antigen: str) -> str:
    """The mechanism of failure visible in the trajectory at ``day``."""
    if antigen != "antigen-positive":
        return "antigen escape"
    after = run.time >= 0
    if run["cart_cells_per_ul"][after].max() < POOR_EXPANSION_CELLS_PER_UL:
        return "poor expansion"
    expansion = (run.time >= 0) & (run.time <= 14)
    if expansion.any() and run["dex"][expansion].mean() > STEROID_SUPPRESSION_MG:
        return "suppression (corticosteroids)"
    if run.at("cart_cells_per_ul", day) < LOST_CELLS_PER_UL:
        return "short persistence"
    cells = sum(run.at(s, day) for s in ("Cm", "Ce", "Cx"))
    if cells > 0 and run.at("Cx", day) / cells > EXHAUSTED_SHARE:
        return "exhaustion"
    return "tumour outgrowth despite persisting CAR-T"


def classify(run, assessments: list[Assessment], best, progression: Assessment | None,
             early_relapse_days: float) -> Failure | None:
    """The failure, or None for a complete response that has not progressed."""
    ever_responded = any(responded(a) for a in assessments)
    if progression is not None and ever_responded:
        kind = "early relapse" if progression.day <= early_relapse_days else "late relapse"
        antigen = antigen_status(run, progression.day)
        return Failure(kind, antigen, mechanism(run, progression.day, antigen), progression.day)
    if not ever_responded:
        refractory = next((a.day for a in assessments if progressed(a)), None)
        day = refractory if refractory is not None else assessments[-1].day
        antigen = antigen_status(run, day)
        return Failure("primary refractory", antigen, mechanism(run, day, antigen), refractory)
    if best.category not in ("CR", "sCR", "CRi"):
        day = assessments[-1].day
        antigen = antigen_status(run, day)
        return Failure("incomplete response", antigen, mechanism(run, day, antigen), None)
    return None
