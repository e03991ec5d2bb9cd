"""cartsim: CAR T-cell therapy simulator with a compiled population ODE engine."""

from cartsim.model import (
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

__version__ = "0.1.0"

__all__ = [
    "Action",
    "Assignment",
    "EventValue",
    "Model",
    "Observable",
    "Parameter",
    "State",
    "StateEvent",
    "TimeEvent",
    "__version__",
    "add_to",
    "compose",
    "set_value",
]
