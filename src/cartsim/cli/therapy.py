"""``cartsim patient``, ``presets``, ``cite``, ``model-docs`` and ``scenario-docs``: the therapy
model's commands and the reference pages written from the code."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from cartsim.cli.output import atomic_path
from cartsim.errors import CartsimError

PATIENT_COLUMNS = (
    "cart_cells_per_ul", "cart_copies_per_ug", "tumour_cells", "antigen_low_cells",
    "antigen_negative_cells", "sanctuary_cells",
    "marrow_blasts_pct", "spd_mm2", "m_protein_g_dl", "sld_mm", "b_cells_per_ul", "igg_g_l",
    "il6_pg_ml", "ifng_pg_ml", "il10_pg_ml", "crp_mg_l", "ferritin_ng_ml",
    "macrophage_activation", "ldh_u_l", "temperature_c", "map_mmhg", "vasopressors",
    "oxygen_need", "ice_score", "consciousness", "seizure", "cerebral_edema", "motor_weakness",
    "anc_10e9_l", "platelets_10e9_l",
)


def register(subparsers) -> None:
    patient = subparsers.add_parser(
        "patient", help="simulate one virtual patient of a product and disease preset",
        description="Simulate one virtual patient from lymphodepletion to --days after "
                    "infusion; write DIR/trajectory.csv (time in days from infusion and the "
                    "clinical observables), DIR/summary.json (solver status, days the last "
                    "tumour and CAR-T cells died) and DIR/patient.png.")
    patient.add_argument("--product", required=True, help="product preset (see `cartsim presets`)")
    patient.add_argument("--disease", required=True, help="disease preset")
    patient.add_argument("--out", required=True, help="output folder (created if missing)")
    patient.add_argument("--days", type=float, default=365.0, help="default: %(default)s")
    patient.add_argument("--seed", type=int, default=0, help="random stream seed (small-number "
                         "stochastic events); default: %(default)s")
    patient.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                         help="override a model parameter (see docs/model.md); repeatable")
    patient.add_argument("--no-plot", action="store_true", help="skip patient.png")
    patient.set_defaults(handler=run_patient)

    presets = subparsers.add_parser("presets", help="list product and disease presets")
    presets.set_defaults(handler=run_presets)

    cite = subparsers.add_parser("cite", help="list the papers a run's parameters come from")
    cite.add_argument("--product", help="product preset")
    cite.add_argument("--disease", help="disease preset")
    cite.set_defaults(handler=run_cite)

    docs = subparsers.add_parser("model-docs", help="write docs/model.md from the model")
    docs.add_argument("--out", default="docs/model.md", help="default: %(default)s")
    docs.set_defaults(handler=run_model_docs)
    scenario_docs = subparsers.add_parser(
        "scenario-docs", help="write docs/scenarios.md from the scenario and trial spec schemas")
    scenario_docs.add_argument("--out", default="docs/scenarios.md", help="default: %(default)s")
    scenario_docs.set_defaults(handler=run_scenario_docs)


def parse_overrides(items: list[str]) -> dict[str, float]:
    """``NAME=VALUE`` pairs as floats, with errors naming the bad item."""
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            values[name.strip()] = float(text)
        except ValueError:
            raise CartsimError(f"--set expects NAME=VALUE with a number, got {item!r}") from None
    return values


def run_patient(args: argparse.Namespace) -> int:
    from cartsim.presets import disease, product
    from cartsim.therapy.simulate import simulate_patient

    product(args.product), disease(args.disease)  # validate names before any work
    if not args.days > 0:
        raise CartsimError(f"--days must be positive, got {args.days}")
    run = simulate_patient(args.product, args.disease, t_end=args.days, seed=args.seed,
                           **parse_overrides(args.set))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "trajectory.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("time",) + PATIENT_COLUMNS)
        for i, day in enumerate(run.time):
            writer.writerow([f"{day:g}"] + [f"{run[c][i]:.6g}" for c in PATIENT_COLUMNS])
    extinctions = run.extinction_days()
    summary = {"product": args.product, "disease": args.disease, "seed": args.seed,
               "solver_status": run.status, **extinctions}
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    if not args.no_plot:
        from cartsim.report.patient_plot import plot_patient

        with atomic_path(out / "patient.png") as tmp:
            plot_patient(run, f"{args.product} in {args.disease}", tmp)
    ends = ", ".join(f"{key.replace('_', ' ')} {'-' if day is None else f'{day:g}'}"
                     for key, day in extinctions.items())
    print(f"{args.product} / {args.disease}: solver {run.status}; {ends}; wrote "
          f"{out / 'trajectory.csv'}, {out / 'summary.json'}"
          + ("" if args.no_plot else f" and {out / 'patient.png'}"))
    return 0


def run_presets(args: argparse.Namespace) -> int:
    from cartsim.presets import DISEASES, PRODUCTS

    width = max(map(len, [*PRODUCTS, *DISEASES]))
    for title, registry in (("products", PRODUCTS), ("diseases", DISEASES)):
        print(f"{title}:")
        for name, preset in registry.items():
            print(f"  {name:{width}s} {preset.description}")
    return 0


def run_cite(args: argparse.Namespace) -> int:
    from cartsim.presets import disease, product
    from cartsim.presets.citations import bibliography, cited_keys
    from cartsim.therapy.simulate import preset_model

    presets = ([disease(args.disease)] if args.disease else []) + (
        [product(args.product)] if args.product else [])
    for entry in bibliography(cited_keys(preset_model(*presets))):
        print(entry)
    return 0


def run_scenario_docs(args: argparse.Namespace) -> int:
    from cartsim.trial.docs import scenarios_markdown

    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(scenarios_markdown(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def run_model_docs(args: argparse.Namespace) -> int:
    from cartsim.therapy.docs import model_markdown

    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(model_markdown(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
