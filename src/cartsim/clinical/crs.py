"""Cytokine release syndrome grades on the three scales CAR-T trials used.

ASTCT 2019 (Lee et al., Biol Blood Marrow Transplant 25:625) is today's standard; ZUMA-1 graded
with Lee 2014 (Blood 124:188) and ELIANA/JULIET with the Penn scale, so a virtual trial must be
able to grade the way the real one did. Rules as read in ../shared/reference/clinical_rules.md
section 1. Inputs are the bedside findings; the grading of simulated physiology maps model
observables onto these same vocabularies (``cartsim.clinical.grading``).
"""

from __future__ import annotations

from cartsim.clinical.checks import choice, integer, number
from cartsim.clinical.result import Grade, worst

FEVER_C = 38.0  # ASTCT: fever is temperature >= 38.0 °C
TEMPERATURE_RANGE_C = (25.0, 45.0)  # chosen: outside this range a living patient is impossible

# Bedside vocabularies: name -> (ordinal level, description). The ordinal is the order of
# severity; each scale maps it to its own grade below.
HYPOTENSION = {
    "none": (0, "no hypotension"),
    "fluids": (1, "hypotension responding to fluids"),
    "one-vasopressor": (2, "hypotension needing one vasopressor"),
    "multiple-vasopressors": (3, "hypotension needing multiple vasopressors"),
}
OXYGEN = {
    "none": (0, "no oxygen need"),
    "low-flow": (1, "low-flow nasal cannula (<= 6 L/min)"),
    "high-flow": (2, "high-flow nasal cannula (> 6 L/min)"),
    "facemask": (3, "facemask / non-rebreather / Venturi"),
    "positive-pressure": (4, "positive pressure (CPAP/BiPAP)"),
    "mechanical-ventilation": (5, "intubation and mechanical ventilation"),
}

# Grade each scale assigns to each ordinal level of hypotension / oxygen.
ASTCT_HYPOTENSION = (0, 2, 3, 4)
ASTCT_OXYGEN = (0, 2, 3, 3, 4, 4)
# Lee 2014: fluids or a low-dose single vasopressor is grade 2; multiple (high-dose) grade 3.
# Oxygen: FiO2 < 40% grade 2 (low-flow cannula, chosen mapping), >= 40% grade 3 (high-flow,
# facemask), ventilator support grade 4 (CPAP/BiPAP counted as ventilator support: chosen).
LEE2014_HYPOTENSION = (0, 2, 2, 3)
LEE2014_OXYGEN = (0, 2, 3, 3, 4, 4)
# Penn: multiple fluid boluses or low-dose vasopressors grade 3, high-dose vasopressors grade 4
# (multiple vasopressors taken as high-dose: chosen); any supplemental O2 including CPAP/BiPAP
# grade 3, mechanical ventilation grade 4.
PENN_HYPOTENSION = (0, 3, 3, 4)
PENN_OXYGEN = (0, 3, 3, 3, 3, 4)


def _bedside(temperature_c: float, hypotension: str, oxygen: str,
             scale: str) -> tuple[bool, tuple[int, str], tuple[int, str]]:
    """The checked findings every scale reads: fever, and the (level, description) of
    hypotension and of oxygen support."""
    low, high = TEMPERATURE_RANGE_C
    fever = float(number("temperature", temperature_c, low, high, unit="°C")) >= FEVER_C
    return (fever, choice("hypotension", hypotension, HYPOTENSION, scale),
            choice("oxygen", oxygen, OXYGEN, scale))


