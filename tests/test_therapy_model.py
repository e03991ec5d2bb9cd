"""The therapy model's structure: composition, units, sources, presets."""

from __future__ import annotations

import pytest

from cartsim.model import compose
from cartsim.presets import DISEASES, PRODUCTS, PresetError, apply_presets, disease, product
from cartsim.presets.citations import CITATIONS, UNCITED, cited_keys, source_key
from cartsim.presets.kimmel2021 import KIMMEL_2021
from cartsim.therapy import SUBMODELS, therapy_model

REQUIRED_OBSERVABLES = {
    "cart_cells_per_ul", "cart_copies_per_ug", "tumour_cells", "marrow_blasts_pct", "spd_mm2",
    "m_protein_g_dl", "sld_mm", "b_cells_per_ul", "igg_g_l", "temperature_c", "map_mmhg",
    "vasopressors", "oxygen_need", "crp_mg_l", "ferritin_ng_ml", "il6_pg_ml", "ice_score",
    "ldh_u_l", "macrophage_activation",
}


def test_model_resolves_with_every_required_observable():
    resolved = therapy_model().resolve()
    names = {name for name, _ in resolved.observables}
    assert REQUIRED_OBSERVABLES <= names


def test_every_parameter_has_a_known_source_and_description():
    for par in therapy_model().parameters:
        key = source_key(par.source)
        assert key in CITATIONS or key in UNCITED, (par.name, par.source)
        assert len(par.source) > len(key) + 2, f"{par.name}: source gives no detail"
        assert par.description, par.name


@pytest.mark.parametrize("preset", [*PRODUCTS.values(), *DISEASES.values(), KIMMEL_2021])
def test_presets_cite_known_sources(preset):
    model = apply_presets(therapy_model(), preset)
    for name, (_, source) in preset.values.items():
        assert source_key(source) in CITATIONS or source_key(source) in UNCITED, (name, source)
        assert model.parameter(name).source == source


def test_submodels_alone_do_not_close():
    """Each submodel needs the others: composing all but one leaves unknown symbols."""
    from cartsim.errors import ModelError

    parts = [make() for make in SUBMODELS]
    with pytest.raises(ModelError, match="unknown symbol"):
        compose(*parts[1:]).resolve()


def test_weight_based_dose_follows_disease_weight():
    model = apply_presets(therapy_model(), disease("lbcl"), product("axi-cel"))
    assert model.parameter("dose_cells").default == pytest.approx(min(2e6 * 80, 2e8))
    model = apply_presets(therapy_model(), disease("b-all"), product("tisa-cel"))
    assert model.parameter("dose_cells").default == pytest.approx(3.1e6 * 40)


def test_an_overridden_weight_rescales_the_dose_per_kg():
    """tisa-cel's 3.1e6 cells/kg follows a child's weight set by hand, up to its 2.5e8 cap; a
    dose given by hand wins over the rule."""
    from cartsim.therapy.simulate import preset_parameters

    def dose(**overrides):
        return preset_parameters(disease("b-all"), product("tisa-cel"), **overrides)["dose_cells"]

    assert dose(weight_kg=20.0) == pytest.approx(3.1e6 * 20)
    assert dose(weight_kg=100.0) == pytest.approx(2.5e8)
    assert dose(weight_kg=20.0, dose_cells=1e8) == 1e8


def test_unknown_preset_names_the_choices():
    with pytest.raises(PresetError, match="tisa-cel"):
        product("kymriah-x")


def test_citations_cover_the_model_sources():
    keys = cited_keys(apply_presets(therapy_model(), disease("mm"), product("ide-cel")))
    assert {"singh2021", "kimmel2021", "hardiansyah2019", "stein2019"} <= set(keys)


def test_citations_name_the_papers_not_files_the_package_lacks():
    """`cartsim cite` is read where only the installed package is: no entry points at the
    project's reference/ folder."""
    assert not [key for key, text in CITATIONS.items() if "reference/" in text]
