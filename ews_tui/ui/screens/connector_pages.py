"""What the Connector's three pages share (manual §7.12): the tab strip and its keys, Send now.

The manual's Connector has three pages: « Paramètres du serveur » (``connector``), « Paramétrage
chargement » (``connector_upload``) and « Journal » (``connector_log``). Each is its own screen;
F7, F8 and F9 switch between them (one footer entry, "F7-F9 Pages"; the strip under the
title names each page with its key and marks the one shown; a click on it works too).
Not a screen module (no ``SCREEN``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_time
from babel.numbers import format_decimal
from textual import events, getters
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Label

from ews_tui.domain.connector import method_label
from ews_tui.i18n import N_, _, babel_locale
from ews_tui.store.connector_repo import Transfer
from ews_tui.ui.alarm_text import when_text
from ews_tui.ui.app import EwsApp

PAGES: tuple[tuple[str, str, str], ...] = (
    ("connector", "F7", N_("Server settings")),
    ("connector_upload", "F8", N_("Upload settings")),
    ("connector_log", "F9", N_("Log")),
)

PAGE_BINDINGS: list[BindingType] = [
    Binding("f7", "page('connector')", N_("Pages"), key_display="F7-F9", priority=True),
    Binding("f8", "page('connector_upload')", N_("Upload settings"), show=False, priority=True),
    Binding("f9", "page('connector_log')", N_("Log"), show=False, priority=True),
]


def switch_page(app: EwsApp, current: str, name: str) -> None:
    """Show the Connector page ``name`` in place of ``current`` (nothing if it is shown)."""
    if name == current:
        return
    screen_class = app.screen_class(name)
    if screen_class is None:
        raise LookupError(f"no screen module {name}")
    app.switch_screen(screen_class())


class PageTabs(Horizontal):
    """``F7 Server settings  F8 Upload settings  F9 Log``, the shown page marked."""

    DEFAULT_CSS = """
    PageTabs { height: 1; padding: 0 1; }
    PageTabs .page-tab { padding: 0 1; margin-right: 1; color: $text-muted; }
    PageTabs .page-tab.-active { color: $text; background: $boost; text-style: bold underline; }
    """
    app = getters.app(EwsApp)

    def __init__(self, current: str) -> None:
        super().__init__(id="page-tabs")
        self.current = current

    def compose(self) -> ComposeResult:
        for name, key, label in PAGES:
            tab = Label(f"{key} {_(label)}", id=f"tab-{name}", classes="page-tab")
            tab.set_class(name == self.current, "-active")
            yield tab

    def on_click(self, event: events.Click) -> None:
        widget = event.widget
        if widget is not None and widget.id and widget.id.startswith("tab-"):
            switch_page(self.app, self.current, widget.id.removeprefix("tab-"))


# --------------------------------------------------------------------------- the log in words


def size_text(size: int) -> str:
    """Bytes with the session's digit grouping: ``1,578,800`` / ``1 578 800``."""
    return str(format_decimal(size, locale=babel_locale()))


def result_text(line: Transfer) -> str:
    """``OK``, or the problem in plain words."""
    return _("OK") if line.problem is None else line.problem.render(_)


def _ended_text(ts: float, tz: ZoneInfo) -> str:
    try:
        moment = datetime.fromtimestamp(ts, tz)
    except (OverflowError, OSError, ValueError):
        return "—"
    return str(format_time(moment, "medium", locale=babel_locale()))


def detail_text(line: Transfer, tz: ZoneInfo) -> str:
    """Everything the log knows of one run, in one or two lines."""
    values = {
        "started": when_text(line.started, tz, long=True),
        "ended": _ended_text(line.ended, tz),
        "seconds": format_decimal(
            round(max(line.ended - line.started, 0.0), 1), "0.0", locale=babel_locale()
        ),
        "mode": _(method_label(line.mode)),
        "destination": line.destination or ".",
        "files": line.files,
        "size": size_text(line.size),
    }
    if line.problem is None:
        return _(
            "{started} to {ended} ({seconds} s): {mode}, {files} files, {size} bytes sent to "
            "{destination}."
        ).format(**values)
    return _(
        "{started} to {ended} ({seconds} s): {mode} to {destination} failed: {problem}. "
        "Sent before the failure: {files} files, {size} bytes."
    ).format(problem=line.problem.render(_), **values)


def sent_status(line: Transfer) -> tuple[str, bool]:
    """The status line after Send now, and whether it is an error."""
    if line.problem is not None:
        return _("Not sent: {problem}").format(problem=line.problem.render(_)), True
    return (
        _("Sent by {mode}: {files} files, {size} bytes.").format(
            mode=_(method_label(line.mode)), files=line.files, size=size_text(line.size)
        ),
        False,
    )


def next_run_text(next_run: float | None, tz: ZoneInfo) -> str:
    if next_run is None:
        return _("No transfer scheduled: the mode is OFF or the server address is empty.")
    return _("Next scheduled transfer: {when}.").format(when=when_text(next_run, tz, long=True))
