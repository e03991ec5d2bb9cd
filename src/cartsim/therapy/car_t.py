"""CAR-T cells: memory (stem-like), effector and exhausted phenotypes, total body.

Memory cells are activated by antigen into effectors (4-1BB memory cells self-renew: the
activated cell stays memory and its daughter becomes the effector); effectors proliferate while
engaged (saturating in antigen load, helped by CD4 cells), contract once antigen is gone and
return to memory as it clears, and exhaust under chronic engagement. Memory cells kill too, less
than effectors: the long-lived pool that remains after contraction keeps new B cells from
surviving (B-cell aplasia). Both memory and effector cells also grow or shrink homeostatically
by competing with normal T cells for the lymphocyte niche that lymphodepletion empties (Kimmel
2021's Gompertz competition). The equations need ``engagement`` (from :mod:`.targets`), ``N``
(normal T cells, :mod:`.normal_cells`), ``steroid_effect`` and ``switch_kill`` (:mod:`.drugs`).
Below 100 cells, memory and effector cells are simulated as birth-death processes
(:mod:`.small_numbers`), so a product's last cells are lost by chance.
"""

from __future__ import annotations

from cartsim.model import Assignment, Model, State, TimeEvent, add_to
from cartsim.therapy.common import GCELL_PER_CELL, par
from cartsim.therapy.small_numbers import StochasticPopulation

