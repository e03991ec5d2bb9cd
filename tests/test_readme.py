"""The README's Python example runs as written."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_example_runs():
    block = blocks()[0]
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    result = namespace["result"]
    assert result.ok.all()
    tumour = result.state("T")
    assert tumour.shape == (1000, 61)
    # stronger killing leaves less tumour at day 60
    assert np.all(np.diff(tumour[:, -1]) <= 0)


def test_readme_population_example_runs_and_its_comment_holds():
    namespace: dict = {}
    exec(compile(blocks()[1], str(README), "exec"), namespace)
    assert namespace["run"].ok.all()
    assert 0.8 <= namespace["log_spread"](namespace["cmax"]) <= 0.92  # "about 0.86"


def test_readme_cohort_example_runs():
    namespace: dict = {}
    exec(compile(blocks()[2], str(README), "exec"), namespace)
    endpoints = namespace["endpoints"]
    assert endpoints["orr_itt"]["n"] == 40  # the comment: every enrolled patient
    infused = sum(o.infused for o in namespace["cohort"].outcomes)
    assert endpoints["crs_any"]["n"] == infused and endpoints["crs_any"]["published"]["value"] == 94


def test_readme_main_job_runs_the_virtual_trial_and_writes_its_report(tmp_path, capsys):
    """The set-up's first command as written (smaller, so the test stays quick): a two-arm
    trial of the therapy model whose report it names."""
    from cartsim.cli import main

    commands = re.findall(r"^    (pip install .*)$", README.read_text(), flags=re.M)
    assert commands[0] == "pip install . && cartsim virtual-trial"
    out = tmp_path / "trial"
    assert main(["virtual-trial", "--patients", "20", "--replicates", "1", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert f"report: {(out / 'report.html').resolve()}" in printed
    summary = (out / "summary.json").read_text()
    assert '"axi-cel"' in summary and '"salvage-chemotherapy"' in summary
