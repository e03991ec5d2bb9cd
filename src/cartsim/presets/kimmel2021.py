"""The therapy model configured as Kimmel, Locke & Altrock 2021 (ZUMA-1, axi-cel, LBCL).

Kimmel's model is a special case of cartsim's: CAR-T cells grow only by niche competition with
normal T cells (no antigen-driven proliferation, contraction, memory or exhaustion), kill the
tumour at ``gamma_B*C/(k_B + C)`` (the Beddington-DeAngelis killing with no target term), all
infused cells engraft, tumour cells are fully recognised and grow exponentially, and the last
100 tumour cells are stochastic. Lymphodepletion is represented, as in the paper, by the low
normal T-cell count at infusion.
"""

from __future__ import annotations

from cartsim.presets.base import Preset

OFF = "kimmel2021: mechanism absent from Kimmel's model"
TABLE = "kimmel2021: Table 1"

KIMMEL_2021 = Preset("kimmel2021", "model", "Kimmel 2021 structure and parameters", {
    "rho_max": (0.0, OFF), "k_mem_act": (0.0, OFF), "eps_mem": (0.0, OFF),
    "d_eff": (0.0, OFF), "mu_mem": (0.0, OFF), "chi_exh": (0.0, OFF),
    "memory_fraction": (0.0, OFF), "cd4_fraction": (0.0, OFF), "engraft_fraction": (1.0, OFF),
    "stochastic_car_t": (0.0, "kimmel2021: only the tumour is simulated stochastically"),
    "niche_weight": (1.0, TABLE), "rho_C": (0.0251, TABLE), "a_K": (0.423, TABLE),
    "b_K": (0.525, TABLE), "K_C": (69.6, TABLE), "K_N": (250.0, TABLE), "r_N": (0.170, TABLE),
    "N0": (3.0, "kimmel2021: Table 1 N0 3e9 (after lymphodepletion)"),
    "dose_cells": (1.8e8, "kimmel2021: Table 1 C0"),
    "T0": (94.86, "kimmel2021: Table 1 B0"), "r_tumour": (0.05, "kimmel2021: r_B range "
                                                                "0.01-0.50/day"),
    "kill_max": (1.15, "kimmel2021: Table 1 gamma_B"), "K_E": (2.024, "kimmel2021: Table 1 k_B"),
    "susceptibility": (1.0, "kimmel2021: gamma_B is the whole killing rate"),
    "q_ET": (0.0, OFF), "d50_ref": (1e-9, "kimmel2021: every tumour cell is a target"),
    "frac_low": (0.0, OFF), "frac_neg": (0.0, OFF), "mu_low": (0.0, OFF), "mu_neg": (0.0, OFF),
    "K_T": (1e9, "kimmel2021: exponential tumour growth"),
    "flu_days": (0.0, OFF), "cy_days": (0.0, OFF),
    "n_stochastic": (100.0, "kimmel2021: Table 1 stoch_threshold"),
})
