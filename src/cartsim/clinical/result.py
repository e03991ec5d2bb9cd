"""What a clinical rule returns: a grade, a response category or a score, with the rule that
decided it as a sentence (for the CLI's JSON and for audit trails in virtual trials)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


class _AsDict:
    """``as_dict`` for the result dataclasses (the CLI's JSON)."""

    def as_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Grade(_AsDict):
    """A toxicity grade (0 = none) on ``scale``; ``rule`` names the deciding criterion."""

    grade: int
    scale: str
    rule: str

    def __str__(self) -> str:
        return f"{self.scale} grade {self.grade}: {self.rule}"


@dataclass(frozen=True)
class Response(_AsDict):
    """A response category (e.g. CR, PR) under the criteria named by ``scale``."""

    category: str
    scale: str
    rule: str

    def __str__(self) -> str:
        return f"{self.scale}: {self.category} ({self.rule})"


@dataclass(frozen=True)
class Score(_AsDict):
    """A risk score; ``risk`` is the group, or None where no cut-off is sourced."""

    score: float
    risk: str | None
    scale: str
    rule: str

    def __str__(self) -> str:
        risk = f" ({self.risk} risk)" if self.risk else ""
        return f"{self.scale} {self.score:g}{risk}: {self.rule}"


def worst(scale: str, findings: Iterable[tuple[int, str]], nothing: str,
          note: str = "") -> Grade:
    """The grade of the most severe ``(level, description)`` finding, naming every finding
    at that level; ``nothing`` describes a patient with no finding above level 0."""
    present = [(lvl, text) for lvl, text in findings if lvl > 0]
    if not present:
        return Grade(0, scale, f"{nothing} -> grade 0{note}")
    top = max(lvl for lvl, _ in present)
    named = " and ".join(text for lvl, text in present if lvl == top)
    return Grade(top, scale, f"{named} -> grade {top}{note}")
