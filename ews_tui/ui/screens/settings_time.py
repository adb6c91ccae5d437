"""Server settings > Date and time (manual §7.9): time zone, automatic time setting by NTP.

The page shows the box's local time and the clock's offset to the NTP server, measured by one
SNTP query when the page opens and again on F5 (never blocking: a worker awaits it). Without
a network the offset reads "unreachable".
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ews_tui.config import Config
from ews_tui.i18n import N_, _, babel_locale
from ews_tui.services.settings import NtpReading
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting


def offset_text(reading: NtpReading) -> str:
    """``Offset to pool.ntp.org: +0.012 s`` or ``... unreachable``, in the session's locale."""
    if reading.offset is None:
        return _("Offset to {server}: unreachable ({reason})").format(
            server=reading.server or "—", reason=reading.error
        )
    seconds = format_decimal(reading.offset, "+#,##0.000;-#,##0.000", locale=babel_locale())
    return _("Offset to {server}: {seconds} s").format(server=reading.server, seconds=seconds)


def local_time_text(config: Config, now: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if now is None else now, ZoneInfo("UTC"))
    local = moment.astimezone(ZoneInfo(config.time.timezone))
    shown = format_datetime(local, "medium", locale=babel_locale())
    return _("Box time: {time} ({zone})").format(time=shown, zone=config.time.timezone)


class TimeSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("Date and time")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5,ctrl+r", "measure", N_("Measure offset"), show=True),
    ]
    SETTINGS = (
        Setting("time.timezone", N_("Local time zone")),
        Setting("time.ntp_enabled", N_("Automatic time setting"), "switch"),
        Setting("time.ntp_server", N_("NTP server")),
    )

    def compose_before(self) -> ComposeResult:
        yield Static("", id="time-now", classes="page-fact")

    def compose_after(self) -> ComposeResult:
        yield Static("", id="time-offset", classes="page-fact")

    def on_mount(self) -> None:
        super().on_mount()
        self.action_measure()

    def show_config(self, config: Config) -> None:
        self.query_one("#time-now", Static).update(local_time_text(config))

    def action_measure(self) -> None:
        server = self.service.config.time.ntp_server
        self.query_one("#time-offset", Static).update(
            _("Offset to {server}: measuring…").format(server=server or "—")
        )
        self.run_worker(self._measure(), exclusive=True, group="ntp")

    async def _measure(self) -> None:
        reading = await self.service.ntp_offset()
        self.query_one("#time-offset", Static).update(offset_text(reading))

    def saved_message(self, config: Config) -> str:
        self.action_measure()
        return _("Saved.")


SCREEN = TimeSettingsScreen
