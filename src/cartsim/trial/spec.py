"""A trial spec: arms (each a scenario with overrides), randomisation, replicates, analysis
population and endpoints, validated with every default and check in one schema.

A spec is a YAML mapping (``examples/trial-*.yaml``); a built-in scenario name or scenario
file is a one-arm trial. Every arm gets its own patients: arm k draws them from its scenario
with a seed derived from (the trial's seed, k), and replicate r of an arm is the block of
patients r * n .. (r + 1) * n - 1 of that stream, so replicates are independent trials of the
same design and a patient is the same whatever the chunking or backend.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml

from cartsim.errors import CartsimError
from cartsim.journey import protocol as protocol_module
from cartsim.journey import schema
from cartsim.journey.endpoints import DAYS_PER_MONTH, ENDPOINT_NAMES
from cartsim.journey.medians import MEDIAN_NAMES
from cartsim.journey.outcome import PatientOutcome
from cartsim.journey.scenarios import scenario_path

POPULATIONS = ("itt", "mitt", "infused")
"""Who a comparison counts, and from when: ``itt`` every enrolled patient from enrolment
(apheresis), ``mitt`` the infused patients whose product met its specification, ``infused``
every infused patient, both from infusion."""
SURVIVAL_ENDPOINTS = ("pfs", "os")
DEFAULT_SECONDARY = ("orr", "cr", "crs_grade3plus", "icans_grade3plus", "os_12mo", "pfs_12mo")
ARM_KEYS = ("name", "scenario", "ratio", "overrides")
MAIN_TRIAL = Path(__file__).parent / "specs" / "axi-cel-vs-salvage.yaml"
"""The main job's trial (``cartsim virtual-trial``)."""
ONE_ARM = "A"
"""The arm of a scenario run as a one-arm trial."""


class SpecError(CartsimError):
    """A trial spec that cannot be run: names the file, the key and the problem."""


def _check_secondary(value, path: str, fail) -> None:
    known = (*ENDPOINT_NAMES, *MEDIAN_NAMES)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(path, f"must be a list of endpoint names, got {value!r}")
    for name in value:
        if name not in known:
            fail(path, f"unknown endpoint {name!r} (known: {', '.join(known)})")


def _check_arms(value, path: str, fail) -> None:
    if not isinstance(value, list) or not value:
        fail(path, "must be a list of at least one arm (name, scenario, ratio, overrides)")
    names = set()
    for i, arm in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(arm, dict):
            fail(where, f"must be a mapping, got {arm!r}")
        unknown = set(arm) - set(ARM_KEYS)
        if unknown:
            fail(f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(ARM_KEYS)})")
        name = arm.get("name")
        if not isinstance(name, str) or not name or not name.replace("-", "").replace(
                "_", "").isalnum():
            fail(f"{where}.name", f"must be a name of letters, digits, - and _, got {name!r}")
        if name in names:
            fail(f"{where}.name", f"two arms are called {name!r}")
        names.add(name)
        if not isinstance(arm.get("scenario"), str | dict):
            fail(f"{where}.scenario", "must name a built-in scenario or a scenario file (or "
                                      f"be a scenario mapping), got {arm.get('scenario')!r}")
        problem = schema.number_problem(arm.get("ratio", 1), 0.01, 100)
        if problem:
            fail(f"{where}.ratio", problem)
        if not isinstance(arm.get("overrides", {}), dict):
            fail(f"{where}.overrides", "must be a mapping of scenario keys")


SCHEMA = {
    "name": schema.Text("virtual trial", note="shown in the report"),
    "seed": schema.Whole(1, note="each arm's patients derive theirs from it"),
    "patients": schema.Whole(200, 1, note="enrolled per replicate, over all arms by ratio"),
    "replicates": schema.Whole(1, 1, note="independent trials of this design (power)"),
    "follow_up_days": schema.Number(None, 30, 3650, optional=True,
                                    note="null: each arm's scenario's"),
    "accrual_months": schema.Number(0.0, 0, 120, note="enrolment spread evenly over this "
                                    "period in every arm and replicate (0: all at once)"),
    "data_cut_months": schema.Number(None, 0.5, 600, optional=True, note=(
        "the analysis, in months from the first enrolment: events after it are censored and "
        "patients enrolled after it left out of the survival analyses and time-point "
        "endpoints (response and toxicity read each line whole); null: once every patient "
        "has completed follow-up")),
    "crs_scale": schema.Choice(None, protocol_module.CRS_SCALES, optional=True,
                               note="null: each arm's scenario's; else every arm is graded "
                                    "(and managed) on this CRS scale"),
    "population": schema.Choice("itt", POPULATIONS, note="who the comparisons count"),
    "primary": {
        "endpoint": schema.Choice("pfs", SURVIVAL_ENDPOINTS, note="compared between arms"),
        "control": schema.Text("", note="the arm the others are compared with ('': the first)"),
        "alpha": schema.Number(0.05, 0.0001, 0.5, note="two-sided log-rank test"),
    },
    "secondary": schema.Value(list(DEFAULT_SECONDARY), _check_secondary,
                              {"type": "array", "items": {"type": "string"}},
                              "endpoints reported per replicate (their spread over replicates)"),
    "arms": schema.Value([], _check_arms, {
        "type": "array", "minItems": 1,
        "items": {"type": "object", "additionalProperties": False, "required": ["name", "scenario"],
                  "properties": {"name": {"type": "string"}, "scenario": {"type": "string"},
                                 "ratio": {"type": "number", "minimum": 0.01, "default": 1},
                                 "overrides": {"type": "object", "default": {}}}}},
        "each arm: a name, a scenario (built-in name or file, relative to the spec) with "
        "overrides of its keys, and its randomisation ratio (default 1)"),
}
"""Every key of a trial spec: its default and its check."""


