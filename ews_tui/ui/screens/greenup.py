"""System configuration > Green'Up: the EV charging points, their sessions and settings.

One row per charging point (each side of a two-sided station is its own device): its state
as a glyph and a word (it reads without colour), the power, the current session's energy
and duration, and when it last went to fault; "—" for a value not known (a silent charger,
a session already running when the box first saw it). Below, the recent sessions the box
recorded (:mod:`ews_tui.services.charging`), the newest first.

The settings: the Green'Up register maps of the catalog are assumed (no public table was
found), so the page says so and writes nothing to a charger; it shows what it reads, read
only. A write (behind a confirmation, for the installer's role) needs a published map.

The screen subscribes to the live events first, then copies the LiveValues board, and draws
what changed at most every ``REFRESH_S``; the durations move every ``TICK_S``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import DataTable, Static

from ews_tui.domain.charging import (
    ChargerState,
    ChargingChanged,
    ChargingSession,
    charger_state,
    map_assumed,
)
from ews_tui.domain.events import DeviceState, InstallationChanged
from ews_tui.domain.installation import Device
from ews_tui.hub import Subscription
from ews_tui.i18n import N_, _, babel_locale
from ews_tui.services.charging import ChargingService
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LIVE_EVENTS, LiveBoard, LiveValues
from ews_tui.services.settings import SettingsService
from ews_tui.ui.follow import is_shown, while_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.value_text import MISSING, value_text
from ews_tui.ui.widgets.device_form import ASSUMED
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.state_symbol import state_text

STYLES = Path(__file__).resolve().parent.parent / "styles"
REFRESH_S = 0.5
TICK_S = 30.0
SESSIONS_SHOWN = 50

# state -> (glyph, colour); the word is the value's own label (value_text)
_GLYPHS: dict[ChargerState, tuple[str, str]] = {
    ChargerState.AVAILABLE: ("○", "green"),
    ChargerState.CONNECTED: ("◐", "cyan"),
    ChargerState.CHARGING: ("▶", "blue"),
    ChargerState.FAULT: ("✕", "red"),
    ChargerState.DISABLED: ("–", "bright_black"),
}
_SILENT = (DeviceState.COMM_ERROR, DeviceState.OFF, DeviceState.CONFIG_ERROR)


def charger_text(state: ChargerState | None) -> Text:
    """``▶ Charging`` (a glyph and a word); "—" when not known."""
    if state is None:
        return Text(MISSING)
    glyph, colour = _GLYPHS[state]
    return Text(f"{glyph} {value_text(state.value, '')}", style=colour)


def duration_text(seconds: float | None) -> str:
    """``1:05`` (hours:minutes); "—" when not known."""
    if seconds is None:
        return MISSING
    minutes = int(seconds // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def when_text(ts: float | None, tz: ZoneInfo, *, day_of: float | None = None) -> str:
    """A moment in the session's language (only the time when on the day of ``day_of``)."""
    if ts is None:
        return MISSING
    moment, locale = datetime.fromtimestamp(ts, tz), babel_locale()
    hours = format_skeleton("Hm", moment, locale=locale)
    if day_of is not None and datetime.fromtimestamp(day_of, tz).date() == moment.date():
        return hours
    return f"{format_skeleton('MMMd', moment, locale=locale)} {hours}"


def point_name(device: Device) -> str:
    return device.display_name()


