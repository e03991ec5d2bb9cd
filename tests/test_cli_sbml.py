"""``cartsim sbml``: writes the trajectory CSV; every bad input exits 2 and writes nothing."""

import csv
from pathlib import Path

import numpy as np
import pytest

from cartsim.cli import main

KIMMEL = Path(__file__).resolve().parents[1].parent / "shared" / "biomodels" / \
    "BIOMD0000001041.xml"
pytestmark = pytest.mark.skipif(not KIMMEL.exists(), reason="../shared/biomodels not present")


def run(*argv):
    return main(["sbml", *map(str, argv)])


def test_run_writes_time_and_species_columns(tmp_path):
    out = tmp_path / "traj.csv"
    assert run("run", KIMMEL, "--t-end", 500, "--points", 11, "--out", out,
               "--param", "K_C=150") == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time", "Normal_T_cells", "CAR_T_cells", "Antigen_presenting_tumour_cells",
                       "Total_lymphocyte_count"]
    values = np.array(rows[1:], dtype=float)
    assert values.shape == (11, 5)
    np.testing.assert_allclose(values[:, 0], np.linspace(0, 500, 11))
    np.testing.assert_allclose(values[:, 4], values[:, 1] + values[:, 2], rtol=1e-12)


def test_param_override_changes_the_result(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    run("run", KIMMEL, "--t-end", 100, "--points", 3, "--out", a)
    run("run", KIMMEL, "--t-end", 100, "--points", 3, "--out", b, "--param", "K_C=50")
    assert a.read_text() != b.read_text()


@pytest.mark.parametrize("extra, message", [
    (["--param", "nope=1"], "no parameter 'nope'"),
    (["--param", "K_C"], "expected ID=VALUE"),
    (["--param", "K_C=abc"], "is not a number"),
    (["--points", "1"], "--points must be at least 2"),
    (["--rtol", "-1"], "must be positive"),
])
def test_bad_arguments_exit_2_without_output(tmp_path, capsys, extra, message):
    out = tmp_path / "traj.csv"
    assert run("run", KIMMEL, "--t-end", 10, "--out", out, *extra) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_time_and_files_exit_2(tmp_path, capsys):
    out = tmp_path / "traj.csv"
    assert run("run", KIMMEL, "--t-end", -5, "--out", out) == 2
    assert run("run", tmp_path / "missing.xml", "--t-end", 5, "--out", out) == 2
    broken = tmp_path / "broken.xml"
    broken.write_text("<sbml><model")
    assert run("run", broken, "--t-end", 5, "--out", out) == 2
    err = capsys.readouterr().err
    assert "--t-end must be a positive number" in err
    assert "missing.xml: file not found" in err
    assert "broken.xml: not valid SBML" in err
    assert not out.exists()


def test_check_and_export(tmp_path, capsys):
    assert run("check", KIMMEL) == 0
    assert "Normal_T_cells" in capsys.readouterr().out
    out = tmp_path / "cart6.xml"
    assert run("export", "--out", out) == 0
    assert out.read_text().startswith("<?xml")
