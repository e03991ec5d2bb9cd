"""Next steps after CAR-T failure, as rules from failure type to rescue therapy.

The rules follow the seeds' logic: an antigen-negative (or -low) relapse gets a CAR against
another target; an antigen-positive failure with CAR-T cells still there (exhausted, or the
tumour outgrowing them) a PD-1 checkpoint inhibitor (ZUMA-1: 9 of 14 CD19-positive progressions
were PD-L1 positive, trials_training.csv); an antigen-positive late relapse a second infusion
with lymphodepletion; early relapse or refractory disease an allogeneic transplant if eligible,
otherwise a bispecific antibody; chemotherapy where no targeted option exists. Each therapy is
simulated onward from the patient's state by the same model: CAR-T therapies as a new
lymphodepletion and infusion (a CAR against another target re-points the whole CAR-T pool: a
simplification, the first product's cells are few by then), the others as a kill window on the
tumour clones they reach. Kill rates are chosen, with the reason given, since reference/ has no
rescue efficacy data to calibrate them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartsim.journey.failure import Failure
from cartsim.presets import disease_facts


@dataclass(frozen=True)
class RescueTherapy:
    name: str
    description: str
    kind: str                    # "car-t" or "kill"
    delay_days: float = 0.0      # extra time to obtain the therapy (manufacturing)
    kill_positive: float = 0.0   # 1/day on antigen-positive and antigen-low clones
    kill_negative: float = 0.0   # 1/day on antigen-negative clones
    days: float = 0.0
    retarget: bool = False       # CAR against the disease's second antigen


THERAPIES = {t.name: t for t in (
    RescueTherapy("second-infusion", "second CAR-T infusion of the same product after "
                  "lymphodepletion", "car-t", delay_days=14.0),
    RescueTherapy("alternative-target-car", "CAR-T against a second antigen (CD22 / GPRC5D) "
                  "after lymphodepletion", "car-t", delay_days=30.0, retarget=True),
    RescueTherapy("allogeneic-transplant", "conditioning and allogeneic stem-cell transplant",
                  "kill", kill_positive=1.0, kill_negative=1.0, days=10.0),
    RescueTherapy("bispecific", "bispecific T-cell engager against the CAR's antigen "
                  "(lymphoma: CD20, reaching antigen-negative clones too)", "kill",
                  kill_positive=0.08, kill_negative=0.0, days=84.0),
    RescueTherapy("checkpoint-inhibitor", "PD-1 blockade, releasing persisting CAR-T and "
                  "endogenous T cells from PD-L1 inhibition", "kill", kill_positive=0.03,
                  kill_negative=0.03, days=84.0),
    RescueTherapy("chemotherapy", "salvage chemotherapy or targeted therapy", "kill",
                  kill_positive=0.067, kill_negative=0.067, days=60.0),
)}
"""Chosen kill rates: transplant conditioning about 4 logs over 10 days; a bispecific
0.08/day over 12 weeks (about 3 logs, of the order of its CR rates after CAR-T failure);
a checkpoint inhibitor 0.03/day over 12 weeks on every clone (about 1 log: it acts through
T cells, not the antigen; modest responses after CAR-T failure). Fitted: salvage chemotherapy
0.067/day over two months, the rate at which 1,000 SCHOLAR-1-like patients (scenario
scholar1-salvage-lbcl) respond as SCHOLAR-1's did (ORR 26%, trials_training.csv; simulated
26.0%, 95% CI 23.4-28.8; 0.04/day gave 3%, 0.08/day 44%); its median overall survival,
5.0 months against the published 6.3, is not fitted."""

PERSISTING_CAR_T_MECHANISMS = ("exhaustion", "tumour outgrowth despite persisting CAR-T")
"""Mechanisms of an antigen-positive failure that CAR-T cells survived: checkpoint blockade."""

def choose_rescue(failure: Failure, disease: str, transplant_eligible: bool) -> RescueTherapy:
    """The first matching rule."""
    second_car = disease_facts(disease).second_antigen is not None
    if failure.antigen in ("antigen-negative", "antigen-low") and second_car:
        return THERAPIES["alternative-target-car"]
    if failure.mechanism in PERSISTING_CAR_T_MECHANISMS:
        return THERAPIES["checkpoint-inhibitor"]
    if failure.kind == "late relapse":
        return THERAPIES["second-infusion"]
    if transplant_eligible:
        return THERAPIES["allogeneic-transplant"]
    if second_car:  # a B-lineage or plasma-cell disease: a bispecific exists
        return THERAPIES["bispecific"]
    return THERAPIES["chemotherapy"]


def rescue_parameters(therapy: RescueTherapy, start: float, disease: str,
                      ld_offset: float = -5.0) -> dict[str, float]:
    """Model parameter values that give ``therapy`` from day ``start`` (CAR-T: lymphodepletion
    from ``start``, infusion ``-ld_offset`` days later)."""
    if therapy.kind == "kill":
        negative = therapy.kill_negative
        if therapy.name == "bispecific" and disease_facts(disease).bispecific_reaches_negative:
            negative = therapy.kill_positive
        return {"rescue_start": start, "rescue_days": therapy.days,
                "rescue_kill_pos": therapy.kill_positive, "rescue_kill_neg": negative}
    # the whole dose at once: a split or fractionated first line's later fractions are past
    values = {"ld_start": start, "t_infusion": start - ld_offset, "cy_delay": 0.0,
              "split_second_fraction": 0.0, "split_third_fraction": 0.0}
    if therapy.retarget:
        first, second = disease_facts(disease).second_antigen
        values.update({f"binds_{first}": 0.0, f"binds_{second}": 1.0})
    return values
