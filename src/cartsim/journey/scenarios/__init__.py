"""Built-in journey scenarios (YAML), modelled on the training trials' protocols."""

from __future__ import annotations

from pathlib import Path

import yaml

FOLDER = Path(__file__).parent


def builtin_scenarios() -> dict[str, str]:
    """Name -> the scenario's ``name`` line."""
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))["name"]
            for path in sorted(FOLDER.glob("*.yaml"))}


def scenario_path(name_or_path: str) -> Path:
    """A built-in scenario by name, else the path as given."""
    builtin = FOLDER / f"{name_or_path}.yaml"
    return builtin if builtin.is_file() else Path(name_or_path)
