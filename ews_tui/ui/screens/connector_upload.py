"""Server settings > Connector, page 2 of 3: « Paramétrage chargement » (manual §7.12).

What is sent, where, and when: the source folders (empty: all; otherwise a comma-separated
list, an unknown name refused with the valid ones), the destination relative to the remote
home (keywords ``%date``, ``%jour``, ``%dow``, ``%heure``; SCP adds ``.zip``) and the schedule
(a day: ``*``, ``mon``..``sun`` or 1..31; an hour: ``*`` or 0..23; minutes always :00). The
page says when the next transfer runs. Save (Ctrl+S or F2); F5 « Envoyer maintenant » sends
at once with the saved settings. F7 and F9 open the server settings and the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ews_tui.config import Config, to_document
from ews_tui.i18n import N_, _
from ews_tui.services.connector import ConnectorService
from ews_tui.ui.screens.connector import PAGE_CSS
from ews_tui.ui.screens.connector_pages import (
    PAGE_BINDINGS,
    PageTabs,
    next_run_text,
    sent_status,
    switch_page,
)
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting


class ConnectorUploadScreen(SettingsPage):
    PAGE: ClassVar[str] = "connector_upload"
    CSS = PAGE_CSS.format(name="ConnectorUploadScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), show=True, priority=True),
        Binding("f5", "send_now", N_("Send now"), show=True, priority=True),
        *PAGE_BINDINGS,
    ]
    TITLE_MSGID = N_("Connector")
    SETTINGS = (
        Setting("connector.sources", N_("Source folders")),
        Setting("connector.destination", N_("Destination")),
        Setting("connector.day", N_("Day (*, mon..sun, 1..31)")),
        Setting("connector.hour", N_("Hour (*, 0..23)")),
    )

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield widget
            if widget.has_class("page-title"):
                yield PageTabs(self.PAGE)

    def compose_after(self) -> ComposeResult:
        yield Static(
            _(
                "Source folders: empty for all (energy, measures, events, eqcheck), or a list "
                "such as: energy, events. Destination: a path in the remote home; keywords "
                "%date (yyyyMMddHHmm), %jour (01-31), %dow (mon..sun), %heure (00-23). SFTP "
                "keeps that folder in step; SCP sends one zip of that name."
            ),
            classes="page-fact",
        )
        yield Static("", id="next-run", classes="page-fact")

    @property
    def connector(self) -> ConnectorService:
        return self.session.service(ConnectorService)

    def action_page(self, name: str) -> None:
        switch_page(self.app, self.PAGE, name)

    def document(self, config: Config) -> Mapping[str, Any]:
        doc = to_document(config, self.service.base_dir)
        connector = dict(doc["connector"])
        connector["sources"] = ", ".join(connector["sources"])
        # Text fields: compared as text with what is typed (an hour 0 is "0").
        connector["day"], connector["hour"] = str(connector["day"]), str(connector["hour"])
        return {"connector": connector}

    def show_config(self, config: Config) -> None:
        tz = ZoneInfo(config.time.timezone)
        self.query_one("#next-run", Static).update(
            next_run_text(self.connector.next_scheduled(), tz)
        )

    def saved_message(self, config: Config) -> str:
        return _("Saved. The next transfer uses these settings.")

    def action_send_now(self) -> None:
        self.set_status(_("Sending..."))
        self.run_worker(self._send_now(), exclusive=True, group="send")

    async def _send_now(self) -> None:
        line = await self.connector.send_now()
        text, error = sent_status(line)
        self.set_status(text, error=error)


SCREEN = ConnectorUploadScreen
