"""Ensemble results: trajectories, observables, per-patient status, step statistics, events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATUS_NAMES = {0: "ok", 1: "too many steps", 2: "non-finite values", 3: "step size underflow"}
INFO_FIELDS = ("accepted", "rejected", "jacobians", "switches", "events", "stiff_steps",
               "terminated", "retaken")


@dataclass
class EnsembleResult:
    """Solution of patients ``first_patient .. first_patient + n_patients - 1``.

    ``states``: (patients, times, states); ``observables``: (patients, times, observables);
    values after a failure or a terminal event are NaN. ``status`` 0 is ok (see
    :data:`STATUS_NAMES`); ``t_stop`` is the time each patient reached.
    """

    t: np.ndarray
    states: np.ndarray
    observables: np.ndarray
    status: np.ndarray
    t_stop: np.ndarray
    info: np.ndarray
    event_times: np.ndarray
    event_ids: np.ndarray
    state_names: list[str]
    observable_names: list[str]
    event_names: list[str]
    first_patient: int = 0

    @property
    def n_patients(self) -> int:
        return self.status.shape[0]

    @property
    def ok(self) -> np.ndarray:
        return self.status == 0

    def state(self, name: str) -> np.ndarray:
        """(patients, times) trajectory of one state."""
        return self.states[:, :, self.state_names.index(name)]

    def observable(self, name: str) -> np.ndarray:
        """(patients, times) trajectory of one observable."""
        return self.observables[:, :, self.observable_names.index(name)]

    def stats(self, field: str) -> np.ndarray:
        """Per-patient solver statistic, one of :data:`INFO_FIELDS`."""
        return self.info[:, INFO_FIELDS.index(field)]

    def message(self, i: int) -> str:
        """Human-readable status of patient i (index within this result)."""
        code = int(self.status[i])
        text = STATUS_NAMES.get(code, f"status {code}")
        where = f" at t = {self.t_stop[i]:.6g}"
        if code == 0:
            if self.info[i, INFO_FIELDS.index("terminated")]:
                return "ok (stopped by a terminal event" + where + ")"
            return "ok"
        return f"failed: {text}{where}"

    @property
    def messages(self) -> list[str]:
        return [self.message(i) for i in range(self.n_patients)]

    def events(self, i: int) -> list[tuple[float, str]]:
        """Event log of patient i: (time, event name), in order (capacity-limited)."""
        count = min(int(self.info[i, INFO_FIELDS.index("events")]), self.event_times.shape[1])
        return [(float(self.event_times[i, j]), self.event_names[self.event_ids[i, j]])
                for j in range(count)]

    def rows(self, first: int, last: int) -> EnsembleResult:
        """Patients first .. last - 1 of this result, as views (writing to them fills it)."""
        part = slice(first, last)
        return EnsembleResult(self.t, self.states[part], self.observables[part],
                              self.status[part], self.t_stop[part], self.info[part],
                              self.event_times[part], self.event_ids[part], self.state_names,
                              self.observable_names, self.event_names,
                              self.first_patient + first)
