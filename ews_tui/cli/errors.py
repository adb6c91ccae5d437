"""The one error the CLI shows as a line on stderr, with exit status 1."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix: a bad file, a missing device, a refused change."""
