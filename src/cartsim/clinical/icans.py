"""ICANS grade, ASTCT 2019 (Lee et al., Biol Blood Marrow Transplant 25:625), adults and
children over 12: the most severe of five domains (clinical_rules.md section 2).

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


def astct_icans(ice: int = 10, consciousness: str = "awake", seizure: str = "none",
                motor: str = "none", icp: str = "none") -> Grade:
    """ASTCT ICANS grade. An unarousable patient cannot do the ICE test, so ``ice`` must be 0
    then (that patient is grade 4); an awake patient with ICE 0 is grade 3."""
    ice = int(integer("ice", ice, 0, 10))
    awake_level, awake_text = choice("consciousness", consciousness, CONSCIOUSNESS, SCALE)
    if consciousness == "unarousable" and ice > 0:
        raise ClinicalValueError("ice", ice, "must be 0 for an unarousable patient (the ICE "
                                 "test cannot be done)")
    findings = [
        (ice_domain_grade(ice), f"ICE {ice}"),
        (awake_level, awake_text),
        choice("seizure", seizure, SEIZURE, SCALE),
        choice("motor", motor, MOTOR, SCALE),
        choice("icp", icp, ICP, SCALE),
    ]
    return worst(SCALE, findings, nothing="ICE 10, awake, no seizure, motor or ICP findings")
