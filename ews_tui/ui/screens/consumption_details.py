"""Consultation > Consumption > Details: one device's consumption, and the period before.

The devices metering the energy are listed on the left, those "excluded from totals" too
(manual §7.16.1.4: their data shows here). On the right, the chosen device's total and cost,
the comparison with the previous day, week, month or year (amount and change in percent;
while the view is under way, its finished periods against the same ones before, the period
under way reading "partial"), the line where the
weekly EN 50160 verdict will show, the chart and the table: each period's amount, cost, the
matching period before and the change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from ews_tui.domain.en50160 import week_label
from ews_tui.domain.events import En50160Checked, Event, InstallationChanged, SettingsChanged
from ews_tui.domain.grouping import Amount, By, GroupKey, known
from ews_tui.i18n import N_, _
from ews_tui.services.en50160 import En50160Checker
from ews_tui.services.installation import InstallationService
from ews_tui.services.settings import SettingsService
from ews_tui.store.consumption_repo import ConsumptionTable
from ews_tui.ui.consumption_text import (
    ENERGY_NAMES,
    NONE,
    amount_text,
    change_text,
    cost_text,
    period_label,
    unit_text,
)
from ews_tui.ui.consumption_view import ConsumptionView
from ews_tui.ui.en50160_text import verdict_text
from ews_tui.ui.screens.consumption_base import ConsumptionScreen
from ews_tui.ui.widgets.histogram import Histogram, Series
from ews_tui.ui.widgets.line_option_list import LineOptionList
from ews_tui.ui.widgets.period_grid import PeriodGrid
from ews_tui.ui.widgets.steady_static import SteadyStatic

# Reserved: the weekly EN 50160 check of the device (issue "EN 50160") fills this line.
EN50160_PENDING = N_("EN 50160: no verdict yet")
EN50160_NO_EQ = N_("EN 50160: no EQ device on this gateway")
COMPARE_WHOLE = N_("Previous period: {amount} · change {change}")
# While the view is under way: its finished hours (days, months) against the same ones.
COMPARE_SAME_PART = N_("Same part of the previous period: {amount} · change {change}")
# The change of a period under way: an unfinished hour is not compared with a whole one.
PARTIAL = N_("partial")


def range_sum(values: list[Amount | None], count: int) -> Amount | None:
    """The sum of the first ``count`` periods; missing if one of them is."""
    total: Amount | None = None
    for amount in values[:count]:
        amount = amount if amount is not None else Amount(0.0, True, None)
        total = amount if total is None else total + amount
    return total


class DetailsScreen(ConsumptionScreen):
    NAME = "consumption_details"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data: tuple[ConsumptionTable, ...] | None = None
        self.keys: list[GroupKey] = []
        self._listed: list[tuple[str, str]] | None = None  # the device list's options
        self.lists_built = 0  # times the device list was built (tests count them)
        # The EN 50160 line of each device, as read (a period move reads it no more).
        self._verdicts: dict[int | None, Text | str] = {}
        self.verdict_reads = 0  # EN 50160 verdicts read from the store (tests count them)

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            yield LineOptionList(id="det-devices")
            with Vertical(id="det-right"):
                yield SteadyStatic("", id="det-device")
                yield SteadyStatic("", id="det-compare")
                yield SteadyStatic("", id="det-en50160")
                yield Histogram(id="cons-chart")
                yield PeriodGrid(id="cons-table", cursor_type="row", zebra_stripes=False)

    def mounted(self) -> None:
        self.add_class("-details")
        self.query_one("#det-en50160", SteadyStatic).show(_(EN50160_PENDING))
        self.query_one("#det-devices", OptionList).focus()

    async def fetch(self, view: ConsumptionView) -> tuple[ConsumptionTable, ...]:
        first, end = view.range
        before_first, before_end = view.previous_range
        service = self.service
        return (
            await service.table(first, end, view.bar_step, By.DEVICE, view.energy),
            await service.table(before_first, before_end, view.bar_step, By.DEVICE, view.energy),
            await self.range_totals(view, By.DEVICE),
            await self.range_totals(view, By.DEVICE, previous=True),
        )

    def show(self, data: Any) -> None:
        table = data[0]
        self.cursor = self.start_cursor(table, len(table.periods))
        self.table = table
        self.data = data
        self.keys = list(table.rows)
        self.fill_devices()
        self.show_device()

    # ------------------------------------------------------------------ the device list

    def selected_key(self) -> GroupKey | None:
        wanted = self.view.device_id
        key = next((k for k in self.keys if k.id == wanted), None)
        return key or (self.keys[0] if self.keys else None)

    def fill_devices(self) -> None:
        """List the devices; the same devices as listed (another period: ←/→) keep their
        options (rebuilt, the list repainted whole and laid the screen out at each key)."""
        options = self.query_one("#det-devices", OptionList)
        listed = [(key.name, str(key.id)) for key in self.keys]
        if listed != self._listed:
            self._listed = listed
            self.lists_built += 1
            options.clear_options()
            options.add_options(Option(name, id=id_) for name, id_ in listed)
        key = self.selected_key()
        if key is not None:
            options.highlighted = self.keys.index(key)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        key = next((k for k in self.keys if str(k.id) == event.option_id), None)
        if key is not None and key.id != self.view.device_id:
            self.view = replace(self.view, device_id=key.id)
            self.show_device()

    # ------------------------------------------------------------------ the chosen device

    FOLLOWS = (En50160Checked,)

    def followed(self, event: Event) -> None:
        """A new verdict, another installation or time zone: the EN 50160 line is read
        again (a period move does not read it: it is the last week's, whatever the view)."""
        if isinstance(event, En50160Checked | InstallationChanged | SettingsChanged):
            self._verdicts.clear()
            if isinstance(event, En50160Checked) and self.data is not None:
                self.show_en50160()
        super().followed(event)

    def show_en50160(self) -> None:
        """The EN 50160 line of the device shown: as read before, else read now."""
        key = self.selected_key()
        device_id = key.id if key is not None else None
        known_line = self._verdicts.get(device_id)
        if known_line is not None:
            self.query_one("#det-en50160", SteadyStatic).show(known_line)
        else:
            self.run_worker(self._show_en50160(device_id), group="en50160", exclusive=True)

    async def _show_en50160(self, device_id: int | None) -> None:
        """Manual §7.16.1.4: the last week's EN 50160 verdict of the EQ device of the
        device's gateway ("Last week EN50160 CHECK: OK or KO")."""
        shown = await self._en50160_line(device_id)
        self._verdicts[device_id] = shown
        self.query_one("#det-en50160", SteadyStatic).show(shown)

    async def _en50160_line(self, device_id: int | None) -> Text | str:
        inst = self.session.service(InstallationService).current
        device = inst.device(device_id) if device_id is not None else None
        gateway = inst.gateway(device.gateway_id) if device is not None else None
        if gateway is None or gateway.eq_device_id is None:
            return _(EN50160_NO_EQ)
        self.verdict_reads += 1
        weeks = await self.session.service(En50160Checker).repo.weeks(gateway.id, 1)
        if not weeks:
            return _(EN50160_PENDING)
        week = weeks[0]
        tz = ZoneInfo(self.session.service(SettingsService).config.time.timezone)
        return Text.assemble(
            _("Last week EN 50160 check: "),
            verdict_text(week.verdict.value, week=True),
            f" ({week_label(week.start, tz)})",
        )

    def show_device(self) -> None:
        if self.data is None:
            return
        table, before, totals, before_totals = self.data
        key = self.selected_key()
        title = self.query_one("#det-device", SteadyStatic)
        compare = self.query_one("#det-compare", SteadyStatic)
        chart = self.query_one("#cons-chart", Histogram)
        if key is None:
            energy = _(ENERGY_NAMES[table.energy])
            title.show(_("No device meters this energy ({energy}).").format(energy=energy))
            compare.show("")
            chart.chart = self.chart(table, [])
            self.fill_grid(self.query_one("#cons-table", DataTable), [("period", "")], [])
            return
        self.show_en50160()
        values = table.rows[key]
        previous = before.rows.get(key, [None] * len(before.periods))
        finished, under_way = self.progress(table)
        if finished is None:  # over: the whole periods (a gap inside one counts there)
            total = now = totals.rows[key][0]
            then = (before_totals.rows.get(key) or [None])[0]
            label = _(COMPARE_WHOLE)
        else:  # under way: the finished periods of both, never a partial one with a whole
            total = range_sum(values, finished + (1 if under_way is not None else 0))
            now, then = range_sum(values, finished), range_sum(previous, finished)
            label = _(COMPARE_SAME_PART)
        title.show(
            f"{key.name} · "
            + _("Total: {amount}").format(amount=amount_text(total, table.unit, with_unit=True))
            + " · "
            + _("Cost: {cost}").format(cost=cost_text(total, table.currency))
        )
        if finished == 0:  # nothing finished yet: the whole previous period, no change
            then = (before_totals.rows.get(key) or [None])[0]
            label, change = _(COMPARE_WHOLE), _(PARTIAL)
        else:
            now_value, then_value = known(now), known(then)
            change = change_text(
                now_value.value if now_value else None,
                then_value.value if then_value else None,
            )
        compare.show(
            label.format(amount=amount_text(then, table.unit, with_unit=True), change=change)
        )
        chart.chart = self.chart(table, [Series(key.name, self.bar_values(values))])
        chart.cursor = self.cursor
        self.fill_table(table, values, previous, finished, under_way)

    def progress(self, table: ConsumptionTable) -> tuple[int | None, int | None]:
        """How far the view has gone: the number of finished periods (None: all of them)
        and the index of the period under way (None: none is)."""
        now = self.clock()
        first_open = next((i for i, p in enumerate(table.periods) if p.end > now), None)
        if first_open is None:
            return None, None
        started = table.periods[first_open].start <= now
        return first_open, first_open if started else None

    def fill_table(
        self,
        table: ConsumptionTable,
        values: list[Amount | None],
        previous: list[Amount | None],
        finished: int | None,
        under_way: int | None,
    ) -> None:
        unit = unit_text(table.unit)
        columns = [
            ("period", _("Period")),
            ("amount", unit),
            ("cost", _("Cost")),
            ("previous", _("Before")),
            ("change", _("Change")),
        ]
        rows = []
        for index, period in enumerate(table.periods):
            cells = [period_label(period, self.view.bar_step)]
            if finished is not None and index >= finished and index != under_way:
                rows.append(cells + [""] * 4)  # not begun
                continue
            amount = values[index]
            then = previous[index] if index < len(previous) else None
            now_known, then_known = known(amount), known(then)
            change = change_text(
                now_known.value if now_known else None,
                then_known.value if then_known else None,
            )
            cells += [
                amount_text(amount, table.unit),
                cost_text(amount, table.currency),
                amount_text(then, table.unit) if index < len(previous) else NONE,
                _(PARTIAL) if index == under_way else change,
            ]
            rows.append(cells)
        self.show_grid(columns, rows)


SCREEN = DetailsScreen
