"""Cytokines and myeloid activation: IFN-γ, IL-6, IL-10 and macrophage activation.

Engaged CAR-T cells secrete IFN-γ (inhibited by IL-10, Hardiansyah 2019) and some IL-6, CD28
CARs more per cell than 4-1BB CARs (``cytokine_potency``).
Macrophages are activated (sigmoidally, so the trickle of killing that maintains B-cell aplasia
does not) by three routes (Santurio 2025): damage signals from killed cells,
contact with engaged CAR-T cells (CD40-CD40L) and IFN-γ; activated macrophages make most of the
IL-6 and IL-10. Corticosteroids suppress production. Tocilizumab blocks the IL-6 receptor, which
also removes receptor-mediated IL-6 clearance: serum IL-6 rises while its signalling falls.
Elimination rates are Hardiansyah 2019's; production constants are chosen so peaks span the
published range (tens of pg/mL at low burden to thousands at high burden).
Concentrations and macrophage signals scale with body size: the constants are for a reference
adult, and the same number of engaged CAR-T cells or killed cells meets a child's smaller
plasma volume and macrophage pool, so it gives a child higher cytokine levels and a larger share
of activated macrophages (the fully activated pool itself makes the same concentration).
"""

from __future__ import annotations

from cartsim.model import Assignment, Model, State
from cartsim.therapy.common import par

CYTOKINE_PARAMETERS = (
    par("d_il6", 3.96, "1/day", "hardiansyah2019: d_IL6", "IL-6 elimination"),
    par("d_il10", 4.68, "1/day", "hardiansyah2019: d_IL10", "IL-10 elimination"),
    par("d_ifng", 1.51, "1/day", "hardiansyah2019: d_IFNg", "IFN-γ elimination"),
    par("a_G", 0.59, "", "hardiansyah2019: a_G", "residual IFN-γ secretion under maximal "
        "IL-10 inhibition"),
    par("b_G", 650.0, "pg/mL", "hardiansyah2019: b_G", "IL-10 for half-maximal inhibition of "
        "IFN-γ"),
    par("il6_base", 5.0, "pg/mL", "chosen: upper normal serum IL-6", "IL-6 without therapy"),
    par("il10_base", 5.0, "pg/mL", "chosen: normal serum IL-10", "IL-10 without therapy"),
    par("ifng_base", 5.0, "pg/mL", "chosen: normal serum IFN-γ", "IFN-γ without therapy"),
    par("p_ifng", 300.0, "pg/mL/Gcell/day", "chosen: calibrated with p_il6_mac to "
        "hardiansyah2019 peak cytokines (IFN-γ ~700, IL-6 ~2800 pg/mL at high burden)",
        "IFN-γ secretion per engaged CAR-T cell"),
    par("p_il6_t", 20.0, "pg/mL/Gcell/day", "chosen: T cells are a minor IL-6 source "
        "(santurio2025: macrophages dominate)", "IL-6 secretion per engaged CAR-T cell"),
    par("p_il6_mac", 8000.0, "pg/mL/day", "chosen: calibrated to hardiansyah2019 peak IL-6 "
        "~2800 pg/mL in a high-burden patient", "IL-6 secretion by fully activated "
        "macrophages"),
    par("p_il10", 600.0, "pg/mL/day", "chosen: calibrated to hardiansyah2019 peak IL-10 "
        "~550 pg/mL", "IL-10 secretion by fully activated macrophages"),
    par("k_mac_on", 2.0, "1/day", "chosen: macrophages activate within a day", "macrophage "
        "activation rate at full drive"),
    par("k_mac_off", 0.7, "1/day", "chosen: activation resolves over days", "macrophage "
        "deactivation rate"),
    par("weight_ref", 70.0, "kg", "chosen: the adult whose plasma volume and macrophage pool "
        "the production constants and signal thresholds are for", "reference body weight of "
        "the cytokine constants"),
    par("K_damp", 20.0, "Gcell/day", "chosen: damage from killing 2e10 cells a day gives half "
        "the DAMP drive", "killing flux for half-maximal DAMP activation"),
    par("K_cd40", 0.7, "Gcell", "chosen: calibrated by hand (tools/calibrate_toxicity.py) "
        "with ec50_il6 to the CRS of eliana, zuma1, cibmtr and karmma (2 Gcell gave karmma "
        "fewer CRS than published, 73%, and a later onset); half-maximal contact activation "
        "at 7e8 engaged CAR-T cells in a reference adult", "engaged CAR-T cells for "
        "half-maximal CD40-CD40L activation"),
    par("ec50_ifng", 300.0, "pg/mL", "chosen: calibrated by hand (tools/calibrate_toxicity.py) "
        "with ec50_il6: IFN-γ activates macrophages and adds to fever at a few hundred pg/mL "
        "(hardiansyah2019 peaks ~700 pg/mL at high burden)", "IFN-γ for half-maximal "
        "macrophage activation and fever"),
    par("cytokine_potency", 1.0, "", "chosen: reference value for CD28 costimulation; "
        "costimulation presets set it", "cytokine secretion and CD40L contact signal per "
        "engaged CAR-T cell, relative to a CD28 CAR"),
    par("w_cd40", 1.0, "", "santurio2025: CD40-CD40L contact is a major CRS driver (weight "
        "chosen)", "weight of contact activation"),
    par("w_damp", 0.5, "", "santurio2025: DAMPs from killed cells (weight chosen)",
        "weight of damage-signal activation"),
    par("w_ifng_mac", 0.5, "", "chosen: IFN-γ primes macrophages", "weight of IFN-γ "
        "activation"),
    par("f_il6_receptor_clearance", 0.6, "", "chosen: most IL-6 is cleared through its "
        "receptor, so blockade raises serum IL-6 a few fold", "share of IL-6 clearance that "
        "is receptor-mediated"),
)


