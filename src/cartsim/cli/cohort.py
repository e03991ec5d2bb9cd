"""``cartsim cohort SCENARIO --patients N --out DIR``: a virtual trial cohort of one scenario,
written as DIR/patients.csv (one row per enrolled patient; each sampled parameter's column
headed with its unit, NAME [UNIT]) and DIR/summary.json (endpoints by
intention to treat and over the infused, with 95% intervals and the published values)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from cartsim.cli.output import atomic_path


def register(subparsers) -> None:
    cohort = subparsers.add_parser(
        "cohort", help="simulate a trial cohort of one scenario (ITT and infused endpoints)",
        description="Enrol --patients virtual patients in the scenario's protocol, each with "
                    "the presets' between-patient variability, and summarise response, "
                    "toxicity and survival the way the trial reports them.")
    cohort.add_argument("scenario", help="YAML file or built-in scenario name "
                                         "(see `cartsim journey --list`)")
    cohort.add_argument("--patients", type=int, default=100, help="default: %(default)s")
    cohort.add_argument("--out", required=True, help="output folder (created if missing)")
    cohort.add_argument("--seed", type=int, help="override the scenario's seed")
    cohort.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a model parameter for every patient (the typical "
                             "value around which patients vary; see docs/model.md); repeatable")
    cohort.add_argument("--calibration", metavar="FILE",
                        help="apply a calibration file (cartsim calibrate) to the patients")
    cohort.add_argument("--workers", type=int, default=None,
                        help="threads solving the batched journeys (results do not depend on "
                             "it); default: every core")
    cohort.set_defaults(handler=run_cohort_command)


def _format(entry: dict) -> str:
    if "unit" in entry:  # a median
        return _format_median(entry)
    if entry["pct"] is None:
        return "no patients"
    low, high = entry["ci95_pct"]
    text = f"{entry['pct']:5.1f}% [{low:.0f}-{high:.0f}] of {entry['n']}"
    if "published" in entry:
        text += f"   published {entry['published']['value']:g}% ({entry['published']['source']})"
    return text


def _format_median(entry: dict) -> str:
    if entry["n"] == 0:
        return "no patients"
    if entry["value"] is None:
        return f"not reached, of {entry['n']}"
    low, high = entry["ci95"] or (None, None)
    interval = "" if low is None else (f" [{low:g}-{'NR' if high is None else f'{high:g}'}]")
    return f"{entry['value']:g} {entry['unit']}{interval} of {entry['n']}"


def run_cohort_command(args: argparse.Namespace) -> int:
    from cartsim.cli.therapy import parse_overrides
    from cartsim.errors import CartsimError
    from cartsim.journey import load_protocol, protocol_from_mapping
    from cartsim.journey.cohort import run_cohort
    from cartsim.journey.scenarios import scenario_path
    from cartsim.therapy import parameter_unit

    if args.patients < 1:
        raise CartsimError(f"--patients must be >= 1, got {args.patients}")
    if args.workers is not None and args.workers < 1:
        raise CartsimError(f"--workers must be >= 1, got {args.workers}")
    protocol = load_protocol(scenario_path(args.scenario))
    patient = {**protocol["patient"], "parameters": {**protocol["patient"]["parameters"],
                                                     **parse_overrides(args.set)}}
    protocol = protocol_from_mapping({**protocol, "patient": patient,
                                      **({} if args.seed is None else {"seed": args.seed})})
    if args.calibration is not None:
        from cartsim.calibration import load_calibration

        protocol = load_calibration(args.calibration).applied(protocol)
    cohort = run_cohort(protocol, args.patients, progress=args.patients >= 20,
                        workers=args.workers)
    summary = cohort.summary()
    rows = cohort.rows()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "patients.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"{c} [{parameter_unit(c)}]" if c in cohort.parameters else c
                         for c in rows[0]])
        writer.writerows(row.values() for row in rows)
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"{summary['scenario']}: {summary['patients']} enrolled; CRS graded "
          f"{summary['crs_scale']}")
    failed = summary["simulation_failed"]
    if failed["patients"]:
        print(f"  {len(failed['patients'])} patient(s) could not be simulated and are in no "
              f"endpoint (patients.csv, column simulation_failed):")
        for reason, count in failed["reasons"].items():
            print(f"    {count} x {reason}")
    for name, entry in summary["endpoints"].items():
        print(f"  {name:26s} {_format(entry)}")
    for key in ("pfs_median_months", "dor_median_months"):
        median = summary[key]
        print(f"  {key:26s} {'not reached' if median is None else median}")
    print(f"wrote {out}/patients.csv, summary.json")
    return 0
