"""The CAR-T therapy model of one patient, composed from one submodel per biological idea.

``therapy_model()`` returns the full model; presets (:mod:`cartsim.presets`) set its parameters
for a product and a disease. Time is in days from the first infusion.
"""

from __future__ import annotations

import functools

from cartsim.model import Model, compose
from cartsim.therapy.car_t import car_t_model, stochastic_car_t
from cartsim.therapy.cytokines import cytokines_model
from cartsim.therapy.drugs import drugs_model
from cartsim.therapy.haematopoiesis import haematopoiesis_model
from cartsim.therapy.measurements import measurements_model
from cartsim.therapy.normal_cells import normal_cells_model
from cartsim.therapy.physiology import physiology_model
from cartsim.therapy.small_numbers import deterministic_model, small_numbers_model
from cartsim.therapy.targets import targets_model
from cartsim.therapy.tumour import stochastic_clones, tumour_model

SUBMODELS = (car_t_model, targets_model, tumour_model, normal_cells_model, cytokines_model,
             physiology_model, haematopoiesis_model, drugs_model, measurements_model)


def therapy_parts(*, stochastic: bool = True) -> list[Model]:
    """The submodels, in order: CAR-T cells, targets, tumour, normal cells, cytokines,
    physiology, blood counts, drugs, measurements and the stochastic treatment of the last
    tumour and CAR-T cells (``stochastic=False``: every population deterministic)."""
    parts = [make() for make in SUBMODELS]
    populations = stochastic_clones() + stochastic_car_t()
    parts.append(small_numbers_model(populations) if stochastic
                 else deterministic_model(populations))
    return parts


@functools.cache
def therapy_model(*, stochastic: bool = True) -> Model:
    """The whole patient: every submodel of :func:`therapy_parts` composed (built once per
    process: a model is immutable, and every patient's parameters start from it).
    ``stochastic=False`` gives the deterministic model, for export to SBML."""
    name = "cartsim_therapy" if stochastic else "cartsim_therapy_deterministic"
    return compose(*therapy_parts(stochastic=stochastic), name=name,
                   description=__doc__.splitlines()[0])


@functools.cache
def _parameter_units() -> dict[str, str]:
    return {p.name: p.unit or "1" for p in therapy_model().parameters}


def parameter_unit(name: str) -> str:
    """The unit of the therapy model's parameter ``name`` ("1": dimensionless), as written
    beside the sampled parameters in a cohort's or trial's tables."""
    return _parameter_units()[name]


__all__ = ["therapy_model", "therapy_parts", "parameter_unit", "SUBMODELS"]
