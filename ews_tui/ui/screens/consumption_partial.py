"""Consultation > Consumption > Partial: the consumption by circuit, zone or switchboard.

One series per circuit (zone, switchboard; ``g`` goes from one grouping to the next),
stacked in one bar per period or side by side (``x``); the table gives each group's amount
(or cost, with ``c``) per period and over the whole range. Devices "excluded from totals"
are left out (manual §7.16.1.4); a device in several zones counts in each, so zones do not
add up to the site total.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from ews_tui.domain.grouping import Amount, GroupKey
from ews_tui.i18n import N_, _
from ews_tui.store.consumption_repo import ConsumptionTable
from ews_tui.ui.consumption_text import (
    ENERGY_NAMES,
    GROUP_NAMES,
    amount_text,
    cost_text,
    period_label,
    unit_text,
)
from ews_tui.ui.consumption_view import ConsumptionView
from ews_tui.ui.screens.consumption_base import ConsumptionScreen
from ews_tui.ui.widgets.histogram import MISSING, MISSING_STYLE, Histogram, Series, series_colour
from ews_tui.ui.widgets.period_grid import PeriodGrid
from ews_tui.ui.widgets.steady_static import SteadyStatic

NAME_WIDTH = 11  # a group's name in the table's header: at most two lines this wide
HEADER_LINES = 2


def header_name(name: str, width: int = NAME_WIDTH) -> str:
    """``name`` on at most two lines of ``width`` (five groups and the period fit 80
    columns): "Power\nsockets"; only a name longer than two lines ends with "…"."""
    lines = textwrap.wrap(name, width, break_on_hyphens=False) or [""]
    if len(lines) > HEADER_LINES:
        rest = " ".join(lines[HEADER_LINES - 1 :])
        lines = [*lines[: HEADER_LINES - 1], rest[: width - 1] + "…"]
    return "\n".join(lines)


class PartialScreen(ConsumptionScreen):
    NAME = "consumption_partial"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "next_group", N_("Group")),
        Binding("x", "toggle_stacked", N_("Layout")),
    ]

    def compose_body(self) -> ComposeResult:
        yield SteadyStatic("", id="cons-legend")
        yield Histogram(id="cons-chart")
        yield PeriodGrid(id="cons-table", cursor_type="row", zebra_stripes=False)

    def mounted(self) -> None:
        self.query_one("#cons-table", DataTable).focus()

    def header_extra(self) -> Sequence[str]:
        layout = _("stacked") if self.view.stacked else _("side by side")
        return (_(GROUP_NAMES[self.view.by]), layout)

    async def fetch(self, view: ConsumptionView) -> tuple[ConsumptionTable, ConsumptionTable]:
        first, end = view.range
        bars = await self.service.table(first, end, view.bar_step, view.by, view.energy)
        return bars, await self.range_totals(view, view.by)

    def show(self, data: Any) -> None:
        table, totals = data
        keys = list(table.rows)
        self.cursor = self.start_cursor(table, len(table.periods))
        self.table = table
        self.show_legend(table, keys)
        series = [
            Series(self.group_name(key), self.bar_values(table.rows[key]), series_colour(n))
            for n, key in enumerate(keys)
        ]
        chart = self.query_one("#cons-chart", Histogram)
        chart.chart = self.chart(table, series, stacked=self.view.stacked)
        chart.cursor = self.cursor
        self.fill_table(table, totals, keys)

    def show_legend(self, table: ConsumptionTable, keys: list[GroupKey]) -> None:
        legend = self.query_one("#cons-legend", SteadyStatic)
        if not keys:
            energy = _(ENERGY_NAMES[table.energy])
            legend.show(_("No device meters this energy ({energy}).").format(energy=energy))
            return
        text = Text()  # wraps to a second line when the names need it
        for n, key in enumerate(keys):
            text.append("█", style=series_colour(n))
            text.append(f" {self.group_name(key)}  ")
        text.append(MISSING, style=MISSING_STYLE)
        text.append(" " + _("no data"))
        legend.show(text)

    def cell(self, amount: Amount | None, table: ConsumptionTable) -> str:
        if self.view.chart_cost:
            return cost_text(amount, table.currency)
        return amount_text(amount, table.unit)

    def fill_table(
        self, table: ConsumptionTable, totals: ConsumptionTable, keys: list[GroupKey]
    ) -> None:
        what = _("Cost") if self.view.chart_cost else unit_text(table.unit)
        columns = [("period", f"{_('Period')} ({what})")]
        columns += [(str(n), header_name(self.group_name(key))) for n, key in enumerate(keys)]
        future = self.future_from(table)
        rows = []
        for index, period in enumerate(table.periods):
            cells = [period_label(period, self.view.bar_step)]
            if future is not None and index >= future:
                cells += [""] * len(keys)
            else:
                cells += [self.cell(table.rows[key][index], table) for key in keys]
            rows.append(cells)
        total_cells = [_("Total")]
        for key in keys:
            values = totals.rows.get(key)
            total_cells.append(self.cell(values[0] if values else None, table))
        rows.append(total_cells)
        grid = self.query_one("#cons-table", DataTable)
        grid.header_height = max(title.count("\n") + 1 for _key, title in columns)
        self.show_grid(columns, rows)

    def cursor_moved(self, row: int) -> None:
        """The Total row has no bar: the chart shows no cursor there."""
        chart = self.query_one("#cons-chart", Histogram)
        if self.table is not None and row < len(self.table.periods):
            self.cursor = row
            chart.cursor = row
        else:
            chart.cursor = None

    def action_next_group(self) -> None:
        self.change_view(self.view.next_group())

    def action_toggle_stacked(self) -> None:
        self.change_view(self.view.toggle_stacked())


SCREEN = PartialScreen
