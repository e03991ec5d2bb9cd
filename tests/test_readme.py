"""The README's Python example runs as written."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    (block,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    result = namespace["result"]
    assert result.ok.all()
    tumour = result.state("T")
    assert tumour.shape == (1000, 61)
    # stronger killing leaves less tumour at day 60
    assert np.all(np.diff(tumour[:, -1]) <= 0)
