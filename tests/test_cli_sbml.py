"""``cartsim sbml``: writes the trajectory CSV; every bad input exits 2 and writes nothing."""

import csv
from pathlib import Path

import numpy as np
import pytest

from cartsim.cli import main
from tests.conftest import sbml_counting_event, sbml_level3v2, sbml_parameters

KIMMEL = Path(__file__).resolve().parents[1].parent / "shared" / "biomodels" / \
    "BIOMD0000001041.xml"
FEATURES = Path(__file__).resolve().parent / "data" / "features_l2v4.xml"
needs_kimmel = pytest.mark.skipif(not KIMMEL.exists(), reason="../shared/biomodels not present")


def run(*argv):
    return main(["sbml", *map(str, argv)])


@pytest.mark.parametrize(("multiplier", "scale", "shown"), [
    ("1", "0", "1/s"), ("3600", "0", "1/h"), ("86400", "0", "1/day"), ("1", "-3", "1/ms"),
    ("7", "0", "1/(7 s)")])
def test_check_writes_out_units_the_model_does_not_name(tmp_path, capsys, multiplier, scale,
                                                        shown):
    model = tmp_path / "decay.xml"
    model.write_text(UNITS_SBML.replace("K_UNITS", "per_second").replace(
        'scale="0" multiplier="1"', f'scale="{scale}" multiplier="{multiplier}"'))
    assert run("check", model) == 0
    out = capsys.readouterr().out
    assert f"k = 0.5 {shown}\n" in out and "S (mol/L)" in out and "c = 1 L" in out


@needs_kimmel
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


