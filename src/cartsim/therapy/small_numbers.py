"""Hybrid deterministic / stochastic populations: the last few cells live or die by chance.

A population followed by this module switches to a stochastic birth-death description when it
falls below ``n_stochastic`` cells (Kimmel 2021: 100 tumour cells) and back once it exceeds twice
that. In stochastic mode its deterministic drift is switched off and leaps of the linear
birth-death process replace it: over a leap of ``tau`` days, with each per-cell rate held at the
mean of its values at the leap's two ends (the trapezoid rule), each cell's lineage dies out or
grows to a geometric number of cells, which is the exact transition of the process for constant
rates (Kendall 1948), and cells arriving from other populations (mutation, conversion) live
the rest of the leap from their arrival. The mean rate makes a pure-death leap exact for a
rate linear in time too, so the error is second order in the rates' drift and a leap may be
long: ``tau`` is the time until each cell expects ``leap_events`` births or deaths, at most
``dt_leap`` (the tests bound the extinction probabilities against the exact process). The
next leap's time is fixed when a leap (or a population's entry into stochastic mode) happens,
so the solver steps to it as it steps to a dose instead of searching for it. Extinction is a
per-patient random event drawn from the engine's counter-based streams, so cure versus relapse
is a probability that is reproducible in any parallel layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartsim.model import Action, Assignment, EventValue, Model, State, StateEvent, set_value
from cartsim.therapy.common import par

SMALL_NUMBER_PARAMETERS = (
    par("one_cell", 1e-9, "Gcell", "definition: one cell in Gcell", "a single cell"),
    par("n_stochastic", 100.0, "", "kimmel2021: Table 1 stoch_threshold (100 cells)",
        "population size below which a population is simulated stochastically"),
    par("dt_leap", 2.0, "day", "chosen: leaps of at most 2 days (with leap_events 1) give the "
        "cure, CAR-T loss and response rates of 20-to-40-times finer leaps within sampling "
        "error, 4,000 patients per product (benchmarks/small_numbers.py); 3 days moved "
        "tisa-cel's day-28 response by 1.3 standard errors",
        "longest time between stochastic leaps"),
    par("leap_events", 1.0, "", "chosen: the usual tau-leap rule (Cao, Gillespie & Petzold "
        "2006) of a bounded expected change per leap, here one event per cell: the mean rates "
        "over a leap and arrivals living the rest of it leave the rates' curvature as the only "
        "error (0.25 and 0.5 gave the same endpoints within sampling error, 30 % slower)",
        "expected births and deaths per cell in one leap"),
    par("dt_leap_min", 0.01, "day", "chosen: a floor that keeps leaps from chattering when "
        "killing is very fast (rate above 100/day)", "shortest time between stochastic leaps, "
        "and the wait for the first leap after the start, an entry into stochastic mode or a "
        "wake-up"),
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

    @property
    def entered(self) -> str:
        return f"entered_{self.state}"

    @property
    def birth_before(self) -> str:
        """The birth rate at the last leap (or entry, or wake-up); UNKNOWN before any."""
        return f"birth_at_leap_{self.state}"

    @property
    def death_before(self) -> str:
        return f"death_at_leap_{self.state}"

    def note_rates(self) -> tuple[Action, ...]:
        """Hold the current rates: the next leap averages them with its own."""
        return (set_value(self.birth_before, self.birth), set_value(self.death_before, self.death))

    def mean_rate(self, now: str, before: str) -> str:
        """The rate over a leap: the mean of its values at both ends (the trapezoid rule,
        exact for rates linear in time), or its value now when the start is not known."""
        return f"ifelse({before} < 0, {now}, (({now}) + {before})/2)"

    def drift_factor(self) -> str:
        """Multiplies the population's deterministic equation: 0 in stochastic mode."""
        return f"(1 - {self.flag})"

    def holding(self) -> str:
        """Cells held or expected within ``dt_leap`` while stochastic (0 otherwise), in Gcell."""
        return f"{self.flag}*({self.state} + ({self.inflow})*dt_leap)"

    @property
    def leaping(self) -> str:
        """Whether a leap draws this population: stochastic and not yet large."""
        return f"({self.flag} > 0.5) & ({self.state} <= {LARGE})"

    @property
    def large(self) -> str:
        """Whether the population is large enough to leave stochastic mode."""
        return f"{self.state} > {LARGE}"

    def leap_value(self, quantity: str) -> str:
        """The name of one of this population's values at a leap (see ``leap_values``)."""
        return f"leap_{quantity}_{self.state}"

    def leap_values(self, length: str) -> tuple[EventValue, ...]:
        """What a leap of ``length`` days computes once for this population, from the values
        just before it: the mean rates, phi, the lived time of arrivals and the draws.

        With birth rate b, death rate d (each the mean over the leap, see ``mean_rate``),
        r = b - d and phi = (exp(r*tau) - 1)/r, one cell's lineage is extinct after tau with
        probability d*phi/(1 + b*phi) and otherwise holds 1 + Geometric cells, each further
        cell with probability b*phi/(1 + b*phi). The n cells' surviving lineages are a binomial
        draw, their extra cells a negative binomial draw. An arrival at s lives the rest of the
        leap: the survivors of the inflow are Poisson(inflow * I), with I = log(1 + b*phi)/b
        the integral of the survival probability over the leap, each with geometric extra
        cells matching the mean inflow*phi (exact for pure death). A population that is not
        stochastic (or is large) draws nothing.
        """
        v = self.leap_value
        b, d, phi, lived = v("birth"), v("death"), v("phi"), v("lived")
        rate, tau = f"({b} - {d})", f"({length})"
        return (
            EventValue(v("held"), self.holding()),
            EventValue(b, self.mean_rate(self.birth, self.birth_before)),
            EventValue(d, self.mean_rate(self.death, self.death_before)),
            EventValue(phi, f"ifelse(abs({rate}*{tau}) < 1e-6, {tau}*(1 + {rate}*{tau}/2), "
                            f"(exp({rate}*{tau}) - 1)/{rate})"),
            EventValue(lived, f"ifelse({b}*{phi} < 1e-6, {phi}*(1 - {b}*{phi}/2), "
                              f"log(1 + {b}*{phi})/{b})"),
            EventValue(v("survivors"), f"rand_binomial(ifelse({self.leaping}, "
                                       f"floor({self.state}/one_cell + 0.5), 0), "
                                       f"1 - {d}*{phi}/(1 + {b}*{phi}))"),
            EventValue(v("arrived"), f"rand_poisson(ifelse({self.leaping}, "
                                     f"({self.inflow})*{lived}/one_cell, 0))"),
            # births and deaths per cell per day while holding more than a millionth of a
            # cell (0 otherwise): the rates of a clone already extinct must not shorten the
            # leaps of the others
            EventValue(v("events"), f"ifelse({v('held')} > 1e-6*one_cell, "
                                    f"({self.birth}) + ({self.death}), 0)"),
        )

    def leap_actions(self) -> tuple[Action, ...]:
        """At a leap: the drawn size while stochastic (the survivors' and arrivals' extra
        cells drawn here), and leaving stochastic mode if large."""
        v = self.leap_value
        drawn = (f"({v('survivors')} "
                 f"+ rand_negbinomial({v('survivors')}, 1/(1 + {v('birth')}*{v('phi')})) "
                 f"+ {v('arrived')} + rand_negbinomial({v('arrived')}, "
                 f"ifelse({v('phi')} > 0, {v('lived')}/{v('phi')}, 1)))*one_cell")
        return (set_value(self.state, f"ifelse({self.leaping}, {drawn}, {self.state})"),
                set_value(self.flag, f"ifelse({self.large}, 0, {self.flag})"))


