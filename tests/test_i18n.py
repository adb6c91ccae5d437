"""Translations: catalogs complete for the code as it is, per-session language, fallbacks."""

from __future__ import annotations

import asyncio
import contextvars
import io
import os
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal

from ews_tui import i18n
from ews_tui.domain.messages import Message
from ews_tui.i18n import (
    LANGUAGES,
    Catalogs,
    UnknownLanguageError,
    _,
    babel_locale,
    change_language,
    current_language,
    negotiate_language,
    ngettext,
    set_language,
    translator,
    use_language,
)
from ews_tui.i18n_extract import extract_toml

REPO = Path(__file__).resolve().parent.parent
REFRESH_HINT = "run scripts/i18n.sh refresh"
TRANSLATE_HINT = f"{REFRESH_HINT}, then translate locales/fr/LC_MESSAGES/messages.po"

MessageKey = tuple[str, str | None]  # (singular msgid, context)


def extracted_messages() -> dict[MessageKey, tuple[str | tuple[str, ...], list[str]]]:
    """Every msgid of the code and data files, by the same babel.cfg as scripts/i18n.sh."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as stream:
        method_map, options_map = parse_mapping_cfg(stream, "babel.cfg")
    found: dict[MessageKey, tuple[str | tuple[str, ...], list[str]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        singular = message[0] if isinstance(message, tuple) else message
        if not singular:
            continue
        _message, places = found.setdefault((singular, context), (message, []))
        places.append(f"{filename}:{lineno}")
    return found


def load_catalog(code: str) -> Catalog:
    with (REPO / "locales" / code / "LC_MESSAGES" / "messages.po").open("rb") as stream:
        return read_po(stream, locale=code)


def forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str]:
    return {
        f"{{{field}{'!' + conversion if conversion else ''}}}"
        for _literal, field, _spec, conversion in string.Formatter().parse(text)
        if field is not None
    }


def by_msgid(item: tuple[MessageKey, object]) -> tuple[str, str]:
    """Sort key of an extracted message: its msgid, then its context (None first)."""
    (msgid, context), _found = item
    return msgid, context or ""


@pytest.fixture(scope="module")
def code_messages() -> dict[MessageKey, tuple[str | tuple[str, ...], list[str]]]:
    messages = extracted_messages()
    assert messages, "nothing extracted: babel.cfg does not match the package any more"
    return messages


@pytest.fixture(scope="module")
def french() -> Catalog:
    return load_catalog("fr")


def a_french_translation(catalog: Catalog) -> tuple[str, str]:
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
            plain = message.context is None and not placeholders(message.id)
            if plain and message.string != message.id:
                return message.id, message.string
    pytest.fail("the French catalog translates no message without placeholders")


# (a) catalogs complete for what the code says right now


def test_every_msgid_of_the_code_is_translated_in_french(code_messages, french) -> None:
    problems = []
    for (msgid, context), (_message, places) in sorted(code_messages.items(), key=by_msgid):
        entry = french.get(msgid, context)
        where = ", ".join(places[:3])
        if entry is None:
            problems.append(f"missing   {msgid!r} ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy     {msgid!r} ({where})")
        elif not all(forms(entry.string)):
            problems.append(f"untranslated {msgid!r} ({where})")
    assert not problems, f"fr catalog: {TRANSLATE_HINT}\n" + "\n".join(problems)


def test_every_msgid_of_the_code_is_in_the_english_catalog(code_messages) -> None:
    english = load_catalog("en")
    missing = [
        f"{msgid!r} ({', '.join(places[:3])})"
        for (msgid, context), (_message, places) in sorted(code_messages.items(), key=by_msgid)
        if english.get(msgid, context) is None
    ]
    assert not missing, f"en catalog: {REFRESH_HINT}\n" + "\n".join(missing)


def test_extraction_reads_python_calls_and_toml_names(code_messages) -> None:
    places = [place for _message, found in code_messages.values() for place in found]
    assert any(place.startswith("ews_tui/data/catalog/") for place in places)
    assert any(place.startswith("ews_tui/") and ".py:" in place for place in places)
    assert not any(".tcss:" in place or place.startswith("tests/") for place in places)


# (b) placeholders survive translation


@pytest.mark.parametrize("code", ["fr", "en"])
def test_placeholders_match_between_msgid_and_msgstr(code: str) -> None:
    problems = []
    for entry in load_catalog(code):
        if not entry.id:
            continue
        try:
            expected = set().union(*(placeholders(text) for text in forms(entry.id)))
            for text in forms(entry.string):
                if text and placeholders(text) != expected:
                    got = sorted(placeholders(text))
                    problems.append(f"{entry.id!r}: {sorted(expected)} but {text!r} has {got}")
        except ValueError as exc:
            problems.append(f"{entry.id!r}: broken braces ({exc})")
    assert not problems, "\n".join(problems)


# (c) each session its own language, at the same time


async def test_two_tasks_translate_the_same_msgid_each_in_its_language(french) -> None:
    msgid, in_french = a_french_translation(french)
    before = current_language()
    both_chose = asyncio.Barrier(2)

    async def session(code: str) -> tuple[str, str]:
        set_language(code)
        await both_chose.wait()  # both languages are set before either translates
        return current_language(), _(msgid)

    got = await asyncio.gather(session("fr"), session("en"))
    assert got == [("fr", in_french), ("en", msgid)]
    assert current_language() == before


async def test_change_language_switches_the_tasks_of_that_session_only(french) -> None:
    msgid, in_french = a_french_translation(french)
    widget_ready, switched = asyncio.Event(), asyncio.Event()

    async def widget() -> str:  # a task the session started before the switch
        widget_ready.set()
        await switched.wait()
        return _(msgid)

    async def session() -> tuple[str, str]:
        set_language("en")
        child = asyncio.create_task(widget())
        await widget_ready.wait()
        change_language("fr")
        switched.set()
        return await child, _(msgid)

    async def other_session() -> str:
        set_language("en")
        await switched.wait()
        return _(msgid)

    got = await asyncio.gather(session(), other_session())
    assert got == [(in_french, in_french), msgid]


def test_use_language_restores_the_previous_language(french) -> None:
    msgid, in_french = a_french_translation(french)

    def run() -> None:
        set_language("en")
        with use_language("fr") as chosen:
            assert (current_language(), _(msgid), chosen.gettext(msgid)) == (
                "fr",
                in_french,
                in_french,
            )
        assert (current_language(), _(msgid)) == ("en", msgid)

    contextvars.copy_context().run(run)


def test_explicit_translator_renders_domain_messages(french) -> None:
    msgid, in_french = a_french_translation(french)
    assert translator("fr").render(Message(msgid)) == in_french.format()
    assert translator("en").gettext(msgid) == msgid


def test_babel_locale_follows_the_current_language() -> None:
    def run() -> None:
        set_language("fr_BE")
        assert babel_locale() == Locale("fr", "BE")
        assert format_decimal(1234.5, locale=babel_locale()).endswith(",5")
        assert format_decimal(1234.5, locale=babel_locale("en")) == "1,234.5"

    contextvars.copy_context().run(run)


# (d) fallbacks, on catalogs written for the test


def write_catalog(root: Path, code: str, entries: dict, fuzzy: dict | None = None) -> Path:
    catalog = Catalog(locale=code, domain="messages")
    # The header our catalogs carry, whatever plural rules the installed CLDR has
    # (babel 2.19 gives French a third "many" form).
    catalog.mime_headers = [("Plural-Forms", "nplurals=2; plural=(n > 1);")]
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    for msgid, msgstr in (fuzzy or {}).items():
        catalog.add(msgid, msgstr, flags=["fuzzy"])
    po = root / code / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as stream:
        write_po(stream, catalog)
    return po


@pytest.fixture
def catalogs(tmp_path: Path) -> Catalogs:
    write_catalog(
        tmp_path,
        "fr",
        {
            "Gateway": "Passerelle",
            "Device": "Dispositif",
            ("{n} device", "{n} devices"): ("{n} dispositif", "{n} dispositifs"),
        },
        fuzzy={"Switchboard": "Tableau"},
    )
    write_catalog(tmp_path, "fr_BE", {"Device": "Appareil"})
    return Catalogs(tmp_path)


def test_a_regional_variant_falls_back_to_its_language(catalogs: Catalogs) -> None:
    belgian = catalogs.translator("fr_BE")
    assert belgian.gettext("Device") == "Appareil"  # its own word first
    assert belgian.gettext("Gateway") == "Passerelle"  # then French
    assert belgian.gettext("Alarms") == "Alarms"  # then the English msgid


def test_a_language_without_catalog_reads_english(catalogs: Catalogs) -> None:
    assert catalogs.translator("de").gettext("Gateway") == "Gateway"
    assert catalogs.translator("nl_BE").ngettext("{n} device", "{n} devices", 2) == "{n} devices"


def test_fuzzy_entries_are_not_used(catalogs: Catalogs) -> None:
    assert catalogs.translator("fr").gettext("Switchboard") == "Switchboard"


def test_plural_forms_follow_the_language(catalogs: Catalogs) -> None:
    french = catalogs.translator("fr")
    assert [french.ngettext("{n} device", "{n} devices", n) for n in (0, 1, 2)] == [
        "{n} dispositif",
        "{n} dispositif",
        "{n} dispositifs",
    ]
    assert translator("en").ngettext("{n} device", "{n} devices", 0) == "{n} devices"


def test_each_catalog_is_loaded_once(catalogs: Catalogs) -> None:
    assert catalogs.translator("fr") is catalogs.translator("fr")
    assert catalogs.translator("fr_BE").translations is not catalogs.translator("fr").translations


def test_a_newer_compiled_catalog_is_used(tmp_path: Path) -> None:
    po = write_catalog(tmp_path, "fr", {"Gateway": "Passerelle"})
    compiled = Catalog(locale="fr", domain="messages")
    compiled.add("Gateway", "Passerelle (compilée)")
    buffer = io.BytesIO()
    write_mo(buffer, compiled)
    mo = po.with_suffix(".mo")
    mo.write_bytes(buffer.getvalue())
    os.utime(mo, (po.stat().st_mtime + 10, po.stat().st_mtime + 10))
    assert Catalogs(tmp_path).translator("fr").gettext("Gateway") == "Passerelle (compilée)"
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))  # stale: the .po wins
    assert Catalogs(tmp_path).translator("fr").gettext("Gateway") == "Passerelle"


def test_module_ngettext_picks_the_form_for_n() -> None:
    def run() -> list[str]:
        set_language("en")
        return [ngettext("{n} device", "{n} devices", n).format(n=n) for n in (1, 2)]

    assert contextvars.copy_context().run(run) == ["1 device", "2 devices"]


# (e) a bad code says which and what is allowed


@pytest.mark.parametrize(
    "call",
    [set_language, translator, babel_locale, lambda code: use_language(code).__enter__()],
)
def test_an_unknown_language_is_refused_with_the_valid_codes(call) -> None:
    with pytest.raises(ValueError, match=r"unknown language 'fr_FR': expected one of de, en"):
        call("fr_FR")
    assert issubclass(UnknownLanguageError, ValueError)


def test_the_languages_of_the_manual_in_its_order() -> None:
    assert list(LANGUAGES) == [
        "de", "en", "es", "fr", "fr_BE", "el", "it", "nl_BE", "nl", "pl", "pt", "ru", "hu",
    ]  # fmt: skip
    assert LANGUAGES["fr_BE"] == "Français (Belgique)"
    assert i18n.DEFAULT_LANGUAGE == "en"


@pytest.mark.parametrize(
    ("wishes", "expected"),
    [
        (["fr_FR.UTF-8"], "fr"),
        (["nl-be"], "nl_BE"),
        (["C.UTF-8", "en_GB"], "en"),
        (["ja_JP", "POSIX"], None),
    ],
)
def test_negotiate_language_from_client_locales(wishes: list[str], expected: str | None) -> None:
    assert negotiate_language(wishes) == expected


# the toml extractor


TOML_SAMPLE = """\
# name = "not this: a comment"
[[families]]
id = "meters"
name = "Meters"

