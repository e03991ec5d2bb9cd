"""A schema for nested YAML mappings: each key's default and check in one place.

A schema is a mapping of section names to schemas and of key names to fields; a field holds
its default and how a given value is checked. :func:`defaults` gives the mapping of every
default, :func:`merged` lays a given mapping over them (an unknown key is an error naming its
path), :func:`check` checks every field of a merged mapping, :func:`validated` does both and
reports every mistake of a file at once, and :func:`json_schema` writes the schema out for
editors and other tools, and :func:`reference_rows` for people (docs/scenarios.md).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cartsim.errors import did_you_mean

Fail = Callable[[str, str], None]
"""Reports the problem of the value at a path (and does not return)."""


def number_problem(value, low: float = 0.0, high: float = float("inf")) -> str | None:
    """What is wrong with a value that must be a number from ``low`` to ``high`` (None:
    nothing)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, got {value!r}"
    if not low <= value <= high:
        return f"must be from {low:g} to {high:g}, got {value:g}"
    return None


@dataclass(frozen=True)
class Number:
    """A number from ``low`` to ``high`` (``optional``: or None, which means ``note``)."""

    default: float | None
    low: float = 0.0
    high: float = float("inf")
    optional: bool = False
    note: str = ""

    def check(self, value, path: str, fail: Fail) -> None:
        if value is None and self.optional:
            return
        problem = number_problem(value, self.low, self.high)
        if problem:
            fail(path, problem)

    def json(self) -> dict:
        kind = {"type": "number", "minimum": self.low}
        if self.high != float("inf"):
            kind["maximum"] = self.high
        return _maybe_null(kind, self.optional)


