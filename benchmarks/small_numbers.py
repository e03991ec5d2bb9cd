"""Stochastic leaps of the last cells: the default leap lengths against 20-times finer leaps.

The leap is the exact birth-death transition for rates frozen at its start, so its only error
is the rates' drift within a leap. This benchmark measures what that costs and saves on the
bare therapy model (two years, daily output, 1,000 patients per product by default): cure
(every tumour cell extinct), CAR-T extinction, response at day 28 and regrowth, with their
binomial standard errors, and the throughput and solver statistics of both settings. The
last line is one JSON object.

    python benchmarks/small_numbers.py [--patients N]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from cartsim.presets import disease, product
from cartsim.presets.variability import variability
from cartsim.therapy.car_t import CAR_T_STATE_NAMES
from cartsim.therapy.population import sample_population
from cartsim.therapy.simulate import compiled_therapy_model, default_grid, preset_parameters

CASES = (("tisa-cel", "b-all"), ("axi-cel", "lbcl"), ("ide-cel", "mm"))
FINE = {"dt_leap": 0.05, "leap_events": 0.0125}


def measure(product_name: str, disease_name: str, n: int, overrides: dict) -> dict:
    values = {**preset_parameters(disease(disease_name), product(product_name)), **overrides}
    table = sample_population(values, variability(product_name, disease_name), n, seed=7)
    grid = default_grid(values, 730.0, 1)
    compiled = compiled_therapy_model()
    start = time.perf_counter()
    result = compiled.solve(grid, table, seed=7, max_logged_events=0)
    seconds = time.perf_counter() - start
    tumour = result.observable("tumour_cells")
    car_t = sum(result.state(name) for name in CAR_T_STATE_NAMES)
    day = {d: int(np.searchsorted(grid, d)) for d in (28, 365)}
    return {
        "patients_per_s": round(n / seconds, 1),
        "accepted_steps_mean": float(result.stats("accepted").mean()),
        "events_mean": float(result.stats("events").mean()),
        "cured_365": float(np.mean(tumour[:, day[365]] == 0)),
        "cured_730": float(np.mean(tumour[:, -1] == 0)),
        "car_t_extinct_730": float(np.mean(car_t[:, -1] == 0)),
        "below_1pct_day28": float(np.mean(tumour[:, day[28]] < 0.01 * tumour[:, 0])),
        "regrown_730": float(np.mean(tumour[:, -1] > tumour[:, 0])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1000)
    args = parser.parse_args()
    compiled_therapy_model()
    numbers = {}
    for product_name, disease_name in CASES:
        default = measure(product_name, disease_name, args.patients, {})
        fine = measure(product_name, disease_name, args.patients, FINE)
        worst = 0.0
        for key, value in default.items():
            if key.endswith(("_365", "_730", "_day28")):
                p = (value + fine[key]) / 2
                se = np.sqrt(2 * p * (1 - p) / args.patients)
                worst = max(worst, abs(value - fine[key]) / se if se > 0 else 0.0)
        numbers[product_name] = {"default": default, "fine": fine,
                                 "speed_ratio": round(default["patients_per_s"]
                                                      / fine["patients_per_s"], 1),
                                 "largest_difference_in_standard_errors": round(worst, 2)}
        print(product_name, json.dumps(numbers[product_name]), flush=True)
    print(json.dumps(numbers))


if __name__ == "__main__":
    main()
