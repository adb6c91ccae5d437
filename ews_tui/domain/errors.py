"""Exceptions of the domain. Each is turned into a message once, at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of the errors the domain raises on purpose."""


class CatalogError(DomainError):
    """A catalog or user model file is malformed; the message names the place."""
