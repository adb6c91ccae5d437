"""The ``ews`` command's language: the user's locale, as every Unix tool reads it.

gettext's order: the first of ``LANGUAGE`` (a colon list of wishes), ``LC_ALL``,
``LC_MESSAGES`` and ``LANG`` that is set and not empty decides; its wishes are negotiated
against the UI languages (``fr_BE.UTF-8`` -> fr_BE, ``de_AT`` -> de). ``C``, ``POSIX``, a
language without a catalog or nothing set: English, the msgids.

argparse says its own words ("usage: ", "the following arguments are required: %s"...)
through its module-level ``_`` and ``ngettext`` (``from gettext import gettext as _,
ngettext``); :func:`translate_argparse` points them at our catalogs, which hold those msgids
(:data:`ARGPARSE_MESSAGES`, copied from Python 3.11's ``argparse.py``). The command's language
is then the current context's (``use_language`` in ``main()``); a UI session started by the
command (``serve``, ``demo``, ``tui``) sets its own.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Final

from ews_tui.i18n import DEFAULT_LANGUAGE, N_, _, negotiate_language, ngettext

#: The variables gettext reads, in its order: the first set and not empty decides.
ENVIRONMENT: Final = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
#: The locales that mean "untranslated" (``C.UTF-8`` too).
_PLAIN: Final = frozenset({"C", "POSIX"})

#: argparse's own user-facing msgids (Python 3.11), for extraction into our catalogs.
ARGPARSE_MESSAGES: Final = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("unrecognized arguments: %s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("unexpected option string: %s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("%(prog)s: error: %(message)s\n"),
)


def environment_language(environ: Mapping[str, str]) -> str:
    """The UI language the locale variables of ``environ`` ask for; English when none fits."""
    for name in ENVIRONMENT:
        value = environ.get(name, "")
        if value:
            return _wished(value.split(":") if name == "LANGUAGE" else [value])
    return DEFAULT_LANGUAGE


def _wished(wishes: list[str]) -> str:
    """The first wish that is a UI language; ``C``/``POSIX`` (or none fitting) is English."""
    for wish in wishes:
        if wish.split(".")[0] in _PLAIN:
            return DEFAULT_LANGUAGE
        found = negotiate_language([wish]) if wish else None
        if found is not None:
            return found
    return DEFAULT_LANGUAGE


def _argparse_gettext(message: str) -> str:
    # argparse passes None (a group without description) and never wants the catalog header.
    return _(message) if message else message


def _argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return ngettext(singular, plural, n)


def translate_argparse() -> None:
    """argparse's own words in the current context's language, from now on (idempotent)."""
    argparse._ = _argparse_gettext  # type: ignore[attr-defined]
    argparse.ngettext = _argparse_ngettext  # type: ignore[attr-defined]


def _argparse_plural_msgid() -> str:  # pragma: no cover - never called
    """argparse's one plural msgid (``nargs=N`` given another count), written as a call so
    that extraction puts it in the catalogs."""
    return ngettext("expected %s argument", "expected %s arguments", 2)
