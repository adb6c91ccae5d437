"""Every catalog is loaded before the first session: no file I/O when a language is picked."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from ews_tui import i18n
from ews_tui.i18n import LANGUAGES, LOCALES_DIR, Catalogs
from ews_tui.runtime import Runtime


def test_load_all_reads_every_catalog_so_a_new_language_needs_no_file(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    catalogs = Catalogs(locales)
    catalogs.load_all()
    assert catalogs.loaded == frozenset(LANGUAGES)
    shutil.rmtree(locales)  # any file I/O from now on would find nothing
    french = catalogs.translator("fr_BE")  # a session in a language nobody used yet
    assert french.gettext("Gateways and devices") != "Gateways"
    assert french.gettext("Gateways and devices") == catalogs.translator("fr").gettext(
        "Gateways and devices"
    )


async def test_the_runtime_loads_every_catalog_before_its_services_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(i18n, "_catalogs", Catalogs(LOCALES_DIR))  # none loaded yet
    assert i18n.loaded_languages() == frozenset()
    loaded_when_started: list[frozenset[str]] = []

    class Probe:
        name = "probe"

        async def start(self) -> None:
            loaded_when_started.append(i18n.loaded_languages())

        async def stop(self) -> None:
            pass

    runtime = Runtime(config=None)  # type: ignore[arg-type]
    runtime.add(Probe())
    await runtime.start()
    await runtime.stop()
    assert loaded_when_started == [frozenset(LANGUAGES)]


def test_load_all_reads_babel_locale_data_so_a_first_date_parses_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from babel import dates, localedata

    monkeypatch.setattr(localedata, "_cache", {})  # as in a fresh process
    Catalogs(LOCALES_DIR).load_all()
    loaded: list[str] = []
    original = localedata.load

    def counted(name: str, merge_inherited: bool = True) -> dict[str, object]:
        if name not in localedata._cache:
            loaded.append(name)
        return original(name, merge_inherited)

    monkeypatch.setattr(localedata, "load", counted)
    for code in LANGUAGES:
        dates.format_date(date(2026, 12, 3), format="full", locale=i18n.babel_locale(code))
    assert loaded == []  # every language's CLDR data was read at start


def test_a_damaged_catalog_prints_nothing_and_its_language_reads_english(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """babel prints "WARNING: ..." on stdout for a damaged .po: on a terminal that carries a
    UI that would be garbage on screen. The catalog is refused whole (half a catalog would mix
    languages), logged, and the language falls back."""
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Gateways"\nmsgstr "Gateways-de"\n\nmsgid "Devices"\n\n'
        'msgid "Alarms"\nmsgstr "Alarme"\n',
        encoding="utf-8",
    )
    german = Catalogs(tmp_path).translator("de")
    assert german.gettext("Alarms") == "Alarms"
    assert capfd.readouterr().out == ""
    assert any("refused" in record.getMessage() for record in caplog.records)