@dataclass(frozen=True)
class Arm:
    """One arm: its validated scenario protocol (seeded for the arm) and its share."""

    name: str
    protocol: dict
    ratio: float


@dataclass(frozen=True)
class TrialSpec:
    """A validated trial spec with its arms' protocols resolved."""

    name: str
    seed: int
    patients: int
    replicates: int
    population: str
    primary: str
    control: str
    alpha: float
    secondary: tuple[str, ...]
    arms: tuple[Arm, ...]
    accrual_months: float = 0.0
    data_cut_months: float | None = None

    def enrolment_day(self, patient: int, per_replicate: int) -> float:
        """Days from the first enrolment to that of an arm's ``patient`` (its replicate's
        patients enrolled evenly over the accrual, at the middle of their share of it)."""
        share = (patient % per_replicate + 0.5) / per_replicate
        return self.accrual_months * DAYS_PER_MONTH * share

    def analysed_until(self, outcome: PatientOutcome, patient: int, per_replicate: int,
                       follow_up_days: float) -> float | None:
        """The last day (from infusion, the journey's clock) of an arm's ``patient`` that
        the analysis sees: the end of follow-up, or the data cut's day for this patient
        (None: enrolled after the data cut, not yet in the trial)."""
        if self.data_cut_months is None:
            return follow_up_days
        since_enrolment = self.data_cut_months * DAYS_PER_MONTH - self.enrolment_day(
            patient, per_replicate)
        if since_enrolment < 0:
            return None
        return min(follow_up_days, since_enrolment + (outcome.apheresis_day or 0.0))

    def arm_patients(self) -> dict[str, int]:
        """Patients of each arm per replicate: ``patients`` shared by ratio (at least one)."""
        total = sum(a.ratio for a in self.arms)
        return {a.name: max(1, round(self.patients * a.ratio / total)) for a in self.arms}

    def with_protocols(self, change: Callable[[dict], dict]) -> TrialSpec:
        """The spec with every arm's protocol changed by ``change`` (a calibration)."""
        return replace(self, arms=tuple(replace(a, protocol=change(a.protocol))
                                        for a in self.arms))

    def as_dict(self) -> dict:
        """The spec as a mapping whose arms hold their resolved scenarios (what a store
        records, and what :func:`spec_from_dict` reads back)."""
        return {"name": self.name, "seed": self.seed, "patients": self.patients,
                "replicates": self.replicates, "population": self.population,
                "primary": {"endpoint": self.primary, "control": self.control,
                            "alpha": self.alpha},
                "secondary": list(self.secondary), "accrual_months": self.accrual_months,
                "data_cut_months": self.data_cut_months,
                "arms": [{"name": a.name, "scenario": a.protocol, "ratio": a.ratio}
                         for a in self.arms]}


def arm_seed(seed: int, arm_index: int) -> int:
    """The scenario seed of arm ``arm_index``: its own patients, independent of the others."""
    return int(np.random.SeedSequence([seed, 7919, arm_index]).generate_state(1)[0] % 2**31)


def load_spec(source: str | Path | dict, *, patients: int | None = None,
              seed: int | None = None, replicates: int | None = None) -> TrialSpec:
    """A trial spec (file, or mapping with ``arms``), or a built-in scenario name, scenario
    file or scenario mapping as a one-arm trial; ``patients`` per replicate, ``seed`` and
    ``replicates`` (a spec's only) as the command line gives them (None: the spec's), checked
    as the spec's own keys are."""
    given, file, folder = None, None, None
    if isinstance(source, dict):
        given = source if "arms" in source else None
    else:
        path = Path(str(source))
        if path.suffix in (".yaml", ".yml") and path.is_file():
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as error:
                raise SpecError(f"not valid YAML: {error}", file=str(path)) from None
            if isinstance(loaded, dict) and "arms" in loaded:
                given, file, folder = loaded, str(path), path.parent
    if given is None:
        return one_arm_spec(source, seed, patients)
    cli = {k: v for k, v in (("patients", patients), ("seed", seed),
                             ("replicates", replicates)) if v is not None}
    return spec_from_dict({**given, **cli}, file=file, folder=folder)