CAR_T_PARAMETERS = (
    par("rho_max", 1.76, "1/day", "chosen: calibrated so the typical tisa-cel B-ALL patient "
        "reaches Stein 2019's fold expansion 3900 at Tmax 9.3 d (stein2019: Table 1)",
        "maximal antigen-driven effector proliferation rate"),
    par("K_cap", 3.0, "Gcell", "liu2021: responders differ in proliferation capacity; value "
        "chosen with rho_max to Stein 2019's Cmax (stein2019: Table 1)", "CAR-T number at "
        "which antigen-driven proliferation halves"),
    par("lymph_competition", 0.02, "", "chosen: normal T cells compete for the homeostatic "
        "cytokines expanding CAR-T cells need (kimmel2021's competition applied to expansion), so "
        "lymphodepletion raises expansion; 250 Gcell of T cells count as 5 Gcell of CAR-T",
        "weight of normal T cells in the expansion capacity"),
    par("k_mem_act", 1.0, "1/day", "hardiansyah2019: a_M, memory to effector activation",
        "activation rate of memory cells into effectors at full engagement"),
    par("memory_self_renewal", 0.0, "", "chosen: 0, every activated memory cell becomes an "
        "effector, as CD28 signalling drives terminal differentiation (4-1BB products override "
        "it; no value in reference/)", "share of memory activations that are asymmetric "
        "divisions: the memory cell stays and an effector daughter leaves"),
    par("memory_kill_rel", 1.0, "", "chosen: the long-lived pool stands for persisting "
        "memory and effector-memory CAR-T cells that kill on contact (no value in reference/); "
        "they keep B-cell aplasia for months after the effectors contract (eliana: "
        "B_cell_aplasia in all responders). Calibrated by hand: 0.5 lost aplasia within the year "
        "in the typical tisa-cel patient, and at CD19-negative relapse 47% still had it "
        "(Pulsipher 2022: 88%); 1 gives 71% (150 eliana patients) and zuma1 PFS at 2 years 32% "
        "(39; 24% with 0.5)", "killing potency of memory cells relative to effectors"),
    par("eps_mem", 0.0012, "1/day", "chaudhury2020: k_EP (BIOMD0000001025), effector to "
        "persistent conversion; reproduces Stein 2019's slow fraction F_B 0.0079",
        "effector-to-memory conversion rate once antigen no longer engages the cell"),
    par("d_eff", 0.1588, "1/day", "stein2019: Table 1 alpha 0.16/day minus eps_mem",
        "effector death (contraction) rate"),
    par("mu_mem", 0.0032, "1/day", "stein2019: Table 1 beta, slow persistence decline",
        "memory CAR-T loss rate"),
    par("chi_exh", 0.05, "1/day", "chosen: exhaustion after about ten engagements "
        "(carcade2022: MAX_ANTIGEN_BINDING 10) at roughly one engagement per 2 days",
        "exhaustion rate of effectors at full engagement"),
    par("d_exh", 0.1, "1/day", "chosen: exhausted cells are short-lived (about 10 days)",
        "death rate of exhausted CAR-T cells"),
    par("k_help", 0.25, "", "chosen: CD4 help halves at a CD4 fraction of 0.25",
        "CD4 fraction giving half-maximal help to effector proliferation"),
    par("cd4_kill_rel", 0.5, "", "chosen: CD4 CAR-T cells kill, more slowly than CD8 "
        "(carcade2022 models both as cytotoxic)", "killing potency of CD4 relative to CD8"),
    par("niche_weight", 0.02, "", "chosen: 4-1BB products persist for months (stein2019: beta "
        "0.0032/day, which mu_mem carries; the niche adds 0.0006/day once normal T cells have "
        "recovered); Kimmel's full competition (weight 1) would clear them within weeks",
        "weight of the homeostatic niche competition on CAR-T cells"),
    par("rho_C", 0.0251, "1/day", "kimmel2021: Table 1 rho_C", "baseline CAR-T net growth "
        "rate of the niche competition"),
    par("a_K", 0.423, "", "kimmel2021: Table 1 a", "signalling inefficiency factor in r_C(T)"),
    par("b_K", 0.525, "1/day", "kimmel2021: Table 1 b", "immune reconstitution impact in "
        "r_C(T)"),
    par("K_C", 69.6, "Gcell", "kimmel2021: Table 1 K_C 6.96e10 cells", "CAR-T carrying "
        "capacity of the lymphocyte niche"),
    # product
    par("dose_cells", 1e8, "cell", "chosen: tisa-cel median 1.0e8 CAR+ viable T cells for "
        "patients > 50 kg (stein2019: dose_gt50kg)", "CAR+ viable T cells infused"),
    par("memory_fraction", 0.3, "", "chosen: stem/central-memory share of a CAR-T product "
        "(no value in reference/). It moves the kinetics little (tisa-cel B-ALL: peak and "
        "day-180 counts within 5% from 0.05 to 0.9), since expansion is capacity-limited "
        "(K_cap) and the persisting pool forms from the effectors (eps_mem); stein2019 found "
        "no covariate of Cmax", "fraction of the product that is memory-like"),
    par("cd4_fraction", 0.5, "", "chosen: 1:1 CD4:CD8 as in liso-cel (trials_design_only: "
        "TRANSCEND dose_levels)", "CD4 fraction of the product"),
    par("untransduced_ratio", 0.0, "", "chosen: 0 (the dose counts CAR+ cells; untransduced "
        "cells are left out) unless a product or scenario gives its transduction: a product "
        "with CAR+ share f carries (1 - f)/f untransduced T cells per CAR+ cell",
        "untransduced viable T cells infused per CAR+ cell; they join the normal T cells "
        "competing for the lymphocyte niche"),
    par("engraft_fraction", 0.012, "", "chosen: calibrated so the typical tisa-cel B-ALL patient "
        "starts its expansion at Stein 2019's R0 = Cmax/foldx (stein2019: Table 1)",
        "fraction of infused cells that survive infusion and engraft"),
    par("k_transit", 1.0, "1/day", "chosen: the distribution phase of multiphasic CAR-T "
        "kinetics lasts about a day (liu2021; singh2021: fast effector loss from blood)",
        "loss rate of infused cells that do not engraft"),
    par("t_infusion", 0.0, "day", "definition: day 0 is the day of infusion",
        "time of the (first) infusion"),
    par("split_second_fraction", 0.0, "", "chosen: single infusion by default",
        "fraction of the dose given as a second infusion"),
    par("t_second_infusion", 1e6, "day", "chosen: never by default", "time of the second "
        "infusion"),
    par("split_third_fraction", 0.0, "", "chosen: single infusion by default",
        "fraction of the dose given as a third infusion (fractionated dosing)"),
    par("t_third_infusion", 1e6, "day", "chosen: never by default", "time of the third "
        "infusion"),
    par("stochastic_car_t", 1.0, "", "chosen: the last CAR-T cells are as discrete as the last "
        "tumour cells; 0 keeps them deterministic (kimmel2021 treats only the tumour so)",
        "1 to simulate fewer than n_stochastic CAR-T cells as a birth-death process"),
    GCELL_PER_CELL,
)

CAR_T_STATES = (
    State("Cd", "Gcell", 0.0, "infused cells in transit: they engage antigen and secrete "
          "cytokines for a day or two but do not engraft", extinction=1e-9, atol=1e-12),
    State("Cm", "Gcell", 0.0, "memory (stem-like) CAR-T cells, total body", extinction=1e-9,
          atol=1e-12),
    State("Ce", "Gcell", 0.0, "effector CAR-T cells, total body", extinction=1e-9, atol=1e-12),
    State("Cx", "Gcell", 0.0, "exhausted CAR-T cells, total body", extinction=1e-9,
          atol=1e-12),
)
CAR_T_STATE_NAMES = tuple(state.name for state in CAR_T_STATES)

