"""``docs/model.md``: the therapy model written out from its description (never by hand)."""

from __future__ import annotations

from cartsim.model import Model
from cartsim.presets.citations import bibliography, cited_keys
from cartsim.therapy import therapy_model, therapy_parts

HEADER = """# The cartsim therapy model

Generated from the model description by `cartsim model-docs --out docs/model.md`; a test fails
when this file is out of date. Time is in days from the first infusion; cell populations are in
Gcell (1e9 cells), total body. Each parameter's source starts with a citation key (listed at the
end), `chosen:` where no published value exists (with the reason), or `definition:`.
"""


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _terms(terms: tuple) -> str:
    return " + ".join(f"({t})" for t in terms) if len(terms) > 1 else str(terms[0])


def submodel_markdown(model: Model) -> list[str]:
    """One section: the docstring's first line, states, equations, assignments, parameters,
    observables and events of a submodel."""
    lines = [f"## {model.name}", "", model.description, ""]
    if model.states:
        lines += ["| state | unit | initial | meaning |", "|---|---|---|---|"]
        lines += [f"| `{s.name}` | {s.unit or '-'} | `{_cell(s.initial)}` | "
                  f"{_cell(s.description)} |" for s in model.states]
        lines.append("")
    if model.equations:
        lines += ["Equations:", ""]
        lines += [f"- d`{name}`/dt = `{_cell(_terms(terms))}`"
                  for name, terms in model.equations.items()]
        lines.append("")
    if model.assignments:
        lines += ["| quantity | unit | definition | meaning |", "|---|---|---|---|"]
        lines += [f"| `{a.name}` | {a.unit or '-'} | `{_cell(a.expression)}` | "
                  f"{_cell(a.description)} |" for a in model.assignments]
        lines.append("")
    if model.parameters:
        lines += ["| parameter | value | unit | source | meaning |", "|---|---|---|---|---|"]
        lines += [f"| `{p.name}` | {p.default:g} | {p.unit or '-'} | {_cell(p.source)} | "
                  f"{_cell(p.description)} |" for p in model.parameters]
        lines.append("")
    if model.observables:
        lines += ["| observable | unit | definition | meaning |", "|---|---|---|---|"]
        lines += [f"| `{o.name}` | {o.unit or '-'} | `{_cell(o.expression)}` | "
                  f"{_cell(o.description)} |" for o in model.observables]
        lines.append("")
    if model.events:
        lines += ["Events:", ""]
        lines += [f"- `{e.name}`: " + "; ".join(f"{a.target} {'=' if a.mode == 'set' else '+='} "
                                              f"`{_cell(a.expression)}`" for a in e.actions)
                  for e in model.events]
        lines.append("")
    return lines


def model_markdown() -> str:
    """The whole document."""
    lines = [HEADER]
    for part in therapy_parts():
        lines += submodel_markdown(part)
    lines += ["## References", ""]
    lines += [f"- {entry}" for entry in bibliography(cited_keys(therapy_model()))]
    return "\n".join(lines) + "\n"
