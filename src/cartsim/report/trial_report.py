"""A trial's report: one self-contained HTML page (figures as inline SVG, no network needed)
from a trial folder's summary and store.

Sections: the endpoint table against published values (a published value outside the
simulated interval is marked), the comparisons between arms, Kaplan-Meier curves per arm with
their 95% bands, CRS and ICANS by grade and the day of CRS onset, neutrophil nadirs, antigen
status at relapse, a waterfall of each patient's best tumour change, a swimmer plot of a
sample of patients and, when the trial kept them, CAR-T kinetics (median and 10-90% band) by
responder status beside the simulated and published peaks. Published landmark rates are drawn
on the Kaplan-Meier curves of the arms whose scenario gives them.
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cartsim.errors import CartsimError
from cartsim.journey.endpoints import ENDPOINTS
from cartsim.journey.outcome import PatientOutcome
from cartsim.presets.blood_kinetics import PUBLISHED_COUNTS, PUBLISHED_PEAKS
from cartsim.trial.analysis import OUTCOME_COLUMN, comparison_rows, endpoint_rows
from cartsim.trial.store import MANIFEST, query, stored_columns

SWIMMER_PATIENTS = 12
"""Patients per arm in the swimmer plot (the first of each arm: a random sample, since
patients are drawn independently)."""
REPORT = "report.html"
KINETICS_VARIABLE = "cart_cells_per_ul"
COPIES_VARIABLE = "cart_copies_per_ug"


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its title, a caption and the SVG text."""

    title: str
    caption: str
    svg: str


def write_report(folder: str | Path) -> Path:
    """Write ``folder``/report.html from the trial's summary.json and store; returns its
    path."""
    folder = Path(folder)
    summary_path = folder / "summary.json"
    if not (folder / MANIFEST).exists():
        raise CartsimError("not a trial folder (no manifest.json)", file=str(folder))
    if not summary_path.exists():
        raise CartsimError("no summary.json: run `cartsim trial ... --out` on this folder "
                           "first (it resumes a stopped run)", file=str(folder))
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    import matplotlib

    matplotlib.use("Agg")
    figures = [_kaplan_meier(summary, endpoint) for endpoint in ("pfs", "os")]
    figures += [_grades(folder), _crs_onset(folder), _nadirs(folder), _antigen(folder),
                _waterfall(folder), _swimmer(folder)]
    kinetics = _kinetics(folder, summary)
    if kinetics is not None:
        figures.append(kinetics)
    page = _page(summary, [f for f in figures if f is not None])
    path = folder / REPORT
    path.write_text(page, encoding="utf-8")
    return path


def cohort_figures(folder: str | Path) -> list[Figure]:
    """The figures a small cohort is read by (the web app): the swimmer plot, the worst CRS
    and ICANS grades and the day of CRS onset, from the trial folder's store."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    figures = [_swimmer(folder), _grades(folder), _crs_onset(folder)]
    return [f for f in figures if f is not None]


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: no XML prolog or DOCTYPE


def _arms(summary: dict) -> list[str]:
    return list(summary["arms"])


def _kaplan_meier(summary: dict, endpoint: str) -> Figure | None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = False
    for arm in _arms(summary):
        km = summary["arms"][arm]["kaplan_meier"].get(endpoint)
        if not km:
            continue
        drawn = True
        line, = ax.step(km["months"], km["survival"], where="post",
                        label=f"{arm} (n={km['n']}, median "
                              f"{'NR' if km['median_months'] is None else km['median_months']}"
                              " mo)")
        ax.fill_between(km["months"], km["ci95_low"], km["ci95_high"], step="post",
                        alpha=0.2, color=line.get_color())
        published = _published_landmarks(summary["arms"][arm], endpoint)
        if published:
            months, value, low, high = np.array(published).T
            ax.errorbar(months, value, yerr=[value - low, high - value], fmt="D", ms=5,
                        capsize=3, color=line.get_color(), label=f"{arm}: published")
    if not drawn:
        plt.close(fig)
        return None
    name = {"pfs": "Progression-free survival", "os": "Overall survival"}[endpoint]
    ax.set(xlabel="months from " + ("enrolment" if summary["population"] == "itt"
                                    else "infusion"), ylabel=name.lower(), ylim=(0, 1.02),
           title=name)
    ax.legend(loc="upper right", fontsize=8)
    return Figure(f"Kaplan-Meier: {name.lower()}", f"Population {summary['population']}; "
                  "shaded: 95% band (lifelines, exponential Greenwood); diamonds: the "
                  "published landmark rates of the arm's scenario with their trial's 95% "
                  "interval.", _svg(fig))


def _published_landmarks(arm: dict, endpoint: str) -> list[tuple[float, float, float, float]]:
    """(month, rate, 95% low, 95% high) of the published ``endpoint`` landmarks (pfs_12mo...)
    of one arm's summary, as fractions."""
    found = []
    for landmark in ENDPOINTS:
        published = arm["endpoints"].get(landmark.name, {}).get("published")
        if published is None or landmark.months is None \
                or not landmark.name.startswith(f"{endpoint}_"):
            continue
        value = published["value"] / 100
        low, high = (np.array(published.get("ci95_pct", [published["value"]] * 2)) / 100)
        found.append((float(landmark.months), value, float(low), float(high)))
    return sorted(found)


