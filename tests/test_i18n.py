"""Translations: catalogs complete for the code as it is, per-session language, fallbacks."""

from __future__ import annotations

import asyncio
import contextvars
import gettext
import io
import os
import re
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.catalog import Message as Entry
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal

from ews_tui import i18n
from ews_tui.domain.messages import Message
from ews_tui.i18n import (
    FALLBACKS,
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
TRANSLATE_HINT = f"{REFRESH_HINT}, then translate locales/{{code}}/LC_MESSAGES/messages.po"
# Every UI language but the source language has a catalog of its own.
TRANSLATED = [code for code in LANGUAGES if code != "en"]
# The catalogs there are, whose entries are checked (a missing one fails the two tests above
# them, once each).
PRESENT = [code for code in LANGUAGES if (REPO / "locales" / code).is_dir()]
PRESENT_TRANSLATED = [code for code in PRESENT if code != "en"]

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


def catalog_path(code: str) -> Path:
    return REPO / "locales" / code / "LC_MESSAGES" / "messages.po"


def load_catalog(code: str) -> Catalog:
    """``code``'s catalog, read as the box reads it: a damaged file (a merge that left a msgid
    without its msgstr) fails here, naming the line, as the box would refuse it whole."""
    with catalog_path(code).open("rb") as stream:
        return read_po(stream, locale=code, abort_invalid=True)


def require_catalog(code: str) -> Catalog:
    """``code``'s catalog; a language of the manual without one fails, saying how to start it."""
    if not catalog_path(code).is_file():
        pytest.fail(
            f"{code} ({LANGUAGES[code]}): no catalog {catalog_path(code).relative_to(REPO)}: "
            f"scripts/i18n.sh init {code}, then translate it"
        )
    return load_catalog(code)


def translated(entry: Entry | None) -> bool:
    """A usable translation: there, not fuzzy, every plural form filled."""
    return entry is not None and not entry.fuzzy and all(forms(entry.string))


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


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != "en"])
def test_every_language_has_a_catalog(code: str) -> None:
    """The 13 languages of the manual: each but English (the msgids) has its catalog;
    fr_BE and nl_BE hold only what Belgian usage changes."""
    require_catalog(code)


def untranslated(
    catalog: Catalog, behind: Catalog | None, wanted: dict[MessageKey, tuple[object, list[str]]]
) -> list[str]:
    """The msgids of ``wanted`` that ``catalog`` (or ``behind``, its parent) does not
    translate: missing, fuzzy, or a form empty."""
    problems = []
    for (msgid, context), (_message, places) in sorted(wanted.items(), key=by_msgid):
        entry = catalog.get(msgid, context)
        where = ", ".join(places[:3])
        if entry is not None and entry.fuzzy:
            problems.append(f"fuzzy        {msgid!r} ({where})")
        elif translated(entry) or (behind is not None and translated(behind.get(msgid, context))):
            continue
        elif entry is None and behind is None:
            problems.append(f"missing      {msgid!r} ({where})")
        else:
            problems.append(f"untranslated {msgid!r} ({where})")
    return problems


def unfinished(catalog: Catalog, *, variant: bool) -> list[str]:
    """Whatever the code says today: a fuzzy entry, a plural with some forms empty, or (in a
    language's own catalog) an empty one is unfinished work. A variant's empty entry reads
    its parent's."""
    problems = []
    for entry in catalog:
        if not entry.id:
            continue
        filled = [bool(text) for text in forms(entry.string)]
        if entry.fuzzy:
            problems.append(f"fuzzy        {entry.id!r}")
        elif any(filled) and not all(filled):
            problems.append(f"a plural form is empty: {entry.id!r}")
        elif not any(filled) and not variant:
            problems.append(f"untranslated {entry.id!r}")
    return problems


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_msgid_of_the_code_is_translated(code: str, code_messages) -> None:
    """In every language: no msgid of the code missing, fuzzy or with an empty form. A
    regional variant (fr_BE, nl_BE) passes when it or its parent translates each msgid."""
    parent = FALLBACKS.get(code)
    problems = untranslated(
        require_catalog(code), require_catalog(parent) if parent else None, code_messages
    )
    hint = TRANSLATE_HINT.format(code=code)
    assert not problems, f"{code} catalog ({len(problems)}): {hint}\n" + "\n".join(problems)


