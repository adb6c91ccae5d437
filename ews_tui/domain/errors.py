"""Exceptions of the domain. Each is turned into a message once, at the edge."""

from __future__ import annotations

from collections.abc import Callable

from ews_tui.domain.messages import Message


class DomainError(Exception):
    """Base class of the errors the domain raises on purpose."""


class CatalogError(DomainError):
    """A catalog or user model file is malformed.

    ``where`` names the place (``models/foo.toml: maps[0].quantities[3].unit``; empty when
    the message says it), ``message`` what is wrong, to translate at the edge with
    :meth:`render`. ``str()`` is the English line (for logs and English tests).
    """

    def __init__(self, where: str, message: Message) -> None:
        self.where = where
        self.message = message
        super().__init__(self.render())

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        reason = self.message.render(gettext)
        return f"{self.where}: {reason}" if self.where else reason
