"""Response criteria (clinical_rules.md section 5): each category on both sides of its
boundary. Expected categories are worked out by hand from the criteria text."""

from __future__ import annotations

import pytest

from cartsim.clinical.checks import ClinicalValueError
from cartsim.clinical.response import (
    ALL_SCALE,
    IMWG_SCALE,
    LUGANO_PET_SCALE,
    LUGANO_SCALE,
    RECIST_SCALE,
    all_relapse,
    all_response,
    best_overall_response,
    duration_of_response,
    imwg_response,
    lugano_ct,
    lugano_pet_ct,
    mrd_status,
    recist_response,
)
from cartsim.clinical.result import Response


# --- ALL (CIBMTR / BBMT 2010) ---------------------------------------------------------------
@pytest.mark.parametrize(("blasts", "anc", "platelets", "circulating", "extramedullary",
                          "expected"), [
    (4.99, 1.0, 100, False, False, "CR"),    # every CR criterion exactly met
    (0.0, 5.0, 300, False, False, "CR"),
    (5.0, 1.0, 100, False, False, "NR"),     # blasts must be < 5%
    (4.99, 0.99, 100, False, False, "CRi"),  # ANC < 1.0: no count recovery
    (4.99, 1.0, 99.9, False, False, "CRi"),  # platelets < 100: no count recovery
    (4.99, 0.5, 20, False, False, "CRi"),
    (5.0, 0.5, 20, False, False, "NR"),      # CRi still needs < 5% blasts
    (1.0, 2.0, 200, True, False, "NR"),      # circulating blasts
    (1.0, 2.0, 200, False, True, "NR"),      # extramedullary disease
    (1.0, 0.5, 20, True, False, "NR"),
])
def test_all_response(blasts, anc, platelets, circulating, extramedullary, expected):
    result = all_response(blasts, anc_10e9_l=anc, platelets_10e9_l=platelets,
                          circulating_blasts=circulating, extramedullary=extramedullary)
    assert result.category == expected
    assert result.scale == ALL_SCALE
    assert result.rule.endswith(f"-> {expected}")


@pytest.mark.parametrize(("blasts", "kwargs", "expected"), [
    (4.99, {}, False),
    (5.0, {}, True),                              # default: loss of the CR marrow criterion
    (0.0, {"circulating_blasts": True}, True),
    (0.0, {"extramedullary": True}, True),        # isolated extramedullary relapse
    (24.99, {"threshold_pct": 25}, False),        # BBMT 2010 threshold
    (25.0, {"threshold_pct": 25}, True),
])
def test_all_relapse(blasts, kwargs, expected):
    assert all_relapse(blasts, **kwargs) is expected


@pytest.mark.parametrize(("fraction", "expected"), [
    (0.0, "MRD-negative (<1e-5)"),
    (9.9e-6, "MRD-negative (<1e-5)"),
    (1e-5, "MRD-negative (<1e-4)"),
    (9.99e-5, "MRD-negative (<1e-4)"),
    (1e-4, "MRD-positive"),
    (1.0, "MRD-positive"),
])
def test_mrd_status(fraction, expected):
    assert mrd_status(fraction) == expected