LARGE = "2*n_stochastic*one_cell"
"""The size (Gcell) above which a stochastic population returns to deterministic."""
UNKNOWN = -1.0
"""A held rate before the first leap, entry or wake-up has noted it."""
IDLE = "1e300"
"""``leap_due`` while no stochastic population holds or expects a cell: no leap is scheduled."""


def deterministic_model(populations: tuple[StochasticPopulation, ...]) -> Model:
    """The populations' flags held at 0, so every population stays deterministic: the
    therapy model without random draws, which SBML (and so libroadrunner) can express."""
    return Model(
        "small_numbers",
        states=[State(p.flag, "", 0.0, f"0: {p.state} is always simulated deterministically")
                for p in populations],
        parameters=SMALL_NUMBER_PARAMETERS,
        equations={p.flag: "0" for p in populations},
        description="Deterministic populations (the small-number treatment switched off)",
    )


def small_numbers_model(populations: tuple[StochasticPopulation, ...]) -> Model:
    """Flags, the leap clock and schedule, and the events that switch modes and leap.

    ``leap_clock`` counts the days since the last leap and a leap comes when it passes
    ``leap_due``, the length chosen at the last leap: a clock against a held value, which the
    solver steps to exactly. A population entering stochastic mode notes the clock
    (``entered_X``), so its first leap covers only its stochastic time, and brings the next
    leap to within ``dt_leap_min``, where the length is chosen again with its rates. While
    nothing is stochastic the schedule is idle; cells arriving (an infusion, an inflow) wake
    it the same way. The first leap comes ``dt_leap_min`` after the start.
    """
    states = [State(p.flag, "", f"ifelse({p.state} < {p.threshold}, 1, 0)",
                    f"1 while {p.state} is simulated stochastically", nonnegative=False)
              for p in populations]
    states += [State(p.entered, "day", 0.0, f"leap_clock when {p.state} entered stochastic "
                     "mode since the last leap (0: before it)") for p in populations]
    active = " + ".join(p.holding() for p in populations)
    states += [State(held, "1/day", UNKNOWN, f"per-cell {kind} rate of {p.state} at the last "
                     f"leap, entry or wake-up ({UNKNOWN}: none yet)", nonnegative=False)
               for p in populations
               for held, kind in ((p.birth_before, "birth"), (p.death_before, "death"))]
    states += [State("leap_clock", "day", 0.0, "days since the last stochastic leap"),
               State("leap_due", "day", "dt_leap_min",
                     f"leap_clock at which the next stochastic leap comes ({IDLE}: none)")]
    idle = f"leap_due > 0.5*{IDLE}"
    awake = "stochastic_activity > 1e-6*one_cell"
    clock_now = f"ifelse({idle}, 0, leap_clock)"  # an idle clock restarts from 0
    soon = (set_value("leap_clock", clock_now),
            set_value("leap_due", f"ifelse({idle}, dt_leap_min, "
                                  "min(leap_due, leap_clock + dt_leap_min))"))
    noted = tuple(a for p in populations for a in p.note_rates())
    events = [StateEvent(f"enter_stochastic_{p.state}", f"{p.state} < {p.threshold}",
                         (set_value(p.flag, 1), set_value(p.entered, clock_now), *soon,
                          *p.note_rates()))
              for p in populations]
    # the next leap's length is chosen with the rates now: the rule of SMALL_NUMBER_PARAMETERS,
    # leap_events over the fastest per-cell event rate, within [dt_leap_min, dt_leap]
    fastest = "max(" + ", ".join(p.leap_value("events") for p in populations) + ", 1e-300)"
    # the cells held, as stochastic_activity counts them, but from the leap's values: the
    # inflows' piecewise terms would otherwise sit in a condition, which sympy folds slowly
    held = " + ".join(p.leap_value("held") for p in populations)
    values = (*(v for p in populations for v in p.leap_values(f"leap_clock - {p.entered}")),
              EventValue("leap_next", f"min(dt_leap, max(dt_leap_min, leap_events/{fastest}))"))
    events.append(StateEvent("stochastic_leap", "leap_clock > leap_due",
                             (*(a for p in populations for a in p.leap_actions()),
                              *(set_value(p.entered, 0) for p in populations), *noted,
                              set_value("leap_clock", 0),
                              set_value("leap_due", f"ifelse({held} > 1e-6*one_cell, "
                                                    f"leap_next, {IDLE})")),
                             let=values))
    events.append(StateEvent("stochastic_wake", f"({awake}) & ({idle})", (*soon, *noted)))
    # cells added to a stochastic population (an infusion) end its stochastic mode at once:
    # waiting for the next leap would hold the infused cells without drift for up to dt_leap
    events += [StateEvent(f"leave_stochastic_{p.state}",
                          f"({p.flag} > 0.5) & ({p.large})",
                          (set_value(p.flag, 0),))
               for p in populations]
    return Model(
        "small_numbers",
        states=states,
        parameters=SMALL_NUMBER_PARAMETERS,
        assignments=[Assignment("stochastic_activity", active, "Gcell",
                                "cells (or arrivals) in stochastic populations")],
        # the schedule wakes while a stochastic population holds or expects more than a
        # millionth of a cell per leap: rounding residue in a state that should be exactly
        # zero (1e-20 cells from a stiff step's linear solve) would otherwise wake it over and
        # over
        equations={"leap_clock": "1", "leap_due": "0",
                   **{p.flag: "0" for p in populations}, **{p.entered: "0" for p in populations},
                   **{held: "0" for p in populations for held in (p.birth_before, p.death_before)}},
        events=events,
        description=__doc__.splitlines()[0],
    )
