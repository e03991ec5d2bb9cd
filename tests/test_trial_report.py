"""What a trial folder gives its readers: the report (one self-contained HTML page with every
figure) and the exports for other tools (a NONMEM-style event table, tidy trajectories)."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess

import pytest

from cartsim.cli import main
from cartsim.trial.store import query
from cartsim.trial.trajectories import DEFAULT_VARIABLES

LBCL = "zuma1-axi-cel-lbcl"


@pytest.fixture(scope="module")
def trial_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    spec = folder / "spec.yaml"
    spec.write_text(f"""name: report test
patients: 24
follow_up_days: 730
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
           "Waterfall: best tumour change",
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


def test_a_tisa_cel_report_sets_the_transgene_beside_its_published_peak(tmp_path):
    """Tisa-cel's population PK peak (Stein 2019, copies/ug) is drawn on a transgene panel
    with its 90% between-patient range; an axi-cel trial has no such panel."""
    out = tmp_path / "t"
    assert main(["trial", "eliana-tisa-cel-b-all", "--patients", "6", "--out", str(out),
                 "--quiet", "--trajectory-days", "0:28:1"]) == 0
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    kinetics = page[page.index("<h2>CAR-T kinetics</h2>"):]
    kinetics = kinetics[:kinetics.index("</figure>")]
    assert "transgene copies per" in kinetics and "published typical Cmax at Tmax" in kinetics
    assert "Stein 2019" in kinetics


def test_the_published_peak_range_covers_90_percent_of_patients():
    from cartsim.presets.blood_kinetics import PublishedPeak

    peak = PublishedPeak(24000.0, 9.3, 0.65, 0.38, "test")
    low, high = peak.range_90(peak.cmax_copies_per_ug, peak.omega2_cmax)
    assert low == pytest.approx(24000.0 / 3.766, rel=1e-3)
    assert high == pytest.approx(24000.0 * 3.766, rel=1e-3)  # exp(1.645 * sqrt(0.65))


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


def test_the_nonmem_table_has_each_infusion_and_the_stored_observations(trial_folder, tmp_path):
    out = tmp_path / "nm.csv"
    assert main(["export", str(trial_folder), "--format", "nonmem", "--out", str(out)]) == 0
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:10] == ["ID", "TIME", "EVID", "AMT", "CMT", "DV", "MDV", "ARM", "REP",
                                  "PATIENT"] and "T0" in rows[0]
    doses = [r for r in rows if r["EVID"] == "1"]
    infused = query(trial_folder, "SELECT arm, patient FROM patients WHERE infused").fetchall()
    assert sorted((r["ARM"], int(r["PATIENT"])) for r in doses) == sorted(infused)
    assert {r["ARM"] for r in doses} == {"car-t"}  # the comparator gets no CAR-T
    assert all(float(r["AMT"]) > 0 and r["MDV"] == "1" and float(r["TIME"]) == 0 for r in doses)
    stored = dict(((arm, p, day), v) for arm, p, day, v in query(
        trial_folder, "SELECT arm, patient, day, cart_cells_per_ul FROM trajectories "
                      "WHERE NOT isnan(cart_cells_per_ul)").fetchall())
    observations = [r for r in rows if r["EVID"] == "0"]
    assert len(observations) == len(stored)
    assert all(float(r["DV"]) == stored[(r["ARM"], int(r["PATIENT"]), float(r["TIME"]))]
               for r in observations)


def test_tidy_trajectories_hold_every_stored_value(trial_folder, tmp_path):
    out = tmp_path / "tidy.csv"
    assert main(["export", str(trial_folder), "--format", "tidy", "--out", str(out)]) == 0
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    (patients_days,) = query(trial_folder, "SELECT count(*) FROM trajectories").fetchall()[0]
    variables = {r["variable"] for r in rows}
    assert variables == set(DEFAULT_VARIABLES) and len(rows) == patients_days * len(variables)
    assert main(["export", str(trial_folder), "--format", "nonmem", "--dv", "nope", "--out",
                 str(tmp_path / "x.csv")]) == 2


def test_published_landmarks_and_kinetics_stand_beside_the_simulated_ones(trial_folder):
    """The Kaplan-Meier curves carry the scenario's published landmark rates with their
    trial's interval, and the kinetics the published ZUMA-1 counts and the simulated peak."""
    import json

    from cartsim.report.trial_report import _published_landmarks

    summary = json.loads((trial_folder / "summary.json").read_text())
    endpoints = summary["arms"]["car-t"]["endpoints"]
    for name, months in (("os_18mo", 18.0), ("pfs_24mo", 24.0)):  # ZUMA-1's published
        published = endpoints[name]["published"]
        (found,) = _published_landmarks(summary["arms"]["car-t"], name[:name.index("_")])
        month, value, low, high = found
        assert month == months and value == published["value"] / 100 and low < value < high
    assert _published_landmarks(summary["arms"]["chemo"], "os") == []  # none published
    page = (trial_folder / "report.html").read_text()
    assert "Published axi-cel: medians and interquartile ranges, kimmel2021" in page
    peak = summary["arms"]["car-t"]["endpoints"]["cart_peak_median_cells_per_ul"]
    assert peak["unit"] == "cells/uL" and peak["n"] > 0 and peak["value"] > 0


def test_the_waterfall_bars_are_the_best_change_at_the_visits(trial_folder):
    """Every infused patient with a measurable baseline has a best change from -100% on, and
    a complete response is a shrinkage (the stored column the waterfall draws)."""
    rows = query(trial_folder, "SELECT best_response, best_tumour_change_pct FROM patients "
                               "WHERE infused AND arm = 'car-t'").fetchall()
    changes = [c for _, c in rows if c is not None]
    assert len(changes) >= len(rows) - 2 and min(changes) >= -100.0
    assert all(c < -50 for r, c in rows if r == "CR")