[[models]]
name = "Meter"
quantities = [
  { id = "v1", label = "Voltage L1", unit = "V" },
  { id = "v2", label = 'Voltage L2' },
]
source = "not a name"

[[models]]
name = "Meter"
[models.inputs]
label = "Input \\"A\\""
"""


def extract_sample(options: dict | None = None) -> Iterator[tuple[int, str, list[str]]]:
    stream = io.BytesIO(TOML_SAMPLE.encode())
    for lineno, _funcname, message, comments in extract_toml(stream, (), (), options or {}):
        yield lineno, message, comments


def test_the_toml_extractor_finds_names_and_labels_with_their_lines() -> None:
    found = [(lineno, message) for lineno, message, _comments in extract_sample()]
    assert found == [
        (4, "Meters"),
        (7, "Meter"),
        (9, "Voltage L1"),
        (10, "Voltage L2"),
        (15, "Meter"),
        (17, 'Input "A"'),
    ]
    comments = [comments for *_found, comments in extract_sample()]
    assert comments[2] == ["<toml>: models.quantities.label"]


def test_the_toml_extractor_keys_option() -> None:
    found = [message for _lineno, message, _comments in extract_sample({"keys": "source"})]
    assert found == ["not a name"]


def test_the_toml_extractor_names_a_broken_file() -> None:
    stream = io.BytesIO(b"name = ")
    stream.name = "broken.toml"
    with pytest.raises(ValueError, match=r"broken\.toml: not valid TOML"):
        list(extract_toml(stream, (), (), {}))
