"""Provenance means something: a model is published only when its map is, every map names
where its layout comes from, and references whose maker table differs get their own map."""

from __future__ import annotations

from ews_tui.domain.catalog import builtin_catalog

CATALOG = builtin_catalog()


def test_a_model_is_published_only_with_a_published_map() -> None:
    for model in CATALOG.models:
        reg_map = CATALOG.register_map(model)
        if model.provenance == "published":
            assert reg_map is not None and reg_map.provenance == "published", model.ref
        if reg_map is not None and reg_map.provenance == "assumed":
            assert model.provenance == "assumed", model.ref


def test_every_map_says_where_its_layout_comes_from() -> None:
    for reg_map in CATALOG.maps.values():
        assert reg_map.source.strip(), reg_map.id
        if reg_map.provenance == "assumed":
            assert reg_map.source.startswith("assumed"), reg_map.id


def test_references_with_their_own_maker_table_do_not_share_the_common_map() -> None:
    """Legrand publishes separate tables for 4 120 45 and 0 146 69: no sharing by assumption."""
    common = {m.ref for m in CATALOG.models if m.map == "emdx3_common"}
    assert {"0 146 68", "4 120 47", "4 120 52", "COUNTIS E3X"} == common
    for ref in ("0 046 76", "4 120 45", "4 120 51", "0 146 69", "4 120 53"):
        model = CATALOG.find(ref)
        assert model is not None and model.map != "emdx3_common", ref
        assert model.provenance == "assumed", ref


def test_em24_reads_at_most_the_eleven_registers_its_protocol_allows() -> None:
    assert CATALOG.maps["carlo_gavazzi_em24"].max_registers == 11
