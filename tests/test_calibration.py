"""Joint calibration: the objective by hand, parameter scopes, the file and its provenance,
reproducibility, and scenarios taking a calibration."""

from __future__ import annotations

import math

import pytest
import yaml

from cartsim.calibration import CalibrationFile, FittedParameter, load_calibration
from cartsim.calibration.fit import deviance
from cartsim.calibration.store import ScopedValue
from cartsim.cli import main
from cartsim.errors import CartsimError
from cartsim.journey import load_protocol
from cartsim.journey.scenarios import scenario_path


def test_deviance_of_a_published_share_by_hand():
    assert deviance(50.0, 100, 50.0, 1000) == pytest.approx(0.0)
    expected = 2 * 100 * (0.4 * math.log(0.4 / 0.5) + 0.6 * math.log(0.6 / 0.5))
    assert deviance(40.0, 100, 50.0, 1000) == pytest.approx(expected)
    # a rate the cohort never saw is kept half a patient from zero: large, finite
    assert deviance(5.0, 155, 0.0, 1000) == pytest.approx(
        310 * (0.05 * math.log(0.05 / 0.0005) + 0.95 * math.log(0.95 / 0.9995)))
    assert deviance(40.0, 200, 50.0, 1000) == pytest.approx(2 * expected)  # twice the n


def test_parameters_are_shared_or_product_or_disease_effects():
    shared = FittedParameter.parse("ec50_endo=300:1200")
    product = FittedParameter.parse("product:tisa-cel:cytokine_potency=0.1:1")
    assert (shared.scope, shared.low, shared.high) == ("shared", 300.0, 1200.0)
    assert (product.parameter, product.scope) == ("cytokine_potency", "product:tisa-cel")
    for bad in ("ec50_endo=1200:300", "trial:eliana:x=1:2", "ec50_endo", "x=0:1"):
        with pytest.raises(CartsimError):
            FittedParameter.parse(bad)
    eliana = load_protocol(scenario_path("eliana-tisa-cel-b-all"))
    calibration = CalibrationFile((ScopedValue("cytokine_potency", "shared", 0.9, 0.1, 1),
                                   ScopedValue("cytokine_potency", "product:tisa-cel", 0.3,
                                               0.1, 1),
                                   ScopedValue("K_cd40", "disease:mm", 2.0, 0.1, 5)))
    assert calibration.overrides(eliana) == {"cytokine_potency": 0.3}  # the product wins
    applied = calibration.applied(eliana)
    assert applied["patient"]["parameters"]["cytokine_potency"] == 0.3


def test_a_calibration_is_reproducible_and_says_where_it_came_from(tmp_path, capsys):
    args = ["calibrate", "--parameter", "ec50_endo=300:1200", "--trial",
            "karmma-ide-cel-mm", "--trial", "cibmtr-tisa-cel-lbcl", "--patients", "30",
            "--max-evaluations", "3", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "a.yaml")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.yaml")]) == 0
    text = (tmp_path / "a.yaml").read_text()
    assert text == (tmp_path / "b.yaml").read_text()
    fitted = load_calibration(tmp_path / "a.yaml")
    provenance = fitted.provenance
    assert provenance["deviance_fitted"] <= provenance["deviance_start"]
    assert "scipy" in provenance["library"] and provenance["evaluations"] >= 3
    assert {row["trial"] for row in provenance["data"]} == {"karmma-ide-cel-mm",
                                                            "cibmtr-tisa-cel-lbcl"}
    assert all(row["n"] > 0 and row["source"] for row in provenance["data"])
    (value,) = fitted.values
    assert value.parameter == "ec50_endo" and 300 <= value.value <= 1200
    capsys.readouterr()
    assert main(["cohort", "karmma-ide-cel-mm", "--patients", "2", "--out",
                 str(tmp_path / "cohort"), "--calibration", str(tmp_path / "a.yaml")]) == 0


def test_a_file_that_is_not_a_calibration_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"format": 99, "values": []}))
    with pytest.raises(CartsimError, match="not a cartsim calibration file"):
        load_calibration(path)
