"""The trial report: one self-contained HTML page with every figure, and its refusals."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from cartsim.cli import main

LBCL = "zuma1-axi-cel-lbcl"


@pytest.fixture(scope="module")
def trial_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    spec = folder / "spec.yaml"
    spec.write_text(f"""name: report test
patients: 24
follow_up_days: 180
arms:
  - {{name: car-t, scenario: {LBCL}}}
  - {{name: chemo, scenario: {LBCL}, overrides: {{treatment: {{arm: standard-of-care}}}}}}
""")
    out = folder / "t"
    assert main(["trial", str(spec), "--out", str(out), "--quiet",
                 "--trajectory-days", "0:60:5"]) == 0
    assert main(["report", str(out)]) == 0
    return out


FIGURES = ("Kaplan-Meier: progression-free survival", "Kaplan-Meier: overall survival",
           "CRS and ICANS by grade", "CRS onset", "Cytopenias", "Swimmer plot",
           "CAR-T kinetics")


def test_the_report_holds_every_figure_inline_and_needs_no_network(trial_folder):
    page = (trial_folder / "report.html").read_text()
    titles = re.findall(r"<figure><h2>(.*?)</h2>", page)
    assert set(FIGURES) <= set(titles)
    figures = re.findall(r"<figure>.*?</figure>", page, flags=re.S)
    assert all("<svg" in f and "<path" in f for f in figures)
    assert not re.search(r"(src|href)=['\"]https?://", page)  # nothing fetched
    assert "<td>car-t</td><td>orr</td>" in page and "Comparisons" in page
    assert "class='miss'" in page  # ZUMA-1's published ORR lies outside: a visible miss


def test_a_folder_without_a_trial_is_refused(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a trial folder" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="headless Chromium (Debian package chromium) is not installed")
def test_every_figure_renders_in_headless_chromium(trial_folder):
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                          "--dump-dom", (trial_folder / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    figures = re.findall(r"<figure>.*?</figure>", dom, flags=re.S)
    assert len(figures) >= len(FIGURES)
    assert all(re.search(r"<svg[^>]*>.*<path", f, flags=re.S) for f in figures)
