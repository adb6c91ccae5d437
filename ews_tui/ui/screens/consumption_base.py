"""What the three Consumption screens (Total, Partial, Details) share.

Each shows one day (its hours), week or month (its days) or year (its months) of one energy,
read from the :class:`~ews_tui.services.consumption.ConsumptionService` in a worker; the
keys move to the previous or next one, change the step, the energy, what the bars show
(amount or cost), and go from one screen to the other with the same view (1, 2, 3). The
screens follow the Hub: a change of the cost pages, the time zone or the installation
reloads the view.

Reading and drawing are rate-capped (the sessions share the loop with the buses): a key
starts a read at once when the last one began ``LOAD_INTERVAL_S`` ago, else one read waits
for the end of that interval; a key pressed meanwhile replaces the waiting read (the last
view wins), so a run of key repeats draws the chart and the table twice a second, not once
per key, while the period's name follows each key (``HEADER_DELAY_S``). The tables come
from the service, read once for every session (see ``ConsumptionService.table``): with the
reads shared, drawing is what a key costs (with ten sessions at 5 keys a second, a cap of
0.25 s drew 0.71 times a key and took 12.7 ms of CPU a key; 0.5 s draws 0.27 times, 7.4 ms).

Not a menu screen itself (no ``SCREEN``): ``consumption_total``, ``consumption_partial`` and
``consumption_details`` subclass it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from ews_tui.domain.events import Event, InstallationChanged, SettingsChanged
from ews_tui.domain.grouping import Amount, By, GroupKey, known, metered_devices
from ews_tui.domain.periods import Step
from ews_tui.i18n import N_, _, current_language
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.store.consumption_repo import ConsumptionTable
from ews_tui.ui.consumption_text import (
    ENERGY_NAMES,
    STEP_NAMES,
    bar_label,
    money,
    number,
    unit_text,
    view_title,
)
from ews_tui.ui.consumption_view import ConsumptionView
from ews_tui.ui.follow import while_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.histogram import Chart, Histogram
from ews_tui.ui.widgets.period_grid import PeriodGrid
from ews_tui.ui.widgets.steady_static import SteadyStatic

log = logging.getLogger(__name__)
STYLES = Path(__file__).resolve().parent.parent / "styles"
LOAD_GROUP = "consumption-load"
# The three screens, reached with keys 1, 2, 3 (the same in every language).
VIEWS: tuple[tuple[str, str], ...] = (
    ("consumption_total", N_("Total")),
    ("consumption_partial", N_("Partial")),
    ("consumption_details", N_("Details")),
)
RELOADING_SETTINGS = frozenset({"costs", "time"})
LOAD_INTERVAL_S = 0.5  # a screen reads and draws at most twice a second
HEADER_DELAY_S = 0.1  # a read done sooner draws the header with its result, in one frame


class ConsumptionScreen(EwsScreen[None]):
    """``ConsumptionScreen(anchor=date(2025, 1, 15))``, or ``view=`` another screen's view.

    ``clock`` (epoch seconds) says which periods have not come yet (not drawn); tests
    inject it with the anchor.
    """

    CSS_PATH = STYLES / "consumption.tcss"
    NAME: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "shift(-1)", N_("Period"), key_display="←→", priority=True),
        Binding("right", "shift(1)", N_("Next"), show=False, priority=True),
        Binding("s", "next_step", N_("Step")),
        Binding("e", "next_energy", N_("Energy")),
        Binding("c", "toggle_chart", N_("Cost")),
        Binding("h", "step('day')", N_("Day"), show=False),
        Binding("w", "step('week')", N_("Week"), show=False),
        Binding("m", "step('month')", N_("Month"), show=False),
        Binding("y", "step('year')", N_("Year"), show=False),
        Binding("t", "today", N_("Today"), show=False),
        Binding("1", "switch('consumption_total')", N_("Total"), show=False),
        Binding("2", "switch('consumption_partial')", N_("Partial"), show=False),
        Binding("3", "switch('consumption_details')", N_("Details"), show=False),
    ]

    def __init__(
        self,
        view: ConsumptionView | None = None,
        *,
        anchor: date | None = None,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._initial = view
        self._anchor = anchor
        self.clock = clock
        self.view: ConsumptionView = view or ConsumptionView(anchor or date.today())
        self.table: ConsumptionTable | None = None
        self.cursor: int = 0
        self.load_interval_s = LOAD_INTERVAL_S
        self.reads = 0  # reads of the store started (tests count them)
        # What each grid shows: its columns and rows count, for which view.
        self._grid_shapes: dict[str | None, tuple[tuple[object, ...], ConsumptionView]] = {}
        self._last_read: float | None = None
        self._header_timer: Timer | None = None
        self.header_delay_s = HEADER_DELAY_S
        self._tabs_language: str | None = None  # the tabs' language, once shown

    # ------------------------------------------------------------------ services

    @property
    def service(self) -> ConsumptionService:
        return self.session.service(ConsumptionService)

    def metered(self, energy: str) -> bool:
        """Whether a device of the installation meters ``energy`` (excluded ones too)."""
        try:
            installation = self.session.service(InstallationService)
        except LookupError:
            return False
        return bool(metered_devices(installation.current, installation.catalog, energy))

    def group_name(self, key: GroupKey) -> str:
        """A row's name: "No circuit" and preset circuits' names are msgids."""
        if key.id is None:
            return _(key.name)
        if key.kind == By.CIRCUIT.value:
            try:
                inst = self.session.service(InstallationService).current
            except LookupError:
                return key.name
            circuit = inst.circuit(key.id)
            if circuit is not None and circuit.is_preset:
                return _(key.name)
        return key.name

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="cons-tabs", classes="page-title")
        yield SteadyStatic(id="cons-view")
        yield from self.compose_body()
        yield EwsFooter()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def mounted(self) -> None:
        """What a screen does once mounted, before the first read (the focus, a class)."""

    def on_mount(self) -> None:
        """The one mount handler: Textual calls every class's ``on_mount`` of the MRO, so a
        subclass's own ``on_mount`` calling ``super()`` read the store and subscribed twice
        at each opening. Subclasses say what they add in :meth:`mounted`."""
        if self._initial is None and self._anchor is None:  # today in the box's zone
            self.view = replace(self.view, anchor=self.today())
        self.mounted()
        self.show_header()
        self.reload()
        self._follow(
            self.session.hub.subscribe(
                SettingsChanged,
                InstallationChanged,
                *self.FOLLOWS,
                maxsize=16,
                name=f"{self.NAME}-screen",
            )
        )

    # Events of the Hub the screen follows besides the settings and the installation.
    FOLLOWS: ClassVar[tuple[type[Event], ...]] = ()

    @work(exclusive=True, group="consumption-follow")
    async def _follow(self, subscription: Any) -> None:
        with subscription:
            async for event in while_shown(self, subscription):
                self.followed(event)

    def followed(self, event: Event) -> None:
        """An event of the Hub: a change of the cost pages, the time zone or the
        installation reads the view again."""
        if isinstance(event, SettingsChanged) and event.section not in RELOADING_SETTINGS:
            return
        if isinstance(event, SettingsChanged | InstallationChanged):
            self.reload()

    def show_header(self) -> None:
        language = current_language()
        if language != self._tabs_language:  # the tabs: once (and again in another language)
            self._tabs_language = language
            tabs = Text(_("Consumption"), style="bold", end="")
            for number_, (name, title) in enumerate(VIEWS, start=1):
                tabs.append("  ")
                tabs.append(f" {number_} {_(title)} ", style="reverse" if name == self.NAME else "")
            self._update("cons-tabs", tabs)
        view = self.view
        parts = [
            _(ENERGY_NAMES[view.energy]),
            _(STEP_NAMES[view.step]),
            view_title(view.step, *view.range),
            *self.header_extra(),
        ]
        self._update("cons-view", " · ".join(parts))

    def _update(self, widget_id: str, content: Text | str) -> None:
        self.query_one(f"#{widget_id}", SteadyStatic).show(content)

    def header_extra(self) -> Sequence[str]:
        return ()

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        """Read the view again. Its header (the period's name) shows with what is read, in
        one frame; when the read takes longer than ``HEADER_DELAY_S`` (a wait for the rate
        cap, a long range), the header shows first, as a key's answer.

        A key pressed while the header is due leaves its timer running (it draws the view of
        that moment): restarted at each key, a key repeat faster than the delay kept the
        period's name still until the repeat ended."""
        if self._header_timer is None:
            delay = max(0.01, self.header_delay_s)  # never a 0 s timer (Textual divides by it)
            self._header_timer = self.set_timer(delay, self._header_due, name="consumption header")
        self._load(self.view)

    def _header_due(self) -> None:
        self._header_timer = None
        self.show_header()

    @work(exclusive=True, group=LOAD_GROUP)
    async def _load(self, view: ConsumptionView) -> None:
        # Exclusive: a key pressed while this read waits cancels it for the newer view.
        if self._last_read is not None:
            wait = self._last_read + self.load_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_read = time.monotonic()
        self.reads += 1
        try:
            data = await self.fetch(view)
        except Exception:
            log.exception("consumption %s %s %s", view.step, view.anchor, view.energy)
            self.show_error(_("The consumption could not be read: see the log."))
            return
        self.show_loaded(view, data)

    def show_loaded(self, view: ConsumptionView, data: Any) -> None:
        """Show what was read for ``view``, unless the view changed or the screen is going.

        A read that ends as its screen is switched away (keys 1, 2, 3) found its widgets
        already removed: NoMatches ended the whole session."""
        if view != self.view or not self.is_attached:
            return
        try:
            if self._header_timer is not None:
                self._header_timer.stop()
                self._header_timer = None
            self.show_header()
            self.show(data)
        except NoMatches:
            if self.app.screen is self:
                raise  # the screen shown misses a widget: a bug, not a race
            log.debug("consumption %s: read done as the screen went", self.NAME)

    async def fetch(self, view: ConsumptionView) -> Any:
        """What the screen shows for ``view``, read from the service (in the worker)."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        raise NotImplementedError

    async def range_totals(
        self, view: ConsumptionView, by: By, energy: str | None = None, *, previous: bool = False
    ) -> ConsumptionTable:
        """One period: the whole day, week, month or year (a gap inside it counts there)."""
        first, end = view.previous_range if previous else view.range
        return await self.service.table(first, end, view.step, by, energy or view.energy)

    def show_error(self, message: str) -> None:
        self.notify(message, severity="error")

    # ------------------------------------------------------------------ shared drawing

    def future_from(self, table: ConsumptionTable) -> int | None:
        """The index of the first period that has not started yet (None: all have)."""
        now = self.clock()
        return next((i for i, p in enumerate(table.periods) if p.start > now), None)

    def bar_values(self, values: list[Amount | None]) -> list[float | None]:
        out: list[float | None] = []
        for amount in values:
            amount = known(amount)
            if amount is None:
                out.append(None)
            else:
                out.append(amount.cost if self.view.chart_cost else amount.value)
        return out

    def bar_labels(self, table: ConsumptionTable) -> list[str]:
        return [bar_label(p, self.view.bar_step, self.view.step) for p in table.periods]

    def scale(self, table: ConsumptionTable) -> Callable[[float], str]:
        """How the chart's top reads: ``▲ 6.0 kWh`` or ``▲ €1.20``."""
        if self.view.chart_cost:
            return lambda top: f"▲ {money(top, table.currency)}"
        unit = unit_text(table.unit)
        return lambda top: f"▲ {number(top, 1)} {unit}"

    def chart(self, table: ConsumptionTable, series: Sequence[Any], stacked: bool = True) -> Chart:
        cost = self.view.chart_cost
        return Chart(
            labels=self.bar_labels(table),
            series=series,
            stacked=stacked,
            future_from=self.future_from(table),
            scale=self.scale(table),
            # What self.scale's text depends on: the sessions share the drawing.
            scale_key=(cost, table.currency if cost else table.unit, current_language()),
        )

    def start_cursor(self, table: ConsumptionTable, rows: int) -> int:
        """Keep the cursor's place when the step did not change, else the current period
        (today's hour, this month), or the first row when the view is all past or all
        future: a table opens at its top, never scrolled to its bottom."""
        if self.table is not None and len(self.table.periods) == len(table.periods):
            return min(self.cursor, rows - 1)
        future = self.future_from(table)
        current = future - 1 if future is not None and future > 0 else 0
        return max(0, min(current, rows - 1))

    def show_grid(self, columns: Sequence[tuple[str, str]], rows: list[list[Any]]) -> None:
        """The table under the chart, its cursor on the chosen period."""
        grid = self.query_one("#cons-table", DataTable)
        self.fill_grid(grid, columns, rows)
        self.place_cursor(grid, self.cursor)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The one handler (Textual calls each class's of the MRO): subclasses override
        # cursor_moved, not this.
        self.cursor_moved(event.cursor_row)

    def cursor_moved(self, row: int) -> None:
        """The table's cursor is on ``row``: the chart's follows."""
        self.cursor = row
        self.query_one("#cons-chart", Histogram).cursor = row

    def fill_grid(
        self,
        grid: DataTable[Any],
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[str]],
    ) -> None:
        """Columns ``(key, title)``: the first left-aligned, the numbers right-aligned.

        Another view (the next day, week, month: what ←/→ bring) in a grid of the same
        columns (keys, titles) and rows count gets only its changed cells written: built
        anew, the table laid the whole screen out again at each key, in every session. The
        same view again (another device of Details) is built anew, as it was."""
        widths = [  # a title may have two lines (Partial's group names)
            max([*(len(line) for line in title.split("\n")), *(len(row[n]) for row in rows)])
            for n, (_key, title) in enumerate(columns)
        ]
        shape = (tuple(columns), len(rows))
        period = replace(self.view, device_id=None)  # the view but the device
        shown = self._grid_shapes.get(grid.id)
        self._grid_shapes[grid.id] = (shape, period)
        if shown is not None and shown[0] == shape and shown[1] != period:
            changed = [
                (str(index), key, self._cell(cell, n))
                for index, row in enumerate(rows)
                for n, ((key, _title), cell) in enumerate(zip(columns, row, strict=True))
                if str(grid.get_cell(str(index), key)) != cell
            ]
            if isinstance(grid, PeriodGrid):
                grid.write_cells(changed)
            else:
                for row_key, column_key, value in changed:
                    grid.update_cell(row_key, column_key, value)
            for n, ((key, _title), width) in enumerate(zip(columns, widths, strict=True)):
                column = grid.columns[ColumnKey(key)]
                if column.width != width and rows:
                    # Fixed widths: one cell written with update_width makes the table
                    # measure itself again from them (nothing else is measured).
                    column.width = width
                    grid.update_cell("0", key, self._cell(rows[0][n], n), update_width=True)
            return
        grid.clear(columns=True)
        for n, ((key, title), width) in enumerate(zip(columns, widths, strict=True)):
            grid.add_column(
                Text(title, justify="left" if n == 0 else "right"), key=key, width=width
            )
        for index, row in enumerate(rows):
            grid.add_row(*(self._cell(cell, n) for n, cell in enumerate(row)), key=str(index))

    @staticmethod
    def _cell(text: str, column: int) -> Text:
        return Text(text, justify="left" if column == 0 else "right")

    def place_cursor(self, data_table: DataTable[Any], row: int) -> None:
        if data_table.row_count:
            data_table.move_cursor(row=min(row, data_table.row_count - 1), animate=False)

    # ------------------------------------------------------------------ actions

    def change_view(self, view: ConsumptionView) -> None:
        if view != self.view:
            self.view = view
            self.reload()

    def action_shift(self, count: int) -> None:
        self.change_view(self.view.shifted(count))

    def action_next_step(self) -> None:
        self.change_view(self.view.next_step())

    def action_step(self, step: str) -> None:
        self.change_view(self.view.with_step(Step(step)))

    def action_next_energy(self) -> None:
        self.change_view(self.view.next_energy())

    def action_toggle_chart(self) -> None:
        self.change_view(self.view.toggle_chart())

    def today(self) -> date:
        """Today in the box's time zone, by the screen's clock."""
        return datetime.fromtimestamp(self.clock(), self.service.tz).date()

    def action_today(self) -> None:
        self.change_view(replace(self.view, anchor=self.today()))

    def action_switch(self, name: str) -> None:
        if name == self.NAME:
            return
        screen_class = self.app.screen_class(name)
        if screen_class is None:
            return
        if not issubclass(screen_class, ConsumptionScreen):
            raise TypeError(f"screen {name!r} is not a consumption screen")
        self.app.switch_screen(screen_class(view=self.view, clock=self.clock))
