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
