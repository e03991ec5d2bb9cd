"""Small built-in models: the 6-state CAR-T-like benchmark model and its virtual population.

The model is the micro-benchmark of ``reference/performance.md`` (section 2): effector (E),
memory (M) and exhausted (X) CAR-T cells, antigen-positive (Tp) and antigen-negative (Tn)
tumour, one cytokine (C); logistic growth, saturating killing, antigen-driven expansion,
contraction, memory conversion, exhaustion, cytokine production and clearance. It is a test and
benchmark model, not the calibrated therapy model.
"""

from __future__ import annotations

import numpy as np

from cartsim.model import Assignment, Model, Observable, Parameter, State
from cartsim.rng.philox import normal_draws

SOURCE = "reference/performance.md, section 2 (benchmark model; typical values)"

CART6_PARAMETERS = {
    # name: (typical value, unit, description)
    "rp": (0.05, "1/day", "growth rate, antigen-positive tumour"),
    "rn": (0.04, "1/day", "growth rate, antigen-negative tumour"),
    "Kcap": (1000.0, "Gcell", "tumour carrying capacity"),
    "kappa": (3.0, "1/day", "maximal killing rate per effector"),
    "Kk": (1.0, "Gcell", "tumour size of half-maximal killing"),
    "rho": (1.0, "1/day", "antigen-driven expansion rate"),
    "Ka": (0.5, "Gcell", "tumour size of half-maximal activation"),
    "dE": (0.3, "1/day", "effector contraction rate"),
    "eps": (0.05, "1/day", "effector-to-memory conversion rate"),
    "theta": (0.5, "1/day", "memory re-activation rate"),
    "muM": (0.005, "1/day", "memory death rate"),
    "chi": (0.1, "1/day", "exhaustion rate under antigen"),
    "dX": (0.2, "1/day", "exhausted cell death rate"),
    "pic": (50.0, "AU/Gcell/day", "cytokine production per activated effector"),
    "kc": (20.0, "1/day", "cytokine clearance rate"),
    "dose": (0.1, "Gcell", "CAR-T cells infused at day 0"),
    "T0": (20.0, "Gcell", "tumour burden at infusion"),
    "neg_fraction": (0.005, "", "antigen-negative fraction of the tumour at infusion"),
}


def cart6_model(extinction: float | None = 1e-9) -> Model:
    """The 6-state model; tumour clones below ``extinction`` (1e-9 Gcell = 1 cell) die out."""
    params = [Parameter(name, value, unit, source=SOURCE, description=text)
              for name, (value, unit, text) in CART6_PARAMETERS.items()]
    return Model(
        "cart6",
        states=[
            State("E", "Gcell", "dose", "effector CAR-T cells"),
            State("M", "Gcell", 0.0, "memory CAR-T cells"),
            State("X", "Gcell", 0.0, "exhausted CAR-T cells"),
            State("Tp", "Gcell", "T0*(1 - neg_fraction)", "antigen-positive tumour",
                  extinction=extinction),
            State("Tn", "Gcell", "T0*neg_fraction", "antigen-negative tumour",
                  extinction=extinction),
            State("C", "AU", 0.0, "cytokine"),
        ],
        parameters=params,
        assignments=[
            Assignment("A", "Tp/(Ka + Tp)", "", "antigen engagement (saturating)"),
            Assignment("kill", "kappa*E*Tp/(Kk + Tp)", "Gcell/day", "killing rate"),
            Assignment("crowd", "1 - (Tp + Tn)/Kcap", "", "logistic crowding"),
        ],
        equations={
            "Tp": "rp*Tp*crowd - kill",
            "Tn": "rn*Tn*crowd",
            "E": "rho*A*E + theta*A*M - (dE + eps + chi*A)*E",
            "M": "eps*E - theta*A*M - muM*M",
            "X": "chi*A*E - dX*X",
            "C": "pic*A*E - kc*C",
        },
        observables=[Observable("tumour", "Tp + Tn", "Gcell", "total tumour"),
                     Observable("cart", "E + M + X", "Gcell", "total CAR-T cells")],
    )


LOGNORMAL_SD = {name: 0.3 for name in CART6_PARAMETERS if name not in
                ("Kcap", "dose", "T0", "neg_fraction")}
LOGNORMAL_SD.update(kappa=0.4, T0=1.0, neg_fraction=0.7, dose=0.5)


def cart6_population(n: int, seed: int = 0, first_patient: int = 0) -> dict[str, np.ndarray]:
    """Per-patient parameters: each typical value times exp(N(0, ω²)), ω from performance.md
    (0.3; kappa 0.4; tumour burden 1.0; antigen-negative fraction 0.7; dose 0.5; Kcap fixed).
    Patient i's values depend only on (seed, first_patient + i)."""
    names = sorted(LOGNORMAL_SD)
    streams = np.arange(first_patient, first_patient + n, dtype=np.int64)
    z = normal_draws(seed, streams, "cart6-population", len(names))
    return {name: CART6_PARAMETERS[name][0] * np.exp(LOGNORMAL_SD[name] * z[:, j])
            for j, name in enumerate(names)}
