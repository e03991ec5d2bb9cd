"""Virtual populations: sampling of between-patient variability and the spreads it produces.

The product omegas that no paper gives for this model were calibrated once
(tools/calibrate_variability.py, 200 patients, seed 0) to Stein 2019's spreads (tisa-cel) and
ZUMA-1's quartiles (axi-cel); these tests use 300 patients, so they check the fit on patients
it did not see as well as on those it did. The ELIANA response rate was not fitted.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cartsim.presets import PresetError
from cartsim.presets.blood_kinetics import PUBLISHED_COUNTS
from cartsim.presets.variability import Variation, variability
from cartsim.therapy.population import sample_population, simulate_population

STEIN_OMEGA = {"cmax": math.sqrt(0.65), "tmax": math.sqrt(0.38), "fold": math.sqrt(2.4)}
STEIN_OMEGA_DECLINE = {"alpha": math.sqrt(0.91), "beta": math.sqrt(0.86),
                       "slow_fraction": math.sqrt(0.8)}
ZUMA1_QUARTILES = {7: (16.5, 57.5), 14: (3.8, 31.1), 28: (0.6, 6.1), 90: (0.01, 0.4)}
ZUMA1 = PUBLISHED_COUNTS["axi-cel"]
ZUMA1_MEDIANS = dict(zip(ZUMA1.days, ZUMA1.median, strict=True))


@pytest.fixture(scope="module")
def tisa_population():
    return simulate_population("tisa-cel", "b-all", 300, t_end=60, points_per_day=4)


@pytest.fixture(scope="module")
def axi_population():
    return simulate_population("axi-cel", "lbcl", 300, t_end=91, points_per_day=4)


def test_log_normal_variation_has_the_stated_omega_and_median():
    values = {"a": 2.0, "b": 5.0}
    table = sample_population(values, (Variation("a", 0.5, "test"),), 20000, seed=3)
    assert np.std(np.log(table["a"])) == pytest.approx(0.5, rel=0.03)
    assert np.median(table["a"]) == pytest.approx(2.0, rel=0.03)
    assert np.all(table["b"] == 5.0)


def test_logit_variation_keeps_fractions_inside_zero_and_one():
    table = sample_population({"f": 0.9}, (Variation("f", 3.0, "test", "logit"),), 5000)
    assert np.all((table["f"] > 0) & (table["f"] < 1))
    assert np.median(table["f"]) == pytest.approx(0.9, abs=0.02)
    with pytest.raises(PresetError, match="logit"):
        sample_population({"f": 1.5}, (Variation("f", 1.0, "test", "logit"),), 3)


def test_patient_depends_only_on_seed_and_index():
    values = {"a": 1.0}
    variation = (Variation("a", 1.0, "test"),)
    whole = sample_population(values, variation, 50, seed=7)["a"]
    tail = sample_population(values, variation, 20, seed=7, first_patient=30)["a"]
    np.testing.assert_array_equal(whole[30:], tail)
    other = sample_population(values, variation, 50, seed=8)["a"]
    assert not np.any(whole == other)


def test_bad_variations_are_refused():
    with pytest.raises(PresetError, match="unknown parameter"):
        sample_population({"a": 1.0}, (Variation("b", 0.1, "test"),), 3)
    with pytest.raises(PresetError, match="omega"):
        Variation("a", -0.1, "test")
    with pytest.raises(PresetError, match="scale"):
        Variation("a", 0.1, "test", "linear")
    with pytest.raises(PresetError, match="no variability for product"):
        variability("unknown-cel", "b-all")


def test_every_varied_parameter_has_a_source_and_exists():
    from cartsim.presets.variability import DISEASE_VARIABILITY, PRODUCT_VARIABILITY
    from cartsim.therapy.simulate import preset_parameters

    names = set(preset_parameters())
    for group in (*PRODUCT_VARIABILITY.values(), *DISEASE_VARIABILITY.values()):
        for v in group:
            assert v.parameter in names
            assert v.source.split(":")[0] in ("chosen", "stein2019", "singh2021", "kimmel2021")


def test_tisa_cel_population_spreads_like_stein_2019(tisa_population):
    """Stein 2019 Table 1 omegas: Cmax 0.81, Tmax 0.62, fold expansion 1.55 (SD of the log).
    Tolerance 20% on each spread (the interquartile estimate of 300 patients has a standard
    error of about 6%); medians as for the typical patient: Tmax 7-12 d, Cmax and fold
    expansion within a factor 2 of 24,000 copies/ug and 3,900."""
    ck = tisa_population.kinetics()
    cmax = np.array([k.cmax for k in ck])
    tmax = np.array([k.tmax for k in ck])
    fold = tisa_population.fold_expansions()
    spreads = tisa_population.kinetic_spreads()
    for name, omega in STEIN_OMEGA.items():
        assert spreads[name] == pytest.approx(omega, rel=0.2), name
    assert 7.0 <= np.median(tmax) <= 12.0
    assert 24000 / 2 <= np.median(cmax) <= 24000 * 2
    assert 3900 / 2 <= np.median(fold) <= 3900 * 2


def test_tisa_cel_population_declines_like_stein_2019():
    """Stein 2019 Table 1 over a year: the spreads of alpha (omega 0.95), beta (0.93) and the
    slow fraction F_B (0.89), and their medians 0.16/day, 0.0032/day and 0.0079. Measured (300
    patients): spreads 0.64, 0.83 and 1.01; medians 0.118, 0.0029 and 0.0090. Bounds: beta's
    spread within 25%, F_B's within 30% (the fit on 200 other patients gave 1.05); alpha's is
    narrower than Stein's, a known deviation (the early decline here mixes effector death with
    memory conversion and the antigen left, and widening d_eff's spread widens Cmax's too),
    asserted to be at least 60% of it. Medians: alpha within 30%, beta and F_B within a factor
    2. Patients whose cells are gone by day 365 have no beta or F_B."""
    run = simulate_population("tisa-cel", "b-all", 300, t_end=365)
    spreads = run.kinetic_spreads()
    assert spreads["beta"] == pytest.approx(STEIN_OMEGA_DECLINE["beta"], rel=0.25)
    assert spreads["slow_fraction"] == pytest.approx(STEIN_OMEGA_DECLINE["slow_fraction"],
                                                     rel=0.3)
    assert 0.6 * STEIN_OMEGA_DECLINE["alpha"] <= spreads["alpha"] <= STEIN_OMEGA_DECLINE["alpha"]
    ck = run.kinetics()
    medians = {name: np.nanmedian([getattr(k, name) for k in ck])
               for name in ("alpha", "beta", "slow_fraction")}
    assert medians["alpha"] == pytest.approx(0.16, rel=0.3)
    assert 0.0032 / 2 <= medians["beta"] <= 0.0032 * 2
    assert 0.0079 / 2 <= medians["slow_fraction"] <= 0.0079 * 2


def test_tisa_cel_population_response_rate_near_eliana(tisa_population):
    """ELIANA: 81% CR/CRi within 3 months (95% CI 71-89%), not used in any calibration.
    Responders here: marrow blasts below 5% on day 28."""
    blasts = np.array([np.interp(28, tisa_population.time, b)
                       for b in tisa_population["marrow_blasts_pct"]])
    assert 0.71 <= np.mean(blasts < 5.0) <= 0.89


def test_axi_cel_population_reproduces_zuma1_quartiles(axi_population):
    """ZUMA-1 (Kimmel 2021, n = 19-23 per day): quartiles of blood CAR-T cells/uL at days 7,
    14, 28, 90. With about 20 patients per day the observed quartiles are themselves uncertain
    by a factor of about 2, so each simulated quartile must lie within a factor 3, and each
    median (the issue's 27.5, 9.1, 2.1 and 0.1) within a factor 1.6. Measured medians 29.1,
    9.8, 2.0, 0.15."""
    for day, (q25, q75) in ZUMA1_QUARTILES.items():
        counts = [np.interp(day, axi_population.time, c)
                  for c in axi_population["cart_cells_per_ul"]]
        low, median, high = np.percentile(counts, [25, 50, 75])
        assert abs(math.log(low / q25)) < math.log(3), day
        assert abs(math.log(high / q75)) < math.log(3), day
        assert abs(math.log(median / ZUMA1_MEDIANS[day])) < math.log(1.6), day


def test_every_patient_solves(tisa_population, axi_population):
    assert tisa_population.ok.all() and axi_population.ok.all()
    assert tisa_population.n_patients == 300


def test_every_preset_pair_has_a_population():
    """Each product in each disease can be simulated as a population."""
    from cartsim.presets import DISEASES, PRODUCTS

    for product_name in PRODUCTS:
        for disease_name in DISEASES:
            run = simulate_population(product_name, disease_name, 4, t_end=10)
            assert run.ok.all(), (product_name, disease_name)