@pytest.mark.parametrize("code", PRESENT_TRANSLATED)
def test_no_entry_of_a_catalog_is_fuzzy_or_half_done(code: str) -> None:
    problems = unfinished(require_catalog(code), variant=code in FALLBACKS)
    assert not problems, f"{code} catalog ({len(problems)}):\n" + "\n".join(problems)


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


PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
MARKUP = re.compile(r"\[/?[a-z][a-z ]*\]")  # Rich markup: [b]...[/b]


def fixed_parts(text: str) -> tuple[set[str], list[str], list[str]]:
    """What a translation must keep: {placeholders}, %-conversions and Rich markup tags."""
    return placeholders(text), sorted(PERCENT.findall(text)), sorted(MARKUP.findall(text))


def mismatched(catalog: Catalog) -> list[str]:
    """Entries whose translation lost or gained a placeholder, a %-conversion or a tag."""
    problems = []
    for entry in catalog:
        if not entry.id:
            continue
        try:
            expected = set().union(*(placeholders(text) for text in forms(entry.id)))
            percent, markup = fixed_parts(forms(entry.id)[-1])[1:]
            for text in forms(entry.string):
                if not text:
                    continue
                got, got_percent, got_markup = fixed_parts(text)
                if got != expected:
                    problems.append(
                        f"{entry.id!r}: {sorted(expected)} but {text!r} has {sorted(got)}"
                    )
                if (got_percent, got_markup) != (percent, markup):
                    problems.append(
                        f"{entry.id!r}: {percent + markup} but {text!r} has "
                        f"{got_percent + got_markup}"
                    )
        except ValueError as exc:
            problems.append(f"{entry.id!r}: broken braces ({exc})")
    return problems


@pytest.mark.parametrize("code", PRESENT)
def test_placeholders_match_between_msgid_and_msgstr(code: str) -> None:
    problems = mismatched(require_catalog(code))
    assert not problems, f"{code} catalog ({len(problems)}):\n" + "\n".join(problems)


# (b2) no English left in a translation


# Words a translation keeps as the English has them, in every language: units, model
# references and makers, protocol and standard names, product names, symbols. Any word with
# a digit (EMDX3, L1-N, RS485, UTF-8, 4 149 48) is a reference too, a single letter a key.
# fmt: off
KEPT_WORDS = frozenset({
    "a", "v", "kw", "kwh", "kvar", "kvarh", "kva", "hz", "ms", "s", "min", "bps", "mib", "m³",
    "kb", "mb",
    "emdx3", "dpx3", "dmx3", "dx3", "ems", "cx3", "green'up", "green’up", "premium", "access",
    "eastron", "carlo", "gavazzi", "janitza", "umg", "socomec", "countis", "din", "mid", "rfid",
    "lcd", "modbus", "rtu", "tcp", "sftp", "scp", "smtp", "ntp", "starttls", "tls", "ssh", "csv",
    "toml", "ip", "ipv4", "iso", "thd", "plt", "en", "eq", "pin", "puk", "ok", "ko", "on", "off",
    "ews", "ews-tui", "connector", "local",
})
# Whole msgids that are names: the product's.
KEPT_MSGIDS = frozenset({"ews-tui · Energy Web Server"})
# Words spelt as in English that are that language's own trade term (a native reader's
# choice): add a language's words here when its catalog is written.
SAME_WORDS: dict[str, frozenset[str]] = {
    "de": frozenset({
        "gateway", "name", "start", "test", "info", "alarm", "port", "status", "bytes", "zone",
        "information", "gas", "details", "mail", "position", "phase", "register", "hex",
    }),
    "es": frozenset({"total", "local", "info", "gas", "no", "bytes"}),
    "fr": frozenset({
        "parking", "site", "consultation", "port", "circuit", "circuits", "zones", "position",
        "communication", "phase", "total", "verdict", "info", "information", "active",
        "destination", "mode", "type", "mail", "pages", "zone",
    }),
    "it": frozenset({"gateway", "info", "test", "mail", "gas", "no", "backup", "password"}),
    "nl": frozenset({
        "gateway", "test", "info", "alarm", "port", "model", "start", "status", "mail", "type",
        "bytes", "zone", "compressor", "help", "gas", "water", "week", "object", "details",
        "zones", "even", "interface", "open", "concentrator", "register", "hex",
    }),
    "pl": frozenset({"limit", "parking", "info", "alarm", "test", "port", "model"}),
    "pt": frozenset({"gateway", "total", "interface", "mail", "info", "compressor", "bytes"}),
    "hu": frozenset({"port"}),
}
# fmt: on
SAME_WORDS["fr_BE"] = SAME_WORDS["fr"]
SAME_WORDS["nl_BE"] = SAME_WORDS["nl"] | {"parking"}
WORD = re.compile(r"[^\W\d_][\w'’-]*")


