"""Simulate virtual patients of the therapy model under product and disease presets.

The therapy model is compiled once (presets only change parameter values, which the engine
takes per patient), so switching product, disease or dose costs no compilation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from cartsim.engine import CompiledModel, compile_model
from cartsim.model import Model
from cartsim.presets import Preset, apply_presets, disease, preset_values, product
from cartsim.therapy import therapy_model
from cartsim.therapy.car_t import CAR_T_STATE_NAMES


@functools.cache
def compiled_therapy_model() -> CompiledModel:
    """The compiled therapy model (generated code and machine code are cached on disk)."""
    return compile_model(therapy_model())


def preset_model(*presets: Preset) -> Model:
    """The therapy model with presets applied (for docs and citations; not recompiled)."""
    return apply_presets(therapy_model(), *presets)


@functools.cache
def _defaults() -> dict[str, float]:
    return {p.name: p.default for p in therapy_model().parameters}


def preset_parameters(*presets: Preset, **overrides: float) -> dict[str, float]:
    """Parameter values after presets and explicit overrides, for the compiled model. An
    overridden ``weight_kg`` also rescales a product's weight-based dose (unless ``dose_cells``
    is overridden too), as a label's cells/kg dose follows the patient."""
    if "weight_kg" in overrides and "dose_cells" not in overrides:
        presets = (*presets, Preset("weight", "patient", "the patient's weight",
                                    {"weight_kg": (float(overrides["weight_kg"]), "override")}))
    values = dict(_defaults())
    values.update({name: float(value) for name, (value, _) in
                   preset_values(therapy_model(), *presets).items()})
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        from cartsim.errors import did_you_mean
        from cartsim.presets import PresetError

        raise PresetError("unknown parameter(s) " + ", ".join(
            f"'{name}'{did_you_mean(name, values)}" for name in unknown))
    values.update({k: float(v) for k, v in overrides.items()})
    return values


@dataclass(frozen=True)
class Targeting:
    """The antigens a product's CAR binds and those the disease's antigen-positive tumour
    cells carry (density above zero)."""

    bound: tuple[str, ...]
    carried: tuple[str, ...]

    @property
    def targeted(self) -> tuple[str, ...]:
        return tuple(a for a in self.bound if a in self.carried)


def targeting(values: dict[str, float]) -> Targeting:
    """What the CAR of a patient with parameter ``values`` can see on the tumour."""
    antigens = [name.removeprefix("binds_") for name in values if name.startswith("binds_")]
    return Targeting(tuple(a for a in antigens if values[f"binds_{a}"] > 0),
                     tuple(a for a in antigens if values[f"dens_{a}_Tp"] > 0))


@functools.cache
def _column_of(observable_names: tuple[str, ...],
               state_names: tuple[str, ...]) -> dict[str, tuple[bool, int]]:
    """Where each name's column is: (in the observables, index); one map per set of names."""
    return {**{n: (False, k) for k, n in enumerate(state_names)},
            **{n: (True, k) for k, n in enumerate(observable_names)}}


