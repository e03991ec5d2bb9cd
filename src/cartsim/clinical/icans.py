"""ICANS grade, ASTCT 2019 (Lee et al., Biol Blood Marrow Transplant 25:625): the most severe
of five domains (clinical_rules.md section 2). Adults and children over 12 are tested with the
ICE score; children of 12 or under with the CAPD (Cornell Assessment of Pediatric Delirium,
0-32, higher is worse) in its place.

Tremor, myoclonus and intracranial haemorrhage are graded by CTCAE and do not enter here.
"""

from __future__ import annotations

from cartsim.clinical.checks import ClinicalValueError, choice, integer
from cartsim.clinical.result import Grade, worst

SCALE = "ASTCT ICANS"

CONSCIOUSNESS = {
    "awake": (0, "awake"),
    "drowsy": (1, "depressed consciousness, awakens spontaneously"),
    "arousable-voice": (2, "awakens only to voice"),
    "arousable-touch": (3, "awakens only to tactile stimulus"),
    "unarousable": (4, "unarousable or needs vigorous stimuli (stupor/coma)"),
}
SEIZURE = {
    "none": (0, "no seizure"),
    "self-limiting": (3, "clinical seizure resolving rapidly / non-convulsive seizure "
                         "resolving with intervention"),
    "prolonged": (4, "life-threatening prolonged seizure (> 5 min)"),
    "repetitive": (4, "repetitive seizures without return to baseline"),
}
MOTOR = {
    "none": (0, "no motor findings"),
    "deep-focal-weakness": (4, "deep focal motor weakness (hemiparesis/paraparesis)"),
}
ICP = {
    "none": (0, "no raised intracranial pressure"),
    "focal-edema": (3, "focal/local oedema on neuroimaging"),
    "diffuse-edema": (4, "diffuse cerebral oedema / posturing / papilloedema / Cushing's "
                         "triad"),
}


def ice_domain_grade(ice: int) -> int:
    """Grade of the ICE score alone: 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3."""
    return 0 if ice == 10 else 1 if ice >= 7 else 2 if ice >= 3 else 3


CAPD_DELIRIUM = 9
"""CAPD scores of 1-8 are grade 1 or 2 (the level of consciousness decides), 9 or more grade 3,
a child unable to do the CAPD grade 4: the grade-1 band (CAPD < 9) as read in NCIt C188936
(clinical_rules.md section 2); the bands of grades 2-4 are Lee 2019's paediatric table as
commonly reproduced, marked unverified in reference/."""


def capd_domain_grade(capd: int | None) -> int:
    """Grade of the CAPD alone (None: the child cannot do it): 0 -> 0, 1-8 -> 1, >= 9 -> 3,
    unable -> 4."""
    if capd is None:
        return 4
    return 0 if capd == 0 else 1 if capd < CAPD_DELIRIUM else 3


def astct_icans(ice: int | None = None, consciousness: str = "awake", seizure: str = "none",
                motor: str = "none", icp: str = "none", *, capd: int | None = None,
                capd_possible: bool = True) -> Grade:
    """ASTCT ICANS grade. ``ice`` defaults to 10 (no deficit). An unarousable patient cannot do
    the ICE test, so ``ice`` must be 0 then (that patient is grade 4); an awake patient with
    ICE 0 is grade 3. For a child of 12 or under pass ``capd`` (0-32) instead of ``ice``, or
    ``capd_possible=False``."""
    awake_level, awake_text = choice("consciousness", consciousness, CONSCIOUSNESS, SCALE)
    if capd is not None or not capd_possible:
        if ice is not None:
            raise ClinicalValueError("ice", ice, "give either an ICE score (over 12 years) or "
                                     "a CAPD score (12 or under), not both")
        if capd is not None and not capd_possible:
            raise ClinicalValueError("capd", capd, "give a CAPD score or say the CAPD was not "
                                     "possible, not both")
        if capd is not None:
            capd = int(integer("capd", capd, 0, 32))
        test = (capd_domain_grade(capd), "CAPD not possible" if capd is None else f"CAPD {capd}")
    else:
        ice = int(integer("ice", 10 if ice is None else ice, 0, 10))
        if consciousness == "unarousable" and ice > 0:
            raise ClinicalValueError("ice", ice, "must be 0 for an unarousable patient (the "
                                     "ICE test cannot be done)")
        test = (ice_domain_grade(ice), f"ICE {ice}")
    findings = [
        test,
        (awake_level, awake_text),
        choice("seizure", seizure, SEIZURE, SCALE),
        choice("motor", motor, MOTOR, SCALE),
        choice("icp", icp, ICP, SCALE),
    ]
    return worst(SCALE, findings, nothing="ICE 10, awake, no seizure, motor or ICP findings")
