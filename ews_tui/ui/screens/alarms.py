"""The Alarms screen: active alarms first, then the history, a page at a time.

Each row: severity (symbol and word, readable without colour), state (``✓`` once
acknowledged), the last time it was raised, the alarm, its object, how many times. The lines
under the table tell everything about the highlighted alarm (the value that raised it...).

Keys: ``s`` state, ``v`` severity, ``t`` type, ``g`` gateway, ``d`` device (each cycles its
filter; ``x`` clears them), ``n``/``p`` next and previous page, ``a`` acknowledge the
highlighted alarm, ``A`` acknowledge every alarm the filters show, ``Enter`` open the device
(Live measures) or the gateway (its devices) concerned, ``T`` the alarm thresholds (System
configuration role). The Consultation role sees the list
but has no acknowledge keys. The list follows the engine's :class:`AlarmChanged` events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from ews_tui.domain.alarms import (
    Alarm,
    AlarmChanged,
    AlarmError,
    AlarmType,
    Severity,
    may_acknowledge,
)
from ews_tui.domain.auth import Role
from ews_tui.hub import Subscription
from ews_tui.i18n import N_, _, ngettext
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.installation import InstallationService
from ews_tui.services.settings import SettingsService
from ews_tui.store.alarms_repo import AlarmFilter, AlarmPage
from ews_tui.ui.alarm_text import (
    STATES,
    detail_text,
    severity_text,
    state_text,
    type_text,
    when_text,
)
from ews_tui.ui.follow import while_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.widgets.footer import EwsFooter

log = logging.getLogger(__name__)
STYLES = Path(__file__).resolve().parent.parent / "styles"
PAGE_SIZE = 50
RELOAD_INTERVAL_S = 0.5  # the Hub's alarm events reload the list at most twice a second
SEVERITIES: tuple[Severity | None, ...] = (None, *Severity)
KINDS: tuple[AlarmType | None, ...] = (None, *AlarmType)
SEVERITY_CLASSES = {
    Severity.INFO: "",
    Severity.WARNING: "yellow",
    Severity.MAJOR: "bold yellow",
    Severity.CRITICAL: "bold red",
}


def _cycle(options: tuple[object, ...], current: object, step: int = 1) -> int:
    index = options.index(current) if current in options else 0
    return (index + step) % len(options)


class AlarmsScreen(EwsScreen[None]):
    CSS_PATH = STYLES / "alarms.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", N_("Acknowledge")),
        Binding("A", "acknowledge_all", N_("Acknowledge all shown")),
        Binding("s", "filter_state", N_("State"), show=False),
        Binding("v", "filter_severity", N_("Severity"), show=False),
        Binding("t", "filter_type", N_("Type"), show=False),
        Binding("g", "filter_gateway", N_("Gateway"), show=False),
        Binding("d", "filter_device", N_("Device"), show=False),
        Binding("x", "clear_filters", N_("Clear filters"), show=False),
        Binding("n", "page(1)", N_("Next page")),
        Binding("p", "page(-1)", N_("Previous page")),
        Binding("T", "thresholds", N_("Thresholds")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = AlarmFilter()
        self.first_row = 0
        self.page_shown = AlarmPage((), 0, 0)
        self._dirty = False
        self.reload_interval_s = RELOAD_INTERVAL_S
        self._last_follow: float | None = None
        self.follow_reloads = 0  # reloads the Hub's events started (tests count them)
        self.tables_built = 0  # times the table was filled (tests count them)
        self._rows: tuple[tuple[Alarm, ...], ZoneInfo] | None = None  # what the table shows

    # -- access ---------------------------------------------------------------------------

    @property
    def engine(self) -> AlarmEngine:
        return self.session.service(AlarmEngine)

    @property
    def tz(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.session.service(SettingsService).config.time.timezone)
        except LookupError:
            return ZoneInfo(self.session.runtime.config.time.timezone)

    @property
    def closing(self) -> bool:
        """Being closed: Textual removes a popped screen's widgets before its workers stop."""
        return self._pruning or self._closing or self._closed

    @property
    def may_acknowledge(self) -> bool:
        return may_acknowledge(self.session.role)

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="alarms-title", classes="page-title")
        yield Static(id="alarms-filters")
        yield DataTable(id="alarms-table", cursor_type="row", zebra_stripes=False)
        yield Static(id="alarms-detail")
        yield Static(id="alarms-status")
        yield EwsFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#alarms-table", DataTable)
        for key, label, width in (
            ("severity", _("Severity"), 10),
            ("state", _("State"), 9),
            ("last", _("Last"), 11),
            ("alarm", _("Alarm"), 19),
            ("object", _("Object"), 13),
            ("count", "×", 3),
        ):
            table.add_column(label, key=key, width=width)
        table.focus()
        subscription = self.session.hub.subscribe(AlarmChanged, maxsize=64, name="alarms-screen")
        self._follow(subscription)
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("acknowledge", "acknowledge_all"):
            return self.may_acknowledge  # Consultation: the keys are not there
        if action == "thresholds":
            return self.session.role is Role.SYSTEM  # the installer edits them
        return True

    def action_thresholds(self) -> None:
        self.app.open_screen("thresholds")

    # -- data -----------------------------------------------------------------------------

    @work(exclusive=True, group="alarms-load")
    async def reload(self) -> None:
        try:
            page = await self.engine.page(self.filter, self.first_row, PAGE_SIZE)
        except Exception:
            log.exception("alarms: the list could not be read")
            if self.closing:
                return
            self._status(_("The alarms could not be read: see the log."), problem=True)
            return
        if not page.alarms and self.first_row and page.total:
            self.first_row = max(0, (page.total - 1) // PAGE_SIZE * PAGE_SIZE)
            page = await self.engine.page(self.filter, self.first_row, PAGE_SIZE)
        if not self.closing:  # closed while reading (Esc at once): its widgets are gone
            self.show(page)

    @work(exclusive=True, group="alarms-follow")
    async def _follow(self, subscription: Subscription) -> None:
        with subscription:
            async for _event in while_shown(self, subscription):
                # At most one reload per RELOAD_INTERVAL_S: a flapping alarm (a threshold
                # crossed and left many times a second) reads and redraws a few times a
                # second, whatever the rate of its events.
                if self._last_follow is not None:
                    wait = self._last_follow + self.reload_interval_s - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                while len(subscription):  # one reload for a burst
                    subscription.get_nowait()
                self._last_follow = time.monotonic()
                self.follow_reloads += 1
                self.reload()

    def show(self, page: AlarmPage) -> None:
        self.page_shown = page
        table = self.query_one("#alarms-table", DataTable)
        rows = (page.alarms, self.tz)
        if rows != self._rows:  # the same rows again (an event that changed nothing shown)
            self._rows = rows
            self.tables_built += 1
            keep = table.cursor_row
            table.clear()
            for alarm in page.alarms:
                table.add_row(*self._cells(alarm), key=str(alarm.id))
            if page.alarms:
                table.move_cursor(row=min(keep, len(page.alarms) - 1))
        self._title()
        self._filters_line()
        self._detail()
        pages = max(1, (page.total + PAGE_SIZE - 1) // PAGE_SIZE)
        number = page.offset // PAGE_SIZE + 1
        self._status(
            ngettext(
                "Page {page}/{pages} · {count} alarm",
                "Page {page}/{pages} · {count} alarms",
                page.total,
            ).format(page=number, pages=pages, count=page.total)
        )

    def _cells(self, alarm: Alarm) -> tuple[Text, ...]:
        style = SEVERITY_CLASSES[alarm.severity] if alarm.active else "dim"
        return (
            Text(severity_text(alarm.severity), style=style),
            Text(state_text(alarm)),
            Text(when_text(alarm.last_at, self.tz)),
            Text(type_text(alarm.type)),
            Text(alarm.subject.name),
            Text(str(alarm.count), justify="right"),
        )

    def _title(self) -> None:
        counts = self.engine.counts
        self.query_one("#alarms-title", Static).update(
            _("Alarms · {active} active, {unacknowledged} not acknowledged").format(
                active=counts.active, unacknowledged=counts.unacknowledged
            )
        )

    def _filters_line(self) -> None:
        f = self.filter
        state = dict(STATES)[f.state]
        severity = _("any") if f.severity is None else f"≥ {severity_text(f.severity)}"
        kind = _("any") if f.type is None else type_text(f.type)
        inst = self.session.service(InstallationService).current
        gateway = inst.gateway(f.gateway_id) if f.gateway_id is not None else None
        device = inst.device(f.device_id) if f.device_id is not None else None
        self.query_one("#alarms-filters", Static).update(
            _("s State: {state} · v Severity: {severity} · t Type: {type}").format(
                state=_(state), severity=severity, type=kind
            )
            + "\n"
            + _("g Gateway: {gateway} · d Device: {device} · x clears").format(
                gateway=gateway.name if gateway else _("any"),
                device=device.display_name() if device else _("any"),
            )
        )

    def _detail(self) -> None:
        alarm = self.highlighted()
        text = detail_text(alarm, self.tz) if alarm is not None else _("No alarm to show.")
        self.query_one("#alarms-detail", Static).update(Text(text))

    def _status(self, text: str, problem: bool = False) -> None:
        status = self.query_one("#alarms-status", Static)
        status.update(text)
        status.set_class(problem, "-problem")

    def highlighted(self) -> Alarm | None:
        table = self.query_one("#alarms-table", DataTable)
        alarms = self.page_shown.alarms
        row = table.cursor_row
        return alarms[row] if 0 <= row < len(alarms) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_object()

    # -- filters and pages ------------------------------------------------------------------

    def _refilter(self, flt: AlarmFilter) -> None:
        self.filter = flt
        self.first_row = 0
        self.reload()

    def action_filter_state(self) -> None:
        states = tuple(s for s, _label in STATES)
        self._refilter(replace(self.filter, state=states[_cycle(states, self.filter.state)]))

    def action_filter_severity(self) -> None:
        self._refilter(
            replace(self.filter, severity=SEVERITIES[_cycle(SEVERITIES, self.filter.severity)])
        )

    def action_filter_type(self) -> None:
        self._refilter(replace(self.filter, type=KINDS[_cycle(KINDS, self.filter.type)]))

    def action_filter_gateway(self) -> None:
        inst = self.session.service(InstallationService).current
        ids: tuple[int | None, ...] = (None, *(g.id for g in inst.gateways))
        self._refilter(
            replace(
                self.filter, gateway_id=ids[_cycle(ids, self.filter.gateway_id)], device_id=None
            )
        )

    def action_filter_device(self) -> None:
        inst = self.session.service(InstallationService).current
        gateway = self.filter.gateway_id
        devices = [d for d in inst.devices if gateway is None or d.gateway_id == gateway]
        ids: tuple[int | None, ...] = (None, *(d.id for d in devices))
        self._refilter(replace(self.filter, device_id=ids[_cycle(ids, self.filter.device_id)]))

    def action_clear_filters(self) -> None:
        self.filter = AlarmFilter()
        self.first_row = 0
        self.reload()

    def action_page(self, step: int) -> None:
        offset = self.first_row + step * PAGE_SIZE
        if 0 <= offset < max(self.page_shown.total, 1):
            self.first_row = offset
            self.reload()

    # -- acknowledge --------------------------------------------------------------------------

    @work(exclusive=True, group="alarms-ack")
    async def action_acknowledge(self) -> None:
        alarm = self.highlighted()
        if alarm is None or alarm.acknowledged:
            return
        await self._acknowledge([alarm.id])

    def action_acknowledge_all(self) -> None:
        if not self.page_shown.total:
            return
        question = _("Acknowledge every alarm the filters show?")
        self.app.push_screen(ConfirmScreen(question), self._acknowledge_all_answer)

    def _acknowledge_all_answer(self, answer: bool | None) -> None:
        if answer:
            self._acknowledge_shown()

    @work(exclusive=True, group="alarms-ack")
    async def _acknowledge_shown(self) -> None:
        page = await self.engine.page(self.filter, 0, max(self.page_shown.total, 1))
        await self._acknowledge([a.id for a in page.alarms if not a.acknowledged])

    async def _acknowledge(self, ids: list[int]) -> None:
        if not ids:
            return
        role: Role | None = self.session.role
        try:
            done = await self.engine.acknowledge(ids, role, self.session.origin)
        except AlarmError as error:
            self.notify(_(error.message), severity="error")
            return
        self.notify(
            ngettext("{count} alarm acknowledged", "{count} alarms acknowledged", done).format(
                count=done
            )
        )
        self.reload()

    # -- open the object -----------------------------------------------------------------------

    def open_object(self) -> None:
        alarm = self.highlighted()
        if alarm is None:
            return
        subject = alarm.subject
        inst = self.session.service(InstallationService).current
        if subject.kind == "device" and subject.id is not None:
            if inst.device(subject.id) is None:
                self.notify(_("This device is no longer in the installation."), severity="warning")
                return
            self.app.open_screen("live", device_id=subject.id)
            return
        if subject.kind == "gateway" and subject.id is not None:
            if inst.gateway(subject.id) is None:
                self.notify(_("This gateway is no longer in the installation."), severity="warning")
                return
            if self.session.role is Role.SYSTEM:
                self.app.open_screen("devices", gateway_id=subject.id)
            else:
                self.notify(
                    _("Gateways are shown to the System configuration role."), severity="warning"
                )
            return
        self.notify(_("Nothing to open for this alarm."))


SCREEN = AlarmsScreen
