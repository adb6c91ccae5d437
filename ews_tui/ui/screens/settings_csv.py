"""Server settings > CSV and other settings: the CSV folders and how long history is kept.

The box keeps one CSV file per local day in each folder of ``data_dir/csv`` (energy,
measures, events, eqcheck), which the Connector pushes. Whole days are written just after
midnight; today's files every ``refresh_minutes``. The store keeps its own history for
``retention`` days, whatever the folders keep. Changes apply at the CSV job's next turn and
at the recorder's next daily clean-up: no restart.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ews_tui.config import Config
from ews_tui.i18n import N_, _
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting


def folder_text(config: Config) -> str:
    return _("CSV folder: {path} in the data dir").format(path=config.csv.folder)


class CsvSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("CSV and other settings")
    SETTINGS = (
        Setting("csv.enabled", N_("Write the CSV folders"), "switch"),
        Setting("csv.refresh_minutes", N_("Today's files every"), "number", suffix=N_("min")),
        Setting("csv.keep_days", N_("Keep the files"), "number", suffix=N_("days")),
        Setting("retention.measures_days", N_("Keep 10-min measures"), "number", suffix=N_("days")),
        Setting("retention.energy_days", N_("Keep energy indexes"), "number", suffix=N_("days")),
    )

    def compose_before(self) -> ComposeResult:
        yield Static("", id="csv-folder", classes="page-fact")

    def compose_after(self) -> ComposeResult:
        yield Static(_("0 days: kept forever."), classes="page-fact")

    def show_config(self, config: Config) -> None:
        self.query_one("#csv-folder", Static).update(folder_text(config))

    def saved_message(self, config: Config) -> str:
        return _("Saved. The CSV job and the store follow at their next turn.")


SCREEN = CsvSettingsScreen
