"""Run the SBML Test Suite's TimeCourse cases (../shared/sbml-test-suite/semantic/) and say which
pass, per component tag.

A case passes when every variable its settings list lies, at every output time, within
``absolute + relative * |expected|`` of its results.csv (the suite's own rule); species are
compared as amounts or concentrations as the settings ask. Each case ends as one of: pass,
wrong (ran, values outside the tolerance), refused (an SBMLError naming what cartsim does not
support), failed (the solver stopped), crash (any other exception: a defect). Cases whose
features exist only in SBML Level 2 come without a Level 3 file in the project's copy of the
suite; they are counted apart ("no L3 file"), not as cartsim's passes or failures. Models run
on the generic kernel where they can (``kernel="auto"``), so a case takes well under a second.

    python tools/sbml_test_suite.py                  # every case; writes docs/sbml-support.md
    python tools/sbml_test_suite.py --sample 60 --seed 1   # a random sample
    python tools/sbml_test_suite.py --cases 00001,00174
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import random
import re
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cartsim.engine import compile_model
from cartsim.errors import CartsimError
from cartsim.sbml import import_sbml

SUITE = Path(__file__).resolve().parents[2] / "shared" / "sbml-test-suite" / "semantic"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "sbml-support.md"
OUTCOMES = ("pass", "wrong", "refused", "failed", "crash")
NO_FILE = "no L3 file"


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


@dataclass(frozen=True)
class Case:
    """A suite case: its folder and the tags of its model.m."""

    folder: Path
    component_tags: tuple[str, ...]
    test_tags: tuple[str, ...]
    test_type: str

    @classmethod
    def read(cls, folder: Path) -> Case:
        text = (folder / "model.m").read_text(errors="replace")

        def tags(key: str) -> tuple[str, ...]:
            found = re.search(rf"^{key}:\s*(.*)$", text, re.M)
            return tuple(tag.strip() for tag in found.group(1).split(",")
                         if tag.strip()) if found else ()

        kind = tags("testType")
        return cls(folder, tags("componentTags"), tags("testTags"), kind[0] if kind else "")

    @property
    def name(self) -> str:
        return self.folder.name


def time_course_cases() -> list[Case]:
    """Every TimeCourse case of the suite, in number order."""
    cases = (Case.read(folder) for folder in sorted(SUITE.iterdir()) if folder.is_dir())
    return [case for case in cases if case.test_type == "TimeCourse"]


def level3_model(case: Path) -> Path | None:
    """The case's Level 3 model (Version 2 first), or None: cases of features that only
    Level 2 has (StoichiometryMath) come without one."""
    return next((p for p in (case / "sbml-l3v2.xml", case / "sbml-l3v1.xml") if p.exists()),
                None)


def run_case(case: Path) -> tuple[str, str]:
    """(outcome, detail) of one case."""
    settings = Settings.read(case / "settings.txt")
    model = level3_model(case)
    if model is None:
        return NO_FILE, "the model uses features of SBML Level 2 only"
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
        return "refused", str(error).splitlines()[0]
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


def run_cases(cases: list[Case], *, echo: bool = True) -> dict[str, tuple[str, str]]:
    """Each case's (outcome, detail), printing one line per case when ``echo``."""
    outcomes = {}
    for case in cases:
        start = time.perf_counter()
        outcomes[case.name] = run_case(case.folder)
        kind, detail = outcomes[case.name]
        if echo:
            print(f"{case.name} {kind:10s} {time.perf_counter() - start:5.1f} s  {detail}",
                  flush=True)
    return outcomes


def by_tag(cases: list[Case], outcomes: dict[str, tuple[str, str]]) -> dict[str, Counter]:
    """Outcome counts per component tag (a case counts under each of its tags)."""
    table: dict[str, Counter] = defaultdict(Counter)
    for case in cases:
        for tag in case.component_tags or ("(none)",):
            table[tag][outcomes[case.name][0]] += 1
    return dict(sorted(table.items()))


