"""Reference vectors: raw register words -> decoded values, through the catalog and the codec.

The vectors (``tests/data/vectors/<map>.toml``) are worked by hand from each maker document's
stated register, type, word order and scale; they are data kept apart from the maps, and the
simulator plays no part. A wrong register, type, function code, scale or word order in a
published map fails here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ews_tui.domain.catalog import RegisterMap, builtin_catalog
from ews_tui.modbus.codec import decode

VECTORS = Path(__file__).parent.parent / "data" / "vectors"
CATALOG = builtin_catalog()


def _files() -> list[Path]:
    return sorted(VECTORS.glob("*.toml"))


def _load(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in _files():
        doc = _load(path)
        cases += [(doc["map"], v) for v in doc["vectors"]]
    return cases


def _map(map_id: str) -> RegisterMap:
    reg_map = CATALOG.maps.get(map_id)
    assert reg_map is not None, f"vectors for an unknown map {map_id}"
    return reg_map


@pytest.mark.parametrize(
    ("map_id", "vector"),
    _cases(),
    ids=[f"{m}:{v['quantity']}:{'/'.join(f'{w:04X}' for w in v['words'])}" for m, v in _cases()],
)
def test_each_vector_decodes_through_the_catalog(map_id: str, vector: dict[str, Any]) -> None:
    reg_map = _map(map_id)
    q = reg_map.quantity(vector["quantity"])
    assert q is not None, f"{map_id} has no quantity {vector['quantity']}"
    assert (q.register, q.type, q.fc) == (vector["register"], vector["type"], vector["fc"])
    value = decode(q, vector["words"], reg_map)
    if vector.get("missing"):
        assert value is None
    else:
        assert value == pytest.approx(vector["expected"], rel=1e-6)


def test_every_published_map_has_a_vector_for_every_quantity() -> None:
    covered: dict[str, set[str]] = {}
    for path in _files():
        doc = _load(path)
        assert path.stem == doc["map"]
        assert _map(doc["map"]).word_order == doc["word_order"]
        covered.setdefault(doc["map"], set()).update(v["quantity"] for v in doc["vectors"])
    published = {mid: m for mid, m in CATALOG.maps.items() if m.provenance == "published"}
    assert published, "no published map at all"
    for mid, reg_map in published.items():
        missing = {q.id for q in reg_map.quantities} - covered.get(mid, set())
        assert not missing, f"published map {mid} has no vector for {sorted(missing)}"


def test_a_wrong_word_order_or_scale_is_caught() -> None:
    """The vectors can fail: the same words through a map with a fault give other values."""
    em24 = _map("carlo_gavazzi_em24")
    swapped = replace(em24, word_order="high_first")
    doc = _load(VECTORS / "carlo_gavazzi_em24.toml")
    vector = next(v for v in doc["vectors"] if v["quantity"] == "ea_import")
    q = em24.quantity("ea_import")
    assert q is not None
    assert decode(q, vector["words"], em24) == pytest.approx(vector["expected"])
    assert decode(q, vector["words"], swapped) != pytest.approx(vector["expected"])
    assert decode(replace(q, scale=1.0), vector["words"], em24) != pytest.approx(vector["expected"])


def test_the_4_120_45_reads_its_own_table_from_0x1000() -> None:
    """Legrand's 412045 table is not the common table: the 4 120 45 has a map of its own, and
    the references without a table of their own do not borrow it."""
    model = CATALOG.find("4 120 45")
    assert model is not None and model.map == "emdx3_412045"
    reg_map = _map("emdx3_412045")
    v1 = reg_map.quantity("v1")
    assert v1 is not None and v1.register == 0x1000
    assert all(0x1000 <= q.register < 0x1100 for q in reg_map.quantities)
    for ref in ("0 046 76", "4 120 51"):
        other = CATALOG.find(ref)
        assert other is not None and other.map != "emdx3_412045", ref
    refs = [m.ref for m in CATALOG.models_of("emdx3_power_meters")]
    assert refs.index("0 046 76") < refs.index("4 120 45") < refs.index("4 120 51")


def test_the_4_120_45_reads_no_power_or_energy_while_its_units_are_in_doubt() -> None:
    """Its transcriptions disagree on the unit of powers and energies (CT-ratio dependent in
    one): showing none is better than showing a wrong one."""
    reg_map = _map("emdx3_412045")
    ids = {q.id for q in reg_map.quantities}
    assert not ids & {"p", "q", "s", "p1", "p2", "p3", "ea_import", "ea_export"}
    assert reg_map.provenance == "assumed"


def test_every_published_map_names_a_public_copy_of_its_document() -> None:
    """ "published" means checked against a document someone else can open: its source names a
    public copy (host/path), not only a program that read it."""
    public_copy = re.compile(r"\b[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}/\S+")
    for reg_map in CATALOG.maps.values():
        if reg_map.provenance == "published":
            assert public_copy.search(reg_map.source), reg_map.id