def astct_crs(temperature_c: float, hypotension: str = "none", oxygen: str = "none", *,
              anticytokine_given: bool = False, died_of_crs: bool = False) -> Grade:
    """ASTCT 2019 CRS grade: fever >= 38 °C is required (no longer once tocilizumab or steroids
    have been given); the grade is the more severe of hypotension and hypoxia."""
    scale = "ASTCT CRS"
    fever, (hypo, hypo_text), (oxy, oxy_text) = _bedside(temperature_c, hypotension, oxygen,
                                                         scale)
    if died_of_crs:
        return Grade(5, scale, "death from CRS -> grade 5")
    if not fever and not anticytokine_given:
        return Grade(0, scale, f"temperature {temperature_c:g} °C < {FEVER_C:g} °C and no "
                     "anticytokine therapy (fever required) -> grade 0")
    fever_text = (f"fever {temperature_c:g} °C" if fever
                  else "fever not required after anticytokine therapy")
    findings = [(1 if fever else 0, fever_text), (ASTCT_HYPOTENSION[hypo], hypo_text),
                (ASTCT_OXYGEN[oxy], oxy_text)]
    return worst(scale, findings, nothing="no fever, hypotension or hypoxia")


def lee2014_crs(temperature_c: float, hypotension: str = "none", oxygen: str = "none", *,
                organ_toxicity: int = 0, transaminitis: int = 0,
                died_of_crs: bool = False) -> Grade:
    """Lee 2014 CRS grade (ZUMA-1): symptoms grade 1; moderate intervention (FiO2 < 40%,
    fluids or one low-dose vasopressor, grade 2 organ toxicity) grade 2; aggressive intervention
    (FiO2 >= 40%, high-dose or multiple vasopressors, grade 3 organ toxicity or grade 4
    transaminitis) grade 3; ventilator support or grade 4 organ toxicity grade 4.
    ``organ_toxicity`` is the worst CTCAE grade of organs other than the liver."""
    scale = "Lee 2014 CRS"
    fever, (hypo, hypo_text), (oxy, oxy_text) = _bedside(temperature_c, hypotension, oxygen,
                                                         scale)
    organ = int(integer("organ_toxicity", organ_toxicity, 0, 4))
    liver = int(integer("transaminitis", transaminitis, 0, 4))
    if died_of_crs:
        return Grade(5, scale, "death from CRS -> grade 5")
    findings = [
        (1 if fever else 0, f"fever {temperature_c:g} °C"),
        (LEE2014_HYPOTENSION[hypo], hypo_text),
        (LEE2014_OXYGEN[oxy], oxy_text),
        (organ if organ >= 2 else 0, f"grade {organ} organ toxicity"),
        (3 if liver == 4 else 0, "grade 4 transaminitis"),
    ]
    return worst(scale, findings, nothing="no CRS symptoms")


def penn_crs(temperature_c: float, hypotension: str = "none", oxygen: str = "none", *,
             hospitalised: bool = False, creatinine_grade: int = 0, transaminitis: int = 0,
             coagulopathy: bool = False, died_of_crs: bool = False) -> Grade:
    """Penn CRS grade (ELIANA, JULIET): supportive care grade 1; hospitalisation for CRS or
    grade 2 creatinine / grade 3 transaminitis grade 2; fluid boluses or low-dose
    vasopressors, any supplemental oxygen, coagulopathy needing products, grade 3 creatinine or
    grade 4 transaminitis grade 3; high-dose vasopressors or mechanical ventilation grade 4."""
    scale = "Penn CRS"
    fever, (hypo, hypo_text), (oxy, oxy_text) = _bedside(temperature_c, hypotension, oxygen,
                                                         scale)
    creatinine = int(integer("creatinine_grade", creatinine_grade, 0, 4))
    liver = int(integer("transaminitis", transaminitis, 0, 4))
    if died_of_crs:
        return Grade(5, scale, "death from CRS -> grade 5")
    organ_grade = max({2: 2, 3: 3, 4: 3}.get(creatinine, 0), {3: 2, 4: 3}.get(liver, 0))
    findings = [
        (1 if fever else 0, f"fever {temperature_c:g} °C with supportive care"),
        (2 if hospitalised else 0, "hospitalisation for CRS symptoms"),
        (organ_grade, f"organ dysfunction (creatinine grade {creatinine}, "
                      f"transaminitis grade {liver})"),
        (3 if coagulopathy else 0, "coagulopathy needing FFP/cryoprecipitate/fibrinogen"),
        (PENN_HYPOTENSION[hypo], hypo_text),
        (PENN_OXYGEN[oxy], oxy_text),
    ]
    return worst(scale, findings, nothing="no CRS symptoms")
