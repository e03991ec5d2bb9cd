"""Response and escape: the mechanisms that make failure possible, and trial cohorts within stated
bounds of the training trials' published rates (reference/trials_training.csv).

The lymphoma tumour's killing susceptibility (from Kimmel 2021's LBCL killing rate over the
leukaemia-calibrated maximum, raised for the target saturation Kimmel's killing lacks), its
between-patient spread, the myeloma susceptibility and the pre-existing antigen-negative fraction
were chosen by hand with ``tools/calibrate_response.py`` against ZUMA-1 and KarMMa, the solid
tumours' engagement threshold against CT041. Bounds: 60 simulated patients have a 95% interval of
about +-13 percentage points, the published rates (n = 75-128) about +-10; a rate counts as
reproduced within 20 points. ELIANA's CR (60%, CRi 21%) was not used: the blood counts that
separate CR from CRi were calibrated on KarMMa's cytopenias alone. The share of progressions that
are CD19-negative rests on 21 ZUMA-1 biopsies (95% interval 15-57%), so its bound is 25 points.
ELIANA's share of CD19-negative relapses (41%, Lamble 2023's 166 relapses, but about 20
simulated relapses here) is bounded by 25 points too (measured 30%). ZUMA-1's PFS at 2 years
(39%) and OS at 18 months (52%) check durability: measured 29% and 54% in these 60 patients
(cures need a lymphoma without CD19-negative cells, mu_neg and frac_neg).
"""

from __future__ import annotations

import pytest

from cartsim.journey import load_protocol
from cartsim.journey.cohort import run_cohort
from cartsim.journey.scenarios import scenario_path
from cartsim.therapy.simulate import simulate_patient

PATIENTS = 60


@pytest.mark.parametrize("name, bounds", [
    ("eliana-tisa-cel-b-all", {"orr": 20, "cr": 20, "os_12mo": 20, "efs_6mo": 20,
                               "efs_12mo": 20, "relapse_antigen_negative": 25}),
    ("zuma1-axi-cel-lbcl", {"orr": 20, "cr": 20, "progression_antigen_negative": 25,
                            "pfs_24mo": 20, "os_18mo": 20}),
    ("karmma-ide-cel-mm", {"orr": 20}),
    ("ct041-satri-cel-gastric", {"orr": 20}),
])
def test_trial_response_rates_within_bounds(name, bounds):
    endpoints = run_cohort(load_protocol(scenario_path(name)), PATIENTS).summary()["endpoints"]
    for key, bound in bounds.items():
        simulated = endpoints[key]["pct"]
        published = endpoints[key]["published"]["value"]
        assert abs(simulated - published) <= bound, (key, simulated, published)


def test_lymphoma_responses_range_from_cure_to_antigen_positive_failure():
    """A resistant lymphoma (low susceptibility) escapes with its antigen while CAR-T cells
    are still there; a fully susceptible one is cleared below one cell in a thousand of its
    burden within four weeks. Without pre-existing antigen-negative cells."""
    clean = {"frac_neg": 0.0, "mu_neg": 0.0}
    resistant = simulate_patient("axi-cel", "lbcl", t_end=60, susceptibility=0.02, **clean)
    susceptible = simulate_patient("axi-cel", "lbcl", t_end=60, susceptibility=1.0, **clean)
    start = resistant.at("tumour_cells", 0)
    end = resistant.at("tumour_cells", 60)
    assert end > start  # grew through the therapy
    assert resistant.at("antigen_low_cells", 60) + resistant.at("antigen_negative_cells", 60) \
        < 0.1 * end  # with its antigen
    assert resistant.at("cart_cells_per_ul", 28) > 0.1  # not for want of CAR-T cells
    assert susceptible.at("tumour_cells", 28) < 1e-3 * start
