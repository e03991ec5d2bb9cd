"""A calibration as a file: fitted parameter values, each with its scope, and the provenance
of the fit (the data it used, the library, the seed, the objective), read back by the
scenarios that use it.

A value's scope is ``shared`` (every scenario), ``product:NAME`` or ``disease:NAME`` (the
scenarios of that product or disease preset): parameters are structured as product and
disease effects, never as one trial's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from cartsim.errors import CartsimError

FORMAT = 1
SHARED = "shared"


def in_scope(scope: str, protocol: dict) -> bool:
    """Whether ``protocol``'s patients are in ``scope``: shared, product:NAME or
    disease:NAME."""
    kind, _, name = scope.partition(":")
    return (scope == SHARED or (kind == "product" and name == protocol["product"])
            or (kind == "disease" and name == protocol["disease"]))


@dataclass(frozen=True)
class ScopedValue:
    """A fitted value of model parameter ``parameter`` for the scenarios in ``scope``."""

    parameter: str
    scope: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class CalibrationFile:
    """The fitted values and how they were obtained."""

    values: tuple[ScopedValue, ...]
    provenance: dict = field(default_factory=dict)
    format: int = FORMAT

    def overrides(self, protocol: dict) -> dict[str, float]:
        """The model parameter values this calibration gives ``protocol``'s patients (a
        product or disease value wins over a shared one)."""
        chosen: dict[str, float] = {}
        for value in sorted(self.values, key=lambda v: v.scope != SHARED):
            if in_scope(value.scope, protocol):
                chosen[value.parameter] = value.value
        return chosen

    def applied(self, protocol: dict) -> dict:
        """``protocol`` with this calibration's values for its patients (the scenario's own
        parameter overrides still win)."""
        from cartsim.journey import protocol_from_mapping

        patient = protocol["patient"]
        parameters = {**self.overrides(protocol), **patient["parameters"]}
        return protocol_from_mapping({**protocol, "patient": {**patient,
                                                              "parameters": parameters}})

    def save(self, path: str | Path) -> None:
        data = {"format": self.format, "values": [asdict(v) for v in self.values],
                "provenance": self.provenance}
        Path(path).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def load_calibration(path: str | Path) -> CalibrationFile:
    """Read a calibration file, or a clear error naming it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, this cartsim reads {FORMAT}")
        values = tuple(ScopedValue(**v) for v in data["values"])
    except (OSError, yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise CartsimError(f"not a cartsim calibration file: {error}", file=str(path)) from None
    return CalibrationFile(values, data.get("provenance", {}))
