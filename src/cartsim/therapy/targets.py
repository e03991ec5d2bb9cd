"""CAR binding to antigen-bearing cells: who is recognised, how strongly, and how fast it dies.

Each cell type carries a density (molecules per cell) of each antigen the model knows. A CAR has
one binder per antigen it targets (``binds_<antigen>`` 0 or 1, OR logic) with an affinity
``kd_<antigen>``; a cell's recognition weight is ``D/(D + D50)`` per antigen, where the antigen
density needed for half-maximal recognition grows with the dissociation constant. Engagement of
CAR-T cells saturates in the recognition-weighted target load; the killing rate of each target
cell is Beddington-DeAngelis in effectors and targets, so it saturates in the effector:target
ratio (and reduces to Kimmel 2021's ``E/(k_B + E)`` when the target term is zero). Tumour cells
are killed more slowly when fewer effectors reach them (``infiltration``) or when they resist
the killing they are engaged in (``susceptibility``: a resistant lymphoma still activates the
CAR-T cells it survives, so failure with antigen present is possible). Healthy B and plasma
cells, which CAR-T cells meet in blood, marrow and lymphoid organs, are killed at León-Triana
2020's mass-action rate without the target saturation, so a few persisting CAR-T cells keep
B-cell aplasia. Engagement
is sigmoidal in the target load (Hill coefficient 2, as activation in Hanson 2016 and the
binding function of CARCADE): a trickle of new B cells does not keep effectors expanding, so
after the tumour is gone CAR-T cells contract and persist as memory.
"""

from __future__ import annotations

from cartsim.model import Assignment, Model
from cartsim.therapy.common import par

ANTIGENS = ("CD19", "CD22", "BCMA", "GPRC5D", "TAA")
"""CD19 and CD22 (B-cell lineage), BCMA and GPRC5D (plasma cells, myeloma) and a generic
solid-tumour antigen. The second antigen of each lineage is the target of rescue CARs after
antigen escape."""

TUMOUR_CLONES = ("Tp", "Tl", "Tn")
"""Antigen-positive, antigen-low and antigen-negative tumour clones (for the targeted antigen)."""

SANCTUARY = "Ts"
"""Antigen-positive tumour cells in a sanctuary: recognised as ``Tp``, reached by a share
``sanctuary_access`` of the effectors."""

HEALTHY_TARGETS = ("B", "P", "PL", "H")
"""Normal B cells, short- and long-lived plasma cells, healthy tissue carrying the TAA."""

BLOOD_TARGETS = ("B", "P", "PL")
"""Healthy targets in blood, marrow and lymphoid organs, where circulating CAR-T cells meet
them (killed at León-Triana 2020's rate); the others are killed at the tumour's."""

DEFAULT_DENSITY = {
    # (antigen, cell): molecules per cell; tumour densities come from the disease presets.
    ("CD19", "B"): (10000.0, "chosen: order of magnitude of CD19 on normal B cells; no value "
                    "in reference/"),
    ("CD22", "B"): (3000.0, "chosen: CD22 is expressed on normal B cells at a few thousand "
                    "molecules per cell, below CD19; no value in reference/"),
    ("GPRC5D", "P"): (5000.0, "chosen: GPRC5D is expressed on normal plasma cells; no value "
                      "in reference/"),
    ("GPRC5D", "PL"): (5000.0, "chosen: as for short-lived plasma cells"),
    ("BCMA", "P"): (12590.0, "singh2021: Ag_tumor, BCMA per myeloma cell, used for normal "
                    "plasma cells too"),
    ("BCMA", "PL"): (12590.0, "singh2021: Ag_tumor, used for long-lived plasma cells too"),
    ("TAA", "H"): (1000.0, "chosen: healthy tissue expresses the solid-tumour antigen at low "
                   "density (carcade2022 studies healthy expression as a variable)"),
}


def density_name(antigen: str, cell: str) -> str:
    return f"dens_{antigen}_{cell}"


def _density_parameters():
    for antigen in ANTIGENS:
        for cell in TUMOUR_CLONES + HEALTHY_TARGETS:
            value, source = DEFAULT_DENSITY.get(
                (antigen, cell), (0.0, "chosen: absent unless a disease preset sets it"))
            yield par(density_name(antigen, cell), value, "1/cell", source,
                      f"{antigen} molecules per {cell} cell")


def _binder_parameters():
    for antigen in ANTIGENS:
        yield par(f"binds_{antigen}", 1.0 if antigen == "CD19" else 0.0, "",
                  "chosen: product presets set the CAR's targets", f"1 if the CAR binds {antigen}")
        yield par(f"kd_{antigen}", 100.0, "nM", "carcade2022: CAR_AFFINITY 1e-7 M (default "
                  "until a product preset sets its binder)", f"CAR dissociation constant for "
                  f"{antigen}")


