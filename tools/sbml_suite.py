"""Run cases of the SBML Test Suite (../shared/sbml-test-suite/semantic/) and say which pass.

A case passes when every variable its settings list lies, at every output time, within
``absolute + relative * |expected|`` of its results.csv (the suite's own rule); species are
compared as amounts or concentrations as the settings ask. Each case ends as one of: pass,
wrong (ran, values outside the tolerance), refused (an SBMLError naming what cartsim does not
support), failed (the solver stopped), crash (any other exception: a defect). Usage:

    python tools/sbml_suite.py 60 --seed 1        # a random sample of 60 TimeCourse cases
    python tools/sbml_suite.py --cases 00001,00174
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cartsim.engine import compile_model
from cartsim.errors import CartsimError
from cartsim.sbml import import_sbml

SUITE = Path(__file__).resolve().parents[2] / "shared" / "sbml-test-suite" / "semantic"


@dataclass(frozen=True)
class Settings:
    """A case's settings.txt."""

    start: float
    duration: float
    steps: int
    variables: list[str]
    absolute: float
    relative: float
    amounts: frozenset[str]
    concentrations: frozenset[str]

    @classmethod
    def read(cls, path: Path) -> Settings:
        fields = dict(line.split(":", 1) for line in path.read_text().splitlines()
                      if ":" in line)

        def ids(key: str) -> list[str]:
            return [i.strip() for i in fields.get(key, "").split(",") if i.strip()]

        return cls(float(fields["start"]), float(fields["duration"]), int(fields["steps"]),
                   ids("variables"), float(fields["absolute"]), float(fields["relative"]),
                   frozenset(ids("amount")), frozenset(ids("concentration")))


def level3_model(case: Path) -> Path | None:
    """The case's Level 3 model (Version 2 first), or None: cases of features that only
    Level 2 has (StoichiometryMath) come without one."""
    return next((p for p in (case / "sbml-l3v2.xml", case / "sbml-l3v1.xml") if p.exists()),
                None)


def time_course(case: Path) -> bool:
    """A TimeCourse case with a Level 3 model (the others are not simulations)."""
    return level3_model(case) is not None and re.search(
        r"testType:\s*TimeCourse", (case / "model.m").read_text(errors="replace")) is not None


def run_case(case: Path) -> tuple[str, str]:
    """(outcome, detail) of one case."""
    settings = Settings.read(case / "settings.txt")
    model = level3_model(case)
    if model is None:
        return "refused", "no Level 3 model in the suite's copy"
    try:
        imported = import_sbml(model)
        imported.check_variables(settings.variables)
        times = np.linspace(settings.start, settings.start + settings.duration,
                            settings.steps + 1)
        grid = times if settings.start == 0 else np.concatenate([[0.0], times])
        result = compile_model(imported.model, kernel="auto").solve(
            grid, rtol=1e-10, atol=1e-14, max_steps=5_000_000,
            max_step=settings.duration / settings.steps)  # as sbml run's default
        if not result.ok[0]:
            return "failed", result.message(0)
        imported.check_delays(result)
        values = imported.values(result, settings.variables, amounts=settings.amounts,
                                 concentrations=settings.concentrations)[0]
    except CartsimError as error:
        return "refused", str(error).splitlines()[0][:160]
    except Exception as error:  # a defect: the tool reports it and goes on
        frame = traceback.extract_tb(error.__traceback__)[-1]
        return "crash", f"{type(error).__name__}: {error} ({Path(frame.filename).name}:" \
                        f"{frame.lineno})"
    values = values[-len(times):]
    with open(case / "results.csv") as handle:  # some headers space their names
        rows = [{key.strip(): value for key, value in row.items()}
                for row in csv.DictReader(handle)]
    expected = np.array([[float(row[v]) for v in settings.variables] for row in rows])
    both_nan = np.isnan(expected) & np.isnan(values)
    off = np.abs(values - expected) > settings.absolute + settings.relative * np.abs(expected)
    off &= ~both_nan & ~(np.isinf(expected) & (values == expected))
    if off.any():
        t, v = np.argwhere(off)[0]
        return "wrong", (f"{settings.variables[v]} at t={times[t]:g}: {values[t, v]:.6g} "
                         f"(expected {expected[t, v]:.6g})")
    return "pass", ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", type=int, nargs="?", default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", help="comma-separated case numbers instead of a sample")
    args = parser.parse_args()
    if args.cases:
        cases = [SUITE / c.strip() for c in args.cases.split(",")]
    else:
        every = [c for c in sorted(SUITE.iterdir()) if c.is_dir() and time_course(c)]
        cases = sorted(random.Random(args.seed).sample(every, min(args.sample, len(every))))
    outcomes: dict[str, tuple[str, str]] = {}
    for case in cases:
        start = time.perf_counter()
        outcomes[case.name] = run_case(case)
        kind, detail = outcomes[case.name]
        print(f"{case.name} {kind:8s} {time.perf_counter() - start:5.1f} s  {detail}",
              flush=True)
    counts = Counter(kind for kind, _ in outcomes.values())
    print(json.dumps({"cases": len(cases), **counts}))


if __name__ == "__main__":
    main()
