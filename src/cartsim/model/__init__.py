"""Declarative model description: what a model is, independent of how it is solved."""

from cartsim.model.description import (
    Action,
    Assignment,
    EventValue,
    Model,
    Observable,
    Parameter,
    State,
    StateEvent,
    TimeEvent,
    add_to,
    compose,
    set_value,
)
from cartsim.model.resolved import ResolvedModel

__all__ = [
    "Action",
    "Assignment",
    "EventValue",
    "Model",
    "Observable",
    "Parameter",
    "ResolvedModel",
    "State",
    "StateEvent",
    "TimeEvent",
    "add_to",
    "compose",
    "set_value",
]