def _column_by_arm(folder: Path, sql_column: str, where: str = "TRUE") -> dict[str, list]:
    rows = query(folder, f"SELECT arm, {sql_column} FROM patients WHERE {where} "
                         "ORDER BY arm, patient").fetchall()
    found: dict[str, list] = {}
    for arm, value in rows:
        found.setdefault(arm, []).append(value)
    return found


def _grades(folder: Path) -> Figure | None:
    import matplotlib.pyplot as plt

    crs = _column_by_arm(folder, "crs_max", "infused")
    icans = _column_by_arm(folder, "icans_max", "infused")
    if not crs:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    arms = sorted(crs)
    width = 0.8 / len(arms)
    for ax, table, name in ((axes[0], crs, "CRS"), (axes[1], icans, "ICANS")):
        for k, arm in enumerate(arms):
            values = np.array([v for v in table.get(arm, []) if v is not None], dtype=int)
            shares = [np.mean(values == g) if values.size else 0 for g in range(6)]
            ax.bar(np.arange(6) + k * width, shares, width, label=arm)
        ax.set(title=f"{name}: worst grade", xlabel="grade", xticks=np.arange(6))
    axes[0].set_ylabel("share of infused")
    axes[1].legend(fontsize=8)
    return Figure("CRS and ICANS by grade", "Worst grade of the first line, of infused "
                  "patients (CRS on the scenario's scale, ICANS ASTCT).", _svg(fig))


def _crs_onset(folder: Path) -> Figure | None:
    import matplotlib.pyplot as plt

    onset = _column_by_arm(folder, "crs_onset_day", "crs_onset_day IS NOT NULL")
    if not onset:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bins = np.arange(0, 22, 1.0)
    for arm, days in onset.items():
        ax.hist(days, bins=bins, histtype="step", linewidth=1.5, label=f"{arm} (n={len(days)})")
    ax.set(title="Day of CRS onset", xlabel="days after infusion", ylabel="patients")
    ax.legend(fontsize=8)
    return Figure("CRS onset", "First day at CRS grade >= 1, of patients with CRS.", _svg(fig))


def _nadirs(folder: Path) -> Figure | None:
    import matplotlib.pyplot as plt

    nadir = _column_by_arm(folder, "anc_nadir_10e9_l", "anc_nadir_10e9_l IS NOT NULL")
    if not nadir:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bins = np.logspace(-3, 1.5, 28)
    for arm, values in nadir.items():
        ax.hist(np.maximum(values, 1e-3), bins=bins, histtype="step", linewidth=1.5,
                label=arm)
    ax.axvline(0.5, color="black", linestyle=":", linewidth=1)
    ax.set(xscale="log", title="Neutrophil nadir after infusion", xlabel="ANC (10^9/L)",
           ylabel="patients")
    ax.legend(fontsize=8)
    return Figure("Cytopenias", "Lowest absolute neutrophil count of the first line; dotted: "
                  "0.5 x 10^9/L (severe neutropenia).", _svg(fig))


