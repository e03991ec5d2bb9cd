"""A swimmer-style page for one journey: the timeline of steps, drugs, responses, relapse and
rescue on top; CRS and ICANS grades and tumour and CAR-T kinetics below."""

from __future__ import annotations

from pathlib import Path

import numpy as np

LANES = {  # event kind -> (lane, marker, colour)
    "apheresis": ("procedures", "s", "tab:gray"),
    "manufacturing": ("procedures", "D", "tab:gray"),
    "manufacturing failure": ("procedures", "X", "black"),
    "bridging": ("procedures", ">", "tab:brown"),
    "lymphodepletion": ("procedures", "v", "tab:purple"),
    "infusion": ("procedures", "*", "tab:green"),
    "monitoring": ("procedures", "|", "tab:gray"),
    "tocilizumab": ("drugs", "o", "tab:blue"),
    "steroids": ("drugs", "^", "tab:orange"),
    "safety switch": ("drugs", "X", "tab:red"),
    "response": ("response", "o", "tab:green"),
    "rescue response": ("response", "o", "tab:cyan"),
    "progression": ("response", "X", "tab:red"),
    "rescue progression": ("response", "X", "tab:red"),
    "failure": ("response", "P", "tab:red"),
    "rescue": ("procedures", "*", "tab:cyan"),
    "extinction": ("response", "d", "tab:olive"),
    "CRS onset": ("response", "|", "tab:blue"),
    "ICANS onset": ("response", "|", "tab:orange"),
}
CAR_T_FLOOR_PER_UL = 1e-4
"""Lower edge of the CAR-T axis: below qPCR detection; lower values are sub-cell remnants of
deterministic flows (a few exhausted cells fed by a continuous flux)."""
CROWDED = 0.06
"""Labels closer than this share of the time axis in one lane are stacked, not overlaid."""
ORDER = ("procedures", "drugs", "response")
LEGEND_COLUMNS = 6


def _joined(runs, name: str) -> tuple[np.ndarray, np.ndarray]:
    time = np.concatenate([r.time for r in runs])
    return time, np.concatenate([r[name] for r in runs])


def _label(kind: str, detail: str) -> str | None:
    """The short text shown beside an event, or None for an unlabelled marker."""
    if kind == "failure":
        return detail[:60]
    if kind in ("infusion", "rescue") or kind.startswith(("death", "drop")):
        return detail.split(":")[0][:32]
    if kind in ("response", "rescue response"):
        return detail.split(":")[0].split(",")[0]
    return None


EARLY_DAYS = 42.0
"""Chosen: the left panel runs to six weeks after infusion (the close monitoring, CRS and
ICANS, the expansion peak), the right one over the rest of follow-up, so that two years do
not flatten the first month."""


def policy_label(policy) -> str:
    """A policy as a title reads it: its name, or what a written policy is based on."""
    if isinstance(policy, str):
        return policy
    based_on = policy.get("based_on") if isinstance(policy, dict) else None
    return f"own (based on {based_on})" if based_on else "own"


def time_panels(journey) -> list[tuple[float, float]]:
    """The (first, last) days of each panel: from before the first event to
    :data:`EARLY_DAYS`, then on to the end of the journey, if it lasts longer."""
    events = journey.sorted_events()
    first = min([e[0] for e in events] + [0.0]) - 2.0
    last = max([e[0] for e in events] + [r.time[-1] for r in journey.runs] + [1.0])
    return [(first, min(EARLY_DAYS, last))] + ([(EARLY_DAYS, last)] if last > EARLY_DAYS
                                               else [])


