"""CAR-T products: binder, costimulatory domain, composition and dose.

Costimulation is a parameter set of its own (CD28: faster expansion, more CRS, shorter
persistence; 4-1BB: slower expansion, memory and long persistence), which each product builds
on. Values marked "calibrated" were fitted once to the training data named in their source
(``tools/calibrate_therapy.py`` fits them; ``tests/test_therapy_behaviour.py`` and
``tests/test_population.py`` check the kinetics they give).
"""

from __future__ import annotations

from cartsim.presets.base import Preset

CALIBRATED_41BB = ("chosen: calibrated (tools/calibrate_therapy.py) to stein2019 Table 1: Tmax "
                   "9.3 d, Cmax 24000 copies/ug, fold expansion 3900, alpha 0.16/day")
CALIBRATED_CD28 = ("chosen: calibrated (tools/calibrate_therapy.py) to zuma1 median blood CAR-T "
                   "counts 27.5, 9.1, 2.1, 0.1 cells/uL at days 7-90 (kimmel2021: obs_CAR_count) "
                   "and CRS onset day 2, with at least twice the expansion after "
                   "lymphodepletion")
NO_PHENOTYPE_DATA = (0.3, "chosen: no product phenotype data in reference/")
"""memory_fraction of a product whose phenotype reference/ does not give."""
ONE_TO_ONE = (0.5, "chosen: 1:1 taken")
"""cd4_fraction of a product whose CD4:CD8 ratio reference/ does not give."""
FMC63_KD = (1.0, "chosen: the FMC63 anti-CD19 scFv binds with nanomolar affinity (no value in "
                 "reference/)")

COSTIM_41BB = Preset("4-1BB", "costimulation", "4-1BB costimulation: memory and persistence", {
    "rho_max": (1.76, CALIBRATED_41BB),
    "engraft_fraction": (0.012, CALIBRATED_41BB),
    "K_cap": (3.0, CALIBRATED_41BB),
    "d_eff": (0.1588, "stein2019: Table 1 alpha 0.16/day minus eps_mem"),
    "eps_mem": (0.0012, "chaudhury2020: k_EP, effector to persistent conversion"),
    "mu_mem": (0.0032, "stein2019: Table 1 beta"),
    "niche_weight": (0.02, "chosen: 4-1BB cells persist for months (stein2019: beta 0.0032/day "
                     "is carried by mu_mem; the recovered niche adds 0.0006/day)"),
    "memory_self_renewal": (0.99, "chosen: 4-1BB signalling favours self-renewing central-memory "
                            "cells, so an activated memory cell stays memory while its daughter "
                            "becomes an effector; Stein 2019's slow phase (beta 0.0032/day) "
                            "needs the memory pool not to drain into effectors whenever B cells "
                            "return; 0.99 rather than 1 so patients can vary on the logit "
                            "scale (no value in reference/)"),
    "chi_exh": (0.03, "chosen: 4-1BB signalling resists exhaustion"),
    "cytokine_potency": (0.5, "chosen: CD28 signalling drives more cytokine secretion per "
                         "activated cell than 4-1BB's (the issue's 'more CRS for CD28'; no "
                         "value in reference/); 0.5 the best of 1, 0.5 and 0.25 by hand with "
                         "tools/calibrate_toxicity.py on eliana, cibmtr and karmma"),
})

