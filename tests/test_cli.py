"""The command line: help lists the commands; the demo runs; bad input exits with code 2."""

import subprocess
import sys

import pytest

from cartsim.cli import main


def test_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "cartsim", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("demo", "sbml"):
        assert command in out


def test_demo_runs_a_small_population(capsys, cart6):
    assert main(["demo", "--patients", "300", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "solved 300 patients over 30 days" in out
    assert "solver status ok: 100.0%" in out


def test_demo_on_a_gpu_needs_one(capsys):
    from cartsim.solvers.gpu import gpu_available

    if gpu_available():
        pytest.skip("this machine has a GPU")
    assert main(["demo", "--target", "gpu", "--patients", "10"]) == 2
    assert "needs an NVIDIA GPU" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["demo", "--patients", "0"], ["demo", "--days", "-1"]])
def test_demo_bad_input_exits_2(argv, capsys):
    assert main(argv) == 2
    assert "cartsim: error:" in capsys.readouterr().err
