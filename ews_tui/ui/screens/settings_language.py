"""Server settings > Language (manual §7.11.1): the box's default language.

Each session keeps the language it chose at login; the default applies from the next login.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ews_tui.config import Config
from ews_tui.i18n import LANGUAGES, N_, _
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting


class LanguageSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("Language")
    SETTINGS = (
        Setting(
            "language",
            N_("Default language"),
            "select",
            tuple((name, code) for code, name in LANGUAGES.items()),
            native=True,
        ),
    )

    def compose_after(self) -> ComposeResult:
        yield Static(
            _("The language changes at the next login. It does not change this session's."),
            classes="page-fact",
        )

    def saved_message(self, config: Config) -> str:
        return _("Saved. New sessions open in {language}.").format(
            language=LANGUAGES[config.language]
        )


SCREEN = LanguageSettingsScreen