def english_words_left(msgid: str, code: str) -> list[str]:
    """The words of ``msgid`` a translation may not keep unchanged in ``code``."""
    text = re.sub(r"\{[^}]*\}", " ", msgid)  # placeholders
    text = re.sub(r"(?<!\w)--[\w-]+", " ", text)  # command-line options
    allowed = KEPT_WORDS | SAME_WORDS.get(code, frozenset())
    return [
        word
        for word in WORD.findall(text)
        if len(word) > 1  # a key or a symbol: "y", "s", "A"
        and word.lower() not in allowed
        and not any(ch.isdigit() for ch in word)
    ]


def copied(catalog: Catalog, code: str) -> list[str]:
    """Entries left as the English has them, beyond the allow-lists."""
    problems = []
    for entry in catalog:
        if not entry.id or entry.id in KEPT_MSGIDS or not all(forms(entry.string)):
            continue
        english = forms(entry.id)
        if isinstance(entry.id, tuple):  # every form as one of the English forms
            same = all(text in english for text in forms(entry.string))
        else:
            same = entry.string == entry.id
        left = english_words_left(english[-1], code) if same else []
        if left:
            problems.append(f"{english[0]!r} left in English ({', '.join(left)})")
    return problems


@pytest.mark.parametrize("code", PRESENT_TRANSLATED)
def test_no_translation_is_the_english_copied(code: str) -> None:
    problems = copied(require_catalog(code), code)
    assert not problems, (
        f"{code} catalog ({len(problems)}): translate these, or add a word that {code} spells "
        "as English to SAME_WORDS:\n" + "\n".join(problems)
    )


def test_the_allow_list_lets_references_through_and_catches_words() -> None:
    assert english_words_left("EMDX3 three-phase energy meter, CT connection, MID", "pl") == [
        "three-phase", "energy", "meter", "CT", "connection",
    ]  # fmt: skip
    assert english_words_left("--week: {error}", "ru") == []
    assert english_words_left("STARTTLS (port 587)", "ru") == ["port"]
    assert english_words_left("STARTTLS (port 587)", "fr") == []


# (b3) plural forms as CLDR has them

# The locale whose CLDR plural rules a catalog follows: the box's Portuguese is Portugal's
# (1 takes the singular, 0 the plural; CLDR's "pt" is Brazil's: 0 and 1 singular).
CLDR_LOCALE = {"pt": "pt_PT"}
COUNTS = [*range(1001), 1_000_000, 1_000_001, 2_000_000, 10**9]


def same_partition(forms_of: dict[int, int], categories: dict[int, str]) -> bool:
    """One form per CLDR category and one category per form, over ``COUNTS``."""
    form_to_category: dict[int, str] = {}
    category_to_form: dict[str, int] = {}
    for n in COUNTS:
        form, category = forms_of[n], categories[n]
        if form_to_category.setdefault(form, category) != category:
            return False
        if category_to_form.setdefault(category, form) != form:
            return False
    return True


def plural_problems(catalog: Catalog, cldr: str) -> list[str]:
    """A Plural-Forms header that does not pick the forms CLDR's rules for ``cldr`` pick, and
    plural entries without all of its forms."""
    header = dict(catalog.mime_headers).get("Plural-Forms", "")
    if not header:
        return ["no Plural-Forms header"]
    pick = gettext.c2py(catalog.plural_expr)
    forms_of = {n: pick(n) for n in COUNTS}
    rule = Locale.parse(cldr).plural_form
    categories = {n: rule(n) for n in COUNTS}
    # CLDR 42 gave French, Spanish, Italian and Portuguese a "many" form for whole millions
    # ("1 000 000 de ..."): a catalog may keep it apart or read "other" for it.
    merged = {n: "other" if c == "many" else c for n, c in categories.items()}
    problems = []
    if not (same_partition(forms_of, categories) or same_partition(forms_of, merged)):
        problems.append(
            f"{header!r} does not pick CLDR's plural categories for {cldr} "
            f"(babel writes: {Catalog(locale=cldr).plural_forms})"
        )
    if len(set(forms_of.values())) != catalog.num_plurals:
        problems.append(f"{header!r}: not all of its {catalog.num_plurals} forms are used")
    problems.extend(
        f"{entry.id[0]!r}: {sum(map(bool, forms(entry.string)))} of {catalog.num_plurals} forms"
        for entry in catalog
        if isinstance(entry.id, tuple)
        and any(forms(entry.string))
        and (len(forms(entry.string)) != catalog.num_plurals or not all(forms(entry.string)))
    )
    return problems


