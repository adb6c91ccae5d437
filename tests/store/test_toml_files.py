"""TOML files: the installation export (atomic, with a header) and clear read errors."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ews_tui.domain.installation import Installation
from ews_tui.domain.installation_doc import from_document
from ews_tui.domain.rules import RuleContext
from ews_tui.store.db import Database, StoreError
from ews_tui.store.installation_repo import InstallationRepo
from ews_tui.store.toml_files import (
    FileProblem,
    ews_version,
    read_toml,
    write_installation_toml,
    write_text_atomically,
)

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def test_export_then_import_gives_the_same_installation(
    tmp_path: Path, ctx: RuleContext, rich: Installation
) -> None:
    path = tmp_path / "site.toml"
    write_installation_toml(path, rich, now=NOW)
    back, problems = from_document(read_toml(path), ctx, previous=rich)
    assert problems == []
    assert back == replace(rich, revision=0)


async def test_a_stored_installation_exports_and_imports_back_into_the_store(
    tmp_path: Path, ctx: RuleContext, rich: Installation, db: Database
) -> None:
    repo = InstallationRepo(db)
    stored = await repo.replace(rich)
    path = tmp_path / "backup.toml"
    write_installation_toml(path, await repo.load())
    imported, problems = from_document(read_toml(path), ctx, previous=stored)
    assert problems == []
    again = await repo.replace(imported)
    assert again == replace(stored, revision=stored.revision + 1)


def test_the_export_starts_with_a_header_naming_the_date_and_version(
    tmp_path: Path, rich: Installation
) -> None:
    path = tmp_path / "site.toml"
    write_installation_toml(path, rich, now=NOW)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ews-tui installation")
    assert "2025-03-14T09:26:53+00:00" in first and f"ews {ews_version()}" in first


def test_an_export_replaces_the_old_file_whole_and_leaves_no_temp_file(
    tmp_path: Path, rich: Installation
) -> None:
    path = tmp_path / "site.toml"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_installation_toml(path, rich, now=NOW)
    assert read_toml(path)["gateways"][0]["name"] == "Local"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["site.toml"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text("old = 1\n")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomically(path, "bad \udcff surrogate")
    assert path.read_text() == "old = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["site.toml"]


def test_writing_into_a_missing_folder_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "site.toml"
    with pytest.raises(FileProblem) as refused:
        write_text_atomically(path, "x = 1\n")
    assert str(refused.value).startswith(f"{path}: cannot write the file: ")


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("a = 1\nb = \n", "2:5", "not valid TOML: Invalid value"),
        ('[t]\nk = "\\q"\n', "2:8", "not valid TOML: Unescaped '\\' in a string"),
        ("x = 1\nx = 2", "2:6", "not valid TOML: Cannot overwrite a value"),
    ],
)
def test_a_syntax_error_names_the_line_and_column(
    tmp_path: Path, text: str, where: str, reason: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(FileProblem) as refused:
        read_toml(path)
    assert str(refused.value) == f"{path}:{where}: {reason}"
    assert isinstance(refused.value, StoreError)


def test_a_missing_file_and_a_folder_have_clear_messages(tmp_path: Path) -> None:
    with pytest.raises(FileProblem, match=r"missing\.toml: no such file$"):
        read_toml(tmp_path / "missing.toml")
    with pytest.raises(FileProblem, match="is a folder, not a file"):
        read_toml(tmp_path)


def test_a_file_that_is_not_utf8_names_the_place(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'a = 1\nname = "caf\xe9"\n')
    with pytest.raises(FileProblem) as refused:
        read_toml(path, name="models/latin1.toml")
    assert str(refused.value) == "models/latin1.toml:2:12: not UTF-8 text"
