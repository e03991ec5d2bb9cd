"""Exceptions with enough context (file, element, problem) for a user to fix their input."""

from __future__ import annotations


class CartsimError(Exception):
    """Base class: a problem with the user's input, reported clearly (CLI exit code 2)."""

    def __init__(self, problem: str, *, file: str | None = None, element: str | None = None):
        self.problem = problem
        self.file = file
        self.element = element
        super().__init__(self._render())

    def __reduce__(self):
        # errors cross process boundaries (cohort workers); subclasses have other __init__
        # signatures, so rebuild from the state instead of calling __init__ again
        return (_restore, (type(self), self.args, self.__dict__))

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.element:
            where.append(self.element)
        prefix = ": ".join(where)
        return f"{prefix}: {self.problem}" if prefix else self.problem


def did_you_mean(name: str, known) -> str:
    """" (did you mean 'x'?)" for the closest of ``known`` to a misspelt ``name``, or ""."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class ModelError(CartsimError):
    """A model description is inconsistent: clashing names, unknown symbols, cycles."""


class UnitError(ModelError):
    """An equation, observable or composition mixes incompatible units."""


class SolverOptionsError(CartsimError):
    """Invalid solver settings: negative tolerance, empty time grid, bad parameter arrays."""


class SimulationError(CartsimError):
    """A simulation that did not finish (solver status not ok) where its results are needed."""


class SBMLError(CartsimError):
    """Malformed SBML, or SBML using a feature cartsim does not support."""


def _restore(cls: type, args: tuple, state: dict) -> CartsimError:
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error
