"""Compare simulated response and relapse with the training trials (the response calibration
table).

Runs the built-in ELIANA, ZUMA-1, KarMMa and CT041 scenarios as cohorts through the whole journey
and prints, per trial, ORR and CR of infused patients, EFS, PFS and OS at 12 months and the share of
relapses and of all progressions that are antigen-negative or -low, beside the published values in
each scenario's ``published:`` section. The tumour parameters marked "calibrated
(tools/calibrate_response.py)" in docs/model.md (and the solid tumours' K_act in the gastric preset)
were chosen by hand with this table; ``--set NAME=VALUE`` tries other typical values and ``--omega
NAME=OMEGA`` another between-patient spread of a varied parameter.
Usage: ``python tools/calibrate_response.py [PATIENTS] [--set ...] [--omega ...] [--trial ...]``.
"""

from __future__ import annotations

import argparse
import dataclasses

from calibrate_toxicity import print_table

from cartsim.cli.therapy import parse_overrides
from cartsim.journey import load_protocol
from cartsim.journey.cohort import run_cohort
from cartsim.journey.scenarios import scenario_path
from cartsim.presets import variability as spreads

TRIALS = ("eliana-tisa-cel-b-all", "zuma1-axi-cel-lbcl", "karmma-ide-cel-mm",
          "ct041-satri-cel-gastric")
PFS_MEDIAN_MONTHS = {"karmma-ide-cel-mm": "8.8 (KarMMa, trials_training.csv)"}
DOR_MEDIAN_MONTHS = {"zuma1-axi-cel-lbcl": "11.1 (ZUMA-1 at 15.4 months, trials_training.csv)",
                     "karmma-ide-cel-mm": "10.7 (KarMMa, trials_training.csv)"}
SHOWN = ("infused", "orr", "cr", "efs_12mo", "pfs_12mo", "os_12mo", "relapse_antigen_negative",
         "progression_antigen_negative")


def with_omegas(omegas: dict[str, float]) -> None:
    """Replace the omega of the named variations in every variability set (this process)."""
    def replaced(variations):
        return tuple(dataclasses.replace(v, omega=omegas.get(v.parameter, v.omega))
                     for v in variations)

    for table in (spreads.PRODUCT_VARIABILITY, spreads.DISEASE_VARIABILITY):
        for key, variations in table.items():
            table[key] = replaced(variations)
    spreads.HOST_VARIABILITY = replaced(spreads.HOST_VARIABILITY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", type=int, nargs="?", default=100)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--omega", action="append", default=[], metavar="NAME=OMEGA")
    parser.add_argument("--trial", action="append", choices=TRIALS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    overrides = parse_overrides(args.set)
    with_omegas(parse_overrides(args.omega))
    for name in args.trial or TRIALS:
        protocol = load_protocol(scenario_path(name))
        protocol["patient"]["parameters"].update(overrides)
        summary = run_cohort(protocol, args.patients, workers=args.workers).summary()
        print_table(name, summary, SHOWN)
        print(f"  DOR median {summary['dor_median_months'] or 'not reached'} months "
              f"(published: {DOR_MEDIAN_MONTHS.get(name, '-')})")
        print(f"  PFS median {summary['pfs_median_months'] or 'not reached'} months "
              f"(published: {PFS_MEDIAN_MONTHS.get(name, '-')})")


if __name__ == "__main__":
    main()
