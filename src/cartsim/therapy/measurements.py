"""What is measured: blood CAR-T counts and transgene copies, tumour burden per disease, B cells.

The model integrates total-body cell numbers; a blood sample sees a fixed share of the
lymphocytes in the blood volume. Tumour burden is reported the way each disease is assessed:
marrow blasts (B-ALL), the sum of the products of the diameters of target lesions (lymphoma,
Lugano), serum M-protein (myeloma, IMWG) and the sum of the longest diameters (solid tumours,
RECIST), with the tumour split into equal spherical lesions.
"""

from __future__ import annotations

from cartsim.model import Assignment, Model, Observable
from cartsim.therapy.common import par

MEASUREMENT_PARAMETERS = (
    par("cells_per_gcell", 1e9, "cell/Gcell", "definition: 1 Gcell = 1e9 cells",
        "converts model cell numbers to cells"),
    par("blood_ul_per_kg", 70000.0, "uL/kg", "chosen: 70 mL of blood per kg body weight",
        "blood volume per body weight"),
    par("f_blood", 0.01, "", "kimmel2021: BIOMD0000001041 maps K_C 6.96e10 cells to 139 "
        "cells/uL, i.e. 1% of CAR-T cells in 5 L of blood; a fixed share because blood and "
        "tissue exchange T cells within about a day (singh2021: K12 1.71/day, K21 0.176/day), "
        "so a separate blood compartment would only add the distribution phase of the first "
        "hours after infusion, which no training trial measures", "share of lymphocytes "
        "(CAR-T and B cells) in the blood"),
    par("copies_per_cell_conc", 2000.0, "copy/ug/(cell/uL)", "singh2021: TransC 0.002 "
        "(copies/ug)/(cells/L)", "transgene copies per ug genomic DNA per CAR-T cell per uL"),
    par("marrow_normal", 500.0, "Gcell", "chosen: normal marrow cellularity of order 5e11 "
        "nucleated cells", "normal nucleated marrow cells"),
    par("gcell_per_ml", 1.0, "Gcell", "kimmel2021: 9.486e10 cells = 94.86 ml tumour",
        "tumour cells per mL of tumour"),
    par("n_lesions", 3.0, "", "chosen: three measurable target lesions", "target lesions "
        "for SPD and SLD"),
)


def measurements_model() -> Model:
    lesion_mm = "10*(6*tumour_total/gcell_per_ml/(n_lesions*pi))**(1/3)"
    return Model(
        "measurements",
        parameters=MEASUREMENT_PARAMETERS,
        assignments=[Assignment("blood_ul", "blood_ul_per_kg*weight_kg", "uL", "blood volume")],
        observables=[
            Observable("cart_cells_per_ul", "f_blood*car_t_total*cells_per_gcell/blood_ul",
                       "cell/uL", "CAR-T cells per uL of blood"),
            Observable("cart_copies_per_ug", "copies_per_cell_conc*f_blood*car_t_total*"
                       "cells_per_gcell/blood_ul", "copy/ug", "transgene copies per ug of "
                       "genomic DNA in blood"),
            Observable("tumour_cells", "tumour_total*cells_per_gcell", "cell",
                       "tumour cells, all clones"),
            Observable("antigen_negative_cells", "Tn*cells_per_gcell", "cell",
                       "antigen-negative tumour cells"),
            Observable("antigen_low_cells", "Tl*cells_per_gcell", "cell",
                       "antigen-low tumour cells"),
            Observable("sanctuary_cells", "Ts*cells_per_gcell", "cell",
                       "antigen-positive tumour cells in a sanctuary CAR-T cells reach poorly"),
            Observable("marrow_blasts_pct", "100*tumour_total/(tumour_total + marrow_normal)",
                       "", "marrow blasts, % of nucleated marrow cells (B-ALL)"),
            Observable("spd_mm2", f"n_lesions*({lesion_mm})**2", "",
                       "sum of the products of perpendicular diameters, mm² (lymphoma)"),
            Observable("sld_mm", f"n_lesions*{lesion_mm}", "",
                       "sum of longest diameters, mm (solid tumours)"),
            Observable("m_protein_g_dl", "mprot", "g/dL", "serum M-protein (myeloma)"),
            Observable("b_cells_per_ul", "f_blood*B*cells_per_gcell/blood_ul", "cell/uL",
                       "normal B cells per uL of blood"),
            Observable("igg_g_l", "igg", "g/L", "serum IgG"),
            Observable("normal_t_cells_per_ul", "f_blood*N*cells_per_gcell/blood_ul",
                       "cell/uL", "normal T cells per uL of blood"),
        ],
        description=__doc__.splitlines()[0],
    )