@needs_kimmel
def test_param_override_changes_the_result(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    run("run", KIMMEL, "--t-end", 100, "--points", 3, "--out", a)
    run("run", KIMMEL, "--t-end", 100, "--points", 3, "--out", b, "--param", "K_C=50")
    assert a.read_text() != b.read_text()


@needs_kimmel
@pytest.mark.parametrize("extra, message", [
    (["--param", "nope=1"], "'nope' is not an id in the model"),
    (["--param", "r_C=1"], "'r_C' is computed (by a rule"),
    (["--param", "CAR_T_cells=1"], "'CAR_T_cells' changes during the simulation"),
    (["--param", "K_C"], "expected ID=VALUE"),
    (["--param", "K_C=abc"], "is not a number"),
    (["--param", "K_C=inf"], "value must be finite"),
    (["--points", "1"], "--points: the time grid needs at least 2 points"),
    (["--points", "0"], "--points: the time grid needs at least 2 points"),
    (["--points", "-3"], "--points: the time grid needs at least 2 points"),
    (["--t-end", "0"], "--t-end: the end time must be a positive number"),
    (["--rtol", "-1"], "--rtol: the tolerance must be a positive number"),
    (["--atol=-1e-9"], "--atol: the tolerance must be a positive number"),
    (["--atol=nan"], "--atol: the tolerance must be a positive number"),
])
def test_bad_arguments_exit_2_without_output(tmp_path, capsys, extra, message):
    out = tmp_path / "traj.csv"
    assert run("run", KIMMEL, "--t-end", 10, "--out", out, *extra) == 2
    err = capsys.readouterr().err
    assert message in err
    if extra[0].startswith(("--points", "--t-end", "--rtol", "--atol")):
        assert str(KIMMEL) in err  # the error names the file it was about
    assert not out.exists() and list(tmp_path.iterdir()) == []


@needs_kimmel
def test_a_folder_is_refused_and_a_missing_one_created(tmp_path, capsys):
    assert run("run", KIMMEL, "--t-end", 10, "--out", tmp_path) == 2
    assert "is a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert run("run", KIMMEL, "--t-end", 10, "--out", tmp_path / "new" / "traj.csv") == 0
    assert (tmp_path / "new" / "traj.csv").is_file()
    (tmp_path / "file").write_text("")
    assert run("run", KIMMEL, "--t-end", 10, "--out", tmp_path / "file" / "traj.csv") == 2
    assert "cannot create the output folder" in capsys.readouterr().err


@needs_kimmel
def test_bad_time_and_files_exit_2(tmp_path, capsys):
    out = tmp_path / "traj.csv"
    assert run("run", KIMMEL, "--t-end", -5, "--out", out) == 2
    assert run("run", tmp_path / "missing.xml", "--t-end", 5, "--out", out) == 2
    broken = tmp_path / "broken.xml"
    broken.write_text("<sbml><model")
    assert run("run", broken, "--t-end", 5, "--out", out) == 2
    err = capsys.readouterr().err
    assert "--t-end: the end time must be a positive number" in err
    assert "missing.xml: file not found" in err
    assert "broken.xml: not valid SBML" in err
    assert not out.exists()


@needs_kimmel
def test_check_and_export(tmp_path, capsys):
    assert run("check", KIMMEL) == 0
    shown = capsys.readouterr().out
    assert "Normal_T_cells (item/mL)" in shown
    assert "K_C = 139 #/ul" in shown  # the unit definition's own name
    out = tmp_path / "cart6.xml"
    assert run("export", "--out", out) == 0
    assert out.read_text().startswith("<?xml")


def test_export_of_the_therapy_model_from_its_start(tmp_path):
    """``--model therapy --start -7`` writes the deterministic therapy model on a clock that
    reads 0 at day -7: the infusion (day 0) triggers at SBML time 7."""
    import libsbml

    out = tmp_path / "therapy.xml"
    assert run("export", "--out", out, "--model", "therapy", "--start", -7) == 0
    sbml = libsbml.readSBMLFromString(out.read_text()).getModel()
    trigger = libsbml.formulaToL3String(sbml.getEvent("infusion").getTrigger().getMath())
    assert trigger.replace(" ", "") == "time>=(7+t_infusion)"


def test_local_parameter_override_and_amount_columns(tmp_path, capsys):
    """A reaction-local parameter is addressed as REACTION.ID; columns are the SBML species in
    their own units (S a concentration, P an amount)."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("run", FEATURES, "--t-end", 2, "--points", 5, "--out", a) == 0
    assert run("run", FEATURES, "--t-end", 2, "--points", 5, "--out", b,
               "--param", "conversion.k=0") == 0
    first, second = (np.array(list(csv.reader(f.open()))[1:], dtype=float) for f in (a, b))
    assert list(csv.reader(a.open()))[0] == ["time", "S", "P"]
    assert first[0].tolist() == [0.0, 3.0, 0.0]
    np.testing.assert_allclose(second[:, 1], 3.0 + 2.0 * second[:, 0], rtol=1e-6)  # supply only
    assert (second[:, 2] == 0).all() and first[-1, 2] > 0
    assert run("check", FEATURES) == 0
    shown = capsys.readouterr().out
    assert "conversion.k = 0.5 undeclared" in shown
    assert "species: S (mol/L), P (mol)" in shown  # P is declared an amount


UNITS_SBML = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="decay" substanceUnits="mole" timeUnits="second" volumeUnits="litre"
         extentUnits="mole">
    <listOfUnitDefinitions>
      <unitDefinition id="per_second">
        <listOfUnits><unit kind="second" exponent="-1" scale="0" multiplier="1"/></listOfUnits>
      </unitDefinition>
    </listOfUnitDefinitions>
    <listOfCompartments>
      <compartment id="c" size="1" spatialDimensions="3" units="litre" constant="true"/>
    </listOfCompartments>
    <listOfSpecies>
      <species id="S" compartment="c" initialConcentration="1" substanceUnits="mole"
               hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="k" value="0.5" units="K_UNITS" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="R" reversible="false">
        <listOfReactants>
          <speciesReference species="S" stoichiometry="1" constant="true"/>
        </listOfReactants>
        <kineticLaw>
          <math xmlns="http://www.w3.org/1998/Math/MathML">
            <apply><times/><ci> k </ci><ci> S </ci><ci> c </ci></apply>
          </math>
        </kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
"""


def test_units_are_checked_when_asked(tmp_path, capsys):
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_text(UNITS_SBML.replace("K_UNITS", "per_second"))
    bad.write_text(UNITS_SBML.replace("K_UNITS", "mole"))  # k*S*c is then not mole/s
    assert run("check", good, "--units") == 0
    assert run("check", bad) == 0                         # not checked unless asked
    assert run("check", bad, "--units") == 2
    err = capsys.readouterr().err
    assert f"{bad}: line " in err and "unit mismatch" in err and "kineticLaw" in err
    out = tmp_path / "traj.csv"
    assert run("run", bad, "--t-end", 1, "--out", out, "--check-units") == 2
    assert not out.exists()
    assert run("run", good, "--t-end", 1, "--out", out, "--check-units") == 0
    assert out.exists()


@needs_kimmel
def test_barros_model_runs_past_the_death_of_its_car_t_cells(tmp_path):
    """BIOMD1020 to day 100 (the fidelity issue's defect: 'too many steps' at day 38): the
    CAR-T cells die by day ~20 under a tumour growing to 1e27 cells, and the run finishes with
    the tumour libroadrunner gives (its default tolerances) within 1%."""
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner is the test oracle")
    path = KIMMEL.with_name("BIOMD0000001020.xml")
    out = tmp_path / "barros.csv"
    assert run("run", path, "--t-end", 100, "--out", out) == 0
    rows = list(csv.reader(out.open()))
    values = np.array(rows[1:], dtype=float)
    assert values.shape[0] == 101 and np.all(np.isfinite(values))
    reference = np.array(roadrunner.RoadRunner(str(path)).simulate(0, 100, 101,
                                                                   selections=["time", "[T]"]))
    tumour = values[:, rows[0].index("T")]
    np.testing.assert_allclose(tumour, reference[:, 1], rtol=0.01)
    assert tumour[-1] > 1e27


STATELESS_SBML = sbml_level3v2("clock", """
    <listOfParameters>
      <parameter id="k" value="2" constant="true"/>
      <parameter id="x" constant="false"/>
    </listOfParameters>
    <listOfRules>
      <assignmentRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">
        <apply><times/><ci>k</ci><csymbol encoding="text"
          definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol></apply>
      </math></assignmentRule>
    </listOfRules>
""")


def test_a_model_without_states_runs(tmp_path, capsys):
    """Parameters and rules of time alone (no species, nothing to integrate): it compiles and
    runs instead of failing in the Jacobian (a sympy TypeError before)."""
    model, out = tmp_path / "clock.xml", tmp_path / "clock.csv"
    model.write_text(STATELESS_SBML)
    assert run("run", model, "--t-end", 2, "--points", 3, "--out", out) == 0
    assert [row[0] for row in csv.reader(out.open())] == ["time", "0.0", "1.0", "2.0"]
    assert "0 species" in capsys.readouterr().out


SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "sbml-test-suite" / "semantic"


@pytest.mark.skipif(not (SUITE / "00001").exists(), reason="../shared/sbml-test-suite absent")
def test_a_suite_case_written_as_its_settings_ask_matches_its_results(tmp_path):
    """SBML Test Suite case 00001 (two species in a compartment of size 1, compared as
    amounts): --variables and --amount write what its results.csv holds, within the suite's
    own tolerance (absolute 1e-7 + relative 1e-4)."""
    out = tmp_path / "case.csv"
    assert run("run", SUITE / "00001" / "sbml-l3v2.xml", "--t-end", 5, "--points", 51,
               "--variables", "S1,S2,compartment,k1", "--amount", "S1,S2", "--out", out) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time", "S1", "S2", "compartment", "k1"]
    got = np.array(rows[1:], dtype=float)
    with open(SUITE / "00001" / "results.csv") as handle:
        expected = np.array([[float(r["time"]), float(r["S1"]), float(r["S2"])]
                             for r in csv.DictReader(handle)])
    assert np.all(np.abs(got[:, :3] - expected) <= 1e-7 + 1e-4 * np.abs(expected))
    assert set(got[:, 3]) == {1.0} and set(got[:, 4]) == {1.0}  # the size, the rate constant


def test_amounts_and_concentrations_go_through_the_compartment(tmp_path):
    """FEATURES' S is a concentration in a compartment of size 1.5, P an amount: asked the
    other way round, each converts through the size; an unknown id names the close one."""
    own, other = tmp_path / "own.csv", tmp_path / "other.csv"
    assert run("run", FEATURES, "--t-end", 2, "--points", 5, "--out", own,
               "--variables", "S,P,default") == 0
    assert run("run", FEATURES, "--t-end", 2, "--points", 5, "--out", other,
               "--variables", "S,P", "--amount", "S", "--concentration", "P") == 0
    a = np.array(list(csv.reader(own.open()))[1:], dtype=float)
    b = np.array(list(csv.reader(other.open()))[1:], dtype=float)
    assert set(a[:, 3]) == {1.5}
    np.testing.assert_allclose(b[:, 1], a[:, 1] * 1.5)
    np.testing.assert_allclose(b[:, 2], a[:, 2] / 1.5)
    assert run("run", FEATURES, "--t-end", 2, "--out", other, "--variables", "S,Q") == 2
    assert run("run", FEATURES, "--t-end", 2, "--out", other, "--amount", "default") == 2


QUIET_CLOCK = sbml_level3v2("quiet", sbml_parameters(("hits", 0, False)) + sbml_counting_event(
    '<apply><gt/><apply><sin/><apply><times/><cn>6.283185307179586</cn><csymbol encoding="text"'
    ' definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol></apply></apply>'
    "<cn>0.5</cn></apply>"))


def test_an_event_of_time_in_a_quiet_model_fires_every_time(tmp_path):
    """Nothing changes between events, so without a step bound the solver strode over the
    windows where sin(2 pi t) > 0.5 (it fired at t = 1/12 and 37/12 only); the default
    --max-step (the output interval) sees each of the four windows in 3.2 days."""
    model, out = tmp_path / "quiet.xml", tmp_path / "quiet.csv"
    model.write_text(QUIET_CLOCK)
    assert run("run", model, "--t-end", 3.2, "--points", 33, "--variables", "hits",
               "--out", out) == 0
    assert float(list(csv.reader(out.open()))[-1][1]) == 4.0
    assert run("run", model, "--t-end", 3.2, "--points", 33, "--max-step", "-1",
               "--out", out) == 2


@needs_kimmel
def test_both_kernels_write_the_same_trajectories(tmp_path, capsys):
    """`sbml run --kernel generic` and `--kernel specialised` solve Kimmel 2021 alike (to 1e-6
    of each column's scale, rtol 1e-8); a bad choice is a usage error."""
    tables = {}
    for kernel in ("generic", "specialised"):
        out = tmp_path / f"{kernel}.csv"
        assert run("run", KIMMEL, "--t-end", 200, "--points", 21, "--out", out,
                   "--kernel", kernel) == 0
        tables[kernel] = np.loadtxt(out, delimiter=",", skiprows=1)
    scale = np.abs(tables["specialised"]).max(axis=0)
    assert (np.abs(tables["generic"] - tables["specialised"]) / scale).max() < 1e-6
    with pytest.raises(SystemExit, match="2"):
        run("run", KIMMEL, "--t-end", 1, "--out", tmp_path / "x.csv", "--kernel", "quick")
    assert "invalid choice: 'quick'" in capsys.readouterr().err
