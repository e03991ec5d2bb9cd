"""The therapy commands: patient, presets, cite, model-docs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cartsim.cli import main
from cartsim.cli.therapy import PATIENT_COLUMNS
from cartsim.therapy.docs import model_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def test_docs_model_md_is_current():
    assert DOCS.read_text(encoding="utf-8") == model_markdown(), (
        "docs/model.md is out of date: run `cartsim model-docs --out docs/model.md`")


def test_patient_writes_trajectory_and_plot(tmp_path, capsys):
    assert main(["patient", "--product", "axi-cel", "--disease", "lbcl", "--days", "30",
                 "--out", str(tmp_path)]) == 0
    with open(tmp_path / "trajectory.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time", *PATIENT_COLUMNS]
    times = [float(r[0]) for r in rows[1:]]
    assert times[0] < 0 and times[-1] == 30 and 0.0 in times
    assert (tmp_path / "patient.png").read_bytes()[:4] == b"\x89PNG"
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
