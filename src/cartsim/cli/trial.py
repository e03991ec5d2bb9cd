"""``cartsim trial SPEC_OR_SCENARIO --patients N --seed S --out DIR``: a virtual trial (a spec
with arms, or a scenario as one arm) through the batched engine into a Parquet store
(resumable), with endpoints and comparisons computed from the store; ``cartsim trial
--schema``: the spec format; ``cartsim query DIR "SQL"``: DuckDB over a trial folder."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from cartsim.cli.output import atomic_path


def register(subparsers) -> None:
    trial = subparsers.add_parser(
        "trial", help="run a virtual trial (a spec with arms, or a scenario as one arm) into "
                      "a Parquet store",
        description="Simulate a trial spec (YAML with arms: see --schema and examples/"
                    "trial-*.yaml) or a scenario (built-in name or YAML file) as a one-arm "
                    "trial, with batched journeys, chunk by chunk into DIR/patients/ "
                    "(Parquet), then DIR/endpoints.csv, DIR/comparisons.csv (arms against "
                    "the control: hazard ratio, log-rank, power over replicates) and "
                    "DIR/summary.json. Started again with the same command, a killed run "
                    "resumes where it stopped; a folder holding another trial is refused.")
    trial.add_argument("scenario", nargs="?", metavar="SPEC_OR_SCENARIO",
                       help="trial spec or scenario YAML file, or a built-in scenario name "
                            "(see `cartsim journey --list`)")
    trial.add_argument("--schema", action="store_true",
                       help="print the trial spec format as JSON Schema and exit")
    trial.add_argument("--patients", type=int,
                       help="enrolled per replicate, over all arms (default: the spec's, "
                            "200 for a scenario)")
    trial.add_argument("--out", help="trial folder (created if missing)")
    trial.add_argument("--seed", type=int, help="override the spec's or scenario's seed")
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
                            "tumour_cells, cart_cells_per_ul, cart_copies_per_ug, il6_pg_ml, "
                            "crp_mg_l, ferritin_ng_ml, temperature_c, anc_10e9_l, "
                            "platelets_10e9_l, b_cells_per_ul, igg_g_l)")
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
    main_trial = subparsers.add_parser(
        "virtual-trial", help="the main job: a randomised virtual trial of the therapy model "
                              "(axi-cel against salvage chemotherapy) and its report",
        description="Run the built-in two-arm trial (ZUMA-1-like patients randomised 1:1 to "
                    "axi-cel or SCHOLAR-1-like salvage chemotherapy, two years, by intention "
                    "to treat, three replicates) into DIR and write DIR/report.html. Run "
                    "again, it resumes or reuses what is there.")
    main_trial.add_argument("--out", default="cartsim-trial", help="default: %(default)s")
    main_trial.add_argument("--patients", type=int, help="per replicate (default 2,000)")
    main_trial.add_argument("--replicates", type=int, help="default 3")
    main_trial.add_argument("--quiet", action="store_true", help="no progress bar")
    main_trial.set_defaults(handler=run_main_trial_command)
    export = subparsers.add_parser(
        "export", help="a trial folder as a NONMEM/mrgsolve event table or tidy trajectories",
        description="nonmem: one row per dose or observation (ID, TIME in days from "
                    "infusion, EVID, AMT, CMT, DV, MDV, then arm, replicate and the sampled "
                    "parameters as covariates), observations from the stored trajectories; "
                    "tidy: arm, patient, day, variable, value.")
    export.add_argument("folder", metavar="DIR")
    export.add_argument("--format", choices=("nonmem", "tidy"), required=True)
    export.add_argument("--out", required=True, metavar="FILE.csv")
    export.add_argument("--dv", default="cart_cells_per_ul",
                        help="nonmem: the observed trajectory variable (default %(default)s)")
    export.set_defaults(handler=run_export_command)
    serve = subparsers.add_parser(
        "serve", help="a local web app: one patient's journey or a small cohort",
        description="Start the web app on http://HOST:PORT/ (localhost only by default): pick "
                    "product, disease, dose, lymphodepletion and policy, run one patient or "
                    "a small cohort, read the journey page, grades and endpoints.")
    serve.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve.add_argument("--port", type=int, default=8765, help="default: %(default)s")
    serve.set_defaults(handler=run_serve_command)
    report = subparsers.add_parser(
        "report", help="write a trial folder's report as one self-contained HTML page",
        description="Write DIR/report.html from a trial folder (cartsim trial ... --out DIR): "
                    "endpoints against published values, comparisons, Kaplan-Meier curves, "
                    "toxicity by grade, cytopenias, antigen at relapse, a swimmer plot and, "
                    "when kept, CAR-T kinetics. It opens without a network.")
    report.add_argument("folder", metavar="DIR")
    report.set_defaults(handler=run_report_command)


def run_trial_command(args: argparse.Namespace) -> int:
    from cartsim.errors import CartsimError
    from cartsim.trial.backends import make_backend
    from cartsim.trial.execution import trial_spec
    from cartsim.trial.trajectories import TrajectorySpec

    if args.schema:
        from cartsim.trial.spec import spec_json_schema

        print(json.dumps(spec_json_schema(), indent=2))
        return 0
    if args.scenario is None or args.out is None:
        raise CartsimError("give a SPEC_OR_SCENARIO and --out DIR (or --schema)")
    if args.workers is not None and args.workers < 1:
        raise CartsimError(f"--workers must be >= 1, got {args.workers}")
    if args.patients is not None and args.patients < 1:
        raise CartsimError(f"--patients must be >= 1, got {args.patients}")
    if args.trajectory_variables is not None and args.trajectory_days is None:
        raise CartsimError("--trajectory-variables needs --trajectory-days")
    trajectories = (None if args.trajectory_days is None else TrajectorySpec.parse(
        args.trajectory_days, args.trajectory_variables))
    spec = trial_spec(args.scenario, args.patients, args.seed)
    if args.calibration is not None:
        from cartsim.calibration import load_calibration

        spec = spec.with_protocols(load_calibration(args.calibration).applied)
    backend = make_backend(dask=args.dask, target="gpu" if args.gpu else "cpu",
                           workers=args.workers)
    _run_and_write(spec, Path(args.out), backend, args.chunk_size, trajectories,
                   quiet=args.quiet)
    return 0


def _run_and_write(spec, out: Path, backend, chunk_size: int, trajectories, *,
                   quiet: bool) -> dict:
    """Run ``spec`` into ``out`` and write summary.json, endpoints.csv and comparisons.csv;
    print the endpoints; returns the summary."""
    from cartsim.trial import run_trial
    from cartsim.trial.analysis import (
        COMPARISON_COLUMNS,
        ENDPOINT_COLUMNS,
        comparison_rows,
        endpoint_rows,
    )

    try:
        trial = run_trial(spec, out=out, chunk_size=chunk_size, backend=backend,
                          progress=not quiet, trajectories=trajectories)
    finally:
        backend.close()
    summary = trial.summary
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    rows = endpoint_rows(summary)
    _write_csv(out / "endpoints.csv", ENDPOINT_COLUMNS, rows)
    comparisons = comparison_rows(summary)
    if comparisons:
        _write_csv(out / "comparisons.csv", COMPARISON_COLUMNS, comparisons)
    run = summary["run"]
    sizes = ", ".join(f"{arm} {n}" for arm, n in summary["patients_per_replicate"].items())
    replicates = f" x {summary['replicates']} replicates" if summary["replicates"] > 1 else ""
    print(f"{summary['trial']}: {sizes} patients{replicates} ({run['resumed_chunks']} of "
          f"{run['chunks']} chunks resumed), {run['patients_per_s']:g} patients/s on "
          f"{run['backend']}")
    for row in rows:
        published = "" if row["published"] is None else (
            f"   published {row['published']:.2f} ({'inside' if row['within_ci'] else 'outside'}"
            " the interval)")
        arm = f"{row['arm']:>8s} " if len(summary["arms"]) > 1 else "  "
        described = row["value"] is not None and row["ci_low"] is None and row["ci_high"] is None
        interval = "" if described else f" [{_shown(row['ci_low'])}-{_shown(row['ci_high'])}]"
        print(f"{arm}{row['endpoint']:26s} {_shown(row['value'])}{interval}{published}")
    for c in comparisons:
        power = "" if c["power"] is None else f", power {c['power']:.2f}"
        hazard = ("HR not estimable" if c["hazard_ratio"] is None else
                  f"HR {c['hazard_ratio']:.2f} [{c['hr_ci_low']:.2f}-{c['hr_ci_high']:.2f}]")
        p = "n/a" if c["logrank_p"] is None else f"{c['logrank_p']:.3g}"
        print(f"  {c['endpoint']}: {c['arm']} vs {c['control']}: {hazard}, log-rank p {p}"
              f"{power}")
    kept = f"{out}/patients/ and trajectories/" if trajectories else f"{out}/patients/"
    written = "summary.json, endpoints.csv" + (", comparisons.csv" if comparisons else "")
    print(f"wrote {kept} (Parquet), {written}")
    return summary


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def _shown(value: float | None) -> str:
    """An endpoint's number, or NR: a median (or its upper limit) not reached; a median of
    patients' values (no event to wait for) is shown without an interval."""
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


