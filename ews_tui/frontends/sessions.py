"""What every front end needs to open a UI session: the App to run and the default language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from ews_tui.runtime import Runtime
from ews_tui.services.settings import SettingsService
from ews_tui.ui.session import Session

AppFactory = Callable[[Session], App[Any]]


def default_app(session: Session) -> App[Any]:
    """The product's UI for ``session`` (the login screen first)."""
    from ews_tui.ui.app import EwsApp

    return EwsApp(session)


def default_language(runtime: Runtime) -> str:
    """The box's language now (settings edited in the UI included)."""
    try:
        return str(runtime.get(SettingsService).config.language)
    except LookupError:
        return str(getattr(runtime.config, "language", "en"))
