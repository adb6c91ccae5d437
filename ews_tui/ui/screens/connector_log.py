"""Server settings > Connector, page 3 of 3: « Journal » (manual §7.12).

The newest transfers first: when each started, how it sent (SFTP, SCP, or
SCP over SFTP), how many files and bytes, and its result in plain words ("server
unreachable", "authentication refused", "host key changed"...). The line under the list
says everything of the highlighted run: when it started and ended, where it sent, what it
sent before a failure. The list follows the transfers as they end (the
scheduler's, another session's Send now). F5 sends now; F7 and F8 open the other pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from ews_tui.domain.connector import ConnectorFailed, ConnectorSent, method_label
from ews_tui.i18n import N_, _
from ews_tui.services.connector import ConnectorService
from ews_tui.services.settings import SettingsService
from ews_tui.store.connector_repo import Transfer
from ews_tui.ui.alarm_text import when_text
from ews_tui.ui.follow import while_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.connector_pages import (
    PAGE_BINDINGS,
    PageTabs,
    detail_text,
    result_text,
    sent_status,
    size_text,
    switch_page,
)
from ews_tui.ui.widgets.footer import EwsFooter

STYLES = Path(__file__).resolve().parent.parent / "styles"
LOG_LINES = 100
#: (key, header msgid, width) of the list's columns; the result takes what is left of 80.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("started", N_("Started"), 11),
    ("mode", N_("Mode"), 13),
    ("files", N_("Files"), 8),
    ("bytes", N_("Bytes"), 10),
    ("result", N_("Result"), 23),
)


class ConnectorLogScreen(EwsScreen[None]):
    PAGE: ClassVar[str] = "connector_log"
    CSS_PATH = STYLES / "settings.tcss"
    DEFAULT_CSS = """
    ConnectorLogScreen #connector-log { height: 1fr; margin: 1 1 0 1; }
    ConnectorLogScreen #log-detail { height: 3; padding: 0 1; margin-top: 1; }
    ConnectorLogScreen #status { padding: 0 1; margin-top: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "send_now", N_("Send now"), show=True, priority=True),
        *PAGE_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[Transfer] = []

    def compose(self) -> ComposeResult:
        yield Static(_("Connector"), classes="page-title")
        yield PageTabs(self.PAGE)
        yield DataTable(id="connector-log", cursor_type="row", zebra_stripes=False)
        yield Static("", id="log-detail")
        yield Static("", id="status")
        yield EwsFooter()

    @property
    def connector(self) -> ConnectorService:
        return self.session.service(ConnectorService)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.session.service(SettingsService).config.time.timezone)

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#connector-log", DataTable)

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.table.add_column(_(label), key=key, width=width)
        self.table.focus()
        self.run_worker(self.show_log(), group="facts")
        self.run_worker(self._follow(), exclusive=True, group="follow")

    async def _follow(self) -> None:
        with self.session.hub.subscribe(
            ConnectorSent, ConnectorFailed, maxsize=8, name="connector-log"
        ) as events:
            async for _event in while_shown(self, events):
                await self.show_log()

    async def show_log(self) -> None:
        self.lines = await self.connector.log_lines(LOG_LINES)
        table = self.table
        row = table.cursor_row
        table.clear()
        tz = self.tz
        for index, line in enumerate(self.lines):
            table.add_row(
                when_text(line.started, tz),
                _(method_label(line.mode)),
                str(line.files),
                size_text(line.size),
                result_text(line),
                key=str(index),
            )
        if self.lines:
            table.move_cursor(row=min(row, len(self.lines) - 1))
        self._show_detail(table.cursor_row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    def _show_detail(self, row: int) -> None:
        detail = self.query_one("#log-detail", Static)
        if not self.lines:
            detail.update(_("No transfer yet."))
        elif 0 <= row < len(self.lines):
            detail.update(detail_text(self.lines[row], self.tz))

    def set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(error, "-error")

    def action_page(self, name: str) -> None:
        switch_page(self.app, self.PAGE, name)

    def action_send_now(self) -> None:
        self.set_status(_("Sending..."))
        self.run_worker(self._send_now(), exclusive=True, group="send")

    async def _send_now(self) -> None:
        line = await self.connector.send_now()
        text, error = sent_status(line)
        self.set_status(text, error=error)
        await self.show_log()


SCREEN = ConnectorLogScreen
