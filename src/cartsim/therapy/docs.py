"""``docs/model.md``: the therapy model written out from its description (never by hand)."""

from __future__ import annotations

from cartsim.model import Model, TimeEvent
from cartsim.presets import DISEASES, PRODUCTS, Preset
from cartsim.presets.citations import UNCITED, bibliography, cited_keys, source_key
from cartsim.presets.kimmel2021 import KIMMEL_2021
from cartsim.presets.variability import DISEASE_VARIABILITY, PRODUCT_VARIABILITY, Variation
from cartsim.therapy import therapy_model, therapy_parts

HEADER = """# The cartsim therapy model

Generated from the model description by `cartsim model-docs --out docs/model.md`; a test fails
when this file is out of date. Time is in days from the first infusion; cell populations are in
Gcell (1e9 cells), total body. Each parameter's source starts with a citation key (listed at the
end), `chosen:` where no published value exists (with the reason), or `definition:`. The
values in the submodel tables are the defaults; the product, disease and published-model presets
that replace them, and the between-patient variability of virtual populations, follow the
submodels.
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
        lines += [f"- `{e.name}` ({_trigger(e)}): " + _let(e) + "; ".join(
            f"{a.target} {'=' if a.mode == 'set' else '+='} `{_cell(a.expression)}`"
            for a in e.actions) for e in model.events]
        lines.append("")
    return lines


def _let(event) -> str:
    """The values an event computes before its actions, in words."""
    if not event.let:
        return ""
    return "with " + ", ".join(f"{v.name} = `{_cell(v.expression)}`" for v in event.let) + ": "


def _trigger(event) -> str:
    """When an event fires, in words."""
    if isinstance(event, TimeEvent):
        text = f"at t = `{_cell(event.at)}`"
        if event.count > 1:
            text += f", {event.count} times every `{_cell(event.every)}`"
        return text
    text = f"when `{_cell(event.when)}`"
    if event.direction != "rising":
        text += f" ({event.direction} crossing)"
    return text + (", ends the simulation" if event.terminal else "")


def preset_markdown(preset: Preset) -> list[str]:
    """One preset: the values it sets, with their sources."""
    lines = [f"### {preset.name}", "", f"{preset.description}.", "",
             "| parameter | value | source |", "|---|---|---|"]
    lines += [f"| `{name}` | {value:g} | {_cell(source)} |"
              for name, (value, source) in sorted(preset.values.items())]
    if preset.dose_per_kg is not None:
        value, source = preset.dose_per_kg
        cap = f" (at most {preset.dose_max:g} cells)" if preset.dose_max is not None else ""
        lines.append(f"| dose per kg | {value:g} cells/kg{cap} | {_cell(source)} |")
    return lines + [""]


def variability_markdown(name: str, variations: tuple[Variation, ...]) -> list[str]:
    """One product's or disease's between-patient variability."""
    lines = [f"### {name}", "", "| parameter | omega | scale | source |", "|---|---|---|---|"]
    lines += [f"| `{v.parameter}` | {v.omega:g} | {v.scale} | {_cell(v.source)} |"
              for v in variations]
    return lines + [""]


def _preset_keys() -> set[str]:
    """Citation keys of the presets' and variabilities' sources."""
    sources = [source for preset in (*PRODUCTS.values(), *DISEASES.values(), KIMMEL_2021)
               for _, source in preset.values.values()]
    sources += [v.source for group in (*PRODUCT_VARIABILITY.values(),
                                       *DISEASE_VARIABILITY.values()) for v in group]
    return {source_key(s) for s in sources} - set(UNCITED)


def model_markdown() -> str:
    """The whole document."""
    lines = [HEADER]
    for part in therapy_parts():
        lines += submodel_markdown(part)
    lines += ["## Presets", "", "Products and diseases (a patient takes one of each, the "
              "product's values laid over the disease's) and published model configurations.", ""]
    for preset in (*PRODUCTS.values(), *DISEASES.values(), KIMMEL_2021):
        lines += preset_markdown(preset)
    lines += ["## Between-patient variability", "", "Virtual populations draw each parameter "
              "below around the preset's value: log-normal (`log`, omega the SD of the log) or "
              "logit-normal (`logit`, omega the SD of the logit).", ""]
    for name, variations in (*PRODUCT_VARIABILITY.items(), *DISEASE_VARIABILITY.items()):
        lines += variability_markdown(name, variations)
    keys = sorted(set(cited_keys(therapy_model())) | _preset_keys())
    lines += ["## References", ""]
    lines += [f"- {entry}" for entry in bibliography(keys)]
    return "\n".join(lines) + "\n"