COSTIM_CD28 = Preset("CD28", "costimulation", "CD28 costimulation: fast expansion, short "
                     "persistence", {
    "rho_max": (2.42, "chosen: calibrated to zuma1 with the rest of this set before its "
                "memory pool killed B cells, and kept so CD28 expands faster than 4-1BB (1.76; "
                "tools/calibrate_therapy.py)"),
    "engraft_fraction": (0.0101, CALIBRATED_CD28),
    "K_cap": (1.0069, CALIBRATED_CD28),
    "d_eff": (0.1, CALIBRATED_CD28),
    "eps_mem": (0.2376, CALIBRATED_CD28 + "; far above chaudhury2020's k_EP 0.0012 of 4-1BB "
                "cells: CD28 effectors contract fast into the pool that carries ZUMA-1's "
                "day-28 to day-90 counts, which the niche competition then wears down"),
    "mu_mem": (0.0065, CALIBRATED_CD28),
    "niche_weight": (1.0, "kimmel2021: niche competition fitted to ZUMA-1 axi-cel"),
    "chi_exh": (0.08, "chosen: CD28 signalling drives faster exhaustion"),
    "cytokine_potency": (1.0, "chosen: the reference; the cytokine production constants "
                         "(p_ifng, p_il6_t, K_cd40) are per CD28 CAR-T cell"),
})

TISA_CEL = COSTIM_41BB.merged(Preset("tisa-cel", "product", "", {
    "binds_CD19": (1.0, "eliana: tisagenlecleucel targets CD19"),
    "kd_CD19": FMC63_KD,
    "memory_fraction": NO_PHENOTYPE_DATA,
    "cd4_fraction": (0.5, "chosen: tisa-cel CD4:CD8 is not fixed; 1:1 taken"),
}))
TISA_CEL = Preset("tisa-cel", "product", "tisagenlecleucel (Kymriah): anti-CD19, 4-1BB",
                  TISA_CEL.values, dose_per_kg=(3.1e6, "stein2019: median 3.1e6 CAR+ cells/kg "
                                                "(<= 50 kg)"), dose_max=2.5e8)

AXI_CEL = Preset("axi-cel", "product", "axicabtagene ciloleucel (Yescarta): anti-CD19, CD28",
                 COSTIM_CD28.merged(Preset("", "", "", {
                     "binds_CD19": (1.0, "zuma1: axicabtagene ciloleucel targets CD19"),
                     "kd_CD19": FMC63_KD,
                     "memory_fraction": NO_PHENOTYPE_DATA,
                     "cd4_fraction": ONE_TO_ONE,
                 })).values,
                 dose_per_kg=(2e6, "zuma1: dose_target 2e6 CAR T cells/kg"), dose_max=2e8)

IDE_CEL = Preset("ide-cel", "product", "idecabtagene vicleucel (Abecma): anti-BCMA, 4-1BB",
                 COSTIM_41BB.merged(Preset("", "", "", {
                     "binds_CD19": (0.0, "karmma: ide-cel does not bind CD19"),
                     "binds_BCMA": (1.0, "karmma: idecabtagene vicleucel targets BCMA"),
                     "kd_BCMA": (33.6, "singh2021: koff/kon = 2.385e-3 / 7.103e4 M"),
                     "memory_fraction": NO_PHENOTYPE_DATA,
                     "cd4_fraction": ONE_TO_ONE,
                     "dose_cells": (450e6, "karmma: target dose 450e6 CAR+ T cells"),
                 })).values)

SATRI_CEL = Preset("satri-cel", "product", "satricabtagene autoleucel (CT041): anti-CLDN18.2, "
                   "solid tumours; CD28 costimulation assumed (chosen: not stated in "
                   "reference/)", COSTIM_CD28.merged(Preset("", "", "", {
                       "binds_CD19": (0.0, "ct041: satri-cel does not bind CD19"),
                       "binds_TAA": (1.0, "ct041: satricabtagene autoleucel targets CLDN18.2, "
                                          "the model's tumour-associated antigen TAA"),
                       "kd_TAA": (10.0, "chosen: a humanised high-affinity scFv; no value in "
                                        "reference/"),
                       "memory_fraction": NO_PHENOTYPE_DATA,
                       "cd4_fraction": ONE_TO_ONE,
                       "dose_cells": (2.5e8, "ct041: lowest and most used dose level 2.5e8 "
                                             "CAR-T cells"),
                   })).values)

