"""A treatment protocol as data: the YAML scenario of one patient's journey, validated.

Sections mirror the journey in the seeds: patient, apheresis, manufacturing, wait (drop-out and
death before infusion), bridging, lymphodepletion, infusion, monitoring, visits, management
policy, rescue, and the trial's published results to compare a cohort with. Every key has a
default and a check, side by side in ``SCHEMA``, so a scenario states only what differs; an
unknown key, a wrong type or an impossible value is an error naming its path in the file.
Days count from the planned infusion (day 0).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import yaml

from cartsim.errors import CartsimError
from cartsim.journey import schema
from cartsim.journey.rescue import THERAPIES
from cartsim.journey.schema import Choice, Flag, Number, Text, Value, Whole


class ProtocolError(CartsimError):
    """A scenario file that cannot be run: the message names the key path and the problem."""


BRIDGING_OPTIONS = {
    # name: (tumour kill rate 1/day while given, source)
    "none": (0.0, "definition: no bridging"),
    "chemotherapy": (0.03, "chosen: holds refractory disease roughly stable (B-ALL and LBCL "
                           "grow 0.03-0.05/day); karmma: response to bridging only 4%"),
    "radiotherapy": (0.02, "chosen: local control of bulky sites, less systemic kill"),
    "steroids": (0.01, "chosen: corticosteroid bridging slows lymphoma/leukaemia a little"),
}

LYMPHODEPLETION_REGIMENS = ("flu-cy", "bendamustine", "none")
INFUSION_SCHEDULES = ("single", "split", "fractionated")
FRACTIONATED = {"fractions": [0.1, 0.3, 0.6], "fraction_days": [0.0, 1.0, 2.0]}
"""Chosen default of a fractionated infusion: 10%, 30% and 60% of the dose on three consecutive
days (the escalating schedule of fractionated CD19 CAR-T dosing in adult ALL, Frey 2020, J Clin
Oncol; not in reference/). Every fraction is given: withholding the rest after early CRS, the
point of that schedule, is not modelled."""
CRS_SCALES = ("astct", "lee2014", "penn")
RESPONSE_CRITERIA = ("ALL", "Lugano", "Lugano-PET", "IMWG", "RECIST")

def _visit_days(days, path: str, fail) -> None:
    if (not isinstance(days, list) or not days
            or any(isinstance(d, bool) or not isinstance(d, int | float) or d <= 0 for d in days)
            or sorted(days) != days):
        fail(path, f"must be a non-empty increasing list of days > 0, got {days!r}")


def _parameter_values(values, path: str, fail) -> None:
    if not isinstance(values, dict):
        fail(path, f"must be a mapping of model parameter to value, got {values!r}")
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail(f"{path}.{key}", f"must be a number, got {value!r}")


def _policy(given, path: str, fail) -> None:
    from cartsim.journey.policy import PolicyError, resolve_policy

    try:
        resolve_policy(given)
    except PolicyError as exc:
        fail(f"{path}.{exc.key}" if exc.key else path, exc.problem)


def _numbers(values, path: str, fail) -> None:
    """A list of numbers (the fractionated schedule; checked as a whole in _check)."""
    if not isinstance(values, list):
        fail(path, f"must be a list of numbers, got {values!r}")


def _products() -> tuple[str, ...]:
    from cartsim.presets import PRODUCTS

    return tuple(PRODUCTS)


def _diseases() -> tuple[str, ...]:
    from cartsim.presets import DISEASES

    return tuple(DISEASES)


NUMBER_LIST = {"type": "array", "items": {"type": "number"}}
BEST_SUPPORTIVE_CARE = "best-supportive-care"
STANDARD_OF_CARE = (*(name for name, t in THERAPIES.items() if t.kind == "kill"),
                    BEST_SUPPORTIVE_CARE)
"""A comparator arm's therapies: the rescue therapies that are not CAR-T (their kill windows,
rescue.py), or none."""
SCHEMA: dict[str, Any] = {
    "name": Text("unnamed scenario", note="shown in reports and summaries"),
    "product": Choice("axi-cel", _products, note="product preset"),
    "disease": Choice("lbcl", _diseases, note="disease preset"),
    "allow_untargeted_product": Flag(False, "true: run a CAR whose antigen the tumour lacks "
                                            "(a negative control)"),
    "seed": Whole(0, note="the journey's (a cohort's patients derive theirs from it)"),
    "patient": {
        "weight_kg": Number(None, 2, 300, optional=True, note="null: the disease preset's"),
        "lymphocytes_per_ul": Number(1000.0, 0, 1e6, note="blood lymphocytes at apheresis, "
                                                                "cells/uL"),
        "anc_10e9_l": Number(2.0, 0, 200, note="baseline neutrophils, 10^9/L"),
        "platelets_10e9_l": Number(150.0, 0, 2000, note="baseline platelets, 10^9/L"),
        "transplant_eligible": Flag(False, "whether a rescue may be an allogeneic transplant"),
        "background_mortality_per_year": Number(0.02, 0, 10,
                                                note="deaths from other causes, per year"),
        "parameters": Value({}, _parameter_values, {"type": "object",
                                                    "additionalProperties": {"type": "number"}},
                            "model parameter overrides (docs/model.md)"),
    },
    "apheresis": {
        "blood_volumes": Number(2.0, 0.1, 10, note="blood volumes processed"),
        "collection_efficiency": Number(0.5, 0, 1, note="share of the processed "
                                                             "lymphocytes collected"),
        "minimum_cells": Number(1.0e9, note="lymphocytes needed to manufacture; fewer: "
                                                "a manufacturing failure"),
    },
    "manufacturing": {
        "median_days": Number(17.0, 1, 365, note="apheresis to product release"),
        "spread": Number(0.2, 0, 3, note="SD of the log of the manufacturing time"),
        "failure_probability": Number(0.01, 0, 1, note="no product released"),
        "out_of_spec_probability": Number(0.0, 0, 1, note="released out of specification"),
        "out_of_spec_dose_fraction": Number(0.5, 0, 1, note="share of the dose given by an "
                                                            "out-of-specification product"),
        "release_to_infusion_days": Number(7.0, 0, 365, note="release to infusion (day 0)"),
        "cd4_fraction_spread": Number(0.0, 0, 5, note="SD on the logit scale of the product's "
                                                      "CD4 share around its preset (0: none)"),
        "memory_fraction_spread": Number(0.0, 0, 5, note="as cd4_fraction_spread, for the "
                                                         "memory share"),
    },
    "wait": {
        "dropout_per_day": Number(0.001, 0, 1, note="hazard of leaving the trial before "
                                                            "infusion, per day"),
        "lethal_tumour_cells": Number(1.0e12, 1, note="tumour cells at which a patient dies of "
                                                        "progression"),
    },
    "bridging": {"therapy": Choice("none", tuple(BRIDGING_OPTIONS), note="while the product is "
                                                                          "made"),
                 "stop_days_before_lymphodepletion": Number(3.0, 0, 60, note="washout")},
    "lymphodepletion": {
        "regimen": Choice("flu-cy", LYMPHODEPLETION_REGIMENS, note="doses below, mg/m2 a day"),
        "start_day": Number(-5.0, -30, 0, note="first day, relative to the infusion"),
        "fludarabine_mg_m2": Number(30.0, 0, 5000, note="a day (flu-cy)"),
        "fludarabine_days": Number(3, 0, 10, note="daily doses (flu-cy)"),
        "cyclophosphamide_mg_m2": Number(500.0, 0, 5000, note="a day (flu-cy)"),
        "cyclophosphamide_days": Number(3, 0, 10, note="daily doses (flu-cy)"),
        "cyclophosphamide_start_day": Number(None, -30, -1, optional=True,
                                             note="null: with fludarabine, from start_day"),
        "bendamustine_mg_m2": Number(90.0, 0, 5000, note="a day (bendamustine)"),
        "bendamustine_days": Number(2, 0, 10, note="daily doses (bendamustine)"),
    },
    "infusion": {
        "schedule": Choice("single", INFUSION_SCHEDULES, note="split: two infusions; "
                                                                  "fractionated: up to three"),
        "dose_cells": Number(None, 1e3, 1e12, optional=True,
                             note="null: the product preset's dose"),
        "first_fraction": Number(1.0, 0.01, 1, note="split: the share of the first of two "
                                                    "infusions"),
        "second_day": Number(1.0, 0.5, 30, note="split: the day of the second infusion"),
        "fractions": Value(FRACTIONATED["fractions"], _numbers, NUMBER_LIST,
                           "fractionated: up to three infusions, the first on day 0"),
        "fraction_days": Value(FRACTIONATED["fraction_days"], _numbers, NUMBER_LIST,
                               "fractionated: the day of each infusion"),
    },
    "monitoring": {
        "days": Number(28.0, 1, 365, note="close monitoring"),
        "grading_interval_hours": Number(6.0, 1, 24, note="during close monitoring"),
        "follow_up_grading_interval_hours": Number(24.0, 1, 24, note="after close monitoring "
                                                                     "(GradingTimes)"),
        "crs_scale": Choice("astct", CRS_SCALES, note="the CRS grading the policy and "
                                                               "endpoints read"),
    },
    "visits": {"days": Value([28.0, 90.0, 180.0, 270.0, 365.0], _visit_days, NUMBER_LIST,
                           "response assessments, days after infusion"),
               "criteria": Choice(None, RESPONSE_CRITERIA, optional=True,
                                  note="null: the disease's")},
    "follow_up_days": Number(365.0, 1, 3650, note="after infusion"),
    "policy": Value("standard", _policy, {"anyOf": [{"type": "string"}, {"type": "object"}]},
                    "a built-in policy's name or a mapping (policy.py)"),
    "failure": {"early_relapse_days": Number(None, 1, 3650, optional=True,
                                             note="null: the disease's convention")},
    "rescue": {"enabled": Flag(True, "a next line after progression or relapse"),
               "delay_days": Number(14.0, 0, 365, note="failure to the rescue's start"),
               "follow_up_days": Number(365.0, 1, 3650, note="at most, from the rescue's start")},
    "treatment": {
        "arm": Choice("car-t", ("car-t", "standard-of-care"),
                      note="standard-of-care: a comparator without CAR-T (no apheresis, "
                           "lymphodepletion or infusion), its therapy from enrolment on day 0"),
        "standard_of_care": Choice("chemotherapy", STANDARD_OF_CARE,
                                   note="the comparator's therapy (a rescue therapy's model)"),
    },
    "published": Value({}, lambda given, path, fail: _check_published(fail, given),
                       {"type": "object"}, "endpoint -> {value: %, n, source}, for cohorts"),
}
"""Every key of a scenario: its default and its check (journey/schema.py)."""
DEFAULTS: dict[str, Any] = schema.defaults(SCHEMA)


def _check(data: dict, file: str | None) -> None:
    """What ties the fields together (each field on its own: the schema, in `validated`)."""
    def fail(path: str, problem: str) -> None:
        raise ProtocolError(problem, file=file, element=path)

    _check_target(fail, data)
    ld = data["lymphodepletion"]
    day = ld["cyclophosphamide_start_day"]
    if day is not None:
        if day < ld["start_day"]:
            fail("lymphodepletion.cyclophosphamide_start_day",
                 f"must not be before start_day {ld['start_day']:g}, got {day:g}")
        if day + ld["cyclophosphamide_days"] > 0:
            fail("lymphodepletion.cyclophosphamide_start_day",
                 f"{ld['cyclophosphamide_days']:g} days from day {day:g} run past the "
                 "infusion on day 0")
    _check_fractions(fail, data["infusion"])
    close = data["monitoring"]["grading_interval_hours"]
    follow_up = data["monitoring"]["follow_up_grading_interval_hours"]
    if follow_up < close or abs(follow_up / close - round(follow_up / close)) > 1e-9:
        fail("monitoring.follow_up_grading_interval_hours",
             f"must be a multiple of grading_interval_hours ({close:g}), got {follow_up:g}")
    days = data["visits"]["days"]
    if max(days) > data["follow_up_days"]:
        fail("visits.days", f"last visit {max(days):g} is after follow_up_days "
                            f"{data['follow_up_days']:g}")


def _check_target(fail: schema.Fail, data: dict) -> None:
    """A product whose CAR binds no antigen the disease's tumour carries is refused, or run
    with a warning when the scenario insists (a negative control)."""
    from cartsim.presets import disease, product
    from cartsim.therapy.simulate import preset_parameters, targeting

    overrides = {k: v for k, v in data["patient"]["parameters"].items()
                 if k.startswith(("binds_", "dens_"))}
    try:
        seen = targeting(preset_parameters(disease(data["disease"]), product(data["product"]),
                                           **overrides))
    except ValueError:  # an unknown override: reported where the parameters are checked
        return
    if seen.targeted:
        return
    problem = (f"'{data['product']}' binds {', '.join(seen.bound) or 'no antigen'}, which "
               f"'{data['disease']}' tumour cells do not carry (they carry "
               f"{', '.join(seen.carried) or 'none of the model antigens'})")
    if not data["allow_untargeted_product"]:
        fail("product", f"{problem}; choose another product, or set "
                        "allow_untargeted_product: true to run it as a negative control")
    warnings.warn(f"{problem}: simulated as asked (allow_untargeted_product)", stacklevel=2)


def _check_fractions(fail: schema.Fail, infusion: dict) -> None:
    """Fractionated dosing: two or three fractions summing to 1, days rising from 0."""
    fractions, days = infusion["fractions"], infusion["fraction_days"]
    if not 2 <= len(fractions) == len(days) <= 3:
        fail("infusion.fractions", "fractions and fraction_days must be lists of the same "
                                   "length, 2 or 3")
    for i, (fraction, day) in enumerate(zip(fractions, days, strict=True)):
        problem = schema.number_problem(fraction, 0.01, 1)
        if problem:
            fail(f"infusion.fractions.{i}", problem)
        problem = schema.number_problem(day, 0, 30)
        if problem:
            fail(f"infusion.fraction_days.{i}", problem)
    if abs(sum(fractions) - 1.0) > 1e-6:
        fail("infusion.fractions", f"must sum to 1, got {sum(fractions):g}")
    if days[0] != 0 or any(b <= a for a, b in zip(days, days[1:], strict=False)):
        fail("infusion.fraction_days", f"must start at 0 and rise, got {days}")


def _check_published(fail: schema.Fail, published) -> None:
    from cartsim.journey.endpoints import ENDPOINT_NAMES

    if not isinstance(published, dict):
        fail("published", f"must be a mapping of endpoint to value, got {published!r}")
    for name, entry in published.items():
        where = f"published.{name}"
        if name not in ENDPOINT_NAMES:
            fail(where, f"unknown endpoint (known: {', '.join(ENDPOINT_NAMES)})")
        if not isinstance(entry, dict) or not {"value", "source"} <= set(entry) <= {
                "value", "n", "source"}:
            fail(where, "must be a mapping with 'value' (%), 'source' and optionally 'n' "
                        f"(the patients it is a share of), got {entry!r}")
        problem = schema.number_problem(entry["value"], 0, 100)
        if problem:
            fail(f"{where}.value", problem)
        if "n" in entry and (isinstance(entry["n"], bool) or not isinstance(entry["n"], int)
                             or entry["n"] < 1):
            fail(f"{where}.n", f"must be a whole number of patients >= 1, got {entry['n']!r}")
        if not isinstance(entry["source"], str) or not entry["source"].strip():
            fail(f"{where}.source", "must name where the value comes from")


def protocol_from_mapping(given: dict, file: str | None = None) -> dict:
    """The validated protocol: ``given`` merged over ``DEFAULTS``."""
    data = schema.validated(SCHEMA, given, lambda path, problem: ProtocolError(
        problem, file=file, element=path))
    _check(data, file)
    return data


def load_protocol(path: str | Path) -> dict:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    if not path.is_file():
        from cartsim.errors import did_you_mean
        from cartsim.journey.scenarios import builtin_scenarios

        raise ProtocolError("scenario file not found, nor a built-in scenario"
                            f"{did_you_mean(path.stem, builtin_scenarios())} (see `cartsim "
                            "journey --list`)", file=str(path))
    try:
        given = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProtocolError(f"not valid YAML: {exc}", file=str(path)) from None
    return protocol_from_mapping(given, str(path))