@pytest.mark.parametrize("code", PRESENT)
def test_plural_forms_follow_cldr_and_every_plural_has_them_all(code: str) -> None:
    problems = plural_problems(require_catalog(code), CLDR_LOCALE.get(code, code))
    assert not problems, f"{code} catalog:\n" + "\n".join(problems)


def broken_catalog(code: str, plural_forms: str) -> Catalog:
    catalog = Catalog(locale=code, domain="messages")
    catalog.mime_headers = [("Plural-Forms", plural_forms)]
    return catalog


def test_each_check_finds_what_it_is_for() -> None:
    """The checks above on a catalog written wrong on purpose: each names what it found."""
    pl = broken_catalog("pl", "nplurals=2; plural=(n != 1);")  # Polish has three forms
    pl.add("Gateway", "Bramka")
    pl.add("Device", "Urządzenie", flags=["fuzzy"])
    pl.add("Alarms", "")
    pl.add(("{n} alarm", "{n} alarms"), ("{n} alarm", ""))
    pl.add("Saved {name}.", "Zapisano {nazwa}.")
    pl.add("Press [b]q[/b]", "Naciśnij q")
    pl.add("Circuit breaker", "Circuit breaker")
    pl.add("Test", "Test")  # Polish spells it so: SAME_WORDS
    wanted: dict[MessageKey, tuple[object, list[str]]] = {
        (msgid, None): (msgid, ["here.py:1"]) for msgid in ("Gateway", "Device", "Alarms", "Zone")
    }
    assert untranslated(pl, None, wanted) == [
        "untranslated 'Alarms' (here.py:1)",
        "fuzzy        'Device' (here.py:1)",
        "missing      'Zone' (here.py:1)",
    ]
    assert unfinished(pl, variant=False) == [
        "fuzzy        'Device'",
        "untranslated 'Alarms'",
        "a plural form is empty: ('{n} alarm', '{n} alarms')",
    ]
    assert mismatched(pl) == [
        "'Saved {name}.': ['{name}'] but 'Zapisano {nazwa}.' has ['{nazwa}']",
        "'Press [b]q[/b]': ['[/b]', '[b]'] but 'Naciśnij q' has []",
    ]
    assert copied(pl, "pl") == ["'Circuit breaker' left in English (Circuit, breaker)"]
    assert plural_problems(pl, "pl") == [
        "'nplurals=2; plural=(n != 1);' does not pick CLDR's plural categories for pl "
        f"(babel writes: {Catalog(locale='pl').plural_forms})",
        "'{n} alarm': 1 of 2 forms",
    ]
    belgian = broken_catalog("fr_BE", "nplurals=2; plural=(n > 1);")
    belgian.add("Switchboard", "Tableau")
    belgian.add("Device", "")  # read from fr
    french = broken_catalog("fr", "nplurals=2; plural=(n > 1);")
    french.add("Device", "Dispositif")
    french.add("Gateway", "Passerelle")
    wanted = {(m, None): (m, ["here.py:1"]) for m in ("Switchboard", "Device", "Gateway")}
    assert untranslated(belgian, french, wanted) == []
    assert unfinished(belgian, variant=True) == []
    assert plural_problems(french, "fr") == []  # "many" read as "other"
    assert plural_problems(broken_catalog("pt", "nplurals=2; plural=(n > 1);"), "pt_PT") != []


def test_stats_show_one_line_per_language() -> None:
    shown = subprocess.run(
        [str(REPO / "scripts" / "i18n.sh"), "stats"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.splitlines()  # fmt: skip
    assert [line.split()[0] for line in shown] == list(LANGUAGES)
    for line in shown:
        code = line.split()[0]
        if code != "en" and catalog_path(code).is_file():
            assert re.match(rf"{code} +\d+\.\d %  \d+/\d+ translated", line), line


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
