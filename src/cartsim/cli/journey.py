"""``cartsim journey SCENARIO.yaml --out DIR``: one patient through the whole journey, written
as DIR/events.csv (day, kind, detail), DIR/grades.csv, DIR/outcome.json and DIR/journey.png."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from cartsim.cli.output import atomic_path


def register(subparsers) -> None:
    journey = subparsers.add_parser(
        "journey", help="simulate one patient through a protocol (YAML scenario)",
        description="Simulate one patient from apheresis to follow-up under the scenario's "
                    "protocol and management policy. SCENARIO is a YAML file or the name of a "
                    "built-in scenario (see --list).")
    journey.add_argument("scenario", nargs="?", help="YAML file or built-in scenario name")
    journey.add_argument("--out", help="output folder (created if missing)")
    journey.add_argument("--seed", type=int, help="override the scenario's seed")
    journey.add_argument("--list", action="store_true", help="list built-in scenarios")
    journey.add_argument("--schema", action="store_true",
                         help="print the scenario format as JSON Schema (every key, its type, "
                              "range and default) and exit")
    journey.add_argument("--no-plot", action="store_true", help="skip journey.png")
    journey.set_defaults(handler=run_journey_command)


def run_journey_command(args: argparse.Namespace) -> int:
    from cartsim.errors import CartsimError
    from cartsim.journey import load_protocol, protocol_from_mapping, run_journey
    from cartsim.journey.scenarios import builtin_scenarios, scenario_path

    if args.list:
        for name, description in builtin_scenarios().items():
            print(f"  {name:28s} {description}")
        return 0
    if args.schema:
        from cartsim.journey.protocol import SCHEMA
        from cartsim.journey.schema import json_schema

        print(json.dumps(json_schema(SCHEMA, "cartsim scenario"), indent=2))
        return 0
    if not args.scenario or not args.out:
        raise CartsimError("give a SCENARIO and --out DIR (or --list, or --schema)")
    protocol = load_protocol(scenario_path(args.scenario))
    if args.seed is not None:
        protocol = protocol_from_mapping({**protocol, "seed": args.seed})
    journey = run_journey(protocol)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "events.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("day", "kind", "detail"))
        writer.writerows((f"{d:g}", k, text) for d, k, text in journey.sorted_events())
    with atomic_path(out / "grades.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        scales = tuple(journey.grades.grades) if journey.grades else ()
        writer.writerow(("day", "line", *scales, "crs_rule", "icans_rule"))
        rescue_day = journey.outcome.rescue_start_day
        rescue_day = float("inf") if rescue_day is None else rescue_day
        if journey.grades is not None:
            g = journey.grades
            for i, day in enumerate(g.time):
                writer.writerow([f"{day:g}", "rescue" if day >= rescue_day else "first",
                                 *(int(g.grades[s][i]) for s in scales),
                                 g.rules["crs_astct"][i], g.rules["icans"][i]])
    with atomic_path(out / "outcome.json") as tmp:
        tmp.write_text(json.dumps(journey.outcome.to_json(), indent=2), encoding="utf-8")
    if not args.no_plot:
        from cartsim.report.journey_plot import plot_journey

        with atomic_path(out / "journey.png") as tmp:
            plot_journey(journey, tmp)
    outcome = journey.outcome
    status = ("infused" if outcome.infused else
              f"standard of care ({protocol['treatment']['standard_of_care']})"
              if protocol["treatment"]["arm"] == "standard-of-care"
              else f"not infused ({outcome.not_infused_reason})")
    print(f"{protocol['name']}: {status}; best response {outcome.first_line.best_response}; "
          f"wrote {out}/events.csv, grades.csv, outcome.json"
          + ("" if args.no_plot else ", journey.png"))
    return 0