TARGET_PARAMETERS = (
    *_density_parameters(),
    *_binder_parameters(),
    par("d50_ref", 1000.0, "1/cell", "chosen: carcade2022 CAR_ANTIGENS_CANCER 1000 per cell as "
        "the density a K_D 1e-7 M CAR recognises half-maximally", "antigen density for "
        "half-maximal recognition at the reference affinity"),
    par("kd_ref", 100.0, "nM", "carcade2022: CAR_AFFINITY 1e-7 M", "reference CAR affinity"),
    par("K_act", 14.4, "Gcell", "chosen: calibrated with rho_max to stein2019 Table 1 "
        "expansion and zuma1 blood counts (kimmel2021: obs_CAR_count)", "recognised target "
        "load giving half-maximal engagement"),
    par("kill_max", 3.5, "1/day", "chosen: calibrated with K_act and q_ET to stein2019 and "
        "zuma1 kinetics (kimmel2021: gamma_B 1.15, range 0.64-1.35, fitted LBCL alone)",
        "maximal killing rate per target cell"),
    par("K_E", 0.88, "Gcell", "chosen: calibrated with kill_max (tools/calibrate_therapy.py; "
        "kimmel2021: k_B 2.024e9 cells fitted LBCL alone)", "effector number for "
        "half-maximal killing when targets are few"),
    par("K_E_blood", 0.078, "Gcell", "leontriana2020: alpha 4.5e-11 /(cell*day), CAR-T killing "
        "of healthy and leukaemic B cells by mass action, taken as the slope kill_max/K_E_blood "
        "at few effectors (3.5/45 Gcell)", "effector number for half-maximal killing of "
        "healthy blood and marrow cells (B and plasma cells), which CAR-T cells reach in "
        "circulation; K_E, fitted to lymphoma (kimmel2021), holds for tumour and tissue"),
    par("q_ET", 0.29, "", "chosen: calibrated with kill_max; killing halves when recognised "
        "targets outnumber effectors about 3 to 1",
        "target term of the Beddington-DeAngelis killing (E:T saturation)"),
    par("infiltration", 1.0, "", "chosen: haematological tumours are fully reachable; solid "
        "presets lower it (Brown 2021 delivery bounds, models.md section 19)",
        "fraction of effectors that reach tumour cells"),
    par("sanctuary_access", 0.05, "", "chosen: calibrated by hand with the b-all "
        "frac_sanctuary to the eliana EFS at 12 months: CAR-T cells reach the central nervous "
        "system and testis poorly (no value in reference/), so sanctuary cells are held only "
        "while CAR-T cells persist", "share of effectors that reach sanctuary tumour cells"),
    par("susceptibility", 1.0, "", "chosen: leukaemic blasts die at the full rate; lymphoma "
        "and myeloma presets lower it", "fraction of the maximal CAR-T killing rate a "
        "recognised tumour cell suffers (tumour-intrinsic resistance such as impaired death-"
        "receptor signalling, and protection by the niche); engagement is unchanged"),
    par("tme_suppression", 0.0, "", "chosen: none in haematological disease; solid presets "
        "raise it (leontriana2021: immunosuppressive inactivation)", "fraction of killing "
        "and activation lost to the tumour microenvironment"),
)


def _recognition(cell: str) -> str:
    """1 - prod(1 - binds_a * D/(D + D50_a)) over antigens: OR-logic recognition weight."""
    misses = [f"(1 - binds_{a}*{density_name(a, cell)}/({density_name(a, cell)} + "
              f"d50_ref*kd_{a}/kd_ref))" for a in ANTIGENS]
    return "1 - " + "*".join(misses)


def targets_model() -> Model:
    """Recognition weights, engagement and per-cell killing rates of every target type."""
    cells = TUMOUR_CLONES + HEALTHY_TARGETS
    assignments = [Assignment(f"w_{c}", _recognition(c), "", f"recognition weight of {c} cells")
                   for c in cells]
    tumour_load = " + ".join(f"w_{c}*{c}" for c in TUMOUR_CLONES) + \
        f" + sanctuary_access*w_Tp*{SANCTUARY}"
    healthy_load = " + ".join(f"w_{c}*{c}" for c in HEALTHY_TARGETS)
    assignments += [
        Assignment("tumour_load", f"infiltration*({tumour_load})", "Gcell",
                   "recognised tumour cells within reach"),
        Assignment("target_load", f"tumour_load + {healthy_load}", "Gcell",
                   "all recognised targets (tumour and healthy)"),
        Assignment("engagement", "(1 - tme_suppression)*target_load**2/(K_act**2 + "
                   "target_load**2)", "", "fraction of CAR-T cells engaged with antigen "
                   "(sigmoidal: a threshold of antigen is needed)"),
        Assignment("kill_per_target", "kill_max*(1 - tme_suppression)*killer_effectors/"
                   "(K_E + killer_effectors + q_ET*target_load)", "1/day",
                   "killing rate of a fully recognised target cell"),
    ]
    assignments.append(Assignment(
        "kill_per_blood_target", "kill_max*(1 - tme_suppression)*killer_effectors/(K_E_blood + "
        "killer_effectors)", "1/day", "killing rate of a fully recognised healthy blood or "
        "marrow cell (mass action at few effectors, as leontriana2020, without the target "
        "saturation of tumour killing)"))
    per_target = {c: "kill_per_blood_target" if c in BLOOD_TARGETS else "kill_per_target"
                  for c in cells}
    tumour_factor = "*infiltration*susceptibility"
    assignments += [Assignment(f"kill_{c}", f"w_{c}*{per_target[c]}"
                               + (tumour_factor if c in TUMOUR_CLONES else ""), "1/day",
                               f"CAR-T killing rate per {c} cell") for c in cells]
    assignments.append(Assignment(f"kill_{SANCTUARY}", "sanctuary_access*kill_Tp", "1/day",
                                  "CAR-T killing rate per sanctuary tumour cell"))
    killed = [f"kill_{c}*{c}" for c in (*TUMOUR_CLONES, SANCTUARY)]
    assignments.append(Assignment(
        "tumour_killing", " + ".join(killed), "Gcell/day",
        "tumour cells killed per day by CAR-T cells"))
    assignments.append(Assignment(
        "killing_flux", " + ".join(killed + [f"kill_{c}*{c}" for c in HEALTHY_TARGETS]),
        "Gcell/day",
        "cells killed per day by CAR-T cells (drives DAMP release)"))
    return Model("targets", parameters=TARGET_PARAMETERS, assignments=assignments,
                 description=__doc__.splitlines()[0])
