"""Write the SBML feature files for tests/test_sbml_import.py with python-libsbml.

Run from the repository root: ``python tests/data/make_features.py``. The files exercise what the
BioModels CAR-T files do not (see the test module's docstring); libroadrunner is their oracle.
"""

from pathlib import Path

import libsbml

HERE = Path(__file__).resolve().parent


class Builder:
    """Terse element factory for one SBML model; math is written as L3 infix formulas."""

    def __init__(self, level: int, version: int, model_id: str):
        self.document = libsbml.SBMLDocument(level, version)
        self.m = self.document.createModel()
        self.m.setId(model_id)
        self.l3 = level == 3

    def math(self, text: str):
        ast = libsbml.parseL3FormulaWithModel(text, self.m)
        if ast is None:
            raise ValueError(f"{text!r}: {libsbml.getLastParseL3Error()}")
        return ast

    def compartment(self, cid: str, size: float | None = None):
        c = self.m.createCompartment()
        c.setId(cid)
        c.setConstant(True)
        c.setSpatialDimensions(3)
        if size is not None:
            c.setSize(size)
        return c

    def parameter(self, pid: str, value: float | None = None, constant: bool = True):
        p = self.m.createParameter()
        p.setId(pid)
        p.setConstant(constant)
        if value is not None:
            p.setValue(value)

    def species(self, sid: str, compartment: str, *, amount=None, concentration=None,
                amounts_only=False, boundary=False, constant=False):
        s = self.m.createSpecies()
        s.setId(sid)
        s.setCompartment(compartment)
        if amount is not None:
            s.setInitialAmount(amount)
        if concentration is not None:
            s.setInitialConcentration(concentration)
        s.setHasOnlySubstanceUnits(amounts_only)
        s.setBoundaryCondition(boundary)
        s.setConstant(constant)
        return s

    def reaction(self, rid: str, reactants, products, law: str, local=(), modifiers=()):
        r = self.m.createReaction()
        r.setId(rid)
        r.setReversible(False)
        if not self.l3:
            r.setFast(False)
        for refs, create in ((reactants, r.createReactant), (products, r.createProduct)):
            for sid, stoichiometry in refs:
                ref = create()
                ref.setSpecies(sid)
                ref.setStoichiometry(stoichiometry)
                if self.l3:
                    ref.setConstant(True)
        for sid in modifiers:
            r.createModifier().setSpecies(sid)
        kinetic_law = r.createKineticLaw()
        for pid, value in local:
            lp = kinetic_law.createLocalParameter() if self.l3 else kinetic_law.createParameter()
            lp.setId(pid)
            lp.setValue(value)
        kinetic_law.setMath(self.math(law))

    def rule(self, kind: str, variable: str, text: str):
        rule = self.m.createRateRule() if kind == "rate" else self.m.createAssignmentRule()
        rule.setVariable(variable)
        rule.setMath(self.math(text))

    def initial(self, symbol: str, text: str):
        ia = self.m.createInitialAssignment()
        ia.setSymbol(symbol)
        ia.setMath(self.math(text))

    def function(self, fid: str, text: str):
        f = self.m.createFunctionDefinition()
        f.setId(fid)
        f.setMath(self.math(text))

    def event(self, eid: str | None, trigger: str, assignments, initial_value: bool = True):
        e = self.m.createEvent()
        if eid:
            e.setId(eid)
        t = e.createTrigger()
        t.setMath(self.math(trigger))
        if self.l3:
            e.setUseValuesFromTriggerTime(True)
            t.setInitialValue(initial_value)
            t.setPersistent(True)
        for variable, text in assignments:
            a = e.createEventAssignment()
            a.setVariable(variable)
            a.setMath(self.math(text))

    def write(self, name: str):
        self.document.checkConsistency()
        for i in range(self.document.getNumErrors()):
            error = self.document.getError(i)
            if error.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
                raise ValueError(f"{name}: {error.getMessage()}")
        libsbml.writeSBMLToFile(self.document, str(HERE / name))