def cytokines_model() -> Model:
    signals = ("(w_damp*killing_flux/(killing_flux + K_damp*body_size) + "
               "w_cd40*engaged/(engaged + K_cd40*body_size)"
               " + w_ifng_mac*ifng_excess/(ifng_excess + ec50_ifng))/(w_damp + w_cd40 + "
               "w_ifng_mac)")
    drive = f"({signals})**2"
    return Model(
        "cytokines",
        states=[
            State("ifng", "pg/mL", "ifng_base", "serum IFN-γ"),
            State("il6", "pg/mL", "il6_base", "serum IL-6"),
            State("il10", "pg/mL", "il10_base", "serum IL-10"),
            State("mac", "", 0.0, "activated fraction of macrophages"),
        ],
        parameters=CYTOKINE_PARAMETERS,
        assignments=[
            Assignment("ifng_excess", "ifng - ifng_base", "pg/mL", "IFN-γ above baseline"),
            Assignment("engaged", "cytokine_potency*activation*armed_cells", "Gcell",
                       "CAR-T cells engaged with antigen, weighted by their costimulation's "
                       "cytokine potency"),
            Assignment("body_size", "weight_kg/weight_ref", "", "body size relative to the "
                       "reference adult (plasma volume and macrophage pool)"),
            Assignment("secretion", "1 - steroid_effect", "", "cytokine secretion left by "
                       "steroids"),
            Assignment("macrophage_drive", drive, "", "activation signals for macrophages"),
        ],
        equations={
            "ifng": "d_ifng*ifng_base + p_ifng*engaged/body_size*(a_G + (1 - a_G)*b_G/(il10 + "
                    "b_G))*secretion - d_ifng*ifng",
            "mac": "k_mac_on*macrophage_drive*secretion*(1 - mac) - k_mac_off*mac",
            "il6": "d_il6*il6_base + "
                   "(p_il6_mac*mac + p_il6_t*engaged/body_size)*secretion - "
                   "d_il6*(1 - f_il6_receptor_clearance*toci_occupancy)*il6",
            "il10": "d_il10*il10_base + p_il10*mac*secretion - d_il10*il10",
        },
        description=__doc__.splitlines()[0],
    )