def reason(detail: str) -> str:
    """A refusal's feature, without the file and element that name where it was met."""
    return re.sub(r"^.*?\.xml: ", "", detail).split(": ")[-1]


def support_page(cases: list[Case], outcomes: dict[str, tuple[str, str]], seconds: float,
                 command: str) -> str:
    """docs/sbml-support.md: totals, the table per component tag, refusals by feature, and
    every case that ran wrong, failed or crashed."""
    counts = Counter(kind for kind, _ in outcomes.values())
    runnable = len(outcomes) - counts[NO_FILE]
    lines = [
        "# SBML support: the SBML Test Suite's TimeCourse cases",
        "",
        f"Generated by `{command}` on {datetime.date.today().isoformat()} "
        f"({seconds / 60:.1f} minutes on this machine), against the SBML Test Suite 3.3.0 "
        "semantic cases (the yardstick SBML simulators report against; LGPL 2.1). A case "
        "passes when every variable it lists lies, at every output time, within its absolute "
        "+ relative tolerance of the expected result; each case runs as `cartsim sbml run` "
        "does (`kernel=\"auto\"`, rtol 1e-10, atol 1e-14, at most one output interval a step).",
        "",
        f"**{counts['pass']} of {runnable} cases pass ({100 * counts['pass'] / runnable:.1f} %)"
        f"**; {counts['refused']} are refused with a message naming the feature, "
        f"{counts['wrong']} run with a wrong result, {counts['failed']} stop in the solver, "
        f"{counts['crash']} crash. {counts[NO_FILE]} further TimeCourse cases use features of "
        "SBML Level 2 only and have no Level 3 file in the project's copy of the suite: they "
        "are left out of the count.",
        "",
        "## By component tag",
        "",
        "A case counts under each of its tags.",
        "",
        "| tag | cases | " + " | ".join(OUTCOMES) + " | pass % |",
        "|---|---|" + "---|" * len(OUTCOMES) + "---|",
    ]
    for tag, tally in by_tag(cases, outcomes).items():
        total = sum(tally[k] for k in OUTCOMES)
        if total:
            lines.append(f"| {tag} | {total} | " + " | ".join(str(tally[k]) for k in OUTCOMES)
                         + f" | {100 * tally['pass'] / total:.0f} |")
    refusals = Counter(reason(detail) for kind, detail in outcomes.values() if kind == "refused")
    lines += ["", "## Refused, by feature", "", "| feature | cases |", "|---|---|"]
    lines += [f"| {feature} | {n} |" for feature, n in refusals.most_common()]
    others = [(name, kind, detail) for name, (kind, detail) in sorted(outcomes.items())
              if kind in ("wrong", "failed", "crash")]
    lines += ["", "## Wrong, failed or crashed", ""]
    lines += [f"- {name} ({kind}): {detail}" for name, kind, detail in others] or ["None."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, help="a random sample of this many cases")
    parser.add_argument("--seed", type=int, default=1, help="of the sample (default 1)")
    parser.add_argument("--cases", help="comma-separated case numbers")
    args = parser.parse_args()
    every = time_course_cases()
    if args.cases:
        wanted = {c.strip() for c in args.cases.split(",")}
        cases = [case for case in every if case.name in wanted]
    elif args.sample:
        cases = sorted(random.Random(args.seed).sample(every, min(args.sample, len(every))),
                       key=lambda case: case.name)
    else:
        cases = every
    start = time.perf_counter()
    outcomes = run_cases(cases)
    seconds = time.perf_counter() - start
    tally = Counter(kind for kind, _ in outcomes.values())
    for tag, counts in by_tag(cases, outcomes).items():
        print(f"{tag:28s} " + " ".join(f"{k} {counts[k]:4d}" for k in (*OUTCOMES, NO_FILE)))
    if cases is every:
        DOCS.write_text(support_page(cases, outcomes, seconds,
                                     "python tools/sbml_test_suite.py"))
        print(f"wrote {DOCS}", file=sys.stderr)
    print(json.dumps({"cases": len(cases), "seconds": round(seconds, 1), **tally}))


if __name__ == "__main__":
    main()
