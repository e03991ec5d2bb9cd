"""Calibrate the population variability of the products to the spreads in reference/ (run once).

Fits, by Nelder-Mead on log-omegas with common random numbers (one seed, fixed patients), the
between-patient SDs that no paper gives for this model's parameters:

- 4-1BB (tisa-cel, B-ALL): omega of rho_max, engraft_fraction, the B-ALL burden T0, d_eff,
  eps_mem and mu_mem so that the spread (interquartile range of the log over 1.349, the SD of a
  log-normal sample) of Cmax, Tmax, fold expansion, alpha, beta and F_B over a year matches
  Stein 2019's omega^2 of 0.65, 0.38, 2.4, 0.91, 0.86 and 0.8 (stein2019, Table 1). Stein's
  omegas belong to her two-phase model's own parameters; in this model no parameter alone sets
  one statistic, so all six are fitted together.
- CD28 (axi-cel, LBCL): omega of rho_max, d_eff, K_C and niche_weight so that the quartiles
  of blood CAR-T counts at days 7, 14, 28 and 90 match ZUMA-1's interquartile ranges
  (kimmel2021 observations).

Prints the fitted omegas; copy them into ``cartsim/presets/variability.py``. Usage:
``python tools/calibrate_variability.py [tisa-cel|axi-cel] [MAX_EVALUATIONS]``.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
from scipy.optimize import minimize

from cartsim.presets.variability import DISEASE_VARIABILITY, PRODUCT_VARIABILITY
from cartsim.therapy.population import simulate_population

PATIENTS = 200
STEIN_SD = {"cmax": np.sqrt(0.65), "tmax": np.sqrt(0.38), "fold": np.sqrt(2.4),
            "alpha": np.sqrt(0.91), "beta": np.sqrt(0.86), "slow_fraction": np.sqrt(0.8)}
ZUMA1_QUARTILES = {7: (16.5, 57.5), 14: (3.8, 31.1), 28: (0.6, 6.1), 90: (0.01, 0.4)}
FITTED = {"tisa-cel": ("rho_max", "engraft_fraction", "T0", "d_eff", "eps_mem", "mu_mem"),
          "axi-cel": ("rho_max", "d_eff", "K_C", "niche_weight")}
SETTING = {"tisa-cel": ("b-all", 365.0), "axi-cel": ("lbcl", 91.0)}


def with_omegas(product_name: str, omegas: dict[str, float]):
    """The product's variations with some omegas replaced, plus its disease's variations."""
    disease_name = SETTING[product_name][0]
    return tuple(replace(v, omega=omegas.get(v.parameter, v.omega))
                 for v in PRODUCT_VARIABILITY[product_name] + DISEASE_VARIABILITY[disease_name])


def spread_of(product_name: str, omegas: dict[str, float]):
    """The simulated population's spread statistics for ``product_name``."""
    disease_name, t_end = SETTING[product_name]
    run = simulate_population(product_name, disease_name, PATIENTS, t_end=t_end,
                              points_per_day=4, variations=with_omegas(product_name, omegas))
    if product_name == "tisa-cel":
        return run.kinetic_spreads()
    counts = run["cart_cells_per_ul"]
    return {day: np.percentile([np.interp(day, run.time, c) for c in counts], [25, 75])
            for day in ZUMA1_QUARTILES}


def loss(product_name: str, x: np.ndarray) -> float:
    spread = spread_of(product_name, dict(zip(FITTED[product_name], np.exp(x), strict=True)))
    if product_name == "tisa-cel":
        return sum(np.log(spread[k] / STEIN_SD[k]) ** 2 for k in STEIN_SD)
    return sum(np.sum(np.log(np.maximum(spread[day], 1e-6) / np.array(q)) ** 2)
               for day, q in ZUMA1_QUARTILES.items())


def main(product_name: str, max_evaluations: int) -> None:
    start = {v.parameter: v.omega for v in with_omegas(product_name, {})}
    x0 = np.log([start[name] for name in FITTED[product_name]])
    simplex = np.vstack([x0, x0 + 0.4 * np.eye(len(x0))])  # steps of 50% in each omega
    fit = minimize(lambda x: loss(product_name, x), x0, method="Nelder-Mead",
                   options={"maxfev": max_evaluations, "xatol": 1e-2, "fatol": 1e-4,
                            "initial_simplex": simplex})
    omegas = dict(zip(FITTED[product_name], np.exp(fit.x), strict=True))
    print(f"{product_name}: loss {fit.fun:.4f} after {fit.nfev} evaluations")
    print({k: round(float(v), 3) for k, v in omegas.items()})
    print(spread_of(product_name, omegas))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tisa-cel",
         int(sys.argv[2]) if len(sys.argv) > 2 else 200)
