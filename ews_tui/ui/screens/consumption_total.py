"""Consultation > Consumption > Total: the site's consumption and cost, period by period.

The site total leaves out the devices "excluded from totals" (manual §7.16.1.4). A chart of
the day (its hours), week or month (days) or year (months), the total of the range and a
table of each period's amount and cost; gas also reads in kWh equivalent when its cost page
gives the conversion factor. A period with no data shows "—" and a shaded bar, never zero.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable

from ews_tui.domain.grouping import Amount, By, known
from ews_tui.i18n import _, pgettext
from ews_tui.store.consumption_repo import ConsumptionTable
from ews_tui.ui.consumption_text import (
    ENERGY_NAMES,
    NONE,
    amount_text,
    cost_text,
    number,
    period_label,
    unit_text,
)
from ews_tui.ui.consumption_view import ConsumptionView
from ews_tui.ui.screens.consumption_base import ConsumptionScreen
from ews_tui.ui.widgets.histogram import Histogram, Series
from ews_tui.ui.widgets.period_grid import PeriodGrid
from ews_tui.ui.widgets.steady_static import SteadyStatic


def site_values(table: ConsumptionTable) -> list[Amount | None]:
    """The site's amount per period (the table has one row, none without devices)."""
    rows = list(table.rows.values())
    if not rows:
        return [None] * len(table.periods)
    return rows[0]


class TotalScreen(ConsumptionScreen):
    NAME = "consumption_total"

    def compose_body(self) -> ComposeResult:
        yield SteadyStatic("", id="cons-totals")
        yield Histogram(id="cons-chart")
        yield PeriodGrid(id="cons-table", cursor_type="row", zebra_stripes=False)

    def mounted(self) -> None:
        self.query_one("#cons-table", DataTable).focus()

    async def fetch(self, view: ConsumptionView) -> tuple[ConsumptionTable, ConsumptionTable]:
        first, end = view.range
        bars = await self.service.table(first, end, view.bar_step, By.TOTAL, view.energy)
        return bars, await self.range_totals(view, By.TOTAL)

    def show(self, data: Any) -> None:
        table, totals = data
        values = site_values(table)
        future = self.future_from(table)
        shown = future if future is not None else len(values)
        self.cursor = self.start_cursor(table, len(values))
        self.table = table
        self.show_totals(table, site_values(totals)[0])
        chart = self.query_one("#cons-chart", Histogram)
        chart.chart = self.chart(table, [Series(_("Site"), self.bar_values(values))])
        chart.cursor = self.cursor
        self.fill_table(table, values, shown)

    def show_totals(self, table: ConsumptionTable, total: Amount | None) -> None:
        line = self.query_one("#cons-totals", SteadyStatic)
        if not table.rows:
            energy = _(ENERGY_NAMES[table.energy])
            if self.metered(table.energy):
                message = _("Every device of this energy ({energy}) is excluded from totals.")
            else:
                message = _("No device meters this energy ({energy}).")
            line.show(message.format(energy=energy))
            return
        text = _("Total: {amount}").format(amount=amount_text(total, table.unit, with_unit=True))
        kwh = table.kwh(known(total)) if table.energy == "gas" else None
        if kwh is not None:
            text += " " + _("({kwh} kWh equivalent)").format(kwh=number(kwh, 1))
        text += " · " + _("Cost: {cost}").format(cost=cost_text(total, table.currency))
        line.show(text)

    def fill_table(self, table: ConsumptionTable, values: list[Amount | None], shown: int) -> None:
        unit = unit_text(table.unit)
        gas_kwh = table.energy == "gas" and table.kwh_per_m3 is not None
        # Outside the f-string: babel's extraction does not see calls inside one (Python 3.11).
        consumption = pgettext("column", "Consumption")
        columns = [
            ("period", _("Period")),
            ("amount", f"{consumption} ({unit})"),
        ]
        if gas_kwh:
            columns.append(("kwh", _("kWh equivalent")))
        columns.append(("cost", _("Cost")))
        rows = []
        for index, (period, amount) in enumerate(zip(table.periods, values, strict=True)):
            cells = [period_label(period, self.view.bar_step)]
            if index >= shown:
                cells += [""] * (len(columns) - 1)
            else:
                cells.append(amount_text(amount, table.unit))
                if gas_kwh:
                    kwh = table.kwh(known(amount))
                    cells.append(NONE if kwh is None else number(kwh, 1))
                cells.append(cost_text(amount, table.currency))
            rows.append(cells)
        self.show_grid(columns, rows)


SCREEN = TotalScreen
