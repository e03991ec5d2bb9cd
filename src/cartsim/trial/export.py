"""Exports of a trial folder for other tools, read from its store with DuckDB.

``nonmem``: one event table in the NONMEM / mrgsolve style, one row per dose or observation:
``ID`` (a patient of the whole trial), ``TIME`` (days from infusion), ``EVID`` (1 the CAR-T
infusion, 0 an observation), ``AMT`` (CAR+ cells infused; 0 on observations), ``CMT`` (1),
``DV`` (the observed variable; none on doses), ``MDV`` (1 on doses), then the covariates
``ARM``, ``REP`` (replicate), ``PATIENT`` (its number within the arm) and every sampled
parameter. Observations are the stored trajectories (kept with ``--trajectory-days``) of one
variable, after infusion and while alive; the dose is the released product's whole dose (a
split or fractionated infusion is one row at day 0).
``tidy``: the trajectories as one row per patient, day, variable and value.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cartsim.errors import CartsimError
from cartsim.journey.outcome import PatientOutcome
from cartsim.trial.analysis import OUTCOME_COLUMN
from cartsim.trial.execution import ROW_TYPES
from cartsim.trial.store import PATIENTS, query, stored_columns

FORMATS = ("nonmem", "tidy")
DEFAULT_DV = "cart_cells_per_ul"
NONMEM_COLUMNS = ("ID", "TIME", "EVID", "AMT", "CMT", "DV", "MDV", "ARM", "REP", "PATIENT")


def _trajectory_columns(folder: Path) -> list[str]:
    variables = stored_columns(folder)
    if not variables:
        raise CartsimError("the trial kept no trajectories: run it with --trajectory-days",
                           file=str(folder))
    return variables


def export_nonmem(folder: str | Path, out: str | Path, dv: str = DEFAULT_DV) -> int:
    """Write the event table; returns its rows."""
    folder = Path(folder)
    variables = _trajectory_columns(folder)
    if dv not in variables:
        raise CartsimError(f"no stored trajectory {dv!r} (stored: {', '.join(variables)})",
                           element="--dv")
    covariates = [c for c in stored_columns(folder, PATIENTS) if c not in ROW_TYPES]
    patients = query(folder, "SELECT arm, patient, replicate, " + ", ".join(
        [f'"{c}"' for c in covariates] + [OUTCOME_COLUMN]) + " FROM patients ORDER BY arm, "
        "patient").fetchall()
    observed = query(folder, f'SELECT arm, patient, day, "{dv}" FROM trajectories WHERE day '
                             f'>= 0 AND "{dv}" IS NOT NULL AND NOT isnan("{dv}") ORDER BY '
                             "arm, patient, day").fetchall()
    by_patient: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for arm, patient, day, value in observed:
        by_patient.setdefault((arm, patient), []).append((day, value))
    rows = 0
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*NONMEM_COLUMNS, *(c.upper() for c in covariates)])
        for number, (arm, patient, replicate, *rest) in enumerate(patients, start=1):
            values, outcome = rest[:-1], PatientOutcome.from_json(json.loads(rest[-1]))
            shared = [arm, replicate, patient, *values]
            if outcome.infused and outcome.product is not None:
                writer.writerow([number, 0.0, 1, outcome.product.dose_cells, 1, ".", 1,
                                 *shared])
                rows += 1
            for day, value in by_patient.get((arm, patient), []):
                writer.writerow([number, day, 0, 0, 1, value, 0, *shared])
                rows += 1
    return rows


def export_tidy(folder: str | Path, out: str | Path) -> int:
    """Write the trajectories as (arm, patient, day, variable, value) rows; returns them."""
    folder = Path(folder)
    variables = ", ".join(f'"{v}"' for v in _trajectory_columns(folder))
    relation = query(folder, "SELECT arm, patient, day, variable, value FROM (UNPIVOT "
                             f"trajectories ON {variables} INTO NAME variable VALUE value) "
                             "ORDER BY arm, patient, day, variable")
    relation.write_csv(str(out), header=True)
    return int(query(folder, f"SELECT count(*) FROM read_csv('{_quoted(out)}')").fetchall()[0][0])


def _quoted(path: str | Path) -> str:
    return str(path).replace("'", "''")