LISO_CEL = Preset("liso-cel", "product", "lisocabtagene maraleucel (Breyanzi): anti-CD19, 4-1BB, "
                  "defined 1:1 CD8:CD4 composition", COSTIM_41BB.merged(Preset("", "", "", {
                      "binds_CD19": (1.0, "trials_design_only: TRANSCEND, lisocabtagene "
                                          "maraleucel in r/r LBCL (CD19)"),
                      "kd_CD19": FMC63_KD,
                      "memory_fraction": NO_PHENOTYPE_DATA,
                      "cd4_fraction": (0.5, "trials_design_only: TRANSCEND dose_levels, CAR+ T "
                                            "cells 1:1 CD8:CD4"),
                      "dose_cells": (100e6, "trials_design_only: TRANSCEND DL2 100e6, the "
                                            "recommended dose"),
                  })).values)

BREXU_CEL = Preset("brexu-cel", "product", "brexucabtagene autoleucel (Tecartus, KTE-X19): "
                   "anti-CD19, CD28 (axi-cel's CAR, T-cell-enriched manufacturing)",
                   COSTIM_CD28.merged(Preset("", "", "", {
                       "binds_CD19": (1.0, "trials_design_only: ZUMA-2/ZUMA-3, "
                                           "brexucabtagene autoleucel (CD19)"),
                       "kd_CD19": FMC63_KD,
                       "memory_fraction": NO_PHENOTYPE_DATA,
                       "cd4_fraction": ONE_TO_ONE,
                   })).values,
                   dose_per_kg=(2e6, "trials_design_only: ZUMA-2 dose 2e6 CAR T cells/kg "
                                     "(ZUMA-3 in B-ALL: 1e6/kg)"), dose_max=2e8)

CILTA_CEL = Preset("cilta-cel", "product", "ciltacabtagene autoleucel (Carvykti): anti-BCMA "
                   "(two BCMA-binding domains), 4-1BB", COSTIM_41BB.merged(Preset("", "", "", {
                       "binds_CD19": (0.0, "trials_design_only: CARTITUDE-1, cilta-cel does "
                                           "not bind CD19"),
                       "binds_BCMA": (1.0, "trials_design_only: CARTITUDE-1, "
                                           "ciltacabtagene autoleucel (BCMA)"),
                       "kd_BCMA": (3.36, "chosen: two BCMA-binding domains bind with higher "
                                         "avidity; ten-fold ide-cel's singh2021 K_D taken "
                                         "(no value in reference/)"),
                       "memory_fraction": NO_PHENOTYPE_DATA,
                       "cd4_fraction": ONE_TO_ONE,
                   })).values,
                   dose_per_kg=(0.75e6, "trials_design_only: CARTITUDE-1 target 0.75e6 CAR+ "
                                        "viable T cells/kg"))

GD2_CART01 = Preset("gd2-cart01", "product", "GD2-CART01: anti-GD2, third generation (CD28 and "
                    "4-1BB) with an inducible caspase-9 safety switch", COSTIM_41BB.merged(
                        Preset("", "", "", {
                            "binds_CD19": (0.0, "trials_design_only: GD2-CART01 targets GD2"),
                            "binds_TAA": (1.0, "trials_design_only: GD2-CART01 targets GD2, "
                                               "the model's tumour-associated antigen TAA"),
                            "kd_TAA": (10.0, "chosen: no GD2 binder affinity in reference/; as "
                                             "satri-cel"),
                            "memory_fraction": NO_PHENOTYPE_DATA,
                            "cd4_fraction": ONE_TO_ONE,
                        })).values,
                    dose_per_kg=(10e6, "trials_design_only: GD2-CART01 RP2D 10e6 CAR+ T "
                                       "cells/kg"))
"""Third generation: the 4-1BB set is taken (chosen: persistence, as reported for 4-1BB-bearing
CARs; no kinetics of GD2-CART01 in reference/)."""

PRODUCTS = {p.name: p for p in (TISA_CEL, AXI_CEL, IDE_CEL, SATRI_CEL, LISO_CEL, BREXU_CEL,
                                CILTA_CEL, GD2_CART01)}