# --- Lugano 2014 (CT) -----------------------------------------------------------------------
@pytest.mark.parametrize(("spd", "baseline", "nadir", "ldi", "nadir_ldi", "new", "expected"), [
    (500, 1000, 500, 30, 30, False, "PR"),      # SPD -50%
    (501, 1000, 501, 30, 30, False, "SD"),      # SPD -49.9%
    (900, 1000, 900, 15, 15, False, "CR"),      # every target LDi <= 15 mm
    (200, 1000, 200, 15.1, 15.1, False, "PR"),  # LDi 15.1 mm is not CR
    (100, 1000, 100, 10, 10, True, "PD"),       # new lesion beats CR
    (600, 1000, 400, 17, 12, False, "PD"),      # > 15 mm, SPD x1.5, +5 mm (lesion <= 20 mm)
    (600, 1000, 400, 16.9, 12, False, "SD"),    # +4.9 mm only
    (599, 1000, 400, 17, 12, False, "SD"),      # SPD x1.4975
    (300, 1000, 100, 15, 5, False, "CR"),       # grew, but LDi not > 15 mm
    (300, 1000, 100, 15.1, 5, False, "PD"),
    (600, 1000, 400, 20, 15, False, "PD"),      # 20 mm lesion needs +5 mm
    (600, 1000, 400, 20.5, 15, False, "SD"),    # > 20 mm lesion needs +10 mm
    (600, 1000, 400, 25, 15, False, "PD"),
    (600, 1000, 400, 24.9, 15, False, "SD"),
    (256, 1000, 0, 16, 0, False, "PD"),         # regrowth of resolved disease
    (225, 1000, 0, 15, 0, False, "CR"),
])
def test_lugano_ct(spd, baseline, nadir, ldi, nadir_ldi, new, expected):
    result = lugano_ct(spd, baseline_spd_mm2=baseline, nadir_spd_mm2=nadir, largest_ldi_mm=ldi,
                       nadir_largest_ldi_mm=nadir_ldi, new_lesion=new)
    assert result.category == expected
    assert result.scale == LUGANO_SCALE
    assert result.rule.endswith(f"-> {expected}")


CT = {c: Response(c, LUGANO_SCALE, f"-> {c}") for c in ("CR", "PR", "SD", "PD")}


@pytest.mark.parametrize(("deauville", "ct", "new", "expected"), [
    (3, "PR", False, "CR"),   # Deauville 3 is a complete metabolic response, mass or not
    (1, "CR", False, "CR"),
    (4, "CR", False, "PR"),   # CT-small but PET-positive residual: partial metabolic response
    (4, "PR", False, "PR"),
    (5, "SD", False, "SD"),   # no metabolic response
    (5, "PD", False, "PD"),
    (3, "PD", False, "CR"),   # PMD needs a score of 4-5
    (2, "CR", True, "PD"),    # a new FDG-avid lesion is PMD whatever the score
])
def test_lugano_pet_ct(deauville, ct, new, expected):
    result = lugano_pet_ct(deauville, CT[ct], new_fdg_avid_lesion=new)
    assert (result.category, result.scale) == (expected, LUGANO_PET_SCALE)
    assert result.rule.endswith(f"({expected})")


def test_lugano_pet_ct_refuses_a_bad_score_or_a_non_ct_response():
    for score in (0, 6, 3.5):
        with pytest.raises(ClinicalValueError, match="deauville"):
            lugano_pet_ct(score, CT["PR"])
    with pytest.raises(ClinicalValueError, match="ct"):
        lugano_pet_ct(4, Response("PR", RECIST_SCALE, "-> PR"))


def test_lugano_pet_ct_best_response_needs_no_confirmation():
    pr = lugano_pet_ct(4, CT["PR"])
    pd = lugano_pet_ct(5, CT["PD"])
    assert best_overall_response([(28, pr), (90, pd)], LUGANO_PET_SCALE).category == "PR"


