"""CRS and ICANS severity: graded by IL-6 exposure, and trial cohorts within stated bounds of
the training trials' published rates (reference/trials_training.csv).

The endothelial IL-6 threshold ``ec50_endo``, the ICE steepness ``n_ice`` and the spread of
neurotoxic susceptibility were chosen by hand with ``tools/calibrate_toxicity.py`` against ELIANA
and ZUMA-1 (the thresholds of fever and macrophage activation also against the real-world
CIBMTR tisa-cel cohort, which the tests below do not check); KarMMa's any-grade CRS set only
the CD40 contact threshold ``K_cd40`` (with the others); its grade 3-4
cytopenias set the marrow's sensitivity to lymphodepletion and its between-patient spread, and
its neurotoxicity the lower neurotoxic drive of CARs that do not bind CD19. Bounds: 40
simulated patients have a 95% interval of about +-15 percentage points, the published rates
(n = 68-128) about +-10; a rate counts as reproduced within 20 points (25 for the broadly
defined neurologic events).
"""

from __future__ import annotations

import pytest

from cartsim.journey import load_protocol, protocol_from_mapping
from cartsim.journey.batch import run_journey
from cartsim.journey.cohort import run_cohort, toxicity_protocol
from cartsim.journey.scenarios import scenario_path

PATIENTS = 40


# median CRS onset and its range, days after infusion (reference/trials_training.csv)
CRS_ONSET = {"eliana-tisa-cel-b-all": (3.0, (1.0, 22.0)), "zuma1-axi-cel-lbcl": (2.0, (1.0, 12.0)),
             "karmma-ide-cel-mm": (1.0, (1.0, 12.0))}


def _toxicity_cohort(name: str):
    """The summary of the scenario's first 60 days, every enrolled patient infused."""
    protocol = toxicity_protocol(load_protocol(scenario_path(name)))
    return run_cohort(protocol, PATIENTS).summary()


def test_crs_grade_rises_with_il6_production():
    """Fever alone (grade 1) at low IL-6 production; hypotension and hypoxia only at high."""
    grades = []
    for factor in (0.05, 1.0, 20.0):
        outcome = run_journey(protocol_from_mapping({
            "product": "axi-cel", "disease": "lbcl", "seed": 1, "policy": "none",
            "follow_up_days": 30.0, "visits": {"days": [28.0]}, "rescue": {"enabled": False},
            "patient": {"parameters": {"p_il6_mac": 8000.0 * factor}}})).outcome
        grades.append(outcome.first_line.toxicity["crs_astct"].max)
    assert grades[0] == 1
    assert grades == sorted(grades) and grades[-1] >= 3


@pytest.mark.parametrize("name, bounds", [
    ("eliana-tisa-cel-b-all", {"crs_any": 20, "crs_grade3plus": 20, "icans_any": 25,
                               "icans_grade3plus": 20}),
    ("zuma1-axi-cel-lbcl", {"crs_any": 20, "crs_grade3plus": 20, "icans_any": 25,
                            "icans_grade3plus": 20}),
    ("karmma-ide-cel-mm", {"crs_any": 20, "crs_grade3plus": 20, "icans_any": 25,
                           "icans_grade3plus": 20,
                           "neutropenia_grade3plus": 20, "thrombocytopenia_grade3plus": 20}),
])
def test_trial_toxicity_rates_within_bounds(name, bounds):
    """Each rate within its bound, and the median CRS onset inside the trial's range; for
    ZUMA-1, where the therapy-model issue asks for it, within 1.5 days of the trial's median
    (measured 2.0 vs 2). Known deviation: the 4-1BB products' CRS starts about 3 days late
    (measured ELIANA 5.75 vs 3, KarMMa 3.75 vs 1): their cytokines follow the slower
    expansion, with no early burst at first contact with a large burden."""
    summary = _toxicity_cohort(name)
    median, (first, last) = CRS_ONSET[name]
    assert first <= summary["crs_onset_median_day"] <= last
    if name == "zuma1-axi-cel-lbcl":
        assert abs(summary["crs_onset_median_day"] - median) <= 1.5
    endpoints = summary["endpoints"]
    for key, bound in bounds.items():
        simulated = endpoints[key]["pct"]
        published = endpoints[key]["published"]["value"]
        assert abs(simulated - published) <= bound, (key, simulated, published)


def test_cd19_cars_drive_more_neurotoxicity_at_the_same_inflammation():
    """The CD19 factor acts only on CARs that do not bind CD19: a BCMA CAR's CNS injury falls
    with ``cns_share_without_cd19``, a CD19 CAR's is unchanged."""
    from cartsim.therapy.simulate import simulate_patient

    def peak_injury(product_name, disease_name, share):
        run = simulate_patient(product_name, disease_name, t_end=30, cns_share_without_cd19=share)
        return run["cns"].max(), run["il6_pg_ml"].max()

    bcma_low, il6_low = peak_injury("ide-cel", "mm", 0.2)
    bcma_full, il6_full = peak_injury("ide-cel", "mm", 1.0)
    # IL-6 is the same up to the solver's tolerance (the CNS state changes the step sizes)
    assert bcma_low < 0.5 * bcma_full and il6_low == pytest.approx(il6_full, rel=1e-4)
    assert peak_injury("axi-cel", "lbcl", 0.2) == peak_injury("axi-cel", "lbcl", 1.0)
