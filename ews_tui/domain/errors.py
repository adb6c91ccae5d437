"""Exceptions of the domain. Each is turned into a message once, at the edge."""

from __future__ import annotations

from ews_tui.domain.messages import PlacedError


class DomainError(Exception):
    """Base class of the errors the domain raises on purpose."""


class CatalogError(DomainError, PlacedError):
    """A catalog or user model file is malformed.

    ``where`` names the place (``models/foo.toml: maps[0].quantities[3].unit``; empty when
    the message says it), ``message`` what is wrong, to translate at the edge with
    :meth:`render`. ``str()`` is the English line (for logs and English tests).
    """
