"""docs/scenarios.md: every key of a scenario and of a trial spec, written from their schemas
(``cartsim scenario-docs``), so the reference cannot drift from what the files accept."""

from __future__ import annotations

from cartsim.journey.policy import POLICIES, POLICY_KEYS
from cartsim.journey.protocol import SCHEMA as SCENARIO_SCHEMA
from cartsim.journey.scenarios import builtin_scenarios
from cartsim.journey.schema import ReferenceRow, reference_rows
from cartsim.trial.spec import SCHEMA as SPEC_SCHEMA

HEADER = """# Scenario and trial spec reference

Written by `cartsim scenario-docs` from the schemas the files are checked against
(`journey/protocol.py`, `trial/spec.py`); do not edit by hand. Every key has a default: a file
gives only what it changes. An unknown key or an impossible value is an error naming the file,
the key and the problem (all of a file's mistakes at once); `cartsim journey --schema` and
`cartsim trial --schema` print the same as JSON Schema for editors.
"""


def _table(rows: list[ReferenceRow]) -> list[str]:
    lines = ["| key | accepts | default | meaning |", "|---|---|---|---|"]
    for row in rows:
        cells = (f"`{row.path}`", row.accepts, f"`{row.default}`", row.note)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return lines


def scenarios_markdown() -> str:
    """The reference page."""
    lines = [HEADER, "## Scenario keys", "",
             "A scenario (YAML) is one patient population, product and protocol: "
             "`cartsim journey` runs one patient, `cartsim cohort` and `cartsim trial` many.",
             "", *_table(reference_rows(SCENARIO_SCHEMA)), "",
             "## Trial spec keys", "",
             "A trial spec (YAML, `examples/trial-*.yaml`) randomises patients between arms, "
             "each a scenario with overrides of the keys above.", "",
             *_table(reference_rows(SPEC_SCHEMA)), "", "## Policies", "",
             "`policy` names a built-in management policy, or is a mapping that replaces parts "
             "of one (keys: " + ", ".join(f"`{key}`" for key in POLICY_KEYS) + "), for example "
             "`{based_on: standard, tocilizumab: {from_crs_grade: 3, max_total: 2}}`.", "",
             *(f"- `{name}`: {policy.description}" for name, policy in POLICIES.items()), "",
             "## Built-in scenarios", "",
             "A built-in scenario is named by its file name (`cartsim trial NAME`).", ""]
    lines += [f"- `{name}`: {title}" for name, title in builtin_scenarios().items()]
    return "\n".join(lines) + "\n"