def one_arm_spec(scenario: str | Path | dict, seed: int | None = None,
                 patients: int | None = None) -> TrialSpec:
    """A scenario (name, file or mapping) as a one-arm trial, arm "A", with the scenario's
    own seed (so its patients are the scenario's cohort patients), analysed over the
    infused as single-arm CAR-T trials report."""
    protocol = (protocol_module.protocol_from_mapping(scenario) if isinstance(scenario, dict)
                else protocol_module.load_protocol(scenario_path(str(scenario))))
    if seed is not None:
        protocol = protocol_module.protocol_from_mapping({**protocol, "seed": int(seed)})
    return TrialSpec(protocol["name"], protocol["seed"],
                     SCHEMA["patients"].default if patients is None else patients, 1,
                     "infused", "pfs", ONE_ARM, 0.05, DEFAULT_SECONDARY,
                     (Arm(ONE_ARM, protocol, 1.0),))


def spec_from_dict(given: dict, *, file: str | None = None,
                   folder: Path | None = None) -> TrialSpec:
    """Validate ``given`` (unknown keys and impossible values are errors naming the key) and
    resolve every arm's scenario, with the trial's follow-up and the arm's seed."""
    def error(path: str, problem: str) -> SpecError:
        return SpecError(problem, file=file, element=path)

    def fail(path: str, problem: str) -> None:
        raise error(path, problem)

    data = schema.validated(SCHEMA, given, error)
    names = [arm["name"] for arm in data["arms"]]
    control = data["primary"]["control"] or names[0]
    if control not in names:
        fail("primary.control", f"must be one of the arms ({', '.join(names)}), got {control!r}")
    arms = []
    for k, arm in enumerate(data["arms"]):
        where = f"arms[{k}]"
        scenario = _scenario_mapping(arm["scenario"], folder, f"{where}.scenario", fail)
        overrides = arm.get("overrides", {})
        scenario = _overlaid(scenario, overrides)
        if overrides and "published" not in overrides:
            scenario["published"] = {}  # they describe the scenario's trial, not this variant
        scenario["seed"] = arm_seed(data["seed"], k)
        if data["crs_scale"] is not None:
            scenario.setdefault("monitoring", {})["crs_scale"] = data["crs_scale"]
        if data["follow_up_days"] is not None:  # the trial's follow-up ends its visits too
            scenario["follow_up_days"] = data["follow_up_days"]
            visits = scenario.setdefault("visits", {})
            visits["days"] = [day for day in visits.get(
                "days", protocol_module.DEFAULTS["visits"]["days"])
                if day <= data["follow_up_days"]]
        try:
            protocol = protocol_module.protocol_from_mapping(scenario)
        except protocol_module.ProtocolError as problem:
            fail(f"{where}.{problem.element}" if problem.element else where,
                 problem.problem)
        arms.append(Arm(arm["name"], protocol, float(arm.get("ratio", 1))))
    primary = data["primary"]
    return TrialSpec(data["name"], data["seed"], data["patients"], data["replicates"],
                     data["population"], primary["endpoint"], control, primary["alpha"],
                     tuple(data["secondary"]), tuple(arms), data["accrual_months"],
                     data["data_cut_months"])


def _scenario_mapping(scenario, folder: Path | None, path: str, fail) -> dict:
    """An arm's scenario as a mapping: already resolved (a stored spec), a file (relative to
    the spec's folder) or a built-in name."""
    if isinstance(scenario, dict):
        return copy.deepcopy(scenario)
    candidate = Path(scenario)
    if folder is not None and not candidate.is_absolute() and (folder / candidate).is_file():
        candidate = folder / candidate
    try:
        return copy.deepcopy(protocol_module.load_protocol(
            candidate if candidate.is_file() else scenario_path(scenario)))
    except CartsimError as problem:
        fail(path, problem.problem)
    raise AssertionError("unreachable")  # fail raises


def _overlaid(base: dict, overrides: dict, sections: dict | None = None) -> dict:
    """``overrides`` laid over ``base``: section by section where the scenario schema has
    sections, whole values elsewhere (a policy mapping replaces the policy)."""
    sections = protocol_module.SCHEMA if sections is None else sections
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        node = sections.get(key)
        if isinstance(node, dict) and isinstance(value, dict) and isinstance(result.get(key),
                                                                              dict):
            result[key] = _overlaid(result[key], value, node)
        else:
            result[key] = copy.deepcopy(value)
    return result


def spec_json_schema() -> dict:
    return schema.json_schema(SCHEMA, "cartsim trial spec")
