"""tools/sbml_test_suite.py, the yardstick of SBML support, on the SBML Test Suite's cases
(../shared/sbml-test-suite/, read in place)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "sbml_test_suite.py"
SUITE = Path(__file__).resolve().parents[2] / "shared" / "sbml-test-suite" / "semantic"

pytestmark = pytest.mark.skipif(not SUITE.exists(), reason="../shared/sbml-test-suite absent")


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("sbml_test_suite", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", [
    "01064",  # a stoichiometry set by a rule (a species reference's id as a variable)
    "01554",  # ... and an initial assignment without math (no effect in L3V2)
    "01390",  # comp: replaced elements, flattened
    "00174",  # parameters and rules alone, no state
    "00568",  # an algebraic rule, solved for the species it determines
    "00405",  # an event with a delay
    "01198",  # a rate rule for a concentration in a compartment growing by its rate rule
    "00953",  # non-persistent events disabling each other at the same instant
    "00960",  # avogadro at the value SBML Level 3 gives it
    "00952",  # events of equal priority at the same instant, in random order
    "01588",  # ... and a trigger its own event resets to equality (false at zero)
])
def test_cases_of_features_added_pass_by_the_suites_rule(tool, case):
    """Cases that were refused, wrong or crashed before: each passes the suite's own
    tolerance rule."""
    assert tool.run_case(SUITE / case) == ("pass", "")


def test_a_sample_across_the_component_tags_runs_or_is_refused_by_name(tool):
    """The first two cases (by number, with a Level 3 file) of every component tag: none
    runs wrong, fails or crashes; a refusal names the feature."""
    cases = [c for c in tool.time_course_cases() if tool.level3_model(c.folder)]
    tags = sorted({tag for case in cases for tag in case.component_tags})
    sample = {case.name: case for tag in tags
              for case in [c for c in cases if tag in c.component_tags][:2]}
    assert len(tags) >= 20 and len(sample) >= 30
    outcomes = tool.run_cases(list(sample.values()), echo=False)
    assert {name: result for name, result in outcomes.items()
            if result[0] not in ("pass", "refused")} == {}
    assert all(tool.reason(detail) for kind, detail in outcomes.values() if kind == "refused")
    assert Counter(kind for kind, _ in outcomes.values())["pass"] >= 0.8 * len(sample)


@pytest.mark.slow
def test_every_time_course_case(tool):
    """All of them (about 3 minutes): nothing crashes or stops in the solver, at least 90 %
    of the runnable cases pass (docs/sbml-support.md has the table)."""
    cases = tool.time_course_cases()
    outcomes = tool.run_cases(cases, echo=False)
    counts = Counter(kind for kind, _ in outcomes.values())
    assert counts["crash"] == 0 and counts["failed"] == 0
    assert counts["pass"] >= 0.9 * (len(cases) - counts[tool.NO_FILE])
