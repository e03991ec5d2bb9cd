"""The therapy commands: patient, presets, cite, model-docs."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from cartsim.cli import main
from cartsim.cli.therapy import PATIENT_COLUMNS
from cartsim.therapy import therapy_model
from cartsim.therapy.docs import model_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def test_docs_model_md_is_current():
    assert DOCS.read_text(encoding="utf-8") == model_markdown(), (
        "docs/model.md is out of date: run `cartsim model-docs --out docs/model.md`")


def test_docs_name_every_state_parameter_and_event_of_the_model():
    text = DOCS.read_text(encoding="utf-8")
    model = therapy_model()
    names = ([s.name for s in model.states] + [p.name for p in model.parameters]
             + [e.name for e in model.events])
    assert [name for name in names if f"`{name}`" not in text] == []


ISSUE_OBSERVABLES = (  # named by the therapy-model issue, whatever the CLI's own list says
    "cart_cells_per_ul", "cart_copies_per_ug", "tumour_cells", "marrow_blasts_pct", "spd_mm2",
    "m_protein_g_dl", "sld_mm", "b_cells_per_ul", "igg_g_l", "temperature_c", "map_mmhg",
    "vasopressors", "oxygen_need", "crp_mg_l", "ferritin_ng_ml", "il6_pg_ml", "ice_score",
    "ldh_u_l", "macrophage_activation", "antigen_low_cells", "antigen_negative_cells",
)


@pytest.mark.parametrize("product_name,disease_name,days", [("tisa-cel", "b-all", 60),
                                                            ("axi-cel", "lbcl", 30)])
def test_patient_writes_trajectory_and_plot(tmp_path, capsys, product_name, disease_name, days):
    """The issue's own example and a second product: every named observable, finite, from
    before lymphodepletion to the last day; a summary whose extinction days agree with the
    trajectory; a plot with its six stacked panels (a figure taller than wide)."""
    assert main(["patient", "--product", product_name, "--disease", disease_name, "--days",
                 str(days), "--out", str(tmp_path)]) == 0
    with open(tmp_path / "trajectory.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time", *PATIENT_COLUMNS]
    assert set(ISSUE_OBSERVABLES) <= set(rows[0])
    assert all(len(r) == len(rows[0]) and all(math.isfinite(float(x)) for x in r)
               for r in rows[1:])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["solver_status"] == "ok"
    times = [float(r[0]) for r in rows[1:]]
    assert times[0] < 0 and times[-1] == days and 0.0 in times
    tumour = [float(r[rows[0].index("tumour_cells")]) for r in rows[1:]]
    gone = [t for t, cells in zip(times, tumour, strict=True) if t >= 0 and cells == 0.0]
    assert summary["tumour_extinct_day"] == (gone[0] if gone else None)
    assert "car_t_extinct_day" in summary
    png = (tmp_path / "patient.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert height > 1.5 * width
    assert "solver ok" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--product", "nope", "--disease", "lbcl"], "unknown product 'nope'"),
    (["--product", "axi-cel", "--disease", "cll"], "unknown disease 'cll'"),
    (["--product", "axi-cel", "--disease", "lbcl", "--set", "T0=abc"], "NAME=VALUE"),
    (["--product", "axi-cel", "--disease", "lbcl", "--set", "no_such=1"], "no_such"),
])
def test_patient_bad_input_exits_2_without_output(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    assert main(["patient", *argv, "--out", str(out), "--days", "5"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert not (out / "trajectory.csv").exists()


def test_presets_and_cite_list_what_a_run_uses(capsys):
    assert main(["presets"]) == 0
    listing = capsys.readouterr().out
    for name in ("tisa-cel", "axi-cel", "ide-cel", "b-all", "lbcl", "mm"):
        assert name in listing
    assert main(["cite", "--product", "ide-cel", "--disease", "mm"]) == 0
    cited = capsys.readouterr().out
    assert "[singh2021]" in cited and "[stein2019]" in cited


def test_patient_figure_shows_the_issue_panels(tisa_all):
    """The plot's panels carry the series the issue names: CAR-T kinetics, tumour by clone,
    cytokines, temperature with MAP, and the ICE score with oxygen need."""
    import matplotlib.pyplot as plt

    from cartsim.report.patient_plot import patient_figure

    fig = patient_figure(tisa_all, "tisa-cel in b-all")
    try:
        labels = [{line.get_label() for line in ax.get_lines()} for ax in fig.axes]
    finally:
        plt.close(fig)
    wanted = [{"CAR-T cells/µL"},
              {"antigen-positive", "antigen-low", "antigen-negative",
               "sanctuary (antigen-positive)"},
              {"IL6", "IFNG", "IL10"},
              {"temperature (°C)"},
              {"ICE score", "oxygen need (0-4)", "vasopressors (0-3)"},
              {"ANC (10⁹/L)", "platelets (10⁹/L)"},
              {"MAP (mmHg)"}]  # the twin axis of the temperature panel comes last
    assert len(labels) == len(wanted)
    for shown, names in zip(labels, wanted, strict=True):
        assert names <= shown
