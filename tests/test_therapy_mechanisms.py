"""Each mechanism the therapy model claims, shown by the direction (and rough size) of its effect
on a typical patient. Measured values (as the model gives them today) are in the docstrings;
the bounds leave room for recalibration but fail if a mechanism is cut or reversed."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from cartsim.presets import disease, product
from cartsim.therapy.car_t import CAR_T_ASSIGNMENTS
from cartsim.therapy.simulate import preset_parameters, simulate_patient
from cartsim.therapy.targets import targets_model
from tests.conftest import at, peak


@pytest.fixture(scope="module")
def tisa_values():
    return preset_parameters(disease("b-all"), product("tisa-cel"))


def test_weaker_binding_or_less_antigen_spares_the_tumour(tisa_all, tisa_values):
    """Recognition weighs antigen density against the binder's affinity: a CAR binding 100-fold
    more weakly leaves 66 times more leukaemia on day 14, and blasts with 1000-fold less CD19
    escape early killing (2,900-fold more on day 14) and drive less expansion."""
    weak = simulate_patient("tisa-cel", "b-all", t_end=60, kd_CD19=100 * tisa_values["kd_CD19"])
    sparse = simulate_patient("tisa-cel", "b-all", t_end=60,
                              dens_CD19_Tp=1e-3 * tisa_values["dens_CD19_Tp"])
    assert at(weak, "tumour_cells", 14) > 10 * at(tisa_all, "tumour_cells", 14)
    assert at(sparse, "tumour_cells", 14) > 100 * at(tisa_all, "tumour_cells", 14)
    assert peak(sparse, "cart_cells_per_ul") < peak(tisa_all, "cart_cells_per_ul")


def test_killing_saturates_in_effectors_and_shares_them_among_targets():
    """Per target cell, killing grows with effectors up to kill_max (Beddington-DeAngelis) and
    falls as recognised targets outnumber the effectors."""
    expression = next(a.expression for a in targets_model().assignments
                      if a.name == "kill_per_target")
    rate = sp.lambdify(("killer_effectors", "target_load"), sp.sympify(expression).subs(
        {"kill_max": 3.0, "tme_suppression": 0.0, "K_E": 2.0, "q_ET": 0.3}))
    assert rate(0.01, 1.0) < rate(0.1, 1.0) < rate(1.0, 1.0) < rate(100.0, 1.0) < 3.0
    assert rate(1e6, 1.0) == pytest.approx(3.0, rel=1e-4)
    assert rate(1.0, 100.0) < 0.2 * rate(1.0, 1.0)


def test_engagement_needs_a_threshold_of_antigen_and_saturates_in_targets():
    """The engaged share of CAR-T cells is sigmoidal in the recognised target load: under 1%
    at a tenth of K_act, half at K_act, and it levels off at 1 - tme_suppression."""
    expression = next(a.expression for a in targets_model().assignments
                      if a.name == "engagement")
    share = sp.lambdify("target_load", sp.sympify(expression).subs(
        {"K_act": 10.0, "tme_suppression": 0.2}))
    assert share(1.0) < 0.01
    assert share(10.0) == pytest.approx(0.4)
    assert share(1.0) < share(10.0) < share(100.0) < share(1e3) < 0.8
    assert share(1e5) == pytest.approx(0.8, rel=1e-6)


def test_chronic_antigen_exhausts_car_t_cells():
    """A lymphoma that resists killing keeps its antigen, and half the CAR-T cells are
    exhausted by day 28 (measured 53%), against 12% where the lymphoma is cleared."""
    shares = []
    for susceptibility in (1.0, 0.05):
        run = simulate_patient("axi-cel", "lbcl", t_end=28, susceptibility=susceptibility)
        cells = [at(run, state, 28) for state in ("Cm", "Ce", "Cx")]
        shares.append(cells[2] / sum(cells))
    assert shares[1] > 2 * shares[0]
    assert shares[1] > 0.3


def test_cd4_help_drives_expansion(tisa_all):
    """CD4 help: a product with 10% CD4 cells expands 4-fold less (measured 5.8 vs 22 cells/µL
    at the peak) than the 1:1 product."""
    few_cd4 = simulate_patient("tisa-cel", "b-all", t_end=60, cd4_fraction=0.1)
    assert peak(few_cd4, "cart_cells_per_ul") < 0.5 * peak(tisa_all, "cart_cells_per_ul")


def test_cd8_cells_kill_more_than_cd4_and_effectors_more_than_memory_cells():
    """Cytotoxic weight of the CAR-T pool: an all-CD4 pool kills at cd4_kill_rel of an all-CD8
    one, memory cells at memory_kill_rel of armed (effector and transit) cells, exhausted cells
    not at all."""
    expression = next(a.expression for a in CAR_T_ASSIGNMENTS if a.name == "killer_effectors")
    weight = sp.lambdify(("armed_cells", "Cm", "cd4_fraction"), sp.sympify(expression).subs(
        {"cd4_kill_rel": 0.5, "memory_kill_rel": 0.3}))
    assert weight(1.0, 0.0, 1.0) == pytest.approx(0.5 * weight(1.0, 0.0, 0.0))
    assert weight(0.0, 1.0, 0.0) == pytest.approx(0.3 * weight(1.0, 0.0, 0.0))
    assert "Cx" not in expression


def test_steroids_suppress_cytokine_production(axi_lbcl):
    """Dexamethasone 40 mg/day from infusion for a week: peak IFN-γ falls five-fold (measured
    1,900 -> 360 pg/mL) and IL-6 by a third (1,360 -> 870)."""
    dex = simulate_patient("axi-cel", "lbcl", t_end=60, dex1_mg_per_day=40.0, dex1_start=0.0,
                           dex1_days=7.0)
    assert peak(dex, "ifng_pg_ml") < 0.5 * peak(axi_lbcl, "ifng_pg_ml")
    assert peak(dex, "il6_pg_ml") < 0.85 * peak(axi_lbcl, "il6_pg_ml")


@pytest.fixture(scope="module")
def burden_pair():
    """The typical LBCL patient with a small (3 Gcell) and a large (300 Gcell) tumour."""
    return {t0: simulate_patient("axi-cel", "lbcl", t_end=60, T0=t0) for t0 in (3.0, 300.0)}


def test_tumour_lysis_raises_ldh(burden_pair):
    """LDH rises with the killing of a large tumour (measured 500 -> 1,250 U/L) and hardly at
    all for a small one (203 -> 209)."""
    rise = {t0: peak(run, "ldh_u_l", 0.5) / at(run, "ldh_u_l", 0.0)
            for t0, run in burden_pair.items()}
    assert rise[300.0] > 1.5
    assert rise[3.0] < 1.2


def test_ferritin_follows_macrophage_activation(burden_pair):
    """Macrophage activation (the MAS/HLH marker) peaks on day 7 for a large tumour (0.68, vs
    0.0004 for a small one) and ferritin follows it, peaking later (day 11) at 32,000 ng/mL
    against 520."""
    small, large = burden_pair[3.0], burden_pair[300.0]
    assert peak(large, "macrophage_activation") > 100 * peak(small, "macrophage_activation")
    assert peak(large, "ferritin_ng_ml") > 10 * peak(small, "ferritin_ng_ml")
    day = {name: large.time[np.argmax(large[name])] for name in
           ("macrophage_activation", "ferritin_ng_ml")}
    assert day["macrophage_activation"] < day["ferritin_ng_ml"]


def test_lymphodepletion_empties_the_niche_and_kills_some_tumour(axi_lbcl):
    """Fludarabine and cyclophosphamide (days -5 to -3) take normal T cells from 180 to 5 per µL
    by infusion and take a few percent off the lymphoma (measured 95.5 vs 99.6 Gcell)."""
    without = simulate_patient("axi-cel", "lbcl", t_end=5, flu_days=0.0, cy_days=0.0)
    assert at(axi_lbcl, "normal_t_cells_per_ul", 0) < 0.1 * at(without,
                                                               "normal_t_cells_per_ul", 0)
    assert at(axi_lbcl, "tumour_cells", 0) < 0.99 * at(without, "tumour_cells", 0)


def test_crp_follows_il6_and_falls_when_tocilizumab_blocks_its_receptor(axi_lbcl):
    """CRP is made on IL-6 signalling: it peaks after IL-6 (measured day 8 vs 6, 240 mg/L)
    and stays low when tocilizumab on day 1.5 blocks the receptor (measured 15 mg/L)."""
    day = {name: axi_lbcl.time[np.argmax(axi_lbcl[name])] for name in ("il6_pg_ml", "crp_mg_l")}
    assert day["il6_pg_ml"] < day["crp_mg_l"]
    assert peak(axi_lbcl, "crp_mg_l") > 10 * at(axi_lbcl, "crp_mg_l", -1)
    toci = simulate_patient("axi-cel", "lbcl", t_end=30, toci_t1=1.5)
    assert peak(toci, "crp_mg_l", 2.0) < 0.25 * peak(axi_lbcl, "crp_mg_l")


def test_il10_rises_with_the_tumour_killed(burden_pair):
    """IL-10 (regulatory, from activated macrophages) hardly moves for a small tumour
    (measured 5.0 -> 5.04 pg/mL) and rises many-fold for a large one (92)."""
    rise = {t0: peak(run, "il10_pg_ml") / at(run, "il10_pg_ml", 0.0)
            for t0, run in burden_pair.items()}
    assert rise[3.0] < 1.2
    assert rise[300.0] > 5


def test_lymphoma_spd_falls_with_the_tumour(axi_lbcl):
    """The sum of products of diameters follows the lymphoma: from thousands of mm² at
    infusion to nothing measurable once it is cleared."""
    assert at(axi_lbcl, "spd_mm2", 0) > 1000
    assert at(axi_lbcl, "tumour_cells", 28) < 1e-6 * at(axi_lbcl, "tumour_cells", 0)
    assert at(axi_lbcl, "spd_mm2", 28) < 0.01 * at(axi_lbcl, "spd_mm2", 0)


def test_support_scales_climb_with_the_endothelial_leak(burden_pair):
    """Oxygen need (0-4) and vasopressors (0-3) are graded steps of one leak: none for a small
    tumour, and an untreated large one reaches positive pressure and several vasopressors."""
    small, large = burden_pair[3.0], burden_pair[300.0]
    assert small["oxygen_need"].max() == 0 and small["vasopressors"].max() == 0
    assert large["oxygen_need"].max() >= 3 and large["vasopressors"].max() == 3
    assert set(np.unique(large["oxygen_need"])) <= {0, 1, 2, 3, 4}
    order = [large.time[np.argmax(large["oxygen_need"] >= level)] for level in (1, 2, 3)]
    assert order == sorted(order)
