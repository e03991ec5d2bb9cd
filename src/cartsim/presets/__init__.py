"""Parameter presets: products, diseases and published model configurations, with sources."""

from __future__ import annotations

from cartsim.presets.base import Preset, PresetError, apply_presets, lookup, preset_values
from cartsim.presets.diseases import DISEASES, DiseaseFacts, disease_facts
from cartsim.presets.products import PRODUCTS


def product(name: str) -> Preset:
    return lookup(name, PRODUCTS, "product")


def disease(name: str) -> Preset:
    return lookup(name, DISEASES, "disease")


__all__ = ["Preset", "PresetError", "apply_presets", "preset_values", "product", "disease",
           "disease_facts", "DiseaseFacts", "PRODUCTS", "DISEASES"]
