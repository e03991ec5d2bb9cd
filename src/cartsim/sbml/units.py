"""Unit consistency of an SBML file, as libsbml's unit checks report it.

Importing does not check units: published SBML models often declare them incompletely or
inconsistently (every model in ../shared/biomodels/ has findings), and the numbers, not the
declarations, define the dynamics. This check is asked for explicitly (``cartsim sbml check
--units``, ``cartsim sbml run --check-units``); a mismatch is then an error naming the file,
the line and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import libsbml

from cartsim.errors import SBMLError

UNDECLARED = 99505
"""libsbml's "missing unit declarations": units that cannot be checked, not a mismatch."""


@dataclass(frozen=True)
class UnitFinding:
    line: int
    code: int
    message: str

    @property
    def mismatch(self) -> bool:
        return self.code != UNDECLARED

    def __str__(self) -> str:
        kind = "unit mismatch" if self.mismatch else "units not declared"
        return f"line {self.line}: {kind}: {self.message}"


def unit_findings(path: str | Path) -> list[UnitFinding]:
    """Every unit-consistency finding of the SBML file at ``path``, in file order."""
    path = Path(path)
    if not path.is_file():
        raise SBMLError("file not found", file=str(path))
    document = libsbml.readSBMLFromFile(str(path))
    for category in (libsbml.LIBSBML_CAT_GENERAL_CONSISTENCY,
                     libsbml.LIBSBML_CAT_IDENTIFIER_CONSISTENCY,
                     libsbml.LIBSBML_CAT_MATHML_CONSISTENCY,
                     libsbml.LIBSBML_CAT_SBO_CONSISTENCY,
                     libsbml.LIBSBML_CAT_OVERDETERMINED_MODEL,
                     libsbml.LIBSBML_CAT_MODELING_PRACTICE):
        document.setConsistencyChecks(category, False)
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    read_errors = document.getNumErrors()
    document.checkConsistency()
    findings = []
    for i in range(read_errors, document.getNumErrors()):
        error = document.getError(i)
        if error.getCategory() == libsbml.LIBSBML_CAT_UNITS_CONSISTENCY:
            findings.append(UnitFinding(error.getLine(), error.getErrorId(), _message(error)))
    return sorted(set(findings), key=lambda f: (f.line, f.code, f.message))


SHORT_KINDS = {"second": "s", "litre": "L", "liter": "L", "mole": "mol", "gram": "g",
               "metre": "m", "meter": "m", "dimensionless": "1"}
PREFIXES = {-12: "p", -9: "n", -6: "u", -3: "m", -2: "c", -1: "d", 3: "k", 6: "M"}
TIME_FACTORS = {60.0: "min", 3600.0: "h", 86400.0: "day", 604800.0: "week"}


def declared_units(path: str | Path) -> dict[str, str]:
    """The unit of each compartment, species and (global or reaction-local, as
    ``REACTION.ID``) parameter of the SBML file, by id: the unit definition's name where the
    model names it (BioModels write "1/d"), else the derived unit written out ("item/L",
    "1/day"); "undeclared" where the model says nothing (libsbml cannot derive one)."""
    model = libsbml.readSBMLFromFile(str(path)).getModel()
    if model is None:
        raise SBMLError("no model in the file", file=str(path))
    units: dict[str, str] = {}
    for element in [*model.getListOfCompartments(), *model.getListOfSpecies(),
                    *model.getListOfParameters()]:
        units[element.getId()] = _unit_text(model, element)
    for reaction in model.getListOfReactions():
        law = reaction.getKineticLaw()
        local = [] if law is None else [*law.getListOfParameters(),
                                        *law.getListOfLocalParameters()]
        for parameter in local:
            units[f"{reaction.getId()}.{parameter.getId()}"] = _unit_text(model, parameter)
    return units


def _unit_text(model, element) -> str:
    # a species' own attribute is its substance only: its unit is derived (amount or
    # concentration, as hasOnlySubstanceUnits says)
    species = isinstance(element, libsbml.Species)
    declared = element.getUnits() if element.isSetUnits() and not species else ""
    definition = model.getUnitDefinition(declared) if declared else None
    if definition is not None and definition.getName():
        return definition.getName()
    if declared and libsbml.UnitKind_isValidUnitKindString(declared, model.getLevel(),
                                                          model.getVersion()):
        return SHORT_KINDS.get(declared, declared)
    derived = element.getDerivedUnitDefinition()
    if derived is None or derived.getNumUnits() == 0:
        return "undeclared"
    return _written(derived)


def _written(definition) -> str:
    """A unit definition as "a*b/c^2", each factor in its usual short form."""
    above, below = [], []
    for unit in definition.getListOfUnits():
        kind = libsbml.UnitKind_toString(unit.getKind())
        factor = unit.getMultiplier() * 10.0 ** unit.getScale()
        if kind == "second" and factor in TIME_FACTORS:
            text = TIME_FACTORS[factor]
        elif unit.getMultiplier() == 1.0 and unit.getScale() in PREFIXES:
            text = PREFIXES[unit.getScale()] + SHORT_KINDS.get(kind, kind)
        else:
            text = SHORT_KINDS.get(kind, kind)
            text = text if factor == 1.0 else f"({factor:g} {text})"
        power = abs(unit.getExponentAsDouble())
        text += "" if power == 1.0 else f"^{power:g}"
        (above if unit.getExponentAsDouble() > 0 else below).append(text)
    top = "*".join(a for a in above if a != "1") or "1"
    return top + "".join(f"/{b}" for b in below)


def _message(error) -> str:
    """libsbml's one-line summary and the specifics after its reference to the spec."""
    text = " ".join(error.getMessage().split())
    detail = re.sub(r"^\s*L\dV\d Sections? [\d.]+(?:\s*(?:,|AND)\s*[\d.]+)*\s*", "",
                    text.partition("Reference:")[2])
    return f"{error.getShortMessage().strip()}; {detail}" if detail else text


def require_consistent_units(path: str | Path,
                             findings: list[UnitFinding] | None = None) -> list[UnitFinding]:
    """The findings (of ``path``, unless already found), or an SBMLError naming the first unit
    mismatch."""
    findings = unit_findings(path) if findings is None else findings
    mismatches = [f for f in findings if f.mismatch]
    if mismatches:
        first = mismatches[0]
        more = f" ({len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        raise SBMLError(f"unit mismatch: {first.message}{more}", file=str(path),
                        element=f"line {first.line}")
    return findings