# --- IMWG ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("m", "baseline", "nadir", "kwargs", "expected"), [
    (2.5, 3.0, 2.0, {}, "PD"),       # +25% and +0.5 g/dL
    (2.45, 3.0, 1.96, {}, "SD"),     # +25% but +0.49 g/dL
    (4.996, 5.0, 4.0, {}, "SD"),     # +0.996 g/dL but +24.9%
    (0.5, 3.0, 0.0, {}, "PD"),       # reappearance from a nadir of 0
    (0.49, 3.0, 0.0, {}, "PR"),
    (6.0, 6.5, 5.0, {}, "PD"),       # nadir >= 5 g/dL: +1.0 g/dL suffices
    (5.99, 6.5, 5.0, {}, "SD"),      # +0.99 g/dL
    (5.99, 6.5, 4.99, {}, "SD"),     # nadir < 5: +1.0 g/dL is only +20%
    (0.0, 3.0, 0.0, {"immunofixation_negative": True, "marrow_plasma_cells_pct": 4.99,
                     "flc_ratio_normal": True, "clonal_plasma_cells_absent": True}, "sCR"),
    (0.0, 3.0, 0.0, {"immunofixation_negative": True, "marrow_plasma_cells_pct": 4.99,
                     "flc_ratio_normal": False, "clonal_plasma_cells_absent": True}, "CR"),
    (0.0, 3.0, 0.0, {"immunofixation_negative": True, "marrow_plasma_cells_pct": 4.99,
                     "flc_ratio_normal": True}, "CR"),
    (0.0, 3.0, 0.0, {"immunofixation_negative": True, "marrow_plasma_cells_pct": 4.99}, "CR"),
    (0.0, 3.0, 0.0, {"immunofixation_negative": True, "marrow_plasma_cells_pct": 5.0}, "VGPR"),
    (0.0, 3.0, 0.0, {"immunofixation_negative": True}, "VGPR"),  # marrow not assessed
    (0.099, 0.5, 0.099, {}, "VGPR"),  # below electrophoresis detection (fall only 80%)
    (0.1, 0.5, 0.1, {}, "PR"),
    (0.3, 3.0, 0.3, {}, "VGPR"),     # -90%
    (0.303, 3.0, 0.303, {}, "PR"),   # -89.9%
    (1.5, 3.0, 1.5, {}, "PR"),       # -50%
    (1.503, 3.0, 1.503, {}, "MR"),   # -49.9%
    (2.25, 3.0, 2.25, {}, "MR"),     # -25%
    (2.253, 3.0, 2.253, {}, "SD"),   # -24.9%
])
def test_imwg_response(m, baseline, nadir, kwargs, expected):
    kwargs = {"immunofixation_negative": False, **kwargs}
    result = imwg_response(m, baseline_g_dl=baseline, nadir_g_dl=nadir, **kwargs)
    assert result.category == expected
    assert result.scale == IMWG_SCALE
    assert f"-> {expected}" in result.rule


def test_imwg_unassessed_marrow_is_named():
    result = imwg_response(0.0, baseline_g_dl=3, nadir_g_dl=0, immunofixation_negative=True)
    assert "CR is not assessable" in result.rule


# --- RECIST 1.1 ---------------------------------------------------------------------------
@pytest.mark.parametrize(("total", "baseline", "nadir", "kwargs", "expected"), [
    (30, 40, 25, {}, "PD"),          # +20% and +5 mm
    (29.4, 40, 24.5, {}, "SD"),      # +20% but +4.9 mm
    (71.94, 80, 60, {}, "SD"),       # +11.94 mm but +19.9%
    (5, 40, 0, {}, "PD"),            # from a nadir of 0: +5 mm
    (4.9, 40, 0, {}, "PR"),
    (0, 40, 0, {"new_lesion": True}, "PD"),
    (0, 40, 0, {"nontarget_progression": True}, "PD"),
    (0, 40, 0, {}, "CR"),
    (0, 40, 0, {"nodes_below_10mm": False}, "PR"),
    (9, 40, 9, {"nonnodal_targets_gone": True}, "CR"),   # nodes < 10 mm left in the sum
    (9, 40, 9, {"nonnodal_targets_gone": False}, "PR"),
    (70, 100, 70, {}, "PR"),         # -30%
    (70.1, 100, 70.1, {}, "SD"),     # -29.9%
])
def test_recist_response(total, baseline, nadir, kwargs, expected):
    result = recist_response(total, baseline_sum_mm=baseline, nadir_sum_mm=nadir, **kwargs)
    assert result.category == expected
    assert result.scale == RECIST_SCALE
    assert result.rule.endswith(f"-> {expected}")


