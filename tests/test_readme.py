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
