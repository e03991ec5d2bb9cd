"""Calibrate the costimulation parameter sets to the training data in reference/ (run once).

Fits, by Nelder-Mead on log-parameters, the shared killing/engagement constants and the 4-1BB
and CD28 sets so that the typical tisa-cel B-ALL patient matches Stein 2019's Tmax, Cmax, fold
expansion and alpha (stein2019, Table 1), keeps B cells below 2% of normal on day 28 (B-cell
aplasia in all responders, eliana) and expands at least twice as much after lymphodepletion;
the typical axi-cel LBCL patient matches the ZUMA-1
median blood CAR-T counts at days 7, 14, 28, 90 (kimmel2021 observations) and CRS onset on day 2
(zuma1) and expands at least twice as much after lymphodepletion (kimmel2021: CD28 cells
ride the emptied niche), and neither has a fever on day 60. At least 1% of infused cells
engraft (tisa-cel's calibrated 1.2%): below that, expansion would rest on a few thousand cells
and fail wherever antigen is scarce. Prints the fitted values; copy them into
``cartsim/presets/products.py`` and ``cartsim/therapy/*.py``. With ``--only axi-cel`` only the
CD28 set is fitted, the shared constants and the 4-1BB set kept at their preset values (used
after the LBCL tumour's killing susceptibility changed, and again when CD28 memory cells began
to kill B cells and the set gained its effector-to-memory rate ``eps_mem``). The CD28 ``rho_max``
is not fitted: it stays at 2.42, above the 4-1BB 1.76, because the loss does not measure that
CD28 cells expand faster, and with it free the ZUMA-1 fit is as good at a lower value. Usage:
``python tools/calibrate_therapy.py [MAX_EVALUATIONS] [--only axi-cel]``.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import minimize

from cartsim.presets import disease, product
from cartsim.presets.blood_kinetics import PUBLISHED_COUNTS
from cartsim.therapy.kinetics import kinetic_summary, onset_day
from cartsim.therapy.simulate import preset_parameters, simulate_values

SHARED = ("K_act", "kill_max", "q_ET", "K_E")
BY_PRODUCT = {"tisa-cel": ("rho_max", "engraft_fraction", "K_cap"),
              "axi-cel": ("engraft_fraction", "K_cap", "d_eff", "mu_mem", "eps_mem")}
BOUNDS = dict(K_act=(0.1, 100), kill_max=(0.3, 5), q_ET=(0.001, 1), rho_max=(0.3, 3),
              engraft_fraction=(0.01, 0.5), K_cap=(0.1, 100), d_eff=(0.03, 0.5),
              mu_mem=(0.001, 0.1), K_E=(0.01, 5), eps_mem=(1e-4, 1))
ZUMA1 = PUBLISHED_COUNTS["axi-cel"]
ZUMA1_MEDIANS = dict(zip(ZUMA1.days, ZUMA1.median, strict=True))


def split(x: np.ndarray) -> dict[str, dict[str, float]]:
    values = iter(np.exp(x))
    shared = {k: next(values) for k in SHARED}
    return {p: dict(shared, **{k: next(values) for k in names}) for p, names in BY_PRODUCT.items()}


def tisa_cel_loss(over: dict[str, float]) -> float:
    values = dict(preset_parameters(disease("b-all"), product("tisa-cel")), **over)
    run = simulate_values(values, np.arange(-7, 366, 0.25))
    ck = kinetic_summary(run.time, run["cart_copies_per_ug"])
    start = np.searchsorted(run.time, 0.25)
    r0 = (values["copies_per_cell_conc"] * values["f_blood"] * values["cells_per_gcell"]
          * (run["Cm"][start] + run["Ce"][start]) / (values["blood_ul_per_kg"]
                                                      * values["weight_kg"]))
    fever = run["temperature_c"]
    without_ld = simulate_values(dict(values, flu_days=0.0, cy_days=0.0), run.time)
    ld_gain = ck.cmax / without_ld["cart_copies_per_ug"].max()
    b_left = np.interp(28, run.time, run["B"]) / values["B_normal"]
    return (10 * max(0.0, np.log(2.0 / ld_gain)) ** 2 + 10 * max(0.0, np.log(b_left / 0.02)) ** 2
            + (ck.tmax - 9.3) ** 2 + np.log(ck.cmax / 24000) ** 2 / 0.09
            + np.log(ck.cmax / r0 / 3900) ** 2 / 0.25 + np.log(ck.alpha / 0.16) ** 2 / 0.04
            + (onset_day(run.time, fever, 38.0) - 3) ** 2
            + 10 * max(0.0, np.interp(60, run.time, fever) - 37.5) ** 2)


def axi_cel_loss(over: dict[str, float]) -> float:
    values = dict(preset_parameters(disease("lbcl"), product("axi-cel")), **over)
    run = simulate_values(values, np.arange(-7, 121, 0.25))
    counts = run["cart_cells_per_ul"]
    fever = run["temperature_c"]
    loss = sum(np.log(max(np.interp(d, run.time, counts), 1e-9) / m) ** 2 / 0.09
               for d, m in ZUMA1_MEDIANS.items())
    without_ld = simulate_values(dict(values, flu_days=0.0, cy_days=0.0), run.time)
    ld_gain = counts.max() / without_ld["cart_cells_per_ul"].max()
    return (loss + 10 * max(0.0, np.log(2.0 / ld_gain)) ** 2
            + (onset_day(run.time, fever, 38.0) - 2) ** 2
            + 10 * max(0.0, np.interp(60, run.time, fever) - 37.5) ** 2)


def bounds_penalty(values: dict[str, float]) -> float:
    """Squared log-distance of each value outside its BOUNDS."""
    return sum(max(0.0, np.log(v / BOUNDS[k][1])) ** 2 + max(0.0, np.log(BOUNDS[k][0] / v)) ** 2
               for k, v in values.items())


def penalised(values: list[dict[str, float]], model_loss) -> float:
    """100 x the bounds penalty of ``values`` plus ``model_loss()``; 1e6 if the model fails."""
    try:
        return 100 * sum(bounds_penalty(v) for v in values) + model_loss()
    except (ValueError, FloatingPointError):
        return 1e6


def nelder_mead(fun, x0, max_evaluations: int):
    """Minimise ``fun`` over log-parameters from ``x0`` and report the loss reached."""
    fit = minimize(fun, x0, method="Nelder-Mead",
                   options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-4})
    print(f"loss {fit.fun:.3f} after {fit.nfev} evaluations")
    return fit


def loss(x: np.ndarray) -> float:
    sets = split(x)
    return penalised(list(sets.values()), lambda: tisa_cel_loss(sets["tisa-cel"])
                     + axi_cel_loss(sets["axi-cel"]))


def fit_axi_cel_only(max_evaluations: int) -> None:
    """The CD28 set alone, everything else at the preset values."""
    names = BY_PRODUCT["axi-cel"]
    typical = preset_parameters(disease("lbcl"), product("axi-cel"))

    def loss_axi(x: np.ndarray) -> float:
        values = dict(zip(names, np.exp(x), strict=True))
        return penalised([values], lambda: axi_cel_loss(values))

    fit = nelder_mead(loss_axi, np.log([typical[k] for k in names]), max_evaluations)
    print("axi-cel", {k: round(float(v), 4) for k, v in zip(names, np.exp(fit.x), strict=True)})


def preset_start() -> np.ndarray:
    """Log of the current preset values, in the order :func:`split` reads them (shared
    constants from tisa-cel's set, where they are the same for every product)."""
    typical = {p: preset_parameters(disease(d), product(p))
               for p, d in (("tisa-cel", "b-all"), ("axi-cel", "lbcl"))}
    start = [typical["tisa-cel"][k] for k in SHARED]
    start += [typical[p][k] for p, names in BY_PRODUCT.items() for k in names]
    return np.log(start)


def main(max_evaluations: int) -> None:
    fit = nelder_mead(loss, preset_start(), max_evaluations)
    for name, values in split(fit.x).items():
        print(name, {k: round(float(v), 4) for k, v in values.items()})


if __name__ == "__main__":
    evaluations = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3000
    if "--only" in sys.argv and sys.argv[sys.argv.index("--only") + 1] == "axi-cel":
        fit_axi_cel_only(evaluations)
    else:
        main(evaluations)