def _antigen(folder: Path) -> Figure | None:
    import matplotlib.pyplot as plt

    status = _column_by_arm(folder, "relapse_antigen", "progression_day IS NOT NULL AND "
                                                       "relapse_antigen IS NOT NULL")
    if not status:
        return None
    kinds = sorted({s for values in status.values() for s in values})
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bottom = np.zeros(len(status))
    arms = list(status)
    for kind in kinds:
        shares = np.array([np.mean([s == kind for s in status[a]]) for a in arms])
        ax.barh(arms, shares, left=bottom, label=kind)
        bottom += shares
    ax.set(title="Antigen at progression", xlabel="share of progressions", xlim=(0, 1))
    ax.legend(fontsize=8, loc="lower right")
    return Figure("Antigen status at relapse", "Target antigen on the progressing tumour "
                  "(antigen escape: negative or low).", _svg(fig))


def _waterfall(folder: Path) -> Figure | None:
    import matplotlib.pyplot as plt

    rows = query(folder, "SELECT arm, best_tumour_change_pct, best_response FROM patients "
                         "WHERE best_tumour_change_pct IS NOT NULL "
                         "ORDER BY arm, patient").fetchall()
    if not rows:
        return None
    arms = sorted({arm for arm, _, _ in rows})
    fig, axes = plt.subplots(len(arms), 1, figsize=(7, 2.6 * len(arms)), squeeze=False)
    categories = sorted({str(response) for _, _, response in rows})
    colours = dict(zip(categories, plt.get_cmap("tab10").colors, strict=False))
    for ax, arm in zip(axes[:, 0], arms, strict=True):
        change = np.array([c for a, c, _ in rows if a == arm])
        response = np.array([str(r) for a, _, r in rows if a == arm])
        order = np.argsort(-change, kind="stable")
        change, response = np.minimum(change[order], 100.0), response[order]
        x = np.arange(change.size)
        for category in categories:  # one shape per category: compact for thousands of bars
            ax.fill_between(x, 0, change, where=response == category, step="mid",
                            color=colours[category], label=category, linewidth=0)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set(ylim=(-105, 105), ylabel="best change (%)", xlim=(-0.5, change.size - 0.5),
               title=f"{arm} (n={change.size})", xticks=[])
        ax.legend(fontsize=7, ncol=len(categories), loc="upper right")
    fig.tight_layout()
    return Figure("Waterfall: best tumour change", "Each assessed patient's best change of the "
                  "tumour measure its response criteria read (SPD, SLD, M-protein or marrow "
                  "blasts) at the first line's visits, from baseline; bars cut at +100%, "
                  "coloured by best response.", _svg(fig))


def _swimmer(folder: Path) -> Figure | None:
    import matplotlib.pyplot as plt

    rows = query(folder, f"SELECT arm, patient, {OUTCOME_COLUMN} FROM patients WHERE patient "
                         f"< {SWIMMER_PATIENTS} ORDER BY arm, patient").fetchall()
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(rows) + 1.2))
    labels = []
    marks = {"infusion": ("*", "tab:green"), "response": ("o", "tab:blue"),
             "progression": ("X", "tab:red"), "rescue": (">", "tab:cyan"),
             "death": ("s", "black")}
    seen = set()
    follow_up = _follow_up_end(folder)
    for y, (arm, patient, text) in enumerate(rows):
        o = PatientOutcome.from_json(json.loads(text))
        labels.append(f"{arm} #{patient}")
        start = o.apheresis_day or 0.0
        end = o.death.day if o.death is not None else None
        ax.barh(y, (end if end is not None else follow_up) - start, left=start,
                color="lightgray", height=0.6)
        events = {"infusion": 0.0 if o.infused else None,
                  "response": o.first_line.response_day,
                  "progression": o.first_line.progression_day,
                  "rescue": o.rescue_start_day, "death": end}
        for kind, day in events.items():
            if day is not None:
                marker, colour = marks[kind]
                ax.plot(day, y, marker=marker, color=colour, linestyle="",
                        label=None if kind in seen else kind)
                seen.add(kind)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel="days from infusion (CAR-T) or enrolment (standard of care)",
           title="Swimmer plot")
    ax.legend(fontsize=7, loc="lower right", ncols=5)
    return Figure("Swimmer plot", f"The first {SWIMMER_PATIENTS} patients of each arm, from "
                  "enrolment to death or the end of follow-up.", _svg(fig))


