"""Translations, one language per UI session, without process state.

Every catalog ``locales/<lang>/LC_MESSAGES/messages.po`` is read once, straight
from the ``.po`` with babel (no compile step to run from a checkout; a newer compiled ``.mo``
next to it is used instead). Fuzzy entries are ignored. A language without a catalog reads
English (the msgids); ``fr_BE`` falls back to ``fr`` and ``nl_BE`` to ``nl``. The runtime
reads them all at start in a thread (:func:`load_catalogs`, about 175 ms a catalog), with babel's
locale data of each language (about 60 ms each): the first session in a language does no file
I/O nor parsing in the event loop.

The current language lives in a :class:`~contextvars.ContextVar`, as aiogram does: each UI
session's asyncio task runs in its own copy of the context, so ``set_language()`` at the start
of one session never changes another's; ``change_language()`` later switches that session's
tasks together. ``locale.setlocale`` and ``gettext.install`` are never used.

    from ews_tui.i18n import _, N_, ngettext

    TITLE = N_("Gateways")            # marked for extraction, translated later
    label = _(TITLE)                  # translated now, in the session's language
    ngettext("{n} device", "{n} devices", n).format(n=n)
"""

from __future__ import annotations

import gettext as _gettext
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from types import MappingProxyType
from typing import Final

from babel import Locale, localedata
from babel.messages.pofile import PoFileError

from ews_tui.domain.messages import N_, Message

__all__ = [
    "DEFAULT_LANGUAGE",
    "FALLBACKS",
    "LANGUAGES",
    "LOCALES_DIR",
    "N_",
    "Catalogs",
    "Message",
    "Translator",
    "UnknownLanguageError",
    "_",
    "babel_locale",
    "change_language",
    "current_language",
    "negotiate_language",
    "ngettext",
    "npgettext",
    "pgettext",
    "set_language",
    "translator",
    "use_language",
    "validate_language",
]

log = logging.getLogger(__name__)

# The 13 UI languages of the manual, in its order: code -> native name (never translated).
LANGUAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "de": "Deutsch",
        "en": "English",
        "es": "Español",
        "fr": "Français",
        "fr_BE": "Français (Belgique)",
        "el": "Ελληνικά",
        "it": "Italiano",
        "nl_BE": "Nederlands (België)",
        "nl": "Nederlands",
        "pl": "Polski",
        "pt": "Português",
        "ru": "Русский",
        "hu": "Magyar",
    }
)
DEFAULT_LANGUAGE: Final = "en"
# A regional variant reads its parent's catalog for whatever it does not translate itself.
FALLBACKS: Final[Mapping[str, str]] = MappingProxyType({"fr_BE": "fr", "nl_BE": "nl"})
DOMAIN: Final = "messages"
# In a source tree (and an editable install) the catalogs sit beside the package; a wheel
# made by `ews update build` carries them inside it.
_BESIDE: Final = Path(__file__).resolve().parent.parent / "locales"
LOCALES_DIR: Final = _BESIDE if _BESIDE.is_dir() else Path(__file__).resolve().parent / "locales"


class UnknownLanguageError(ValueError):
    """A language code that is not one of :data:`LANGUAGES`."""

    def __init__(self, code: object) -> None:
        self.code = code
        super().__init__(f"unknown language {code!r}: expected one of {', '.join(LANGUAGES)}")


def validate_language(code: str) -> str:
    """Return ``code`` if it is a UI language, else raise :class:`UnknownLanguageError`."""
    if not isinstance(code, str) or code not in LANGUAGES:
        raise UnknownLanguageError(code)
    return code


@dataclass(frozen=True)
class Translator:
    """One language's translations, for explicit use (``translator("fr").gettext(...)``)."""

    code: str
    translations: _gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.translations.npgettext(context, singular, plural, n)

    def render(self, message: Message) -> str:
        """A domain :class:`Message` in this language, placeholders filled."""
        return message.render(self.gettext)

    @property
    def locale(self) -> Locale:
        """The babel locale for numbers, dates and currencies in this language."""
        return Locale.parse(self.code)


