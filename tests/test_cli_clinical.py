"""The calculators on the command line: `cartsim grade crs|icans`, `cartsim score ...`."""

from __future__ import annotations

import json

import pytest

from cartsim.cli import main


def run_json(capsys, argv: list[str]) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_grade_crs_json_has_grade_and_rule(capsys):
    result = run_json(capsys, ["grade", "crs", "--temp", "39.2", "--hypotension",
                               "one-vasopressor", "--oxygen", "low-flow"])
    assert result["grade"] == 3 and result["scale"] == "ASTCT CRS"
    assert "one vasopressor" in result["rule"]


def test_grade_crs_other_scales(capsys):
    argv = ["grade", "crs", "--temp", "39", "--oxygen", "low-flow", "--scale"]
    assert run_json(capsys, [*argv, "penn"])["grade"] == 3
    assert run_json(capsys, [*argv, "lee2014"])["grade"] == 2


def test_grade_icans_json(capsys):
    result = run_json(capsys, ["grade", "icans", "--ice", "0", "--consciousness",
                               "unarousable"])
    assert result["grade"] == 4 and "unarousable" in result["rule"]
    child = run_json(capsys, ["grade", "icans", "--capd", "9"])
    assert child["grade"] == 3 and "CAPD 9" in child["rule"]


def test_scores_json(capsys):
    hema = run_json(capsys, ["score", "hematotox", "--platelets", "60", "--anc", "0.5",
                             "--hb", "8", "--crp", "4", "--ferritin", "2500"])
    assert (hema["score"], hema["risk"]) == (7, "high")
    assert "ferritin 2500 > 2000" in hema["rule"]
    easix = run_json(capsys, ["score", "easix", "--ldh", "250", "--platelets", "50",
                              "--creatinine", "1.0"])
    assert easix["score"] == pytest.approx(5.0) and easix["risk"] is None


def test_crp_in_mg_per_l_as_the_trajectories_report_it(capsys):
    """CAR-HEMATOTOX's CRP cut-off is 3.0 mg/dL: 25 mg/L lies below it, 35 mg/L above."""
    common = ["score", "hematotox", "--platelets", "200", "--anc", "2", "--hb", "12",
              "--ferritin", "100"]
    assert run_json(capsys, [*common, "--crp-mg-l", "25"])["score"] == 0
    assert run_json(capsys, [*common, "--crp-mg-l", "35"])["score"] == 1
    assert run_json(capsys, [*common, "--crp", "3.5"])["score"] == 1


def test_plain_text_output(capsys):
    assert main(["grade", "crs", "--temp", "37.0"]) == 0
    assert capsys.readouterr().out.startswith("ASTCT CRS grade 0")


@pytest.mark.parametrize("argv, message", [
    (["grade", "crs", "--temp", "60"], "--temp 60"),
    (["grade", "icans", "--ice", "11"], "--ice 11"),
    (["grade", "icans", "--ice", "4", "--consciousness", "unarousable"], "unarousable"),
    (["grade", "icans", "--capd", "33"], "--capd 33"),
    (["grade", "icans", "--capd", "4", "--ice", "10"], "not both"),
    (["grade", "icans", "--capd", "4", "--capd-not-possible"], "not both"),
    (["grade", "crs", "--temp", "39", "--organ-toxicity", "7", "--scale", "lee2014"],
     "--organ-toxicity 7"),
    (["score", "hematotox", "--platelets", "-1", "--anc", "1", "--hb", "10", "--crp", "1",
      "--ferritin", "100"], "--platelets -1"),
    (["score", "easix", "--ldh", "300", "--platelets", "100"], "--creatinine"),
])
def test_impossible_values_exit_2_with_a_clear_message(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_vocabulary_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["grade", "crs", "--temp", "39", "--oxygen", "nasal"])
    assert stop.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