# --- impossible values ----------------------------------------------------------------------
@pytest.mark.parametrize(("call", "field"), [
    (lambda: all_response(101, anc_10e9_l=1, platelets_10e9_l=100), "marrow_blasts_pct"),
    (lambda: all_response(-1, anc_10e9_l=1, platelets_10e9_l=100), "marrow_blasts_pct"),
    (lambda: all_response(1, anc_10e9_l=-0.1, platelets_10e9_l=100), "anc_10e9_l"),
    (lambda: all_relapse(5, threshold_pct=0), "threshold_pct"),
    (lambda: mrd_status(1.5), "mrd_fraction"),
    (lambda: mrd_status(-1e-6), "mrd_fraction"),
    (lambda: lugano_ct(-1, baseline_spd_mm2=100, nadir_spd_mm2=50, largest_ldi_mm=20,
                       nadir_largest_ldi_mm=20), "spd_mm2"),
    (lambda: lugano_ct(50, baseline_spd_mm2=0, nadir_spd_mm2=0, largest_ldi_mm=20,
                       nadir_largest_ldi_mm=20), "baseline_spd_mm2"),
    (lambda: lugano_ct(50, baseline_spd_mm2=100, nadir_spd_mm2=150, largest_ldi_mm=20,
                       nadir_largest_ldi_mm=20), "nadir_spd_mm2"),
    (lambda: imwg_response(-0.1, baseline_g_dl=3, nadir_g_dl=1, immunofixation_negative=False),
     "m_protein_g_dl"),
    (lambda: imwg_response(0, baseline_g_dl=3, nadir_g_dl=0, immunofixation_negative=True,
                           marrow_plasma_cells_pct=101), "marrow_plasma_cells_pct"),
    (lambda: imwg_response(0.5, baseline_g_dl=3, nadir_g_dl=0.5, immunofixation_negative=True),
     "immunofixation_negative"),
    (lambda: recist_response(float("nan"), baseline_sum_mm=40, nadir_sum_mm=30), "sum_mm"),
    (lambda: recist_response(30, baseline_sum_mm=40, nadir_sum_mm=50), "nadir_sum_mm"),
])
def test_impossible_values_raise(call, field):
    with pytest.raises(ClinicalValueError) as caught:
        call()
    assert caught.value.field == field


# --- best overall response ------------------------------------------------------------------
def course(scale: str, *visits: tuple[float, str]) -> list[tuple[float, Response]]:
    return [(day, Response(category, scale, "test")) for day, category in visits]


@pytest.mark.parametrize(("scale", "visits", "expected"), [
    (RECIST_SCALE, [(28, "CR"), (56, "CR")], "CR"),        # confirmed 28 days later
    (RECIST_SCALE, [(28, "CR"), (42, "PD")], "PD"),        # PD before confirmation
    (RECIST_SCALE, [(28, "CR"), (55, "CR")], "SD"),        # 27 days: unconfirmed
    (RECIST_SCALE, [(28, "PR"), (56, "CR")], "PR"),        # last CR unconfirmed
    (RECIST_SCALE, [(28, "CR"), (42, "PR"), (56, "CR")], "PR"),
    (RECIST_SCALE, [(28, "PR"), (56, "PR"), (84, "PD")], "PR"),
    (RECIST_SCALE, [(28, "SD")], "SD"),
    (RECIST_SCALE, [(28, "SD"), (56, "SD"), (84, "PD")], "SD"),
    (RECIST_SCALE, [(28, "SD"), (56, "PD")], "PD"),
    (RECIST_SCALE, [(28, "PD"), (56, "CR"), (84, "CR")], "PD"),  # nothing after PD counts
    (LUGANO_SCALE, [(28, "PR"), (56, "CR"), (90, "PD")], "CR"),  # no confirmation needed
    (LUGANO_SCALE, [(28, "SD"), (56, "PD"), (90, "CR")], "SD"),
    (IMWG_SCALE, [(30, "VGPR"), (60, "VGPR")], "VGPR"),
    (IMWG_SCALE, [(30, "CR"), (60, "VGPR")], "VGPR"),
    (IMWG_SCALE, [(30, "VGPR"), (60, "sCR"), (90, "sCR")], "sCR"),
    (IMWG_SCALE, [(30, "MR"), (60, "PR")], "MR"),
    (IMWG_SCALE, [(30, "PR")], "SD"),                       # needs a second assessment
    (IMWG_SCALE, [(30, "PR"), (60, "PD")], "PD"),
    (ALL_SCALE, [(28, "CR"), (56, "CR")], "CR"),
    (ALL_SCALE, [(28, "CRi"), (56, "CR")], "CRi"),
    (ALL_SCALE, [(28, "CR")], "NR"),                        # not maintained 4 weeks
    (ALL_SCALE, [(28, "CR"), (42, "NR"), (70, "CR")], "NR"),
])
def test_best_overall_response(scale, visits, expected):
    result = best_overall_response(course(scale, *visits), scale)
    assert result.category == expected
    assert result.scale == scale
    assert result.rule.endswith(f"-> {expected}")


