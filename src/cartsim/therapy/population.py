"""Virtual populations: many patients around a preset's typical patient, solved as one ensemble.

Patient i's deviations come from the counter-based stream (seed, i, "population"), so a patient
is the same whatever the population size, chunking or thread count, and two populations with the
same seed share their patients (common random numbers for comparing policies or products).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cartsim.presets import PresetError, disease, product
from cartsim.presets.variability import Variation, variability
from cartsim.rng.philox import normal_draws
from cartsim.therapy.kinetics import (
    KineticSummary,
    engrafted_and_total,
    fold_expansion,
    kinetic_summary,
)
from cartsim.therapy.simulate import compiled_therapy_model, default_grid, preset_parameters

POPULATION_PURPOSE = "population"


def sample_population(values: dict[str, float], variations: tuple[Variation, ...], n: int, *,
                      seed: int = 0, first_patient: int = 0) -> dict[str, np.ndarray]:
    """Per-patient parameter arrays: ``values`` with each variation applied to every patient."""
    if n < 0:
        raise PresetError(f"population size must be >= 0, got {n}")
    unknown = sorted({v.parameter for v in variations} - set(values))
    if unknown:
        raise PresetError(f"variability of unknown parameter(s) {unknown}")
    streams = np.arange(first_patient, first_patient + n, dtype=np.int64)
    z = normal_draws(seed, streams, POPULATION_PURPOSE, max(len(variations), 1))
    table = {name: np.full(n, value, dtype=float) for name, value in values.items()}
    for j, v in enumerate(variations):
        typical = values[v.parameter]
        if v.scale == "log":
            table[v.parameter] = typical * np.exp(v.omega * z[:, j])
        else:
            if not 0.0 < typical < 1.0:
                raise PresetError(f"'{v.parameter}' varies on the logit scale but its typical "
                                  f"value {typical} is not between 0 and 1")
            logit = np.log(typical / (1.0 - typical)) + v.omega * z[:, j]
            table[v.parameter] = 1.0 / (1.0 + np.exp(-logit))
    return table


def log_spread(values) -> float:
    """Spread of log(values) as interquartile range / 1.349, the SD of a log-normal sample,
    robust to the few patients whose CAR-T cells never expand (peak at infusion)."""
    q25, q75 = np.percentile(np.log(np.asarray(values, dtype=float)), [25, 75])
    return float((q75 - q25) / 1.349)


@dataclass(frozen=True)
class PopulationRun:
    """Trajectories of a virtual population: ``observables[name]`` and ``states[name]`` are
    (patients, times) arrays; ``parameters[name]`` the per-patient values used."""

    time: np.ndarray
    observables: dict[str, np.ndarray]
    states: dict[str, np.ndarray]
    parameters: dict[str, np.ndarray]
    ok: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.observables:
            return self.observables[name]
        return self.states[name]

    @property
    def n_patients(self) -> int:
        return self.ok.shape[0]

    def kinetics(self, name: str = "cart_copies_per_ug") -> list[KineticSummary]:
        """Stein-style kinetic summary of each patient's blood CAR-T level."""
        return [kinetic_summary(self.time, level) for level in self[name]]

    def fold_expansions(self) -> np.ndarray:
        """Each patient's peak CAR-T number over the engrafted number at infusion."""
        engrafted, total = engrafted_and_total(self.states)
        return np.array([fold_expansion(self.time, t, e)
                         for t, e in zip(total, engrafted, strict=True)])

    def kinetic_spreads(self) -> dict[str, float]:
        """Between-patient spreads (:func:`log_spread`) of the statistics Stein 2019 gives
        omegas for: Cmax, Tmax, fold expansion, and (for runs to day 365) alpha, beta and the
        slow fraction F_B. Each counts the patients where it exists: Tmax those who expand
        (one whose cells never expand peaks at infusion, Tmax 0, which has no logarithm), the
        rates and F_B those whose cells are still there to measure."""
        ck = self.kinetics()
        spreads = {"cmax": log_spread([k.cmax for k in ck]),
                   "tmax": log_spread([k.tmax for k in ck if k.tmax > 0]),
                   "fold": log_spread(self.fold_expansions())}
        for name in ("alpha", "beta", "slow_fraction"):
            values = np.array([getattr(k, name) for k in ck])
            measured = values[np.isfinite(values) & (values > 0)]
            if measured.size:
                spreads[name] = log_spread(measured)
        return spreads


def simulate_population(product_name: str, disease_name: str, n: int, *, t_end: float = 365.0,
                        seed: int = 0, points_per_day: int = 1,
                        variations: tuple[Variation, ...] | None = None,
                        **overrides: float) -> PopulationRun:
    """``n`` virtual patients of ``disease_name`` treated with ``product_name``; by default
    with the presets' variability (:func:`cartsim.presets.variability.variability`)."""
    values = preset_parameters(disease(disease_name), product(product_name), **overrides)
    if variations is None:
        variations = variability(product_name, disease_name)
    table = sample_population(values, variations, n, seed=seed)
    grid = default_grid(values, t_end, points_per_day)
    compiled = compiled_therapy_model()
    result = compiled.solve(grid, table, seed=seed, max_logged_events=0)
    return PopulationRun(
        time=grid,
        observables={name: result.observable(name) for name in compiled.observable_names},
        states={name: result.state(name) for name in compiled.state_names},
        parameters=table,
        ok=result.ok,
    )