def features_l3v2() -> Builder:
    """Amounts and concentrations, conversion factors, renamed ids, rules, initial
    assignments, reaction ids in math, and events of every kind cartsim maps."""
    b = Builder(3, 2, "features")
    b.m.setName("cartsim SBML import feature test (generated)")
    b.compartment("cell", 2.5)
    b.compartment("_nucleus")  # leading underscore; its size is an initial assignment
    b.parameter("nucleus_fraction", 0.2)
    b.parameter("t", 0.3)  # reserved in cartsim (time)
    b.parameter("exp", 1.5)  # reserved in cartsim, and a MathML function
    b.parameter("k", 99.0)  # shadowed by R1's local k
    for pid, value in (("kcat", 1.2), ("Km", 0.8), ("deg", 0.15), ("cf", 0.5),
                       ("pulse_time", 4.0)):
        b.parameter(pid, value)
    b.parameter("lambda", 1.0, constant=False)  # a Python keyword; rate rule, event target
    b.parameter("counter", 0.0, constant=False)  # event target
    b.parameter("flag", 0.0, constant=False)  # event target
    b.parameter("accumulated", 0.0, constant=False)  # rate rule reading a reaction rate
    b.parameter("total_flux", constant=False)  # assignment rule reading reaction rates
    b.parameter("molecules", constant=False)  # assignment rule with avogadro
    b.parameter("doubled_kcat")  # initial assignment of parameters
    b.parameter("start_B")  # initial assignment of species
    b.species("A", "cell", concentration=2.0)
    b.species("B", "cell", amount=1.0, amounts_only=True)
    b.species("C", "_nucleus", amount=5.0).setConversionFactor("cf")
    b.species("D", "cell", concentration=0.1, boundary=True)
    b.species("E", "cell", concentration=0.0)
    b.species("F", "cell", concentration=0.7, boundary=True, constant=True)
    b.species("G", "cell", concentration=0.0)
    b.species("H", "cell", concentration=0.4, amounts_only=True)
    b.initial("_nucleus", "nucleus_fraction * cell")
    b.initial("doubled_kcat", "2 * kcat")
    b.initial("start_B", "B + H")
    b.initial("G", "2 * A + F")
    b.function("mm", "lambda(V, S, K, V * hill(S, K, 1))")
    b.function("hill", "lambda(x, K, n, pow(x, n) / (pow(K, n) + pow(x, n)))")
    b.reaction("R1", [("A", 1)], [("B", 2)], "cell * k * A * F", local=[("k", 0.4)],
               modifiers=["F"])
    b.reaction("R2", [("B", 1)], [("C", 1)], "mm(doubled_kcat / 2, B / cell, Km) * cell")
    b.reaction("R3", [("C", 1)], [], "_nucleus * (max(deg, 0.05) * C + min(t, 1) * 0.01 * C"
               " + abs(-0.01) * root(3, C * C * C))")
    b.reaction("R4", [], [("H", 1)], "exp * 0.1 * exp(-time / 5)")
    b.rule("rate", "D", "piecewise(0.5, time < 2, -0.1 * D)")
    b.rule("rate", "lambda", "-0.2 * lambda + log(10, 100) * 0.01")
    b.rule("rate", "accumulated", "R2")
    b.rule("assignment", "E", "A + B / cell + ln(exponentiale)")
    b.rule("assignment", "total_flux", "R1 + R2 + R3")
    b.rule("assignment", "molecules", "B * avogadro * 1e-23")
    b.event("pulse", "time >= pulse_time", [("A", "A + 1")])
    b.event("threshold", "B > 2.3", [("lambda", "lambda + 1"), ("C", "C / 2")])
    b.event("already_true", "A > 1.9", [("counter", "counter + 1")], initial_value=False)
    b.event("dip", "and(lt(A, 0.4), gt(time, 1))", [("counter", "counter + 10")])
    b.event("just_after_start", "time > 0", [("flag", "1")])  # fires at 0+, after t = 0 output
    b.event("true_at_start", "time >= 0", [("counter", "counter + 1000")])  # never fires
    b.event("fires_at_start", "time >= 0", [("lambda", "lambda + 0.5")], initial_value=False)
    return b


def features_l2v4() -> Builder:
    """SBML Level 2: kinetic-law parameters and an event without an id."""
    b = Builder(2, 4, "features_l2")
    b.compartment("default", 1.5)
    b.parameter("k", 7.0)
    b.parameter("v0", 2.0)
    b.parameter("level", 0.0, constant=False)
    b.species("S", "default", concentration=3.0)
    b.species("P", "default", amount=0.0, amounts_only=True)
    b.reaction("conversion", [("S", 1)], [("P", 1)], "default * k * S", local=[("k", 0.5)])
    b.reaction("supply", [], [("S", 1)], "v0 * default")
    b.event(None, "gt(P, 2)", [("level", "level + P")])
    return b


if __name__ == "__main__":
    features_l3v2().write("features_l3v2.xml")
    features_l2v4().write("features_l2v4.xml")
