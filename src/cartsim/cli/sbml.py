"""``cartsim sbml``: inspect, simulate and export SBML models."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from cartsim.cli.output import atomic_path
from cartsim.errors import CartsimError, SolverOptionsError, did_you_mean


def register(subparsers) -> None:
    parser = subparsers.add_parser("sbml", help="import, simulate and export SBML models",
                                   description=__doc__)
    sub = parser.add_subparsers(dest="sbml_command", metavar="SUBCOMMAND", required=True)

    check = sub.add_parser("check", help="import an SBML file and summarise it")
    check.add_argument("file", help="SBML file")
    check.add_argument("--units", action="store_true",
                       help="also check unit consistency (libsbml): list every finding, "
                            "exit 2 on a unit mismatch")
    check.set_defaults(handler=run_check)

    run = sub.add_parser(
        "run", help="simulate an SBML model and write its trajectories to CSV",
        description="Simulate FILE from time 0 to --t-end and write a CSV with a `time` column "
                    "and one column per variable: every species (in its own units) unless "
                    "--variables names others (species, compartments, parameters, reactions).")
    run.add_argument("file", help="SBML file")
    run.add_argument("--t-end", type=float, required=True, help="end time (model time units)")
    run.add_argument("--points", type=int, default=101,
                     help="output points from 0 to --t-end inclusive (default: %(default)s)")
    run.add_argument("--out", required=True, help="CSV file to write")
    run.add_argument("--param", action="append", default=[], metavar="ID=VALUE",
                     help="override a parameter, compartment size or constant species by its "
                          "SBML id (REACTION.ID for a reaction's local parameter); repeatable")
    run.add_argument("--rtol", type=float, default=1e-8, help="default: %(default)s")
    run.add_argument("--atol", type=float, default=1e-12, help="default: %(default)s")
    run.add_argument("--method", choices=("auto", "dopri5", "rosenbrock"), default="auto")
    run.add_argument("--max-step", type=float, default=None,
                     help="largest solver step (default: the output interval, so an event "
                          "condition of time that is true only between two steps of a quiet "
                          "model is still seen at least once an interval)")
    run.add_argument("--variables", metavar="IDS",
                     help="comma-separated SBML ids to write: species, compartments, global "
                          "parameters, reactions (their rates); default: every species")
    run.add_argument("--amount", metavar="IDS", default="",
                     help="species to write as amounts (concentration x compartment size)")
    run.add_argument("--concentration", metavar="IDS", default="",
                     help="species to write as concentrations (amount / compartment size)")
    run.add_argument("--kernel", choices=("auto", "generic", "specialised"), default="auto",
                     help="generic: the solver compiled once for every model, the model's "
                          "functions compiled to native code in milliseconds (ready in about "
                          "a second); specialised: a solver compiled for this model alone "
                          "(about 10 s the first time, cached; faster on large ensembles); "
                          "auto (default): generic where the model allows it")
    run.add_argument("--check-units", action="store_true",
                     help="refuse a model whose units do not match (units are not checked "
                          "otherwise: published models often declare them inconsistently)")
    run.set_defaults(handler=run_simulation)

    export = sub.add_parser("export", help="write a built-in model as SBML")
    export.add_argument("--out", required=True, help="SBML file to write")
    export.add_argument("--model", choices=("cart6", "therapy"), default="cart6",
                        help="cart6: the 6-state demo model (default); therapy: the whole "
                             "therapy model with its stochastic leaps off (SBML has no random "
                             "draws), parameters at their defaults")
    export.add_argument("--start", type=float, default=0.0, metavar="DAY",
                        help="the model time at which the SBML clock reads 0 (default 0; "
                             "the therapy model from lymphodepletion: e.g. -7)")
    export.set_defaults(handler=run_export)


def run_check(args: argparse.Namespace) -> int:
    from cartsim.sbml import import_sbml
    from cartsim.sbml.units import declared_units

    imported = import_sbml(args.file)
    resolved = imported.model.resolve()
    units = declared_units(args.file)
    if args.units:
        from cartsim.sbml.units import require_consistent_units, unit_findings

        findings = unit_findings(args.file)
        for finding in findings:
            print(f"{args.file}: {finding}")
        require_consistent_units(args.file, findings)
    print(f"{args.file}: model '{imported.model.name}'")
    species = [f"{name} ({units.get(name, 'undeclared')})" for name in imported.species]
    print(f"  species: {', '.join(species) or 'none'}")
    print(f"  states: {len(resolved.states)}; parameters: {len(resolved.parameters)}; "
          f"assignments: {len(imported.model.assignments)}; "
          f"events: {sum(e.logged for e in resolved.events)}")
    for p in resolved.parameters:
        sbml_id = imported.ids.get(p.name, p.name)
        print(f"    {sbml_id} = {p.default:g} {units.get(sbml_id, 'undeclared')}")
    return 0


def parse_overrides(items: list[str], imported) -> dict[str, float]:
    """``ID=VALUE`` strings → cartsim parameter name → value."""
    overrides = {}
    parameter_ids = {imported.ids.get(p.name, p.name): p.name for p in imported.model.parameters}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise CartsimError(f"--param {item!r}: expected ID=VALUE")
        if key not in parameter_ids:
            raise CartsimError(f"--param {item!r}: '{key}' {_not_a_parameter(imported, key)}; "
                               f"parameters: {', '.join(sorted(parameter_ids))}")
        try:
            value = float(text)
        except ValueError:
            raise CartsimError(f"--param {item!r}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise CartsimError(f"--param {item!r}: value must be finite")
        overrides[parameter_ids[key]] = value
    return overrides


def _not_a_parameter(imported, key: str) -> str:
    """Why ``key`` cannot be overridden."""
    if key not in imported.ids.values():
        return "is not an id in the model"
    if imported.name_of(key) in {a.name for a in imported.model.assignments}:
        return ("is computed (by a rule, a kinetic law or an initial assignment); "
                "set what it depends on")
    return "changes during the simulation, it is not a parameter"


def run_simulation(args: argparse.Namespace) -> int:
    from cartsim.engine import compile_model
    from cartsim.sbml import import_sbml

    def bad(option: str, problem: str) -> SolverOptionsError:
        return SolverOptionsError(problem, file=args.file, element=option)

    if not (math.isfinite(args.t_end) and args.t_end > 0):
        raise bad("--t-end", f"the end time must be a positive number, got {args.t_end}")
    if args.points < 2:
        raise bad("--points", f"the time grid needs at least 2 points, got {args.points}")
    for option, value in (("--rtol", args.rtol), ("--atol", args.atol)):
        if not (math.isfinite(value) and value > 0):
            raise bad(option, f"the tolerance must be a positive number, got {value}")
    if Path(args.out).is_dir():
        raise CartsimError(f"--out {args.out} is a folder; give a file name")
    imported = import_sbml(args.file)
    if args.check_units:
        from cartsim.sbml.units import require_consistent_units

        require_consistent_units(args.file)
    overrides = parse_overrides(args.param, imported)
    variables = imported.species if args.variables is None else _ids(args.variables)
    imported.check_variables(variables)  # before compiling: a misspelt id fails at once
    amounts = _species_ids(args.amount, imported)
    concentrations = _species_ids(args.concentration, imported)
    times = np.linspace(0.0, args.t_end, args.points)
    max_step = args.t_end / (args.points - 1) if args.max_step is None else args.max_step
    if not (math.isfinite(max_step) and max_step > 0):
        raise bad("--max-step", f"the step must be a positive number, got {max_step}")
    with atomic_path(args.out) as tmp:
        compiled = compile_model(imported.model, kernel=args.kernel)
        result = compiled.solve(times, params=overrides or None, rtol=args.rtol,
                                atol=args.atol, method=args.method, max_steps=5_000_000,
                                max_step=max_step)
        if not result.ok[0]:
            raise CartsimError(f"simulation {result.message(0)}", file=args.file)
        imported.check_delays(result)
        values = imported.values(result, variables, amounts=amounts,
                                 concentrations=concentrations)[0]
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["time", *variables])
            for t, row in zip(times, values, strict=True):
                writer.writerow([repr(float(t)), *(repr(float(v)) for v in row)])
    shown = "species" if args.variables is None else "variables"
    print(f"wrote {args.out}: {args.points} time points x {len(variables)} {shown}")
    return 0


def _ids(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _species_ids(text: str, imported) -> frozenset[str]:
    """The species of an --amount or --concentration list (anything else is an error)."""
    ids = _ids(text)
    for sbml_id in ids:
        if sbml_id not in imported.species:
            raise CartsimError(f"'{sbml_id}' is not a species of the model"
                               f"{did_you_mean(sbml_id, imported.species)}",
                               element="--amount/--concentration")
    return frozenset(ids)


def run_export(args: argparse.Namespace) -> int:
    from cartsim.examples import cart6_model
    from cartsim.sbml import export_sbml
    from cartsim.therapy import therapy_model

    model = cart6_model() if args.model == "cart6" else therapy_model(stochastic=False)
    text = export_sbml(model, start=args.start)
    with atomic_path(args.out) as tmp:
        tmp.write_text(text)
    print(f"wrote {args.out}")
    return 0
