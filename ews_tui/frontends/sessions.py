"""What every front end needs to open a UI session: the App to run and the default language,
and, for the one session of ``ews tui`` and ``ews demo``, what to say when it crashed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App

from ews_tui.i18n import _
from ews_tui.runtime import Runtime
from ews_tui.services.settings import SettingsService
from ews_tui.ui.session import Session

if TYPE_CHECKING:
    from ews_tui.ui.app import EwsApp

AppFactory = Callable[[Session], App[Any]]


def default_app(session: Session) -> App[Any]:
    """The product's UI for ``session`` (the login screen first)."""
    from ews_tui.ui.app import EwsApp

    return EwsApp(session)


def default_language(runtime: Runtime) -> str:
    """The box's language now (settings edited in the UI included)."""
    try:
        return runtime.get(SettingsService).config.language
    except LookupError:
        return runtime.config.language


async def run_here(app: EwsApp) -> str | None:
    """Run the one session of this terminal (``ews tui``, ``ews demo``); None when it ended
    normally, else the line that says which unexpected error ended it (for stderr)."""
    await app.run_async()
    if app.crash is None and app.return_code in (None, 0):
        return None
    error = app.crash
    what = f"{type(error).__name__}: {error}" if error is not None else _("unknown error")
    return _("the UI stopped on an unexpected error ({error}); the log has the details").format(
        error=what
    )
