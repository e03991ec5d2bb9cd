"""Compare simulated CRS and ICANS with the training trials (the toxicity calibration table).

Runs the built-in ELIANA, ZUMA-1, KarMMa and CT041 scenarios as cohorts over the first 60 days
(every patient infused: toxicity rates are over infused patients) and prints, per trial, CRS of
any grade and grade >= 3 on the trial's scale, ICANS (ASTCT) of any grade and grade >= 3, CRS
onset and tocilizumab use, beside the published values in each scenario's ``published:``
section. The physiology parameters marked "calibrated (tools/calibrate_toxicity.py)" in
docs/model.md were chosen by hand with this table; ``--set NAME=VALUE`` tries other values.
Usage: ``python tools/calibrate_toxicity.py [PATIENTS] [--set NAME=VALUE ...]``.
"""

from __future__ import annotations

import argparse

from cartsim.journey import load_protocol, protocol_from_mapping
from cartsim.journey.cohort import run_cohort
from cartsim.journey.scenarios import scenario_path

TRIALS = ("eliana-tisa-cel-b-all", "zuma1-axi-cel-lbcl", "karmma-ide-cel-mm",
          "ct041-satri-cel-gastric")
SHOWN = ("crs_any", "crs_grade3plus", "icans_any", "icans_grade3plus", "tocilizumab")


def toxicity_protocol(name: str, overrides: dict[str, float]) -> dict:
    """The scenario with every patient infused and 60 days of follow-up."""
    p = load_protocol(scenario_path(name))
    return protocol_from_mapping({
        **p, "follow_up_days": 60.0, "visits": {"days": [28.0]}, "rescue": {"enabled": False},
        "manufacturing": {**p["manufacturing"], "failure_probability": 0.0},
        "wait": {**p["wait"], "dropout_per_day": 0.0},
        "patient": {**p["patient"], "background_mortality_per_year": 0.0,
                    "parameters": {**p["patient"]["parameters"], **overrides}}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", type=int, nargs="?", default=60)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    overrides = {k: float(v) for k, v in (s.split("=", 1) for s in args.set)}
    for name in TRIALS:
        summary = run_cohort(toxicity_protocol(name, overrides), args.patients).summary()
        onset = summary["crs_onset_median_day"]
        print(f"{name} (CRS {summary['crs_scale']}; onset median "
              f"{'-' if onset is None else f'{onset:g}'} d)")
        for key in SHOWN:
            entry = summary["endpoints"][key]
            published = entry.get("published", {}).get("value")
            print(f"  {key:18s} {entry['pct']:5.1f}%  published "
                  f"{'-' if published is None else f'{published:g}%'}")


if __name__ == "__main__":
    main()
