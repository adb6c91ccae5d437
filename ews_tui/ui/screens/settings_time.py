"""Server settings > Date and time (manual §7.9): time zone, automatic time setting by NTP,
and the date and time entered by hand.

The page shows the box's clock, ticking once a second, and the clock's offset to the NTP
server, measured by one SNTP query when the page opens and again on F5 (never blocking: a
worker awaits it). Without a network the offset reads "unreachable". Saving hands the
settings to the time backend (``time.backend``) and says whether they are applied, or which
step failed and why (F7 applies them again). A date and time typed in the box's zone is set
with F6 (or Enter in its field), after a confirmation, when NTP is OFF.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label, Static

from ews_tui.config import Config, TimeBackend
from ews_tui.i18n import N_, _, babel_locale
from ews_tui.services.settings import NtpReading
from ews_tui.services.time_apply import ManualTimeError, TimeResult, TimeState, parse_manual_time
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting

TICK_S = 1.0


def offset_text(reading: NtpReading) -> str:
    """``Offset to pool.ntp.org: +0.012 s`` or ``... unreachable``, in the session's locale."""
    if reading.offset is None:
        return _("Offset to {server}: unreachable ({reason})").format(
            server=reading.server or "—", reason=reading.error
        )
    seconds = format_decimal(reading.offset, "+#,##0.000;-#,##0.000", locale=babel_locale())
    return _("Offset to {server}: {seconds} s").format(server=reading.server, seconds=seconds)


def local_moment_text(moment: datetime) -> str:
    return format_datetime(moment, "medium", locale=babel_locale())


def local_time_text(config: Config, now: float) -> str:
    local = datetime.fromtimestamp(now, ZoneInfo(config.time.timezone))
    shown = local_moment_text(local)
    return _("Box time: {time} ({zone})").format(time=shown, zone=config.time.timezone)


def backend_text(result: TimeResult) -> str:
    """One line saying whether the stored time settings are in force on the box."""
    state = result.state
    if state is TimeState.STORED_ONLY:
        return _("Time backend: none. These settings are stored only, not applied to the box.")
    if state is TimeState.FAILED:
        error = result.error.render(_) if result.error is not None else ""
        failed = _("Not applied: {step}: {error}").format(step=result.step, error=error)
        return failed + " " + _("F7 applies again.")
    if state is TimeState.APPLIED:
        return _("Applied by timedatectl; NTP server in {file}").format(file=result.file)
    return _("Applied on save by timedatectl; NTP server in {file}").format(file=result.file)


class TimeSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("Date and time")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5,ctrl+r", "measure", N_("Measure offset"), show=True),
        Binding("f6", "set_clock", N_("Set clock"), show=True),
        Binding("f7", "apply_again", N_("Apply again"), show=False),  # said when it failed
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
        yield Static("", id="time-backend", classes="page-fact")
        with Horizontal(classes="setting-row"):
            yield Label(_("Date and time"), classes="setting-label")
            yield Input(placeholder=_("YYYY-MM-DD HH:MM:SS"), id="time-manual", compact=True)
        yield Static("", id="time-manual-error", classes="setting-error -empty")

    def on_mount(self) -> None:  # after SettingsPage.on_mount (Textual calls both)
        self.set_interval(TICK_S, self.tick)
        self.action_measure()

    def tick(self) -> None:
        """Show the box's clock as it is now (once a second)."""
        now = self.service.clock()
        self.query_one("#time-now", Static).update(local_time_text(self.service.config, now))

    def show_config(self, config: Config) -> None:
        self.tick()
        self.show_result(self.service.time_status())

    def show_result(self, result: TimeResult) -> None:
        backend = self.query_one("#time-backend", Static)
        backend.update(backend_text(result))
        backend.set_class(result.state in (TimeState.STORED_ONLY, TimeState.FAILED), "-warning")

    # ------------------------------------------------------------------ NTP offset

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
        return _("Saved.") + " " + backend_text(self.service.time_status())

    # ------------------------------------------------------------------ applying

    def action_apply_again(self) -> None:
        if self.service.config.time.backend is TimeBackend.NONE:
            self.set_status(_("Nothing to apply: the time backend is none."), error=True)
            return
        self.set_status(_("Applying…"))
        self.run_worker(self._apply_again(), exclusive=True, group="apply")

    async def _apply_again(self) -> None:
        result = await self.service.reapply_time()
        self.show_result(result)
        self.set_status(backend_text(result), error=not result.applied)

    # ------------------------------------------------------------------ the clock by hand

    def _manual_error(self, text: str) -> None:
        error = self.query_one("#time-manual-error", Static)
        error.update(text)
        error.set_class(not text, "-empty")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "time-manual":
            event.stop()
            self.action_set_clock()

    def action_set_clock(self) -> None:
        config = self.service.config
        text = self.query_one("#time-manual", Input).value
        try:
            moment = parse_manual_time(text, config.time.timezone)
        except ManualTimeError as refused:
            self._manual_error(refused.message.render(_))
            return
        self._manual_error("")
        question = _("Set the box's clock to {time}?").format(time=local_moment_text(moment))

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._set_clock(moment), exclusive=True, group="clock")

        self.app.push_screen(ConfirmScreen(question, yes=N_("Set clock")), answered)

    async def _set_clock(self, moment: datetime) -> None:
        result = await self.service.set_clock(moment)
        if result.applied:
            self.query_one("#time-manual", Input).value = ""
            self.set_status(_("Clock set to {time}.").format(time=local_moment_text(moment)))
            self.tick()
            return
        error = result.error.render(_) if result.error is not None else ""
        if result.step:
            error = f"{result.step}: {error}"
        self.set_status(_("Clock not set: {error}").format(error=error), error=True)


SCREEN = TimeSettingsScreen
