"""User model files: valid ones join the catalog, a bad one is skipped with one line."""

from __future__ import annotations

from pathlib import Path

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.store.user_models import catalog_for, load_user_models

MAP = """
[[maps]]
id = "acme_map"
provenance = "assumed"
quantities = [
  { id = "p", unit = "kW", register = 0x10, type = "s32" },
  { id = "ea_import", unit = "kWh", register = 0x20, type = "u32" },
]
"""

MODEL = """
[[models]]
ref = "{ref}"
name = "ACME {ref}"
family = "{family}"
map = "{map}"
provenance = "assumed"
phases = 3
"""


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def model(ref: str, family: str = "emdx3_power_meters", map_id: str = "acme_map") -> str:
    return MODEL.format(ref=ref, family=family, map=map_id)


def test_valid_files_use_builtin_families_and_maps(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    write(folder, "acme.toml", MAP + model("ACME-1"))
    write(folder, "reuse.toml", model("ACME-2", family="other", map_id="emdx3_common"))
    catalog, problems = load_user_models(folder)
    assert problems == []
    assert [m.ref for m in catalog.models] == ["ACME-1", "ACME-2"]
    assert catalog.find("acme 1") is not None


def test_a_bad_file_is_skipped_with_one_line_naming_its_place(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    write(folder, "good.toml", MAP + model("ACME-1"))
    bad_register = MAP.replace("0x20", "0x10000").replace("acme_map", "other_map")
    write(folder, "foo.toml", bad_register)
    write(folder, "syntax.toml", "[[models]\n")
    write(folder, "family.toml", model("ACME-3", family="no_such_family"))
    write(folder, "notes.txt", "not a model file")
    catalog, problems = load_user_models(folder)
    assert [m.ref for m in catalog.models] == ["ACME-1"]
    assert [str(p) for p in problems] == [
        "models/family.toml: model ACME-3: unknown family 'no_such_family'",
        "models/foo.toml: maps[0].quantities[1].register: 0x10000 is outside 0..0xFFFF",
        "models/syntax.toml:1:9: not valid TOML: Expected ']]' at the end of an array declaration",
    ]


def test_a_file_redefining_another_user_files_model_or_map_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    write(folder, "a.toml", MAP + model("ACME-1"))
    write(folder, "b.toml", model("acme 1"))
    write(folder, "c.toml", MAP)
    catalog, problems = load_user_models(folder)
    assert [m.ref for m in catalog.models] == ["ACME-1"]
    assert [str(p) for p in problems] == [
        "models/b.toml: model 'acme 1' is already defined in models/a.toml",
        "models/c.toml: map 'acme_map' is already defined in models/a.toml",
    ]


def test_no_models_folder_is_no_models_and_no_problem(tmp_path: Path) -> None:
    catalog, problems = load_user_models(tmp_path / "models")
    assert catalog.models == () and problems == []


def test_catalog_for_adds_user_models_to_the_builtin_catalog(tmp_path: Path) -> None:
    write(tmp_path / "models", "acme.toml", MAP + model("ACME-1"))
    write(tmp_path / "models", "broken.toml", "nonsense")
    catalog = catalog_for(tmp_path)
    assert catalog.find("ACME-1") is not None
    assert catalog.find("0 146 68") == builtin_catalog().find("0 146 68")


def test_a_user_model_replaces_a_builtin_one_of_the_same_reference(tmp_path: Path) -> None:
    write(tmp_path / "models", "fix.toml", MAP + model("0 146 68"))
    catalog = catalog_for(tmp_path)
    replaced = catalog.find("014668")
    assert replaced is not None and replaced.name == "ACME 0 146 68"
    assert replaced.map == "acme_map"
