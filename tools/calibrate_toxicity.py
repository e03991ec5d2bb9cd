"""Compare simulated CRS and ICANS with the training trials (the toxicity calibration table).

Runs the built-in ELIANA, ZUMA-1, real-world tisa-cel LBCL (CIBMTR), KarMMa and CT041 scenarios
as cohorts over the first 60 days (every patient infused: toxicity rates are over infused
patients) and prints, per trial, CRS of any grade and grade >= 3 on the trial's scale, ICANS
(ASTCT) of any grade and grade >= 3, CRS onset, tocilizumab use and grade >= 3 neutropenia and
thrombocytopenia (CTCAE), beside the published values in each scenario's ``published:``
section. The physiology and marrow parameters marked "calibrated (tools/calibrate_toxicity.py)"
in docs/model.md were chosen by hand with this table; ``--set NAME=VALUE`` tries other values
for every patient, ``--set-for KEY:NAME=VALUE`` only for the trials whose product, disease or
name is KEY (a product or disease preset's value, such as tisa-cel:cytokine_potency=0.2).
Usage: ``python tools/calibrate_toxicity.py [PATIENTS] [--set NAME=VALUE ...]
[--set-for KEY:NAME=VALUE ...]``.
"""

from __future__ import annotations

import argparse

from cartsim.cli.therapy import parse_overrides
from cartsim.journey import load_protocol
from cartsim.journey.cohort import run_cohort, toxicity_protocol
from cartsim.journey.scenarios import scenario_path

TRIALS = ("eliana-tisa-cel-b-all", "zuma1-axi-cel-lbcl", "cibmtr-tisa-cel-lbcl",
          "karmma-ide-cel-mm", "ct041-satri-cel-gastric")
SHOWN = ("crs_any", "crs_grade3plus", "icans_any", "icans_grade3plus", "tocilizumab",
         "neutropenia_grade3plus", "thrombocytopenia_grade3plus")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", type=int, nargs="?", default=60)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--set-for", action="append", default=[], metavar="KEY:NAME=VALUE")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)
    keyed = keyed_overrides(parser, args.set_for)
    for name in TRIALS:
        protocol = load_protocol(scenario_path(name))
        chosen = dict(overrides)
        for key in (protocol["product"], protocol["disease"], name):
            chosen.update(keyed.get(key, {}))
        protocol = toxicity_protocol(protocol, **chosen)
        print_table(name, run_cohort(protocol, args.patients).summary(), SHOWN)


def keyed_overrides(parser: argparse.ArgumentParser, items: list[str]) -> dict:
    """``KEY:NAME=VALUE`` items as {key: {name: value}}."""
    result: dict[str, dict[str, float]] = {}
    for item in items:
        key, sep, setting = item.partition(":")
        if not sep:
            parser.error(f"--set-for wants KEY:NAME=VALUE, got {item!r}")
        result.setdefault(key, {}).update(parse_overrides([setting]))
    return result


def print_table(name: str, summary: dict, shown) -> None:
    """One trial's simulated endpoints ``shown`` beside its published values."""
    onset = summary["crs_onset_median_day"]
    print(f"{name} (CRS {summary['crs_scale']}; onset median "
          f"{'-' if onset is None else f'{onset:g}'} d)")
    for key in shown:
        entry = summary["endpoints"][key]
        published = entry.get("published", {}).get("value")
        pct = "    -" if entry["pct"] is None else f"{entry['pct']:5.1f}"
        print(f"  {key:24s} {pct}% of {entry['n']:3d}  published "
              f"{'-' if published is None else f'{published:g}%'}")


if __name__ == "__main__":
    main()
