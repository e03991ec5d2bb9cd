"""A local web app (Flask): pick product, disease, dose, lymphodepletion and policy, run one
patient's journey or a small cohort, and read the swimmer page, the grades and the endpoint
table off the page. Every input goes through the scenario schema; a problem is shown on the
page (HTTP 400), never a traceback. A cohort runs in the background: its page shows the
patients done and reloads itself until the results (swimmer plot, grades, CRS onset and the
endpoint table) are there. ``cartsim serve`` starts it on localhost.
"""

from __future__ import annotations

import base64
import html
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from cartsim.errors import CartsimError
from cartsim.journey.policy import POLICIES
from cartsim.journey.protocol import LYMPHODEPLETION_REGIMENS
from cartsim.presets.diseases import DISEASES
from cartsim.presets.products import PRODUCTS

MAX_PATIENTS = 200
"""Most patients a page runs (a larger trial belongs on the command line)."""
COHORT_CHUNK = 25
"""Patients per chunk of a cohort run from the page: the progress it shows moves by this."""
JOBS_KEPT = 20
"""Cohort runs remembered (the oldest is forgotten first): a local app has one user."""
_PLOTTING = threading.Lock()
"""Matplotlib's pyplot is not thread-safe: one figure is drawn at a time."""


@dataclass(frozen=True)
class Choices:
    """What the form asks, as the user gave it (text), with the defaults of a first visit."""

    product: str = "axi-cel"
    disease: str = "lbcl"
    dose_cells: str = ""
    lymphodepletion: str = "flu-cy"
    policy: str = "standard"
    patients: str = "1"
    seed: str = "1"

    def scenario(self) -> dict:
        """The scenario these choices describe (validated by the caller)."""
        scenario = {"name": f"{self.product} in {self.disease}", "product": self.product,
                    "disease": self.disease, "seed": _whole(self.seed, "seed", 0),
                    "lymphodepletion": {"regimen": self.lymphodepletion},
                    "policy": self.policy}
        if self.dose_cells.strip():
            scenario["infusion"] = {"dose_cells": _number(self.dose_cells, "dose")}
        return scenario

    def patient_count(self) -> int:
        count = _whole(self.patients, "patients", 1)
        if count > MAX_PATIENTS:
            raise CartsimError(f"at most {MAX_PATIENTS} patients here, got {count} (use "
                               "`cartsim trial` for more)", element="patients")
        return count


