"""``cartsim trial SCENARIO --patients N --seed S --out DIR``: a one-arm virtual trial through
the batched engine into a Parquet store (resumable), with endpoints computed from the store;
``cartsim query DIR "SQL"``: DuckDB over a trial folder."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from cartsim.cli.output import atomic_path


def register(subparsers) -> None:
    trial = subparsers.add_parser(
        "trial", help="run a scenario as a one-arm virtual trial into a Parquet store",
        description="Simulate --patients patients of a scenario (built-in name or YAML file) "
                    "with batched journeys, chunk by chunk into DIR/patients/ (Parquet). "
                    "Started again with the same command, a killed run resumes where it "
                    "stopped; a folder holding another trial is refused.")
    trial.add_argument("scenario", help="YAML file or built-in scenario name "
                                        "(see `cartsim journey --list`)")
    trial.add_argument("--patients", type=int, required=True)
    trial.add_argument("--out", required=True, help="trial folder (created if missing)")
    trial.add_argument("--seed", type=int, help="override the scenario's seed")
    trial.add_argument("--chunk-size", type=int, default=256,
                       help="patients per chunk, the unit of resumption (default %(default)s)")
    where = trial.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="ADDRESS",
                       help="run the chunks on a Dask scheduler at ADDRESS, or 'local' to "
                            "start a LocalCluster")
    where.add_argument("--gpu", action="store_true", help="solve on one NVIDIA GPU")
    trial.add_argument("--workers", type=int,
                       help="worker processes on this machine (one core each) or local Dask "
                            "workers; default: every core")
    trial.add_argument("--trajectory-days", metavar="DAYS",
                       help="also store each patient's trajectory at these days from infusion: "
                            "START:STOP:STEP (e.g. 0:730:7) or a list (e.g. 0,7,14,28)")
    trial.add_argument("--trajectory-variables", metavar="NAMES",
                       help="comma-separated observables or states to store (default: "
                            "tumour_cells, cart_cells_per_ul, il6_pg_ml, crp_mg_l, "
                            "ferritin_ng_ml, temperature_c, anc_10e9_l, platelets_10e9_l, "
                            "b_cells_per_ul, igg_g_l)")
    trial.add_argument("--calibration", metavar="FILE",
                       help="apply a calibration file (cartsim calibrate) to the patients")
    trial.add_argument("--quiet", action="store_true", help="no progress output")
    trial.set_defaults(handler=run_trial_command)

    query = subparsers.add_parser(
        "query", help="SQL (DuckDB) over a trial folder's patients",
        description="Run SQL over the view `patients` (one row per patient, every outcome "
                    "column, the partition columns arm and chunk) of a trial folder, and "
                    "`trajectories` (one row per patient and day) when the trial kept them.")
    query.add_argument("folder")
    query.add_argument("sql", help='e.g. "SELECT best_response, count(*) FROM patients '
                                   'GROUP BY 1"')
    query.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    query.set_defaults(handler=run_query_command)


def run_trial_command(args: argparse.Namespace) -> int:
    from cartsim.errors import CartsimError
    from cartsim.trial import run_trial
    from cartsim.trial.backends import make_backend
    from cartsim.trial.execution import ENDPOINT_COLUMNS, endpoint_rows
    from cartsim.trial.trajectories import TrajectorySpec

    if args.workers is not None and args.workers < 1:
        raise CartsimError(f"--workers must be >= 1, got {args.workers}")
    if args.trajectory_variables is not None and args.trajectory_days is None:
        raise CartsimError("--trajectory-variables needs --trajectory-days")
    trajectories = (None if args.trajectory_days is None else TrajectorySpec.parse(
        args.trajectory_days, args.trajectory_variables))
    scenario = args.scenario
    if args.calibration is not None:
        from cartsim.calibration import load_calibration
        from cartsim.trial.execution import trial_protocol

        scenario = load_calibration(args.calibration).applied(trial_protocol(scenario, args.seed))
    backend = make_backend(dask=args.dask, target="gpu" if args.gpu else "cpu",
                           workers=args.workers)
    try:
        trial = run_trial(scenario, args.patients, out=args.out, seed=args.seed,
                          chunk_size=args.chunk_size, backend=backend, progress=not args.quiet,
                          trajectories=trajectories)
    finally:
        backend.close()
    out = Path(args.out)
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(trial.summary, indent=2), encoding="utf-8")
    rows = endpoint_rows(trial.summary)
    with atomic_path(out / "endpoints.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ENDPOINT_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    run = trial.summary["run"]
    print(f"{trial.summary['scenario']}: {trial.summary['patients']} patients "
          f"({run['resumed_chunks']} of {run['chunks']} chunks resumed), "
          f"{run['patients_per_s']:g} patients/s on {run['backend']}")
    for row in rows:
        published = "" if row["published"] is None else (
            f"   published {row['published']:.2f} ({'inside' if row['within_ci'] else 'outside'}"
            " the interval)")
        print(f"  {row['endpoint']:26s} {_shown(row['value'])} [{_shown(row['ci_low'])}-"
              f"{_shown(row['ci_high'])}]{published}")
    kept = f"{out}/patients/ and trajectories/" if trajectories else f"{out}/patients/"
    print(f"wrote {kept} (Parquet), summary.json, endpoints.csv")
    return 0


def _shown(value: float | None) -> str:
    """An endpoint's number, or NR: a median (or its upper limit) not reached."""
    return "NR" if value is None else f"{value:.3f}"


def run_query_command(args: argparse.Namespace) -> int:
    import sys

    from cartsim.trial.store import query

    relation = query(args.folder, args.sql)
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(relation.columns)
        writer.writerows(relation.fetchall())
    else:
        relation.show(max_rows=100)
    return 0
