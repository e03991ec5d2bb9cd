"""A treatment protocol as data: the YAML scenario of one patient's journey, validated.

Sections mirror the journey in the seeds: patient, apheresis, manufacturing, wait (drop-out and
death before infusion), bridging, lymphodepletion, infusion, monitoring, visits, management
policy, rescue, and the trial's published results to compare a cohort with. Every key has a
default (``DEFAULTS``), so a scenario states only what differs; an unknown key, a wrong type or
an impossible value is an error naming its path in the file. Days count from the planned
infusion (day 0).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import yaml

from cartsim.errors import CartsimError
from cartsim.journey.policy import number_problem


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

DEFAULTS: dict[str, Any] = {
    "name": "unnamed scenario",
    "product": "axi-cel",
    "disease": "lbcl",
    "allow_untargeted_product": False,  # true: run a CAR whose antigen the tumour lacks
    "seed": 0,
    "patient": {
        "weight_kg": None,            # None: the disease preset's weight
        "lymphocytes_per_ul": 1000.0,
        "anc_10e9_l": 2.0,
        "platelets_10e9_l": 150.0,
        "transplant_eligible": False,
        "background_mortality_per_year": 0.02,
        "parameters": {},             # model parameter overrides (docs/model.md)
    },
    "apheresis": {
        "blood_volumes": 2.0,
        "collection_efficiency": 0.5,
        "minimum_cells": 1.0e9,
    },
    "manufacturing": {
        "median_days": 17.0,
        "spread": 0.2,
        "failure_probability": 0.01,
        "out_of_spec_probability": 0.0,
        "out_of_spec_dose_fraction": 0.5,
        "release_to_infusion_days": 7.0,
        # product attributes vary between patients' products: SD on the logit scale around
        # the product preset's value (0: every product as the preset)
        "cd4_fraction_spread": 0.0,
        "memory_fraction_spread": 0.0,
    },
    "wait": {
        "dropout_per_day": 0.001,
        "lethal_tumour_cells": 1.0e12,
    },
    "bridging": {"therapy": "none", "stop_days_before_lymphodepletion": 3.0},
    "lymphodepletion": {
        "regimen": "flu-cy",
        "start_day": -5.0,
        "fludarabine_mg_m2": 30.0,
        "fludarabine_days": 3,
        "cyclophosphamide_mg_m2": 500.0,
        "cyclophosphamide_days": 3,
        "cyclophosphamide_start_day": None,   # None: with fludarabine, from start_day
        "bendamustine_mg_m2": 90.0,
        "bendamustine_days": 2,
    },
    "infusion": {
        "schedule": "single",
        "dose_cells": None,           # None: the product preset's dose
        "first_fraction": 1.0,        # split: the first of two infusions
        "second_day": 1.0,
        **FRACTIONATED,               # fractionated: up to three infusions, the first on day 0
    },
    "monitoring": {"days": 28.0, "grading_interval_hours": 6.0,   # close monitoring
                   "follow_up_grading_interval_hours": 24.0,  # after it (chosen: GradingTimes)
                   "crs_scale": "astct"},
    "visits": {"days": [28.0, 90.0, 180.0, 270.0, 365.0], "criteria": None},
    "follow_up_days": 365.0,
    "policy": "standard",
    "failure": {"early_relapse_days": None},  # None: the disease's convention (failure.py)
    "rescue": {"enabled": True, "delay_days": 14.0, "follow_up_days": 365.0},
    "published": {},                  # endpoint -> {value: %, source: text}, for cohorts
}


def _merge(defaults: dict, given: dict, path: str) -> dict:
    if not isinstance(given, dict):
        raise ProtocolError(f"must be a mapping, got {type(given).__name__}", element=path)
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in defaults:
            raise ProtocolError(f"unknown key (known: {', '.join(defaults)})", element=where)
        default = defaults[key]
        if isinstance(default, dict) and default and key != "parameters":
            merged[key] = _merge(default, value, where)
        else:
            merged[key] = value
    return merged


class _Checker:
    """Reads typed values from the merged protocol, naming the path of anything wrong."""

    def __init__(self, data: dict, file: str | None):
        self.data = data
        self.file = file

    def get(self, path: str):
        value: Any = self.data
        for part in path.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value

    def fail(self, path: str, problem: str) -> None:
        raise ProtocolError(problem, file=self.file, element=path)

    def number(self, path: str, low: float = 0.0, high: float = float("inf")) -> float:
        value = self.get(path)
        problem = number_problem(value, low, high)
        if problem:
            self.fail(path, problem)
        return float(value)

    def choice(self, path: str, options) -> str:
        value = self.get(path)
        if value not in options:
            self.fail(path, f"must be one of {', '.join(map(str, options))}, got {value!r}")
        return value

    def flag(self, path: str) -> bool:
        value = self.get(path)
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {value!r}")
        return value


def _check(data: dict, file: str | None) -> None:
    c = _Checker(data, file)
    from cartsim.journey.policy import PolicyError, resolve_policy
    from cartsim.presets import DISEASES, PRODUCTS

    c.choice("product", PRODUCTS)
    c.choice("disease", DISEASES)
    c.flag("allow_untargeted_product")
    _check_target(c, data)
    if not isinstance(data["seed"], int) or data["seed"] < 0:
        c.fail("seed", f"must be a non-negative whole number, got {data['seed']!r}")
    if data["patient"]["weight_kg"] is not None:
        c.number("patient.weight_kg", 2, 300)
    c.number("patient.lymphocytes_per_ul", 0, 1e6)
    c.number("patient.anc_10e9_l", 0, 200)
    c.number("patient.platelets_10e9_l", 0, 2000)
    c.flag("patient.transplant_eligible")
    c.number("patient.background_mortality_per_year", 0, 10)
    for key, value in data["patient"]["parameters"].items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            c.fail(f"patient.parameters.{key}", f"must be a number, got {value!r}")
    c.number("apheresis.blood_volumes", 0.1, 10)
    c.number("apheresis.collection_efficiency", 0, 1)
    c.number("apheresis.minimum_cells", 0)
    c.number("manufacturing.median_days", 1, 365)
    c.number("manufacturing.spread", 0, 3)
    for key in ("failure_probability", "out_of_spec_probability", "out_of_spec_dose_fraction"):
        c.number(f"manufacturing.{key}", 0, 1)
    c.number("manufacturing.release_to_infusion_days", 0, 365)
    c.number("manufacturing.cd4_fraction_spread", 0, 5)
    c.number("manufacturing.memory_fraction_spread", 0, 5)
    c.number("wait.dropout_per_day", 0, 1)
    c.number("wait.lethal_tumour_cells", 1)
    c.choice("bridging.therapy", BRIDGING_OPTIONS)
    c.number("bridging.stop_days_before_lymphodepletion", 0, 60)
    c.choice("lymphodepletion.regimen", LYMPHODEPLETION_REGIMENS)
    c.number("lymphodepletion.start_day", -30, 0)
    for drug in ("fludarabine", "cyclophosphamide", "bendamustine"):
        c.number(f"lymphodepletion.{drug}_mg_m2", 0, 5000)
        c.number(f"lymphodepletion.{drug}_days", 0, 10)
    ld = data["lymphodepletion"]
    if ld["cyclophosphamide_start_day"] is not None:
        day = c.number("lymphodepletion.cyclophosphamide_start_day", -30, -1)
        if day < ld["start_day"]:
            c.fail("lymphodepletion.cyclophosphamide_start_day",
                   f"must not be before start_day {ld['start_day']:g}, got {day:g}")
        if day + ld["cyclophosphamide_days"] > 0:
            c.fail("lymphodepletion.cyclophosphamide_start_day",
                   f"{ld['cyclophosphamide_days']:g} days from day {day:g} run past the "
                   "infusion on day 0")
    c.choice("infusion.schedule", INFUSION_SCHEDULES)
    if data["infusion"]["dose_cells"] is not None:
        c.number("infusion.dose_cells", 1e3, 1e12)
    c.number("infusion.first_fraction", 0.01, 1)
    c.number("infusion.second_day", 0.5, 30)
    _check_fractions(c, data["infusion"])
    c.number("monitoring.days", 1, 365)
    close = c.number("monitoring.grading_interval_hours", 1, 24)
    follow_up = c.number("monitoring.follow_up_grading_interval_hours", close, 24)
    if abs(follow_up / close - round(follow_up / close)) > 1e-9:
        c.fail("monitoring.follow_up_grading_interval_hours",
               f"must be a multiple of grading_interval_hours ({close:g}), got {follow_up:g}")
    c.choice("monitoring.crs_scale", CRS_SCALES)
    days = data["visits"]["days"]
    if (not isinstance(days, list) or not days
            or any(isinstance(d, bool) or not isinstance(d, int | float) or d <= 0 for d in days)
            or sorted(days) != days):
        c.fail("visits.days", f"must be a non-empty increasing list of days > 0, got {days!r}")
    if data["visits"]["criteria"] is not None:
        c.choice("visits.criteria", RESPONSE_CRITERIA)
    c.number("follow_up_days", 1, 3650)
    if max(days) > data["follow_up_days"]:
        c.fail("visits.days", f"last visit {max(days):g} is after follow_up_days "
                              f"{data['follow_up_days']:g}")
    try:
        resolve_policy(data["policy"])
    except PolicyError as exc:
        c.fail(f"policy.{exc.key}" if exc.key else "policy", exc.problem)
    if data["failure"]["early_relapse_days"] is not None:
        c.number("failure.early_relapse_days", 1, 3650)
    c.flag("rescue.enabled")
    c.number("rescue.delay_days", 0, 365)
    c.number("rescue.follow_up_days", 1, 3650)
    _check_published(c, data["published"])


def _check_target(c: _Checker, data: dict) -> None:
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
        c.fail("product", f"{problem}; choose another product, or set "
                          "allow_untargeted_product: true to run it as a negative control")
    warnings.warn(f"{problem}: simulated as asked (allow_untargeted_product)", stacklevel=2)


def _check_fractions(c, infusion: dict) -> None:
    """Fractionated dosing: two or three fractions summing to 1, days rising from 0."""
    fractions, days = infusion["fractions"], infusion["fraction_days"]
    if not (isinstance(fractions, list) and isinstance(days, list)
            and 2 <= len(fractions) == len(days) <= 3):
        c.fail("infusion.fractions", "fractions and fraction_days must be lists of the same "
                                     "length, 2 or 3")
    for i in range(len(fractions)):
        c.number(f"infusion.fractions.{i}", 0.01, 1)
        c.number(f"infusion.fraction_days.{i}", 0, 30)
    if abs(sum(fractions) - 1.0) > 1e-6:
        c.fail("infusion.fractions", f"must sum to 1, got {sum(fractions):g}")
    if days[0] != 0 or any(b <= a for a, b in zip(days, days[1:], strict=False)):
        c.fail("infusion.fraction_days", f"must start at 0 and rise, got {days}")


def _check_published(c: _Checker, published) -> None:
    from cartsim.journey.endpoints import ENDPOINT_NAMES

    if not isinstance(published, dict):
        c.fail("published", f"must be a mapping of endpoint to value, got {published!r}")
    for name, entry in published.items():
        where = f"published.{name}"
        if name not in ENDPOINT_NAMES:
            c.fail(where, f"unknown endpoint (known: {', '.join(ENDPOINT_NAMES)})")
        if not isinstance(entry, dict) or not {"value", "source"} <= set(entry) <= {
                "value", "n", "source"}:
            c.fail(where, "must be a mapping with 'value' (%), 'source' and optionally 'n' "
                          f"(the patients it is a share of), got {entry!r}")
        c.number(f"{where}.value", 0, 100)
        if "n" in entry and (isinstance(entry["n"], bool) or not isinstance(entry["n"], int)
                             or entry["n"] < 1):
            c.fail(f"{where}.n", f"must be a whole number of patients >= 1, got {entry['n']!r}")
        if not isinstance(entry["source"], str) or not entry["source"].strip():
            c.fail(f"{where}.source", "must name where the value comes from")


def protocol_from_mapping(given: dict, file: str | None = None) -> dict:
    """The validated protocol: ``given`` merged over ``DEFAULTS``."""
    try:
        data = _merge(DEFAULTS, given, "")
    except ProtocolError as exc:
        raise ProtocolError(exc.problem, file=file, element=exc.element) from None
    _check(data, file)
    return data


def load_protocol(path: str | Path) -> dict:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ProtocolError("scenario file not found", file=str(path))
    try:
        given = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProtocolError(f"not valid YAML: {exc}", file=str(path)) from None
    return protocol_from_mapping(given, str(path))