def test_best_overall_response_rules_name_the_days():
    confirmed = best_overall_response(course(RECIST_SCALE, (28, "CR"), (56, "CR")),
                                      RECIST_SCALE)
    assert confirmed.rule == "CR on day 28 confirmed on day 56 -> CR"
    failed = best_overall_response(course(RECIST_SCALE, (28, "CR"), (42, "PD")), RECIST_SCALE)
    assert failed.rule == "CR on day 28 not confirmed: PD on day 42 -> PD"


def test_confirm_days_is_configurable():
    visits = course(ALL_SCALE, (28, "CR"), (42, "CR"))
    assert best_overall_response(visits, ALL_SCALE).category == "NR"
    assert best_overall_response(visits, ALL_SCALE, confirm_days=14).category == "CR"


@pytest.mark.parametrize(("visits", "scale"), [
    ([], RECIST_SCALE),
    (course(RECIST_SCALE, (28, "CR")), LUGANO_SCALE),           # wrong scale
    (course(RECIST_SCALE, (28, "VGPR")), RECIST_SCALE),         # unknown category
    (course(RECIST_SCALE, (56, "CR"), (28, "CR")), RECIST_SCALE),  # out of order
    (course(RECIST_SCALE, (-1, "CR")), RECIST_SCALE),
    (course(RECIST_SCALE, (28, "CR")), "WHO"),
])
def test_best_overall_response_rejects_bad_input(visits, scale):
    with pytest.raises(ClinicalValueError):
        best_overall_response(visits, scale)


# --- duration of response -------------------------------------------------------------------
@pytest.mark.parametrize(("scale", "visits", "progression", "expected"), [
    (RECIST_SCALE, [(28, "SD"), (56, "PR"), (84, "CR"), (140, "PD")], ("PD",), (84.0, True)),
    (RECIST_SCALE, [(28, "PR"), (56, "PR")], ("PD",), (28.0, False)),   # censored
    (RECIST_SCALE, [(28, "SD"), (56, "PD")], ("PD",), None),            # never responded
    (LUGANO_SCALE, [(28, "CR"), (180, "CR"), (365, "PD")], ("PD",), (337.0, True)),
    (IMWG_SCALE, [(30, "MR"), (60, "PD")], ("PD",), None),              # MR is not a response
    (IMWG_SCALE, [(30, "MR"), (60, "VGPR"), (90, "PD")], ("PD",), (30.0, True)),
    (ALL_SCALE, [(28, "CRi"), (56, "CR"), (120, "NR")], ("NR",), (92.0, True)),
])
def test_duration_of_response(scale, visits, progression, expected):
    assert duration_of_response(course(scale, *visits), progression) == expected


def test_duration_of_response_empty():
    assert duration_of_response([]) is None


def test_deauville_score_of_the_models_lesions_at_its_chosen_boundaries():
    """Three equal lesions of diameter d have SPD 3 d^2: none left scores 1, a lesion under
    PET_VISIBLE_LESION_MM 3, under PET_MARKED_LESION_MM 4, else 5."""
    from cartsim.journey.assessment import (
        PET_MARKED_LESION_MM,
        PET_VISIBLE_LESION_MM,
        deauville_score,
    )

    def spd(d):
        return 3 * d * d

    assert deauville_score(0.0, 3) == 1
    assert deauville_score(spd(PET_VISIBLE_LESION_MM * 0.999), 3) == 3
    assert deauville_score(spd(PET_VISIBLE_LESION_MM), 3) == 4
    assert deauville_score(spd(PET_MARKED_LESION_MM * 0.999), 3) == 4
    assert deauville_score(spd(PET_MARKED_LESION_MM), 3) == 5