def _follow_up_end(folder: Path) -> float:
    """The longest follow-up of the trial's arms (days from infusion)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    ends = [arm["scenario"]["follow_up_days"] for arm in manifest["spec"]["arms"]]
    return float(max(ends))


def _arm_products(folder: Path) -> dict[str, str]:
    """Each arm's product preset name (arms with a product of their own are left out)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return {arm["name"]: arm["scenario"]["product"] for arm in manifest["spec"]["arms"]
            if isinstance(arm["scenario"].get("product"), str)}


def _kinetics(folder: Path, summary: dict) -> Figure | None:
    import matplotlib.pyplot as plt

    stored = stored_columns(folder)
    if KINETICS_VARIABLE not in stored:
        return None
    counts = _kinetics_bands(folder, KINETICS_VARIABLE)
    if not counts:
        return None
    products = _arm_products(folder)
    peaks = {p: PUBLISHED_PEAKS[p] for p in products.values() if p in PUBLISHED_PEAKS}
    copies = _kinetics_bands(folder, COPIES_VARIABLE) if peaks and COPIES_VARIABLE in stored \
        else {}
    fig, axes = plt.subplots(1, 2 if copies else 1, figsize=(12 if copies else 7, 4),
                             squeeze=False)
    colours = _draw_bands(axes[0][0], counts)
    sources = []
    ax = axes[0][0]
    for arm, product in products.items():
        endpoints = summary["arms"].get(arm, {}).get("endpoints", {})
        peak = endpoints.get("cart_peak_median_cells_per_ul", {}).get("value")
        tmax = endpoints.get("cart_tmax_median_days", {}).get("value")
        if peak is not None and tmax is not None:
            ax.plot([tmax], [peak], "X", ms=10, color=colours.get(arm, "black"),
                    markeredgecolor="black", label=f"{arm}: median Cmax, Tmax")
        published = PUBLISHED_COUNTS.get(product)
        if published is not None and product not in {s for s, _ in sources}:
            median = np.array(published.median)
            low, high = np.array(published.quartiles).T
            ax.errorbar(published.days, median, yerr=[median - low, high - median], fmt="D",
                        ms=5, capsize=3, color="crimson", label=f"{product}: published")
            sources.append((product, f"medians and interquartile ranges, {published.source}"))
    ax.set(yscale="log", xlabel="days after infusion", ylabel="CAR-T cells per µL blood",
           title="CAR-T kinetics: blood counts")
    ax.legend(fontsize=8)
    if copies:
        ax = axes[0][1]
        _draw_bands(ax, copies)
        for product, peak in peaks.items():
            cmax = peak.range_90(peak.cmax_copies_per_ug, peak.omega2_cmax)
            tmax = peak.range_90(peak.tmax_days, peak.omega2_tmax)
            ax.errorbar([peak.tmax_days], [peak.cmax_copies_per_ug],
                        xerr=[[peak.tmax_days - tmax[0]], [tmax[1] - peak.tmax_days]],
                        yerr=[[peak.cmax_copies_per_ug - cmax[0]],
                              [cmax[1] - peak.cmax_copies_per_ug]],
                        fmt="D", ms=6, capsize=3, color="crimson",
                        label=f"{product}: published typical Cmax at Tmax")
            sources.append((product, peak.source + " (bars: 90% of patients)"))
        ax.set(yscale="log", xlabel="days after infusion",
               ylabel="transgene copies per µg genomic DNA", title="CAR-T kinetics: transgene")
        ax.legend(fontsize=8)
    cited = "".join(f" Published {product}: {source}." for product, source in sources)
    return Figure("CAR-T kinetics", "Median and 10-90% band of the stored trajectories, by "
                  "responder status (best response a responder category); X, in the arm's "
                  "colour: its median peak (Cmax) at the median day of the peak (Tmax), of "
                  f"every infused patient.{cited}", _svg(fig))


def _kinetics_bands(folder: Path, variable: str) -> dict[tuple[str, bool], dict]:
    """(arm, responder) -> day -> the infused patients' stored values of ``variable``."""
    rows = query(folder, f"SELECT t.arm, p.best_response IN ('CR', 'CRi', 'PR', 'sCR', 'VGPR')"
                         f" AS responder, t.day, t.{variable} FROM trajectories t "
                         "JOIN patients p USING (arm, patient) WHERE p.infused AND t.day >= 0"
                 ).fetchall()
    groups: dict[tuple[str, bool], dict[float, list[float]]] = {}
    for arm, responder, day, value in rows:
        if value is not None and np.isfinite(value):
            groups.setdefault((arm, bool(responder)), {}).setdefault(day, []).append(value)
    return groups