@dataclass(frozen=True)
class PatientRun:
    """One patient's trajectory: ``time`` (days from infusion) and its observables and states,
    one column per name of two matrices (time x name), so a journey slices and splices a run
    with two array operations; plus the solver's status and the event log."""

    time: np.ndarray
    observable_names: tuple[str, ...]
    observable_values: np.ndarray
    state_names: tuple[str, ...]
    state_values: np.ndarray
    status: str
    events: list[tuple[float, str]]

    @classmethod
    def from_columns(cls, time: np.ndarray, observables: dict[str, np.ndarray],
                     states: dict[str, np.ndarray], status: str = "ok",
                     events: list[tuple[float, str]] | None = None) -> PatientRun:
        """A run from one array per observable and per state."""
        def matrix(columns: dict[str, np.ndarray]) -> np.ndarray:
            if not columns:
                return np.zeros((len(time), 0))
            return np.column_stack(list(columns.values()))

        return cls(np.asarray(time), tuple(observables), matrix(observables), tuple(states),
                   matrix(states), status, list(events or []))

    @classmethod
    def from_result(cls, result, row: int, points: np.ndarray | None = None) -> PatientRun:
        """Patient ``row`` of an ensemble result, at the output times of index ``points``
        (default: all)."""
        part = slice(None) if points is None else points
        if points is not None and points.size and points[-1] - points[0] + 1 == points.size:
            part = slice(int(points[0]), int(points[-1]) + 1)  # a view, not a copy
        return cls(result.t[part], tuple(result.observable_names),
                   result.observables[row, part, :], tuple(result.state_names),
                   result.states[row, part, :], result.message(row), list(result.events(row)))


    @property
    def observables(self) -> dict[str, np.ndarray]:
        return {n: self.observable_values[:, k] for k, n in enumerate(self.observable_names)}

    @property
    def states(self) -> dict[str, np.ndarray]:
        return {n: self.state_values[:, k] for k, n in enumerate(self.state_names)}

    def __getitem__(self, name: str) -> np.ndarray:
        """An observable's or state's column (an observable wins a shared name)."""
        is_observable, k = _column_of(self.observable_names, self.state_names)[name]
        return (self.observable_values if is_observable else self.state_values)[:, k]

    def index(self, day: float) -> int:
        """The output time nearest ``day``."""
        return int(np.abs(self.time - day).argmin())

    def at(self, name: str, day: float) -> float:
        """An observable or state at the output time nearest ``day``."""
        return float(self[name][self.index(day)])

    def state_vector(self, day: float) -> np.ndarray:
        """All states at the output time nearest ``day``, in model order (to continue from)."""
        return self.state_values[self.index(day)].copy()

    def extinction_day(self, names, after: float = 0.0) -> float | None:
        """First output day from ``after`` on when the states or observables ``names`` are
        all exactly zero (the stochastic last cells died out), or None."""
        gone = np.all([self[name] == 0.0 for name in names], axis=0) & (self.time >= after)
        return float(self.time[gone.argmax()]) if gone.any() else None

    def extinction_days(self, after: float = 0.0) -> dict[str, float | None]:
        """When the last tumour cell and the last CAR-T cell died (None: not within the run):
        the per-patient cure and CAR-T loss times of the stochastic small-number model."""
        return {"tumour_extinct_day": self.extinction_day(("tumour_cells",), after),
                "car_t_extinct_day": self.extinction_day(CAR_T_STATE_NAMES, after)}

    def until(self, day: float) -> PatientRun:
        """The trajectory and event log up to ``day``."""
        keep = self.time <= day + 1e-9
        return PatientRun(self.time[keep], self.observable_names, self.observable_values[keep],
                          self.state_names, self.state_values[keep], self.status,
                          [e for e in self.events if e[0] <= day])


def default_grid(values: dict[str, float], t_end: float, points_per_day: int = 1) -> np.ndarray:
    """From the day before lymphodepletion (or before infusion) to ``t_end``."""
    ld_given = values["flu_days"] + values["cy_days"] + values["benda_days"] > 0
    start = min(values["ld_start"] - 1.0, -1.0) if ld_given else min(-1.0, values["t_infusion"])
    start = float(np.floor(start))
    return np.linspace(start, t_end, int(round((t_end - start) * points_per_day)) + 1)


def simulate_values(values: dict[str, float], t_eval, *, seed: int = 0, rtol: float = 1e-6,
                    y0: np.ndarray | None = None) -> PatientRun:
    """Simulate one patient with the given parameter values at times ``t_eval``, from the
    model's initial state or from the state vector ``y0`` (a continuation)."""
    compiled = compiled_therapy_model()
    result = compiled.solve(t_eval, {k: np.array([v]) for k, v in values.items()}, seed=seed,
                            rtol=rtol, max_logged_events=4096,
                            y0=None if y0 is None else np.asarray(y0)[None, :])
    return PatientRun.from_result(result, 0)


def simulate_patient(product_name: str, disease_name: str, *, t_end: float = 365.0,
                     seed: int = 0, points_per_day: int = 1, **overrides: float) -> PatientRun:
    """One virtual patient of ``disease_name`` treated with ``product_name``."""
    values = preset_parameters(disease(disease_name), product(product_name), **overrides)
    return simulate_values(values, default_grid(values, t_end, points_per_day), seed=seed)
