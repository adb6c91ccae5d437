"""Translatable messages of the pure core.

The domain never translates: it marks English msgids with :func:`N_` and returns
:class:`Message` values (a msgid template plus its parameters). The edge (CLI, screen)
renders them with the session's gettext, so the same violation reads in each user's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    """Mark a string for extraction; translate later, where the language is known."""
    return msgid


@dataclass(frozen=True)
class Message:
    """A msgid with ``{name}`` placeholders and the values that fill them. A value that is
    itself a Message (a reason inside a sentence) is rendered in the same language."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        template = gettext(self.msgid) if gettext else self.msgid
        values = {
            name: value.render(gettext) if isinstance(value, Message) else value
            for name, value in self.params.items()
        }
        return template.format(**values)

    def __str__(self) -> str:
        return self.render()


def placed(where: str, message: Message, gettext: Callable[[str], str] | None = None) -> str:
    """``where: reason`` (the reason alone when there is no place), the reason in the language
    of ``gettext`` (English without)."""
    reason = message.render(gettext)
    return f"{where}: {reason}" if where else reason


class PlacedError(Exception):
    """An error a user can act on: ``where`` names the place, ``message`` what is wrong, to
    translate at the edge with :meth:`render`; ``str()`` is the English line."""

    def __init__(self, where: str, message: Message) -> None:
        self.where = where
        self.message = message
        super().__init__(self.render())

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        return placed(self.where, self.message, gettext)
