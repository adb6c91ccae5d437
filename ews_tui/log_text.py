"""Log lines that cannot drive a terminal: control characters written ``\\x1b``, bounded.

A log line may quote a name or a value from a file (stored before control characters were
refused, or refused now and quoted in the reason). ``install()`` makes every log record
render its message printable (a newline too, so one record is one line) and at most
:data:`MAX_MESSAGE` characters; a traceback keeps its lines, each made printable.
"""

from __future__ import annotations

import logging

from ews_tui.domain.text_rules import printable

MAX_MESSAGE = 4000


def _bounded(text: str) -> str:
    if len(text) <= MAX_MESSAGE:
        return text
    return f"{text[: MAX_MESSAGE - 1]}… ({len(text)} characters)"


def _each_line(text: str | None) -> str | None:
    return None if text is None else "\n".join(printable(line) for line in text.split("\n"))


class SafeLogRecord(logging.LogRecord):
    """A record whose message and traceback text are printable (see the module)."""

    _exc_text: str | None = None

    def getMessage(self) -> str:
        return printable(_bounded(super().getMessage()))

    # Formatter.format fills ``exc_text`` once from ``exc_info``: escape it as it is set.
    @property
    def exc_text(self) -> str | None:
        return self._exc_text

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        self._exc_text = _each_line(value)


def install() -> None:
    """Every log record from now on is a :class:`SafeLogRecord`."""
    logging.setLogRecordFactory(SafeLogRecord)