def _draw_bands(ax, groups: dict[tuple[str, bool], dict]) -> dict[str, str]:
    """Each group's median and 10-90% band; returns each arm's colour (its first line)."""
    colours: dict[str, str] = {}
    for (arm, responder), by_day in sorted(groups.items()):
        days = np.array(sorted(by_day))
        values = [np.maximum(by_day[d], 1e-3) for d in days]
        line, = ax.plot(days, [np.median(v) for v in values],
                        label=f"{arm}, {'responders' if responder else 'others'}")
        ax.fill_between(days, [np.percentile(v, 10) for v in values],
                        [np.percentile(v, 90) for v in values], alpha=0.15,
                        color=line.get_color())
        colours.setdefault(arm, line.get_color())
    return colours


def _page(summary: dict, figures: list[Figure]) -> str:
    title = html.escape(summary["trial"])
    return "\n".join([
        "<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{title}</title>", f"<style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>", _run_line(summary), "<h2>Endpoints</h2>", _endpoint_table(summary),
        *([] if not summary["comparisons"] else ["<h2>Comparisons</h2>",
                                                  _comparison_table(summary)]),
        *(f"<figure><h2>{html.escape(f.title)}</h2>{f.svg}<figcaption>"
          f"{html.escape(f.caption)}</figcaption></figure>" for f in figures),
        "<p class='note'>Not shown: a waterfall of best tumour change (the store keeps the "
        "best response, not the change).</p>",
        "</body></html>"])


def _run_line(summary: dict) -> str:
    sizes = ", ".join(f"{html.escape(arm)}: {n}" for arm, n in
                      summary["patients_per_replicate"].items())
    run = summary.get("run", {})
    cut = summary.get("data_cut_months")
    timing = (f"enrolled over {summary.get('accrual_months', 0):g} months, analysed at a data "
              f"cut {cut:g} months after the first enrolment; " if cut is not None else "")
    return (f"<p>Patients per replicate {sizes}; {summary['replicates']} replicate(s); "
            f"{timing}population {summary['population']}; primary "
            f"{summary['primary']['endpoint']} "
            f"against {html.escape(summary['primary']['control'])} (alpha "
            f"{summary['primary']['alpha']}). Simulated at {run.get('patients_per_s', '?')} "
            "patients/s.</p>")


def _number(value) -> str:
    return "NR" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _endpoint_table(summary: dict) -> str:
    rows = ["<table><tr><th>arm</th><th>endpoint</th><th>value</th><th>95% interval</th>"
            "<th>n</th><th>published</th></tr>"]
    for row in endpoint_rows(summary):
        miss = row["within_ci"] is False
        published = "" if row["published"] is None else (
            f"{row['published']:.3g} ({'inside' if row['within_ci'] else 'outside'})")
        rows.append(f"<tr class='{'miss' if miss else ''}'><td>{html.escape(row['arm'])}</td>"
                    f"<td>{row['endpoint']}</td><td>{_number(row['value'])}</td>"
                    f"<td>{_number(row['ci_low'])}-{_number(row['ci_high'])}</td>"
                    f"<td>{row['n']}</td><td>{published}</td></tr>")
    return "".join(rows) + "</table>"


def _comparison_table(summary: dict) -> str:
    rows = ["<table><tr><th>endpoint</th><th>arm vs control</th><th>hazard ratio (95%)</th>"
            "<th>log-rank p</th><th>power</th></tr>"]
    for c in comparison_rows(summary):
        rows.append(f"<tr><td>{c['endpoint']}</td><td>{html.escape(c['arm'])} vs "
                    f"{html.escape(c['control'])}</td><td>{_number(c['hazard_ratio'])} "
                    f"({_number(c['hr_ci_low'])}-{_number(c['hr_ci_high'])})</td>"
                    f"<td>{_number(c['logrank_p'])}</td><td>{_number(c['power'])}</td></tr>")
    return "".join(rows) + "</table>"


_STYLE = """body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin-bottom:1em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
tr.miss td{background:#fde2e2}figure{margin:2em 0}figcaption{font-size:13px;color:#555}
svg{max-width:100%;height:auto}.note{font-size:13px;color:#555}"""