class Catalogs:
    """The catalogs of one ``locales`` directory, each loaded once: all by
    :meth:`load_all`, or one on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._translators: dict[str, Translator] = {}
        self._lock = threading.Lock()

    def translator(self, code: str) -> Translator:
        validate_language(code)
        found = self._translators.get(code)
        if found is None:
            with self._lock:
                found = self._translators.get(code) or self._build(code)
        return found

    def load_all(self) -> None:
        """Load every language's catalog and babel locale data now (blocking: call it in a
        thread)."""
        for code in LANGUAGES:
            self.translator(code)
            load_locale_data(code)

    @property
    def loaded(self) -> frozenset[str]:
        """The languages whose translations are in memory."""
        return frozenset(self._translators)

    def _build(self, code: str) -> Translator:
        """Build (under the lock) ``code``'s translations chained to its fallback's."""
        own = self._load(code)
        parent = FALLBACKS.get(code)
        behind = (self._translators.get(parent) or self._build(parent)) if parent else None
        translations: _gettext.NullTranslations
        if own is None:
            translations = behind.translations if behind else _gettext.NullTranslations()
        else:
            if behind is not None:
                own.add_fallback(behind.translations)
            translations = own
        result = Translator(code, translations)
        self._translators[code] = result
        return result

    def _load(self, code: str) -> _gettext.GNUTranslations | None:
        po = self.directory / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        mo = po.with_suffix(".mo")
        if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as stream:
                return _gettext.GNUTranslations(stream)
        if not po.is_file():
            log.debug("no catalog for %s at %s: using its fallback", code, po)
            return None
        try:
            return _gettext.GNUTranslations(_compile_po(po, code))
        except PoFileError as error:
            # babel would print its warnings on stdout, the terminal a UI may be drawing on;
            # a damaged catalog is refused whole and its language reads its fallback.
            log.error("catalog %s refused (%s): %s reads its fallback", po, error, code)
            return None


def load_locale_data(code: str) -> None:
    """Read babel's locale data of ``code`` (and its parents) into babel's own cache.

    The first date or number formatted in a language reads and merges its CLDR files:
    about 60 ms a language, in whichever loop asked first. Done at start in a thread, a
    session in a language nobody used yet finds it in memory.
    """
    localedata.load(str(Locale.parse(code)))


def _compile_po(po: Path, code: str) -> BytesIO:
    """The ``.po`` as ``.mo`` bytes in memory, fuzzy entries left out."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as stream:
        catalog = read_po(stream, locale=code, domain=DOMAIN, abort_invalid=True)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return buffer


class _Selection:
    """The language chosen for one session, shared by every task the session starts."""

    __slots__ = ("translator",)

    def __init__(self, chosen: Translator) -> None:
        self.translator = chosen


_catalogs = Catalogs(LOCALES_DIR)
_current: ContextVar[_Selection | None] = ContextVar("ews_tui_language", default=None)


def translator(code: str) -> Translator:
    """The translations of ``code`` (loaded once): for use outside the current context."""
    return _catalogs.translator(code)


def load_catalogs() -> None:
    """Load every catalog and babel's locale data now (blocking, about 175 ms and 60 ms a
    language: call it in a thread)."""
    _catalogs.load_all()


def loaded_languages() -> frozenset[str]:
    """The languages already in memory (no file I/O when a session picks one)."""
    return _catalogs.loaded


def _active() -> Translator:
    selection = _current.get()
    return selection.translator if selection else _catalogs.translator(DEFAULT_LANGUAGE)


def set_language(code: str) -> None:
    """Start using ``code`` in the current context: call it first in each session's task.

    The choice is new and private to this context and the tasks it starts from now on;
    the context it was copied from (another session, the server) keeps its own language.
    """
    _current.set(_Selection(translator(code)))


def change_language(code: str) -> None:
    """Switch the whole session to ``code``, tasks it already started included.

    For a language picked in a running UI: Textual widgets run in tasks that copied the
    session's context when they were mounted, so they share its selection and follow the
    switch; other sessions do not. Without an earlier :func:`set_language`, it is one.
    """
    chosen = translator(code)
    selection = _current.get()
    if selection is None:
        _current.set(_Selection(chosen))
    else:
        selection.translator = chosen


@contextmanager
def use_language(code: str) -> Iterator[Translator]:
    """Use ``code`` inside the ``with`` block only."""
    chosen = translator(code)
    token = _current.set(_Selection(chosen))
    try:
        yield chosen
    finally:
        _current.reset(token)


def current_language() -> str:
    """The code of the current context's language."""
    return _active().code


def _(message: str) -> str:
    """Translate ``message`` now, in the current context's language."""
    return _active().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, translated in the current language."""
    return _active().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate ``message`` where the same English word has several meanings."""
    return _active().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _active().npgettext(context, singular, plural, n)


def babel_locale(code: str | None = None) -> Locale:
    """The babel locale of ``code`` (default: the current language) for format_* calls."""
    return Locale.parse(validate_language(code) if code is not None else current_language())


def negotiate_language(preferred: Iterable[str]) -> str | None:
    """The best UI language for client wishes such as ``["fr_BE.UTF-8", "en-GB"]``, or None.

    An exact language-and-region match wins, then the bare language (``fr_FR`` -> ``fr``).
    """
    for wish in preferred:
        tag = wish.split(".")[0].split("@")[0].replace("-", "_")
        language, _sep, region = tag.partition("_")
        exact = f"{language.lower()}_{region.upper()}" if region else language.lower()
        for candidate in (exact, language.lower()):
            if candidate in LANGUAGES:
                return candidate
    return None