def plot_journey(journey, path: str | Path) -> None:
    """Write the journey page as PNG: events, grades and kinetics on a two-panel time axis
    (to :data:`EARLY_DAYS`, then the rest), one legend per kind of marker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = journey.protocol
    events = journey.sorted_events()
    spans = time_panels(journey)
    fig, axes = plt.subplots(3, len(spans), figsize=(11, 9), sharey="row", squeeze=False,
                             gridspec_kw={"height_ratios": [1.2, 1, 1.4]})
    shown: dict[str, tuple[str, str]] = {}
    for column, span in enumerate(spans):
        _draw_events(axes[0, column], events, span, shown)
        _draw_grades(axes[1, column], journey, legend=column == 0)
        _draw_kinetics(axes[2, column], journey, legend=column == 0,
                       axis_label=column == len(spans) - 1)
        for ax in axes[:, column]:
            ax.set_xlim(*span)
        axes[2, column].set_xlabel("days from infusion" + (" (first six weeks)" if column == 0
                                                            and len(spans) > 1 else ""))
    axes[0, 0].set_yticks(range(len(ORDER)), ORDER)
    axes[0, 0].set_ylim(-0.7, len(ORDER) - 0.3)
    axes[1, 0].set_ylabel("grade")
    axes[1, 0].set_ylim(-0.2, 5.2)
    axes[2, 0].set_ylabel("tumour cells")
    fig.suptitle(f"{p['name']}\n{p['product']} in {p['disease']}, seed {p['seed']}, policy: "
                 f"{policy_label(p['policy'])}", fontsize=11)
    handles = [plt.Line2D([], [], marker=marker, color=colour, linestyle="none", markersize=8)
               for marker, colour in shown.values()]
    columns = min(len(shown), LEGEND_COLUMNS) or 1
    rows = -(-len(shown) // columns)
    fig.tight_layout(rect=(0, 0.01 + 0.03 * rows, 1, 0.95))
    fig.legend(handles, list(shown), loc="lower center", bbox_to_anchor=(0.5, 0.0),
               ncol=columns, fontsize=8, frameon=False)
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def _draw_events(ax, events, span: tuple[float, float],
                 shown: dict[str, tuple[str, str]]) -> None:
    """Each event of ``span`` on its lane, labels stacked where they crowd."""
    stacked: dict[tuple[str, bool], tuple[float, int]] = {}  # (lane, above) -> (day, level)
    width = max(span[1] - span[0], 1.0)
    for day, kind, detail in events:
        if not span[0] <= day <= span[1]:
            continue
        lane, marker, colour = LANES.get(kind, ("response", "|", "black"))
        if kind.startswith("death") or kind == "drop-out":
            lane, marker, colour = "response", "X", "black"
        shown.setdefault(kind, (marker, colour))
        y = ORDER.index(lane)
        ax.plot(day, y, marker=marker, color=colour, markersize=9, linestyle="none")
        label = _label(kind, detail)
        if label is None:
            continue
        above = kind not in ("response", "rescue response")
        last_day, level = stacked.get((lane, above), (-np.inf, -1))
        level = (level + 1) % 3 if day - last_day < CROWDED * width else 0
        stacked[(lane, above)] = (day, level)
        offset = 6 + 9 * level if above else -12 - 9 * level
        ax.annotate(label, (day, y), textcoords="offset points",
                    xytext=(4 if above else -6, offset), fontsize=7)
    if span[0] <= 0.0 <= span[1]:
        ax.axvline(0, color="tab:green", lw=0.8, ls=":")


def _draw_grades(ax, journey, *, legend: bool) -> None:
    if journey.grades is None:
        return
    g = journey.grades
    ax.step(g.time, g.grades["crs_astct"], where="post", label="CRS (ASTCT)")
    ax.step(g.time, g.grades["icans"], where="post", label="ICANS (ASTCT)")
    if legend:
        ax.legend(loc="upper right", fontsize=8)


def _draw_kinetics(ax, journey, *, legend: bool, axis_label: bool) -> None:
    """Tumour cells (its antigen-negative part dashed) and blood CAR-T cells on a twin axis."""
    if not journey.runs:
        return
    positive = lambda y: np.where(y > 0, y, np.nan)  # noqa: E731 - log axes hide zeros
    time, tumour = _joined(journey.runs, "tumour_cells")
    lines = ax.semilogy(time, positive(tumour), color="tab:red", label="tumour cells")
    negative = _joined(journey.runs, "Tn")[1] * 1e9
    lines += ax.semilogy(time, positive(negative), color="tab:red", ls="--",
                         label="antigen-negative tumour cells")
    counts = positive(_joined(journey.runs, "cart_cells_per_ul")[1])
    cart = ax.twinx()
    lines += cart.semilogy(time, counts, color="tab:green", label="CAR-T cells/µL blood")
    # the same scale in both panels (their twin axes are not shared)
    cart.set_ylim(bottom=CAR_T_FLOOR_PER_UL, top=np.nanmax(counts, initial=1.0) * 3)
    if axis_label:
        cart.set_ylabel("CAR-T cells/µL", color="tab:green")
    else:
        cart.set_yticklabels([])
    if legend:
        ax.legend(lines, [line.get_label() for line in lines], loc="upper right", fontsize=8)
