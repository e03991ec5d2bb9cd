"""One patient's course on one page: CAR-T kinetics, tumour by clone, cytokines, vital signs,
neurological and support scores, blood counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_patient(run, title: str, path: str | Path) -> None:
    """Write a six-panel PNG of ``run`` (a :class:`~cartsim.therapy.simulate.PatientRun`)."""
    import matplotlib.pyplot as plt

    fig = patient_figure(run, title)
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)


def patient_figure(run, title: str):
    """The six stacked panels of ``run`` as a matplotlib figure (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = run.time
    fig, axes = plt.subplots(6, 1, figsize=(8, 15), sharex=True)
    positive = lambda y: np.where(y > 0, y, np.nan)  # noqa: E731 - log axes hide zeros

    axes[0].semilogy(t, positive(run["cart_cells_per_ul"]), label="CAR-T cells/µL")
    axes[0].semilogy(t, positive(run["b_cells_per_ul"]), label="B cells/µL")
    axes[0].set_ylabel("cells/µL blood")
    for name, label in (("Tp", "antigen-positive"), ("Tl", "antigen-low"),
                        ("Tn", "antigen-negative"), ("Ts", "sanctuary (antigen-positive)")):
        axes[1].semilogy(t, positive(run[name] * 1e9), label=label)
    axes[1].set_ylabel("tumour cells")
    for name in ("il6_pg_ml", "ifng_pg_ml", "il10_pg_ml"):
        axes[2].semilogy(t, positive(run[name]), label=name.split("_")[0].upper())
    axes[2].set_ylabel("cytokine (pg/mL)")
    vitals = axes[3].plot(t, run["temperature_c"], color="tab:red", label="temperature (°C)")
    axes[3].set_ylabel("°C")
    pressure = axes[3].twinx()
    vitals += pressure.plot(t, run["map_mmhg"], color="tab:blue", label="MAP (mmHg)")
    pressure.set_ylabel("MAP (mmHg)")
    for ax in (axes[3], pressure):  # flat signals: plain numbers, not an offset (+3.7e1)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    axes[4].step(t, run["ice_score"], where="post", label="ICE score")
    axes[4].step(t, run["oxygen_need"], where="post", label="oxygen need (0-4)")
    axes[4].step(t, run["vasopressors"], where="post", label="vasopressors (0-3)")
    axes[4].set_ylabel("score")
    axes[5].semilogy(t, positive(run["anc_10e9_l"]), label="ANC (10⁹/L)")
    axes[5].semilogy(t, positive(run["platelets_10e9_l"]), label="platelets (10⁹/L)")
    axes[5].set_ylabel("blood count")
    axes[5].set_xlabel("days from infusion")
    for ax in axes:
        ax.axvline(0, color="grey", lw=0.8, ls=":")
        ax.legend(loc="upper right", fontsize=8)
    axes[3].legend(vitals, [line.get_label() for line in vitals], loc="upper right", fontsize=8)
    axes[0].set_title(title)
    fig.tight_layout()
    return fig