def _number(text: str, field: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CartsimError(f"must be a number, got {text!r}", element=field) from None


def _whole(text: str, field: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CartsimError(f"must be a whole number, got {text!r}", element=field) from None
    if value < low:
        raise CartsimError(f"must be at least {low}, got {value}", element=field)
    return value


@dataclass
class CohortJob:
    """A cohort running in the background for its page: how far it is, then its results'
    HTML or the problem that stopped it."""

    choices: Choices
    protocol: dict
    patients: int
    done: int = 0
    result: str | None = None
    problem: str | None = None

    def run(self) -> None:
        try:
            self.result = _cohort(self.protocol, self.patients, self._advance)
        except CartsimError as problem:
            self.problem = str(problem)
        except Exception as error:  # the page says what failed, never a traceback
            self.problem = f"the simulation failed: {type(error).__name__}: {error}"

    def _advance(self, done: int, todo: int) -> None:
        self.done = done


class Jobs:
    """The cohorts run from the page, by key."""

    def __init__(self) -> None:
        self._jobs: dict[str, CohortJob] = {}
        self._lock = threading.Lock()

    def start(self, job: CohortJob) -> str:
        key = uuid.uuid4().hex[:12]
        with self._lock:
            self._jobs[key] = job
            while len(self._jobs) > JOBS_KEPT:
                self._jobs.pop(next(iter(self._jobs)))
        threading.Thread(target=job.run, name=f"cohort {key}", daemon=True).start()
        return key

    def get(self, key: str) -> CohortJob | None:
        with self._lock:
            return self._jobs.get(key)


def create_app():
    """The Flask application."""
    from flask import Flask, redirect, request

    app = Flask("cartsim")
    jobs = Jobs()

    @app.get("/")
    def form():
        return _page(Choices(), "")

    @app.post("/run")
    def run():
        from cartsim.journey import protocol_from_mapping

        choices = Choices(**{k: request.form.get(k, getattr(Choices(), k))
                             for k in Choices.__dataclass_fields__})
        try:
            protocol = protocol_from_mapping(choices.scenario())
            patients = choices.patient_count()
            if patients == 1:
                return _page(choices, _one_journey(protocol))
        except CartsimError as problem:
            return _page(choices, _problem(str(problem))), 400
        key = jobs.start(CohortJob(choices, protocol, patients))
        return redirect(f"/cohort/{key}", code=303)

    @app.get("/cohort/<key>")
    def cohort(key: str):
        job = jobs.get(key)
        if job is None:
            return _page(Choices(), _problem("no such cohort (this app forgets all but the "
                                             f"last {JOBS_KEPT}): run it again")), 404
        if job.problem is not None:
            return _page(job.choices, _problem(job.problem)), 500
        if job.result is None:
            running = (f"<p id='progress'>Running {job.patients} patients: {job.done} done "
                       "(this page reloads itself)</p>")
            return _page(job.choices, running, reload_s=1)
        return _page(job.choices, job.result)

    return app


def _problem(text: str) -> str:
    return f"<p id='problem' class='problem'>{html.escape(text)}</p>"


def _one_journey(protocol: dict) -> str:
    from cartsim.journey import run_journey
    from cartsim.report.journey_plot import plot_journey

    journey = run_journey(protocol)
    with tempfile.TemporaryDirectory() as folder, _PLOTTING:
        path = Path(folder) / "journey.png"
        plot_journey(journey, path)
        picture = base64.b64encode(path.read_bytes()).decode()
    outcome = journey.outcome
    rows = "".join(f"<tr><td>{day:g}</td><td>{html.escape(kind)}</td>"
                   f"<td>{html.escape(detail)}</td></tr>"
                   for day, kind, detail in journey.sorted_events())
    grades = "".join(f"<tr><td>{html.escape(scale)}</td><td>{summary.max}</td>"
                     f"<td>{_shown(summary.onset_day)}</td></tr>"
                     for scale, summary in outcome.first_line.toxicity.items())
    return (f"<h2>One patient</h2><p id='outcome'>Best response "
            f"{html.escape(str(outcome.first_line.best_response))}; "
            f"{'infused' if outcome.infused else 'not infused'}; death day "
            f"{_shown(outcome.death_day)}</p>"
            f"<img id='swimmer' alt='journey' src='data:image/png;base64,{picture}'>"
            "<h3>Worst grades</h3><table id='grades'><tr><th>scale</th><th>worst</th>"
            f"<th>onset day</th></tr>{grades}</table>"
            "<h3>Events</h3><table id='events'><tr><th>day</th><th>event</th><th>detail</th>"
            f"</tr>{rows}</table>")


def _cohort(protocol: dict, patients: int, on_progress) -> str:
    """The cohort's figures and endpoint table."""
    from cartsim.report.trial_report import cohort_figures
    from cartsim.trial import run_trial
    from cartsim.trial.analysis import endpoint_rows

    with tempfile.TemporaryDirectory() as folder:
        trial = run_trial(protocol, patients, out=folder, chunk_size=COHORT_CHUNK,
                          on_progress=on_progress)
        with _PLOTTING:
            figures = cohort_figures(folder)
    rows = "".join(f"<tr><td>{r['endpoint']}</td><td>{_shown(r['value'])}</td>"
                   f"<td>{_shown(r['ci_low'])}-{_shown(r['ci_high'])}</td><td>{r['n']}</td></tr>"
                   for r in endpoint_rows(trial.summary))
    shown = "".join(f"<figure class='cohort-figure'><figcaption>{html.escape(f.title)}: "
                    f"{html.escape(f.caption)}</figcaption>{f.svg}</figure>" for f in figures)
    return (f"<h2>{patients} patients</h2>{shown}<table id='endpoints'><tr><th>endpoint</th>"
            f"<th>value</th><th>95% interval</th><th>n</th></tr>{rows}</table>")


def _shown(value) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _select(name: str, options, chosen: str) -> str:
    items = "".join(f"<option{' selected' if o == chosen else ''}>{html.escape(o)}</option>"
                    for o in options)
    return f"<label>{name} <select name='{name}' id='{name}'>{items}</select></label>"


def _field(name: str, value: str, hint: str) -> str:
    return (f"<label>{name} <input name='{name}' id='{name}' value='{html.escape(value)}' "
            f"placeholder='{hint}'></label>")


def _page(choices: Choices, result: str, reload_s: float | None = None) -> str:
    form = "".join([
        _select("product", sorted(PRODUCTS), choices.product),
        _select("disease", sorted(DISEASES), choices.disease),
        _field("dose_cells", choices.dose_cells, "CAR+ cells (blank: the label's)"),
        _select("lymphodepletion", LYMPHODEPLETION_REGIMENS, choices.lymphodepletion),
        _select("policy", sorted(POLICIES), choices.policy),
        _field("patients", choices.patients, f"1 to {MAX_PATIENTS}"),
        _field("seed", choices.seed, "0 or more")])
    reload = "" if reload_s is None else f"<meta http-equiv='refresh' content='{reload_s:g}'>"
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"{reload}<title>cartsim</title>"
            f"<style>{_STYLE}</style></head><body><h1>cartsim: a CAR-T patient's journey</h1>"
            f"<form method='post' action='/run'>{form}<button id='run' type='submit'>Run"
            f"</button></form><div id='result'>{result}</div></body></html>")


_STYLE = """body{font-family:sans-serif;max-width:1000px;margin:2em auto}label{display:inline-block;
margin:0 1em .5em 0}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;
padding:2px 6px}img{max-width:100%}.problem{color:#a00;font-weight:bold}"""