@dataclass(frozen=True)
class Whole:
    """A whole number of at least ``low``."""

    default: int
    low: int = 0
    note: str = ""

    def check(self, value, path: str, fail: Fail) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < self.low:
            fail(path, f"must be a whole number >= {self.low}, got {value!r}")

    def json(self) -> dict:
        return {"type": "integer", "minimum": self.low}


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (a function giving them, when they live elsewhere)."""

    default: str | None
    options: tuple[str, ...] | Callable[[], Iterable[str]]
    optional: bool = False
    note: str = ""

    def choices(self) -> tuple[str, ...]:
        return tuple(self.options() if callable(self.options) else self.options)

    def check(self, value, path: str, fail: Fail) -> None:
        if value is None and self.optional:
            return
        options = self.choices()
        if value not in options:
            fail(path, f"must be one of {', '.join(map(str, options))}, got {value!r}")

    def json(self) -> dict:
        return _maybe_null({"enum": list(self.choices())}, self.optional)


@dataclass(frozen=True)
class Flag:
    default: bool
    note: str = ""

    def check(self, value, path: str, fail: Fail) -> None:
        if not isinstance(value, bool):
            fail(path, f"must be true or false, got {value!r}")

    def json(self) -> dict:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Text:
    default: str
    note: str = ""

    def check(self, value, path: str, fail: Fail) -> None:
        if not isinstance(value, str):
            fail(path, f"must be text, got {value!r}")

    def json(self) -> dict:
        return {"type": "string"}


@dataclass(frozen=True)
class Value:
    """Anything ``checker(value, path, fail)`` accepts (lists, mappings, policies); described
    for tools by ``described`` (a JSON schema)."""

    default: Any
    checker: Callable[[Any, str, Fail], None]
    described: dict
    note: str = ""

    def check(self, value, path: str, fail: Fail) -> None:
        self.checker(value, path, fail)

    def json(self) -> dict:
        return self.described


Field = Number | Whole | Choice | Flag | Text | Value


def _maybe_null(kind: dict, optional: bool) -> dict:
    return {"anyOf": [kind, {"type": "null"}]} if optional else kind


def defaults(schema: dict) -> dict:
    """The mapping of every default."""
    return {key: defaults(node) if isinstance(node, dict) else copy.deepcopy(node.default)
            for key, node in schema.items()}


class _Noted(Exception):
    """Raised by :class:`Mistakes` to stop checking one key once its mistake is noted."""


@dataclass
class Mistakes:
    """A :data:`Fail` that notes each (path, problem) so that a file's mistakes are reported
    together; checking goes on with the next key."""

    found: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, path: str, problem: str) -> None:
        self.found.append((path, problem))
        raise _Noted

    def raise_any(self, error: Callable[[str | None, str], Exception]) -> None:
        """Raise ``error(path, problem)`` for one mistake, or one error listing them all."""
        if len(self.found) == 1:
            raise error(*self.found[0])
        if self.found:
            raise error(None, f"{len(self.found)} mistakes:\n" + "\n".join(
                f"  {path}: {problem}" for path, problem in self.found))


def merged(schema: dict, given, path: str = "", *, fail: Fail):
    """``given`` laid over the defaults; ``fail(path, problem)`` for a section that is not a
    mapping (its defaults stand) or an unknown key (left out)."""
    result = defaults(schema)
    if not isinstance(given, dict):
        _noting(fail, path, f"must be a mapping, got {type(given).__name__}")
        return result
    for key, value in given.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in schema:
            _noting(fail, where, f"unknown key{did_you_mean(key, schema)} (known: "
                                 f"{', '.join(schema)})")
            continue
        node = schema[key]
        result[key] = (merged(node, value, where, fail=fail) if isinstance(node, dict)
                       else value)
    return result


def check(schema: dict, data: dict, fail: Fail, path: str = "") -> None:
    """Check every field of the merged ``data``."""
    for key, node in schema.items():
        where = f"{path}.{key}" if path else key
        if isinstance(node, dict):
            check(node, data[key], fail, where)
        else:
            try:
                node.check(data[key], where, fail)
            except _Noted:
                pass


def validated(schema: dict, given, error: Callable[[str | None, str], Exception]) -> dict:
    """``given`` merged over the defaults and checked field by field; every unknown key and
    impossible value is raised together as ``error(path, problem)`` (path None: several)."""
    mistakes = Mistakes()
    data = merged(schema, given, fail=mistakes)
    check(schema, data, mistakes)
    mistakes.raise_any(error)
    return data


def _noting(fail: Fail, path: str, problem: str) -> None:
    """``fail``, going on after a noted mistake."""
    try:
        fail(path, problem)
    except _Noted:
        pass


def json_schema(schema: dict, title: str = "") -> dict:
    """The schema as JSON Schema (draft 2020-12): types, ranges, choices, defaults, notes."""
    def node_json(node) -> dict:
        if isinstance(node, dict):
            return {"type": "object", "additionalProperties": False,
                    "properties": {key: node_json(child) for key, child in node.items()}}
        described = {**node.json(), "default": node.default}
        if node.note:
            described["description"] = node.note
        return described

    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            **({"title": title} if title else {}), **node_json(schema)}


@dataclass(frozen=True)
class ReferenceRow:
    """One key of a schema as a person reads it: its dotted path, what it accepts, its
    default and its note."""

    path: str
    accepts: str
    default: str
    note: str


def reference_rows(schema: dict, path: str = "") -> list[ReferenceRow]:
    """Every key of ``schema``, depth first in the schema's order."""
    rows = []
    for key, node in schema.items():
        where = f"{path}.{key}" if path else key
        if isinstance(node, dict):
            rows.extend(reference_rows(node, where))
        else:
            rows.append(ReferenceRow(where, _accepts(node), _shown(node.default), node.note))
    return rows


def _accepts(node: Field) -> str:
    if isinstance(node, Number):
        text = (f"number >= {node.low:g}" if node.high == float("inf")
                else f"number from {node.low:g} to {node.high:g}")
    elif isinstance(node, Whole):
        text = f"whole number >= {node.low}"
    elif isinstance(node, Choice):
        text = "one of " + ", ".join(f"`{option}`" for option in node.choices())
    elif isinstance(node, Flag):
        text = "true or false"
    elif isinstance(node, Text):
        text = "text"
    else:
        text = _described(node.described)
    return text + (", or null" if getattr(node, "optional", False) else "")


def _described(described: dict) -> str:
    """A JSON schema of a :class:`Value` in words."""
    if "anyOf" in described:
        return " or ".join(_described(option) for option in described["anyOf"])
    kind = described.get("type")
    if kind == "array":
        items = described.get("items", {}).get("type")
        return {"number": "list of numbers", "string": "list of names",
                "object": "list of mappings"}.get(items, "list")
    return {"object": "mapping", "string": "name", "number": "number"}.get(kind, str(kind))


def _shown(value) -> str:
    """A default as YAML writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if value == "":
        return '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else "{" + ", ".join(f"{k}: {_shown(v)}"
                                                      for k, v in value.items()) + "}"
    return str(value)
