"""Every translation call of the code reaches the catalogs: what Python compiles as a call to
``_``, ``N_``, ``ngettext``, ``pgettext``... with literal text, babel's extraction (the one of
``scripts/i18n.sh extract``) finds too.

babel reads tokens, not the syntax tree: on Python 3.11 an f-string is one token, so a call
inside ``f"{pgettext('column', 'Consumption')} ({unit})"`` never reaches ``messages.pot``; no
catalog then gets the msgid and every language shows the English.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "ews_tui"

# function name -> (index of the context argument or None, index of the msgid argument)
CALLS: dict[str, tuple[int | None, int]] = {
    "_": (None, 0),
    "N_": (None, 0),
    "gettext": (None, 0),
    "ngettext": (None, 0),
    "pgettext": (0, 1),
    "npgettext": (0, 1),
}

Key = tuple[str, str | None]  # (msgid, context)


def extracted() -> set[Key]:
    """The msgids ``scripts/i18n.sh extract`` writes, by the same babel.cfg."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as stream:
        method_map, options_map = parse_mapping_cfg(stream, "babel.cfg")
    found: set[Key] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found.add((message[0] if isinstance(message, tuple) else message, context))
    return found


def literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def calls_in(source: str) -> Iterator[tuple[int, Key]]:
    """(line, (msgid, context)) of each translation call with literal text in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in CALLS:
            continue
        context_at, msgid_at = CALLS[name]
        if len(node.args) <= msgid_at:
            continue
        msgid = literal(node.args[msgid_at])
        context = literal(node.args[context_at]) if context_at is not None else None
        if msgid and (context_at is None or context is not None):
            yield node.lineno, (msgid, context)


def code_calls() -> dict[Key, list[str]]:
    found: dict[Key, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(REPO)
        for line, key in calls_in(path.read_text(encoding="utf-8")):
            found.setdefault(key, []).append(f"{where}:{line}")
    return found


def test_every_translation_call_of_the_code_is_extracted() -> None:
    calls, known = code_calls(), extracted()
    assert calls, "no translation call found: the package moved?"
    missing = sorted(
        f"{msgid!r} (context {context!r}) at {', '.join(places)}"
        for (msgid, context), places in calls.items()
        if (msgid, context) not in known
    )
    assert not missing, (
        "calls babel's extraction does not see (inside an f-string?): take the call out of "
        "the f-string, into a variable\n" + "\n".join(missing)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("f\"{pgettext('column', 'Consumption')} ({unit})\"", ("Consumption", "column")),
        ('label = _("Cost")', ("Cost", None)),
        ('ngettext("{n} device", "{n} devices", n)', ("{n} device", None)),
        ('translator.gettext("Gateway")', ("Gateway", None)),
    ],
)
def test_calls_are_found_in_the_syntax_tree_f_strings_included(source: str, expected: Key) -> None:
    assert [key for _line, key in calls_in(source)] == [expected]


def test_a_call_without_literal_text_is_not_a_msgid() -> None:
    assert list(calls_in("_(name)\npgettext(ctx, 'x')\n_(f'{x}')")) == []
