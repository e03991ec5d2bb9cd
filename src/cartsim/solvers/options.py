"""Validated solver settings and output grids."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cartsim.errors import SolverOptionsError

METHODS = {"auto": 0, "dopri5": 1, "rosenbrock": 2}


@dataclass(frozen=True)
class SolverOptions:
    """How to integrate each patient.

    ``rtol`` is relative; ``atol`` absolute, either one number or one per state (name → value
    mapping or array) in the state's unit; states declaring their own ``atol`` keep it unless
    overridden here by name. ``method``: "auto" (DOPRI5, switching to Rosenbrock where the
    problem turns stiff and back), "dopri5" or "rosenbrock". ``max_steps`` caps the attempted
    steps per patient; ``first_step`` (0 = automatic) and ``max_step`` bound the step size.
    """

    rtol: float = 1e-6
    atol: float | dict | np.ndarray = 1e-9
    method: str = "auto"
    max_steps: int = 200_000
    first_step: float = 0.0
    max_step: float = math.inf

    def __post_init__(self):
        if not (np.isfinite(self.rtol) and self.rtol > 0):
            raise SolverOptionsError(f"rtol must be a positive number, got {self.rtol}")
        if self.rtol < 1e-14:
            raise SolverOptionsError(f"rtol {self.rtol} is below what float64 can deliver")
        if self.method not in METHODS:
            raise SolverOptionsError(
                f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}"
            )
        if not (isinstance(self.max_steps, int | np.integer) and self.max_steps > 0):
            raise SolverOptionsError(f"max_steps must be a positive integer, got {self.max_steps}")
        if not (self.first_step >= 0 and np.isfinite(self.first_step)):
            raise SolverOptionsError(f"first_step must be >= 0, got {self.first_step}")
        if not self.max_step > 0:
            raise SolverOptionsError(f"max_step must be > 0, got {self.max_step}")

    @property
    def method_code(self) -> int:
        return METHODS[self.method]

    def atol_vector(self, states) -> np.ndarray:
        """Per-state absolute tolerances (state-declared values, then overrides)."""
        names = [s.name for s in states]
        if isinstance(self.atol, dict):
            unknown = set(self.atol) - set(names)
            if unknown:
                raise SolverOptionsError(f"atol given for unknown state(s) {sorted(unknown)}")
            default = 1e-9
            values = [self.atol.get(s.name, s.atol if s.atol is not None else default)
                      for s in states]
        elif np.ndim(self.atol) == 0:
            values = [s.atol if s.atol is not None else float(self.atol) for s in states]
        else:
            values = np.asarray(self.atol, dtype=float)
            if values.shape != (len(states),):
                raise SolverOptionsError(
                    f"atol array has shape {values.shape}, expected ({len(states)},)"
                )
        vector = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(vector)) or np.any(vector <= 0):
            raise SolverOptionsError(f"atol must be positive and finite, got {vector.tolist()}")
        return vector


def time_grid(t_eval) -> np.ndarray:
    """Validate output times: at least two, finite, strictly increasing."""
    grid = np.asarray(t_eval, dtype=float).ravel()
    if grid.size == 0:
        raise SolverOptionsError("the output time grid is empty")
    if grid.size < 2:
        raise SolverOptionsError("the output time grid needs at least a start and an end time")
    if not np.all(np.isfinite(grid)):
        raise SolverOptionsError("the output time grid contains non-finite values")
    if np.any(np.diff(grid) <= 0):
        raise SolverOptionsError("output times must be strictly increasing")
    return np.ascontiguousarray(grid)
