"""The Belgian catalogs hold only what Belgian usage changes, and say why.

``fr_BE`` and ``nl_BE`` fall back to ``fr`` and ``nl`` (``FALLBACKS`` in ews_tui/i18n.py):
each of their entries must differ from the parent's translation (an equal one is dead
weight that hides later fixes of the parent), carry a translator comment naming the
Belgian word, and be a msgid of the code.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from ews_tui.i18n import FALLBACKS, translator

LOCALES = Path(__file__).resolve().parent.parent / "locales"


def load(code: str) -> Catalog:
    with (LOCALES / code / "LC_MESSAGES" / "messages.po").open("rb") as stream:
        return read_po(stream, locale=code)


def fields(text: str) -> set[str]:
    return {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("code", sorted(FALLBACKS))
def test_a_regional_catalog_holds_only_entries_that_differ_from_its_parent(code: str) -> None:
    regional, parent = load(code), load(FALLBACKS[code])
    entries = [m for m in regional if m.id]
    assert entries, f"{code}: an empty catalog (Belgian usage differs somewhere)"
    problems = []
    for entry in entries:
        above = parent.get(entry.id, entry.context)
        if above is None:
            problems.append(f"{entry.id!r}: not in the {FALLBACKS[code]} catalog")
        elif above.string == entry.string:
            problems.append(f"{entry.id!r}: same as {FALLBACKS[code]} ({entry.string!r})")
        if not entry.string or entry.fuzzy:
            problems.append(f"{entry.id!r}: untranslated or fuzzy")
        if not any("BE:" in comment for comment in entry.user_comments):
            problems.append(f"{entry.id!r}: no '# BE: ...' comment saying why it differs")
        if isinstance(entry.id, str) and fields(entry.id) != fields(str(entry.string)):
            problems.append(f"{entry.id!r}: placeholders of {entry.string!r}")
    assert not problems, f"{code}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("code", "msgid", "belgian", "parent_word"),
    [
        ("nl_BE", "Switchboard", "Verdeelbord", "Verdeelkast"),
        ("nl_BE", "Circuit", "Kring", "Groep"),
        ("nl_BE", "Active energy exported", "Actieve energie injectie", "teruglevering"),
        ("fr_BE", "Workshop board", "Tableau divisionnaire atelier", "Tableau atelier"),
        ("fr_BE", "Active energy exported", "Énergie active injectée", "exportée"),
    ],
)
def test_a_belgian_session_reads_the_belgian_word_and_the_parent_for_the_rest(
    code: str, msgid: str, belgian: str, parent_word: str
) -> None:
    regional, parent = translator(code), translator(FALLBACKS[code])
    assert regional.gettext(msgid) == belgian
    assert parent_word in parent.gettext(msgid)
    # Everything the Belgian catalog leaves out comes from the parent, not from English.
    assert regional.gettext("Power factor") == parent.gettext("Power factor") != "Power factor"
