"""Named parameter sets: a product, a disease, or a published model's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cartsim.errors import CartsimError
from cartsim.model import Model


class PresetError(CartsimError):
    """An unknown preset name or a preset that sets a parameter the model lacks."""


@dataclass(frozen=True)
class Preset:
    """Parameter values with their sources: ``values[name] = (value, source)``.

    ``dose_per_kg`` and ``dose_max`` (cells) make the dose follow body weight, as labels state
    doses (``dose_cells = min(dose_per_kg * weight_kg, dose_max)``).
    """

    name: str
    kind: str
    description: str
    values: dict[str, tuple[float, str]] = field(default_factory=dict)
    dose_per_kg: tuple[float, str] | None = None
    dose_max: float | None = None

    def merged(self, *others: Preset) -> Preset:
        """This preset with ``others`` laid over it (later ones win)."""
        values = dict(self.values)
        for other in others:
            values.update(other.values)
        return replace(self, values=values)


def apply_presets(model: Model, *presets: Preset) -> Model:
    """The model with each preset's values and sources as parameter defaults (later presets
    win), then the weight-based dose of any product preset."""
    values = preset_values(model, *presets)
    params = tuple(replace(p, default=float(values[p.name][0]), source=values[p.name][1],
                           bounds=None) if p.name in values else p for p in model.parameters)
    return replace(model, parameters=params)


def preset_values(model: Model, *presets: Preset) -> dict[str, tuple[float, str]]:
    """The (value, source) that ``presets`` give their parameters of ``model`` (later presets
    win), with the weight-based dose of the last product preset that has one."""
    values: dict[str, tuple[float, str]] = {}
    dose_rule = None
    known = set(model.parameter_names)
    for preset in presets:
        unknown = sorted(set(preset.values) - known)
        if unknown:
            raise PresetError(f"preset '{preset.name}' sets unknown parameter(s) {unknown}")
        values.update(preset.values)
        if preset.dose_per_kg is not None:
            dose_rule = preset
    if dose_rule is not None:
        weight = values.get("weight_kg", (model.parameter("weight_kg").default, ""))[0]
        per_kg, source = dose_rule.dose_per_kg
        dose = per_kg * weight if dose_rule.dose_max is None else min(per_kg * weight,
                                                                       dose_rule.dose_max)
        values["dose_cells"] = (dose, f"{source} ({per_kg:g} cells/kg x {weight:g} kg"
                                      + (f", max {dose_rule.dose_max:g})" if dose_rule.dose_max
                                         else ")"))
    return values


def lookup(name: str, registry: dict[str, Preset], kind: str) -> Preset:
    """The preset called ``name`` (case-insensitive), or an error listing the choices."""
    key = name.strip().lower()
    if key not in registry:
        raise PresetError(f"unknown {kind} '{name}'; choose one of {', '.join(registry)}")
    return registry[key]