CAR_T_ASSIGNMENTS = (
    Assignment("car_t_total", "Cd + Cm + Ce + Cx", "Gcell", "all CAR-T cells"),
    Assignment("armed_cells", "Ce + Cd", "Gcell", "CAR-T cells able to kill and secrete"),
    Assignment("lymphocytes", "N + car_t_total", "Gcell", "cells competing for the niche"),
    Assignment("r_niche", "rho_C + b_K*(lymphocytes - K_N)**2/(a_K*lymphocytes**2 + "
               "(lymphocytes - K_N)**2)", "1/day", "Kimmel 2021's r_C(T)"),
    Assignment("homeostasis", "-niche_weight*r_niche*log(lymphocytes/K_C)", "1/day",
               "homeostatic growth (>0 when lymphodepletion emptied the niche)"),
    Assignment("activation", "engagement*(1 - steroid_effect)", "",
               "antigen engagement that leads to activation"),
    Assignment("expansion_room", "K_cap/(K_cap + car_t_total + lymph_competition*N)", "",
               "antigen-driven proliferation left as CAR-T cells fill their capacity and "
               "normal T cells compete for homeostatic cytokines"),
    Assignment("cd4_help", "cd4_fraction*(k_help + 0.5)/(0.5*(cd4_fraction + k_help))", "",
               "CD4 help on proliferation, 1 for a 1:1 product"),
    Assignment("killer_effectors", "(armed_cells + memory_kill_rel*Cm)*(1 - cd4_fraction*"
               "(1 - cd4_kill_rel))", "Gcell", "CAR-T cells weighted by cytotoxic potency"),
)


NET_CHANGE = {
    "Cm": "-(1 - memory_self_renewal)*k_mem_act*activation*Cm + eps_mem*(1 - activation)*Ce "
          "+ (homeostasis - mu_mem - switch_kill)*Cm",
    "Ce": "k_mem_act*activation*Cm + rho_max*activation*cd4_help*expansion_room*Ce "
          "- (d_eff + eps_mem*(1 - activation) + chi_exh*activation - homeostasis "
          "+ switch_kill)*Ce",
}
"""Deterministic change of memory and effector cells (Gcell/day)."""

CAR_T_RATES = {
    # state: (per-cell birth, per-cell death, inflow in Gcell/day) of the stochastic mode;
    # birth - death and the inflow give NET_CHANGE (the equations keep the smooth net form:
    # splitting homeostasis into max(+/-) would put a kink at the niche equilibrium)
    "Cm": ("max(homeostasis, 0)",
           "(1 - memory_self_renewal)*k_mem_act*activation + max(-homeostasis, 0) + mu_mem "
           "+ switch_kill",
           "eps_mem*(1 - activation)*Ce"),
    "Ce": ("rho_max*activation*cd4_help*expansion_room + max(homeostasis, 0)",
           "d_eff + eps_mem*(1 - activation) + chi_exh*activation + max(-homeostasis, 0) "
           "+ switch_kill",
           "k_mem_act*activation*Cm"),
}


def stochastic_car_t() -> tuple[StochasticPopulation, ...]:
    """Memory and effector CAR-T cells as hybrid populations: the last cells of a fading
    product die out (or hold on) by chance, as the last tumour cells do (kimmel2021's
    small-number idea applied to the CAR-T side)."""
    return tuple(StochasticPopulation(state, birth, death, inflow, enabled="stochastic_car_t")
                 for state, (birth, death, inflow) in CAR_T_RATES.items())


def infusion_event(name: str, at: str, fraction: str) -> TimeEvent:
    """Infuse ``fraction`` of the product at ``at``: engrafted cells split memory/effector;
    the product's untransduced T cells join the normal ones."""
    infused = f"{fraction}*dose_cells*gcell_per_cell"
    engrafted = f"{infused}*engraft_fraction"
    return TimeEvent(name, at, (add_to("Cm", f"{engrafted}*memory_fraction"),
                                add_to("Ce", f"{engrafted}*(1 - memory_fraction)"),
                                add_to("Cd", f"{infused}*(1 - engraft_fraction)"),
                                add_to("N", f"{infused}*untransduced_ratio")))


def car_t_model() -> Model:
    """The CAR-T submodel with a single, split (two) or fractionated (three) infusion."""
    return Model(
        "car_t",
        states=CAR_T_STATES,
        parameters=CAR_T_PARAMETERS,
        assignments=CAR_T_ASSIGNMENTS,
        equations={
            **{state: f"(1 - stoch_{state})*({net})" for state, net in NET_CHANGE.items()},
            "Cd": "-(k_transit + switch_kill)*Cd",
            "Cx": "chi_exh*activation*Ce - (d_exh + switch_kill)*Cx",
        },
        events=(infusion_event("infusion", "t_infusion",
                               "(1 - split_second_fraction - split_third_fraction)"),
                infusion_event("second_infusion", "t_second_infusion",
                               "split_second_fraction"),
                infusion_event("third_infusion", "t_third_infusion", "split_third_fraction")),
        description=__doc__.splitlines()[0],
    )
