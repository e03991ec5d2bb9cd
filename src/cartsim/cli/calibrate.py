"""``cartsim calibrate --parameter NAME=LOW:HIGH ... --out FILE``: fit shared, product and
disease parameters to the training trials' published endpoints at once (see
:mod:`cartsim.calibration.fit`); ``cartsim cohort`` and ``cartsim trial`` take the file with
``--calibration FILE``."""

from __future__ import annotations

import argparse

TRAINING_TRIALS = ("eliana-tisa-cel-b-all", "zuma1-axi-cel-lbcl", "cibmtr-tisa-cel-lbcl",
                   "karmma-ide-cel-mm", "ct041-satri-cel-gastric")
"""The built-in scenarios of trials whose outcomes reference/trials_training.csv gives."""


def register(subparsers) -> None:
    calibrate = subparsers.add_parser(
        "calibrate", help="fit parameters to the training trials' published endpoints",
        description="Fit model parameters to every chosen trial's published endpoints at "
                    "once (binomial deviance of each published share at its trial's n; "
                    "scipy's bounded Powell search on log parameters; the same patients in "
                    "every evaluation), and write the fitted values with the fit's provenance "
                    "to FILE (YAML). Rerun with the same arguments, it writes the same file.")
    calibrate.add_argument("--parameter", action="append", required=True, metavar="SPEC",
                           help="NAME=LOW:HIGH (shared), or product:NAME:PARAMETER=LOW:HIGH "
                                "or disease:NAME:PARAMETER=LOW:HIGH; repeatable")
    calibrate.add_argument("--trial", action="append", metavar="SCENARIO",
                           help="a scenario to fit to; repeatable (default: the training "
                                f"trials {', '.join(TRAINING_TRIALS)})")
    calibrate.add_argument("--endpoints", help="comma-separated endpoints to score (default: "
                                               "every published one the horizon reaches)")
    calibrate.add_argument("--patients", type=int, default=1000,
                           help="patients per trial per evaluation (default %(default)s)")
    calibrate.add_argument("--horizon-days", default="60",
                           help="days simulated after infusion, every patient infused (the "
                                "toxicity endpoints); 'journey' for whole journeys "
                                "(default %(default)s)")
    calibrate.add_argument("--max-evaluations", type=int, default=40,
                           help="objective evaluations at most (default %(default)s)")
    calibrate.add_argument("--out", required=True, help="calibration file to write (YAML)")
    calibrate.add_argument("--quiet", action="store_true", help="no progress lines")
    calibrate.set_defaults(handler=run_calibrate_command)


def run_calibrate_command(args: argparse.Namespace) -> int:
    from cartsim.calibration import CalibrationSpec, FittedParameter, calibrate
    from cartsim.cli.output import atomic_path
    from cartsim.errors import CartsimError

    if args.patients < 1 or args.max_evaluations < 1:
        raise CartsimError("--patients and --max-evaluations must be >= 1")
    if args.horizon_days == "journey":
        horizon = None
    else:
        try:
            horizon = float(args.horizon_days)
        except ValueError:
            raise CartsimError(f"--horizon-days must be a number of days or 'journey', got "
                               f"{args.horizon_days!r}") from None
    spec = CalibrationSpec(
        tuple(args.trial or TRAINING_TRIALS),
        tuple(FittedParameter.parse(text) for text in args.parameter),
        None if args.endpoints is None else tuple(e.strip() for e in args.endpoints.split(",")),
        args.patients, horizon, args.max_evaluations)
    fitted = calibrate(spec, progress=not args.quiet)
    with atomic_path(args.out) as tmp:
        fitted.save(tmp)
    provenance = fitted.provenance
    print(f"deviance {provenance['deviance_start']:g} -> {provenance['deviance_fitted']:g} "
          f"over {len(provenance['data'])} published endpoints in "
          f"{provenance['evaluations']} evaluations")
    for value in fitted.values:
        print(f"  {value.scope:24s} {value.parameter} = {value.value:g}  "
              f"[{value.low:g}, {value.high:g}]")
    print(f"wrote {args.out}")
    return 0
