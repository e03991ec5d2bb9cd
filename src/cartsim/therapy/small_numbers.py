"""Hybrid deterministic / stochastic populations: the last few cells live or die by chance.

A population followed by this module switches to a stochastic birth-death description when it
falls below ``n_stochastic`` cells (Kimmel 2021: 100 tumour cells) and back once it exceeds twice
that. In stochastic mode its deterministic drift is switched off and, every ``dt_leap`` days, a
tau-leap of the binary branching process replaces it: each of the ``n`` cells dies with
probability ``1 - exp(-d*dt)`` and divides with probability ``1 - exp(-b*dt)`` (independent
binomial counts), and ``Poisson(inflow*dt)`` cells arrive from other populations (mutation).
The step is exact to first order in ``rate*dt``; extinction becomes a per-patient random event
drawn from the engine's counter-based streams, so cure versus relapse is a probability that is
reproducible in any parallel layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartsim.model import Action, Assignment, Model, State, StateEvent, set_value
from cartsim.therapy.common import par

SMALL_NUMBER_PARAMETERS = (
    par("one_cell", 1e-9, "Gcell", "definition: one cell in Gcell", "a single cell"),
    par("n_stochastic", 100.0, "", "kimmel2021: Table 1 stoch_threshold (100 cells)",
        "population size below which a population is simulated stochastically"),
    par("dt_leap", 0.25, "day", "chosen: rates up to ~1/day give per-leap probabilities "
        "below 0.25, where the first-order leap is accurate to a few per cent",
        "time between stochastic leaps"),
)


@dataclass(frozen=True)
class StochasticPopulation:
    """A state (in Gcell) with its per-cell birth and death rates and cell inflow (Gcell/day)."""

    state: str
    birth: str
    death: str
    inflow: str = "0"

    @property
    def flag(self) -> str:
        return f"stoch_{self.state}"

    def drift_factor(self) -> str:
        """Multiplies the population's deterministic equation: 0 in stochastic mode."""
        return f"(1 - {self.flag})"

    def leap_actions(self) -> tuple[Action, ...]:
        """At a leap: draw the new size if stochastic, and leave stochastic mode if large."""
        cells = f"floor({self.state}/one_cell + 0.5)"
        births = f"rand_binomial({cells}, 1 - exp(-({self.birth})*dt_leap))"
        deaths = f"rand_binomial({cells}, 1 - exp(-({self.death})*dt_leap))"
        arrivals = f"rand_poisson(({self.inflow})*dt_leap/one_cell)"
        drawn = f"({cells} + {births} - {deaths} + {arrivals})*one_cell"
        large = f"{self.state} > 2*n_stochastic*one_cell"
        small = f"{self.state} <= 2*n_stochastic*one_cell"
        return (set_value(self.state, f"ifelse(({self.flag} > 0.5) & ({small}), {drawn}, "
                                      f"{self.state})"),
                set_value(self.flag, f"ifelse({large}, 0, {self.flag})"))


def small_numbers_model(populations: tuple[StochasticPopulation, ...]) -> Model:
    """Flags, the leap clock and the events that switch modes and perform the leaps."""
    states = [State(p.flag, "", f"ifelse({p.state} < n_stochastic*one_cell, 1, 0)",
                    f"1 while {p.state} is simulated stochastically", nonnegative=False)
              for p in populations]
    active = " + ".join(f"{p.flag}*({p.state} + ({p.inflow})*dt_leap)" for p in populations)
    states.append(State("leap_clock", "day", 0.0, "time since the last stochastic leap"))
    events = [StateEvent(f"enter_stochastic_{p.state}",
                         f"{p.state} < n_stochastic*one_cell", (set_value(p.flag, 1),))
              for p in populations]
    leap = tuple(a for p in populations for a in p.leap_actions())
    events.append(StateEvent("stochastic_leap", "leap_clock > dt_leap",
                             (set_value("leap_clock", 0), *leap)))
    return Model(
        "small_numbers",
        states=states,
        parameters=SMALL_NUMBER_PARAMETERS,
        assignments=[Assignment("stochastic_activity", active, "Gcell",
                                "cells (or arrivals) in stochastic populations")],
        equations={"leap_clock": "ifelse(stochastic_activity > 0, 1, 0)",
                   **{p.flag: "0" for p in populations}},
        events=events,
        description=__doc__.splitlines()[0],
    )
