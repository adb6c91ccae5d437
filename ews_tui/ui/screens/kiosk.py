"""The kiosk dashboard: what the box's own screen shows to anyone passing by (read only).

Pages turn every ``kiosk.page_seconds``: the site (live power, today's consumption, alarms)
and the communication states of the gateways and devices. Any key leaves the dashboard
for the login screen: configuring needs a PIN. Figures are computed by
:func:`kiosk_figures` from the installation and the live board.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import ContentSwitcher

from ews_tui.domain.events import DeviceState, GatewayState
from ews_tui.domain.installation import Installation
from ews_tui.i18n import N_, _
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveBoard, LiveValues
from ews_tui.services.settings import SettingsService
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.value_text import number_text
from ews_tui.ui.widgets.steady_static import SteadyStatic

log = logging.getLogger(__name__)

MISSING = "—"
TODAY_SECONDS = 60.0  # the recorder stores a slot every 10 minutes
FIGURES_SECONDS = 1.0  # the live figures are drawn at most once a second, when they change
PAGES = ("page-site", "page-comms")
STATE_NAMES = {
    DeviceState.ON: N_("answering"),
    DeviceState.OFF: N_("off"),
    DeviceState.COMM_ERROR: N_("not answering"),
    DeviceState.CONFIG_ERROR: N_("misconfigured"),
    None: N_("not read yet"),
}
GATEWAY_STATE_NAMES = {
    GatewayState.ON: N_("on"),
    GatewayState.OFF: N_("off"),
    GatewayState.COMM_ERROR: N_("not answering"),
    None: N_("not read yet"),
}


@dataclass(frozen=True)
class KioskFigures:
    """What the dashboard shows; None where the figure is not known."""

    site_power_kw: float | None
    today_kwh: float | None  # the site's electricity since local midnight
    alarms: int | None  # active alarms not acknowledged; None: no alarm engine
    gateways: tuple[tuple[str, GatewayState | None], ...]
    devices: Counter[DeviceState | None]


def kiosk_figures(
    inst: Installation,
    board: LiveBoard,
    today_kwh: float | None = None,
    alarms: int | None = None,
) -> KioskFigures:
    """The site power is the sum of the gateways' main meters ("eq_device") active power."""
    powers = []
    for gateway in inst.gateways:
        if gateway.eq_device_id is not None and gateway.enabled:
            value = board.device(gateway.eq_device_id).value("p")
            if isinstance(value, int | float):
                powers.append(float(value))
    gateways = tuple(
        (g.name, state.state if (state := board.gateway(g.id)) else None) for g in inst.gateways
    )
    devices = Counter(board.device(d.id).state for d in inst.devices if d.enabled)
    return KioskFigures(sum(powers) if powers else None, today_kwh, alarms, gateways, devices)


class KioskScreen(EwsScreen[None]):
    CSS_PATH = "../styles/kiosk.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="kiosk-title", classes="screen-title")
        with ContentSwitcher(initial=PAGES[0], id="pages"):
            with Vertical(id="page-site"):
                yield SteadyStatic(id="power", classes="figure")
                yield SteadyStatic(id="today", classes="figure")
                yield SteadyStatic(id="alarms", classes="figure")
            yield SteadyStatic(id="page-comms")
        yield SteadyStatic(id="kiosk-hint")

    def on_mount(self) -> None:
        self._page = 0
        self._today_kwh: float | None = None
        self.refresh_figures()
        self.refresh_today()
        self.set_interval(FIGURES_SECONDS, self.refresh_figures, name="kiosk figures")
        self.set_interval(TODAY_SECONDS, self.refresh_today, name="kiosk today")
        self.set_interval(self._page_seconds(), self.next_page, name="kiosk pages")

    def _page_seconds(self) -> float:
        try:
            return float(self.session.service(SettingsService).config.kiosk.page_seconds)
        except LookupError:
            return 10.0

    @work(exclusive=True, group="kiosk-today")
    async def refresh_today(self) -> None:
        """Today's site consumption from the store (recorded slots: up to 10 minutes old)."""
        try:
            service = self.session.service(ConsumptionService)
        except LookupError:
            return
        today = datetime.now(service.tz).date()
        try:
            table = await service.table(today, today + timedelta(days=1), "day", "total")
        except Exception:  # the store is unreadable: the figure stays unknown, the kiosk runs
            log.exception("kiosk: today's consumption")
            return
        amounts = [row[0] for row in table.rows.values() if row and row[0] is not None]
        self._today_kwh = sum(a.value for a in amounts) if amounts else None
        self.refresh_figures()

    def next_page(self) -> None:
        self._page = (self._page + 1) % len(PAGES)
        self.query_one("#pages", ContentSwitcher).current = PAGES[self._page]

    def refresh_figures(self) -> None:
        try:
            inst = self.session.service(InstallationService).current
            board = self.session.service(LiveValues).snapshot()
        except LookupError:
            return
        try:
            unacknowledged: int | None = self.session.service(AlarmEngine).counts.unacknowledged
        except LookupError:
            unacknowledged = None
        figures = kiosk_figures(inst, board, self._today_kwh, unacknowledged)
        today = MISSING if figures.today_kwh is None else _number(figures.today_kwh) + " kWh"
        alarms = MISSING if figures.alarms is None else str(figures.alarms)
        shown = {
            "kiosk-title": _("ews-tui · Energy Web Server"),
            "power": _("Site power now: {power}").format(power=_kw(figures.site_power_kw)),
            "today": _("Consumed today: {energy}").format(energy=today),
            "alarms": _("Active alarms: {count}").format(count=alarms),
            "page-comms": _comms_text(figures),
            "kiosk-hint": _("Press any key to configure (PIN needed)."),
        }
        for widget_id, text in shown.items():  # a Static lays the screen out: only changes
            self.query_one(f"#{widget_id}", SteadyStatic).show(text)

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss()


def _number(value: float) -> str:
    return number_text(value, "#,##0.0")  # total: NaN, inf, 1e32 render too


def _kw(value: float | None) -> str:
    return MISSING if value is None else f"{_number(value)} kW"


def _comms_text(figures: KioskFigures) -> str:
    lines = [_("Communication"), ""]
    for name, gateway_state in figures.gateways:
        lines.append(f"  {name:<24} {_(GATEWAY_STATE_NAMES[gateway_state])}")
    lines.append("")
    for state, msgid in STATE_NAMES.items():
        if figures.devices.get(state):
            lines.append(
                _("  Devices {state}: {count}").format(state=_(msgid), count=figures.devices[state])
            )
    return "\n".join(lines)


SCREEN = KioskScreen
