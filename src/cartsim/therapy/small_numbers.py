"""Hybrid deterministic / stochastic populations: the last few cells live or die by chance.

A population followed by this module switches to a stochastic birth-death description when it
falls below ``n_stochastic`` cells (Kimmel 2021: 100 tumour cells) and back once it exceeds twice
that. In stochastic mode its deterministic drift is switched off and, every ``dt_leap`` days, a
tau-leap of the binary branching process replaces it: each of the ``n`` cells dies or divides
(at most one event per leap, competing risks), and ``Poisson(inflow*dt)`` cells arrive from
other populations (mutation). The step is exact to first order in ``rate*dt`` (the test bounds
its error on extinction probabilities against the exact birth-death process); extinction
becomes a per-patient random event drawn from the engine's counter-based streams, so cure
versus relapse is a probability that is reproducible in any parallel layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from cartsim.model import Action, Assignment, Model, State, StateEvent, set_value
from cartsim.model.expressions import MATH_FUNCTIONS, RANDOM_DRAWS, parse
from cartsim.therapy.common import par

SMALL_NUMBER_PARAMETERS = (
    par("one_cell", 1e-9, "Gcell", "definition: one cell in Gcell", "a single cell"),
    par("n_stochastic", 100.0, "", "kimmel2021: Table 1 stoch_threshold (100 cells)",
        "population size below which a population is simulated stochastically"),
    par("dt_leap", 0.05, "day", "chosen: the first-order leap underestimates extinction by "
        "about 0.06 at 0.25 day and 0.02 at 0.05 day (tests/test_small_numbers.py)",
        "time between stochastic leaps"),
)


@dataclass(frozen=True)
class StochasticPopulation:
    """A state (in Gcell) with its per-cell birth and death rates and cell inflow (Gcell/day)."""

    state: str
    birth: str
    death: str
    inflow: str = "0"
    enabled: str = "1"
    """An expression: 0 keeps the population deterministic (it never enters stochastic mode)."""

    @property
    def threshold(self) -> str:
        """Below it the population turns stochastic; disabled, it is one cell below zero, so
        a population that goes extinct (exactly 0) does not touch it."""
        on = f"({self.enabled})"
        return f"(n_stochastic*{on} - (1 - {on}))*one_cell"

    @property
    def flag(self) -> str:
        return f"stoch_{self.state}"

    def drift_factor(self) -> str:
        """Multiplies the population's deterministic equation: 0 in stochastic mode."""
        return f"(1 - {self.flag})"

    def leap_actions(self) -> tuple[Action, ...]:
        """At a leap: draw the new size if stochastic, and leave stochastic mode if large.

        Each cell has at most one event per leap: it dies with probability
        ``d/(b+d)*(1 - exp(-(b+d)*dt))`` or divides with ``b/(b+d)*(...)``; deaths are drawn
        first and divisions among the survivors, so the two are exclusive (one draw object is
        used twice, which code generation evaluates once).
        """
        rate = f"(({self.birth}) + ({self.death}))"
        event = f"(1 - exp(-{rate}*dt_leap))"
        p_die = f"ifelse({rate} > 0, ({self.death})/{rate}*{event}, 0)"
        p_divide = f"ifelse({rate} > 0, ({self.birth})/{rate}*{event}/(1 - {p_die}), 0)"
        cells = _sympy(f"floor({self.state}/one_cell + 0.5)")
        deaths = _sympy(f"rand_binomial(floor({self.state}/one_cell + 0.5), {p_die})")
        survivors = cells - deaths
        divisions = _sympy(f"rand_binomial(survivors_, {p_divide})").subs(
            sp.Symbol("survivors_"), survivors)
        arrivals = _sympy(f"rand_poisson(({self.inflow})*dt_leap/one_cell)")
        drawn = (survivors + divisions + arrivals) * sp.Symbol("one_cell")
        stochastic = _sympy(f"({self.flag} > 0.5) & "
                            f"({self.state} <= 2*n_stochastic*one_cell)")
        large = f"{self.state} > 2*n_stochastic*one_cell"
        return (set_value(self.state, sp.Piecewise((drawn, stochastic),
                                                   (sp.Symbol(self.state), True))),
                set_value(self.flag, f"ifelse({large}, 0, {self.flag})"))


def _sympy(text: str) -> sp.Basic:
    """Parse leap arithmetic; the names are checked again when the model is resolved."""
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)) - set(MATH_FUNCTIONS) - set(
        RANDOM_DRAWS)
    return parse(text, names, context="stochastic leap")


def small_numbers_model(populations: tuple[StochasticPopulation, ...]) -> Model:
    """Flags, the leap clock and the events that switch modes and perform the leaps."""
    states = [State(p.flag, "", f"ifelse({p.state} < {p.threshold}, 1, 0)",
                    f"1 while {p.state} is simulated stochastically", nonnegative=False)
              for p in populations]
    active = " + ".join(f"{p.flag}*({p.state} + ({p.inflow})*dt_leap)" for p in populations)
    states.append(State("leap_clock", "day", 0.0, "time since the last stochastic leap"))
    events = [StateEvent(f"enter_stochastic_{p.state}",
                         f"{p.state} < {p.threshold}", (set_value(p.flag, 1),))
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
        # the clock runs while a stochastic population holds or expects more than a millionth
        # of a cell per leap: rounding residue in a state that should be exactly zero (1e-20
        # cells from a stiff step's linear solve) would otherwise start and stop it over and
        # over, a discontinuity the solver can only step through in tiny steps
        equations={"leap_clock": "ifelse(stochastic_activity > 1e-6*one_cell, 1, 0)",
                   **{p.flag: "0" for p in populations}},
        events=events,
        description=__doc__.splitlines()[0],
    )