class GreenUpScreen(EwsScreen[None]):
    """The charging points now, their recent sessions, and their settings (read only)."""

    CSS_PATH = STYLES / "greenup.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.back", N_("Back")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board = LiveBoard()
        self.sessions: list[ChargingSession] = []
        self.clock = time.time
        self._draw_timer: Timer | None = None

    @property
    def charging(self) -> ChargingService:
        return self.session.service(ChargingService)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.session.service(SettingsService).config.time.timezone)

    def compose(self) -> ComposeResult:
        yield Static(_("Green'Up: electric vehicle charging points"), classes="page-title")
        yield DataTable(id="greenup-points", cursor_type="row", zebra_stripes=False)
        yield Static(_("Recent sessions"), id="greenup-sessions-title")
        yield DataTable(id="greenup-sessions", cursor_type="row")
        yield Static("", id="greenup-point")
        yield Static("", id="greenup-settings")
        yield Static(_("Tab: next table · Esc: back"), id="greenup-keys")
        yield EwsFooter()

    def on_mount(self) -> None:
        points = self.query_one("#greenup-points", DataTable)
        points.add_column(_("Charging point"), key="point")
        points.add_column(_("State"), key="state")
        points.add_column(_("Power kW"), key="power")
        points.add_column(_("Session kWh"), key="energy")
        points.add_column(_("Duration"), key="duration")
        points.add_column(_("Last fault"), key="fault")
        sessions = self.query_one("#greenup-sessions", DataTable)
        sessions.add_column(_("Start"), key="start")
        sessions.add_column(_("End"), key="end")
        sessions.add_column(_("Charging point"), key="point")
        sessions.add_column(_("Side"), key="side")
        sessions.add_column("kWh", key="kwh")
        subscription = self.session.hub.subscribe(
            *LIVE_EVENTS, InstallationChanged, ChargingChanged, maxsize=1024, name="greenup"
        )
        self.board = self.session.service(LiveValues).snapshot()  # after: nothing falls between
        self.draw_points()
        self.show_settings()
        points.focus()
        self.set_interval(TICK_S, self.draw_points, name="greenup durations")
        self._follow(subscription)

    # --- the points -------------------------------------------------------------------

    def point_state(self, device: Device) -> Text:
        live = self.board.device(device.id)
        if live.state in _SILENT:
            return state_text(live.state or DeviceState.COMM_ERROR)
        return charger_text(charger_state(live.value("charger")))

    def point_row(self, device: Device) -> tuple[str | Text, ...]:
        live = self.board.device(device.id)
        track = self.charging.track(device.id)
        session = track.session
        return (
            point_name(device),
            self.point_state(device),
            _number(live.value("p"), "kW"),
            _number(live.value("session_energy"), "kWh"),
            duration_text(session.duration(self.clock()) if session is not None else None),
            when_text(track.last_fault, self.tz),
        )

    def draw_points(self) -> None:
        self._draw_timer = None
        table = self.query_one("#greenup-points", DataTable)
        points = self.charging.points()
        keys = [str(d.id) for d in points]
        if [str(k.value) for k in table.rows] != keys:
            table.clear()
            for device in points:
                table.add_row(*self.point_row(device), key=str(device.id))
            return
        for device in points:
            for column, cell in zip(
                ("point", "state", "power", "energy", "duration", "fault"),
                self.point_row(device),
                strict=True,
            ):
                table.update_cell(str(device.id), column, cell)

    @on(DataTable.RowHighlighted, "#greenup-points")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_point(int(str(event.row_key.value)))

    def show_point(self, device_id: int) -> None:
        """The highlighted point's model and address, marked when its map is assumed."""
        inst = self.session.service(InstallationService)
        device = inst.current.device(device_id)
        if device is None:
            return
        facts = _("{name}: model {model}, address {address}").format(
            name=point_name(device), model=device.model, address=device.address_text()
        )
        if map_assumed(device, inst.catalog):
            facts = f"{facts} {_(ASSUMED)}"
        self.query_one("#greenup-point", Static).update(facts)

    def show_settings(self) -> None:
        inst = self.session.service(InstallationService)
        points = self.charging.points()
        settings = self.query_one("#greenup-settings", Static)
        if not points:
            settings.update(
                _("No charging point: add a Green'Up station on the Gateways and devices page.")
            )
        elif any(map_assumed(d, inst.catalog) for d in points):
            settings.update(
                _("Settings: the chargers' register map is assumed (no public table), so "
                  "nothing is written to them; the values above are read only.")
            )  # fmt: skip
        else:
            settings.update(_("Settings: the register map has no setting to write."))

    # --- the sessions -----------------------------------------------------------------

    async def reload_sessions(self) -> None:
        sessions = await self.charging.recent(SESSIONS_SHOWN)
        if not is_shown(self):  # Esc while the store answered: the widgets may be gone
            return
        self.sessions = sessions
        inst = self.session.service(InstallationService).current
        tz = self.tz
        table = self.query_one("#greenup-sessions", DataTable)
        table.clear()
        for s in sessions:
            device = inst.device(s.device_id)
            table.add_row(
                when_text(s.start, tz),
                _("going on") if s.end is None else when_text(s.end, tz, day_of=s.start),
                point_name(device) if device is not None else f"#{s.device_id}",
                MISSING if s.side is None else str(s.side),
                _number(s.energy_kwh, "kWh"),
                key=str(s.id),
            )
        title = self.query_one("#greenup-sessions-title", Static)
        title.update(
            _("Recent sessions: {count}").format(count=len(sessions))
            if sessions
            else _("Recent sessions: none recorded yet")
        )

    def _draw_soon(self) -> None:
        if self._draw_timer is None:
            self._draw_timer = self.set_timer(REFRESH_S, self.draw_points, name="greenup draw")

    @work(exclusive=True, group="follow")
    async def _follow(self, subscription: Subscription) -> None:
        with subscription:
            await self.reload_sessions()
            async for event in while_shown(self, subscription):
                if isinstance(event, ChargingChanged):
                    await self.reload_sessions()
                    self._draw_soon()
                elif isinstance(event, InstallationChanged):
                    self.show_settings()
                    self._draw_soon()
                elif self.board.apply(event) is not None:
                    self._draw_soon()


def _number(value: float | str | None, unit: str) -> str:
    if isinstance(value, str):
        return MISSING
    return value_text(value, unit)


SCREEN = GreenUpScreen