def run_main_trial_command(args: argparse.Namespace) -> int:
    """The main job: the built-in two-arm trial, then its report."""
    from cartsim.report.trial_report import write_report
    from cartsim.trial.backends import make_backend
    from cartsim.trial.execution import DEFAULT_CHUNK
    from cartsim.trial.spec import MAIN_TRIAL, load_spec
    from cartsim.trial.trajectories import TrajectorySpec

    spec = load_spec(MAIN_TRIAL, patients=args.patients, replicates=args.replicates)
    out = Path(args.out)
    print(f"{spec.name}: {spec.patients:,} patients x {spec.replicates} replicate(s) into "
          f"{out}/ (the first run compiles the therapy model: about two minutes)", flush=True)
    _run_and_write(spec, out, make_backend(), DEFAULT_CHUNK,
                   TrajectorySpec.parse(MAIN_TRIAL_DAYS, None), quiet=args.quiet)
    path = write_report(out)
    print(f"report: {path.resolve()} (open it in a browser)")
    return 0


MAIN_TRIAL_DAYS = "0:120:2"
"""The main job keeps the first four months of each patient's trajectory (its kinetics)."""


def run_report_command(args: argparse.Namespace) -> int:
    from cartsim.report.trial_report import write_report

    path = write_report(args.folder)
    print(f"wrote {path} (self-contained: open it in a browser)")
    return 0


def run_export_command(args: argparse.Namespace) -> int:
    from cartsim.trial.export import export_nonmem, export_tidy

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = (export_nonmem(args.folder, out, args.dv) if args.format == "nonmem"
            else export_tidy(args.folder, out))
    print(f"wrote {out} ({rows:,} rows)")
    return 0


def run_serve_command(args: argparse.Namespace) -> int:
    from cartsim.report.webapp import create_app

    print(f"cartsim web app on http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    create_app().run(host=args.host, port=args.port)
    return 0
