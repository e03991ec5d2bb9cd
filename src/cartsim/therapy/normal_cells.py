"""Normal cells: T cells competing for the lymphocyte niche, and healthy antigen-bearing cells.

Normal T cells regrow after lymphodepletion by Gompertz competition with CAR-T cells for the
niche (Kimmel 2021). Normal B cells (CD19) are produced by the marrow and die at a constant
rate (León-Triana 2020); some become short-lived plasma cells, and long-lived plasma cells
(BCMA) keep making IgG, so CD19-directed therapy causes B-cell aplasia with a partial IgG fall
and BCMA-directed therapy a deeper one. Healthy tissue carrying a solid-tumour antigen
regenerates towards its normal size. All are CAR-T targets (:mod:`.targets`) and lymphodepletion
targets (:mod:`.drugs`).
"""

from __future__ import annotations

from cartsim.model import Model, State
from cartsim.therapy.common import par

NORMAL_PARAMETERS = (
    par("K_N", 250.0, "Gcell", "kimmel2021: Table 1 K_N 2.5e11 cells", "normal T-cell "
        "carrying capacity"),
    par("r_N", 0.170, "1/day", "kimmel2021: Table 1 r_N", "normal T-cell Gompertz growth rate"),
    par("N0", 100.0, "Gcell", "chosen: lymphopenic r/r patient before lymphodepletion, 40% of "
        "K_N; standard Flu/Cy then brings it near Kimmel's post-depletion 3e9 (kimmel2021: N0)",
        "normal T cells at the start of the simulation"),
    par("B_normal", 25.0, "Gcell", "leontriana2020: B0 2.5e10 healthy B cells",
        "normal B-cell pool at steady state"),
    par("B_start_fraction", 0.2, "", "chosen: prior chemo-immunotherapy leaves r/r patients "
        "with depleted B cells", "B cells at start as a fraction of B_normal"),
    par("tau_B", 60.0, "day", "leontriana2020: tau_B", "normal B-cell lifetime"),
    par("k_BP", 0.002, "1/day", "chosen: a small daily share of B cells differentiates into "
        "plasmablasts", "B-cell to short-lived plasma-cell differentiation"),
    par("tau_P", 5.0, "day", "chosen: plasmablasts live days", "short-lived plasma-cell "
        "lifetime"),
    par("PL_normal", 1.0, "Gcell", "chosen: long-lived plasma cells, order 1e9", "long-lived "
        "plasma cells at start"),
    par("tau_PL", 3000.0, "day", "chosen: long-lived plasma cells persist for years",
        "long-lived plasma-cell lifetime"),
    par("igg0", 7.0, "g/L", "chosen: low-normal IgG of a heavily pre-treated patient",
        "serum IgG at start"),
    par("igg_long_lived_share", 0.5, "", "chosen: half of IgG from long-lived plasma cells, "
        "so CD19 CAR-T lowers but does not abolish IgG", "share of IgG made by long-lived "
        "plasma cells at start"),
    par("k_igg", 0.033, "1/day", "chosen: IgG half-life of about 21 days", "IgG elimination"),
    par("H_normal", 100.0, "Gcell", "chosen: an antigen-bearing healthy tissue of 1e11 cells",
        "healthy antigen-bearing tissue at steady state"),
    par("r_H", 0.1, "1/day", "chosen: epithelium renews in about 10 days", "healthy tissue "
        "regeneration rate"),
)

NORMAL_STATES = (
    State("N", "Gcell", "N0", "normal T cells"),
    State("B", "Gcell", "B_normal*B_start_fraction", "normal B cells", atol=1e-9),
    State("P", "Gcell", "k_BP*B_normal*B_start_fraction*tau_P", "short-lived plasma cells",
          atol=1e-12),
    State("PL", "Gcell", "PL_normal", "long-lived plasma cells", atol=1e-12),
    State("H", "Gcell", "H_normal", "healthy tissue carrying the solid-tumour antigen"),
    State("igg", "g/L", "igg0", "serum IgG"),
)


def normal_cells_model() -> Model:
    # IgG per short-lived plasma cell is referenced to the start, but to at least 1% of the
    # normal B-cell pool (chosen), so a patient who starts without B cells is defined too
    p_start = "k_BP*B_normal*max(B_start_fraction, 0.01)*tau_P"
    return Model(
        "normal_cells",
        states=NORMAL_STATES,
        parameters=NORMAL_PARAMETERS,
        equations={
            "N": "-r_N*N*log(lymphocytes/K_N) - lymphodepletion_kill*N",
            "B": "B_normal/tau_B - (1/tau_B + k_BP + kill_B + lymphodepletion_kill)*B",
            "P": "k_BP*B - (1/tau_P + kill_P)*P",
            "PL": "-(1/tau_PL + kill_PL)*PL",
            "H": "r_H*(H_normal - H) - kill_H*H",
            "igg": f"k_igg*igg0*((1 - igg_long_lived_share)*P/({p_start}) + "
                   "igg_long_lived_share*PL/PL_normal) - k_igg*igg",
        },
        description=__doc__.splitlines()[0],
    )
