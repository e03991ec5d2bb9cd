"""SBML import: every BioModels CAR-T model in ../shared/biomodels agrees with libroadrunner.

Test material: BioModels BIOMD0000001011/1012 (León-Triana et al. 2020), 1013 (León-Triana et
al. 2021), 1019/1020 (Barros et al. 2021, CARTmath), 1024/1025 (Chaudhury et al. 2020), 1041
(Kimmel, Locke & Altrock 2021); BioModels, CC BY 4.0 (see ../shared/biomodels/README.md).
"""

from pathlib import Path

import numpy as np
import pytest

from cartsim.engine import compile_model
from cartsim.errors import SBMLError
from cartsim.sbml import import_sbml

BIOMODELS = Path(__file__).resolve().parents[1].parent / "shared" / "biomodels"

# Horizon (days) per model: the time scale each paper simulates. BIOMD1020 has an unbounded
# tumour (beta = 0); past ~40 days its cytokine decay rate exceeds 1e8/day and both simulators'
# tiny components are numerical noise (libroadrunner's go negative), so it stops at 40 days.
HORIZONS = {"BIOMD0000001011": 200, "BIOMD0000001012": 200, "BIOMD0000001013": 200,
            "BIOMD0000001019": 300, "BIOMD0000001020": 40, "BIOMD0000001024": 30,
            "BIOMD0000001025": 30, "BIOMD0000001041": 500}


def roadrunner_species(path: Path, t_end: float, points: int):
    """libroadrunner's species trajectories at tight CVODE tolerances, in each species'
    own units (concentration unless hasOnlySubstanceUnits)."""
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner is the test oracle")
    import libsbml

    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-14
    rr.integrator.maximum_num_steps = 1_000_000
    document = libsbml.readSBMLFromFile(str(path))  # keep alive while its species are read
    species = list(document.getModel().getListOfSpecies())
    ids = [s.getId() for s in species]
    selections = [s.getId() if s.getHasOnlySubstanceUnits() else f"[{s.getId()}]"
                  for s in species]
    result = np.array(rr.simulate(0, t_end, points, selections=["time", *selections]))
    return ids, result[:, 1:]


@pytest.mark.skipif(not BIOMODELS.exists(), reason="../shared/biomodels not present")
@pytest.mark.parametrize("model_id", sorted(HORIZONS))
def test_biomodel_matches_libroadrunner(model_id):
    path = BIOMODELS / f"{model_id}.xml"
    t_end, points = HORIZONS[model_id], 201
    ids, reference = roadrunner_species(path, t_end, points)
    imported = import_sbml(path)
    compiled = compile_model(imported.model)
    result = compiled.solve(np.linspace(0, t_end, points), rtol=1e-10, atol=1e-12,
                            max_steps=2_000_000)
    assert result.status[0] == 0, result.messages
    assert imported.species == ids
    ours = imported.species_values(result)[0]
    floor = 1e-6 * np.abs(reference).max(axis=0)  # absolute floor: 1e-6 of each peak
    relative = np.abs(ours - reference) / (np.abs(reference) + floor)
    assert relative.max() < 1e-6, (model_id, relative.max())


def write(tmp_path, body: str, name="model.xml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="m">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="x" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true"
               boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters><parameter id="k" value="0.5" constant="true"/></listOfParameters>
    {extra}
  </model>
</sbml>"""

RATE_RULE = """<listOfRules><rateRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">
  {math}</math></rateRule></listOfRules>"""


def test_minimal_model_imports_and_solves(tmp_path):
    rule = RATE_RULE.format(math="<apply><times/><apply><minus/><ci>k</ci></apply><ci>x</ci>"
                                 "</apply>")
    imported = import_sbml(write(tmp_path, MINIMAL.replace("{extra}", rule)))
    result = compile_model(imported.model).solve(np.array([0.0, 2.0]), rtol=1e-10, atol=1e-12)
    assert result.state("x")[0, -1] == pytest.approx(np.exp(-1.0), rel=1e-8)


@pytest.mark.parametrize("extra, problem", [
    (RATE_RULE.format(math="<apply><times/><ci>kk</ci><ci>x</ci></apply>"),
     "unknown symbol 'kk'"),
    (RATE_RULE.format(math="<apply><ci>f</ci><ci>x</ci></apply>"), "unknown function 'f'"),
    ("""<listOfRules><algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><minus/><ci>x</ci><ci>k</ci></apply></math></algebraicRule></listOfRules>""",
     "algebraic rules are not supported"),
    ("""<listOfEvents><event id="e" useValuesFromTriggerTime="true">
     <trigger initialValue="true" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><gt/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">
     t</csymbol><cn>1</cn></apply></math></trigger>
     <delay><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>1</cn></math></delay>
     <listOfEventAssignments><eventAssignment variable="x"><math
     xmlns="http://www.w3.org/1998/Math/MathML"><cn>0</cn></math></eventAssignment>
     </listOfEventAssignments></event></listOfEvents>""", "event delays are not supported"),
])
def test_unsupported_or_wrong_sbml_is_refused_clearly(tmp_path, extra, problem):
    path = write(tmp_path, MINIMAL.replace("{extra}", extra))
    with pytest.raises(SBMLError, match=problem) as info:
        import_sbml(path)
    assert str(path) in str(info.value)


def test_malformed_file(tmp_path):
    path = write(tmp_path, "<sbml><model id='m'>")
    with pytest.raises(SBMLError, match="not valid SBML") as info:
        import_sbml(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(SBMLError, match="file not found"):
        import_sbml(tmp_path / "nope.xml")
