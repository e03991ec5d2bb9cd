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
}
CAR_T_FLOOR_PER_UL = 1e-4
"""Lower edge of the CAR-T axis: below qPCR detection; lower values are sub-cell remnants of
deterministic flows (a few exhausted cells fed by a continuous flux)."""
CROWDED = 0.06
"""Labels closer than this share of the time axis in one lane are stacked, not overlaid."""
ORDER = ("procedures", "drugs", "response")


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


def plot_journey(journey, path: str | Path) -> None:
    """Write the journey page as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = journey.protocol
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True,
                             gridspec_kw={"height_ratios": [1.2, 1, 1.4]})
    lanes = axes[0]
    events = journey.sorted_events()
    span = max((e[0] for e in events), default=1.0) - min((e[0] for e in events), default=0.0)
    stacked: dict[tuple[str, bool], tuple[float, int]] = {}  # (lane, above) -> (day, level)
    for day, kind, detail in events:
        lane, marker, colour = LANES.get(kind, ("response", "|", "black"))
        if kind.startswith("death") or kind == "drop-out":
            lane, marker, colour = "response", "X", "black"
        y = ORDER.index(lane)
        lanes.plot(day, y, marker=marker, color=colour, markersize=9, linestyle="none")
        label = _label(kind, detail)
        if label is None:
            continue
        above = kind not in ("response", "rescue response")
        last_day, level = stacked.get((lane, above), (-np.inf, -1))
        level = (level + 1) % 3 if day - last_day < CROWDED * max(span, 1.0) else 0
        stacked[(lane, above)] = (day, level)
        offset = 6 + 9 * level if above else -12 - 9 * level
        lanes.annotate(label, (day, y), textcoords="offset points",
                       xytext=(4 if above else -6, offset), fontsize=7)
    lanes.set_yticks(range(len(ORDER)), ORDER)
    lanes.set_ylim(-0.7, len(ORDER) - 0.3)
    lanes.axvline(0, color="tab:green", lw=0.8, ls=":")
    lanes.set_title(f"{p['name']}: {p['product']} in {p['disease']} (seed {p['seed']}, "
                    f"policy {p['policy']})")
    if journey.grades is not None:
        g = journey.grades
        axes[1].step(g.time, g.grades["crs_astct"], where="post", label="CRS (ASTCT)")
        axes[1].step(g.time, g.grades["icans"], where="post", label="ICANS (ASTCT)")
        axes[1].legend(loc="upper right", fontsize=8)
    axes[1].set_ylabel("grade")
    axes[1].set_ylim(-0.2, 5.2)
    if journey.runs:
        positive = lambda y: np.where(y > 0, y, np.nan)  # noqa: E731 - log axes hide zeros
        time, tumour = _joined(journey.runs, "tumour_cells")
        axes[2].semilogy(time, positive(tumour), color="tab:red", label="tumour cells")
        negative = _joined(journey.runs, "Tn")[1] * 1e9
        axes[2].semilogy(time, positive(negative), color="tab:red", ls="--",
                         label="antigen-negative")
        cart = axes[2].twinx()
        cart.semilogy(time, positive(_joined(journey.runs, "cart_cells_per_ul")[1]),
                      color="tab:green", label="CAR-T cells/µL")
        cart.set_ylabel("CAR-T cells/µL", color="tab:green")
        cart.set_ylim(bottom=CAR_T_FLOOR_PER_UL)
        axes[2].legend(loc="upper left", fontsize=8)
    axes[2].set_ylabel("tumour cells")
    axes[2].set_xlabel("days from infusion")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
