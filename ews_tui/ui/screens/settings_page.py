"""The base of the server settings pages (``settings_network``, ``settings_modbus``, ...).

Not a screen of its own (no ``SCREEN``). A page lists its :class:`Setting` rows; Save
(Ctrl+S or F2) sends only what changed to the :class:`SettingsService`. Nothing is saved while
a value is wrong: the config's own message shows under its field. Pages whose change takes the
box off the line (network, RS485) ask for confirmation first, as the manual's "Save twice".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from ews_tui.config import Config, ConfigError, to_document
from ews_tui.i18n import N_, _
from ews_tui.services.settings import SettingsService
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.settings_form import Setting, SettingsForm

STYLES = Path(__file__).resolve().parent.parent / "styles"


class SettingsPage(EwsScreen[None]):
    """A page of box settings, saved through the SettingsService."""

    CSS_PATH = STYLES / "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), show=True, priority=True),
    ]
    TITLE_MSGID: ClassVar[str] = ""
    SETTINGS: ClassVar[tuple[Setting, ...]] = ()
    CONFIRM: ClassVar[str | None] = None  # msgid of the question asked before saving
    # on_mount focuses the first field once it holds its value (an Input selects its text
    # as it gets the focus); Textual's default would focus the scrolling body first,
    # restyling the whole page twice (issue 16).
    AUTO_FOCUS = ""

    def compose(self) -> ComposeResult:
        yield Static(_(self.TITLE_MSGID), classes="page-title")
        with VerticalScroll(classes="page-body"):
            yield from self.compose_before()
            # composed holding the config's values: filling it once mounted would style
            # and lay the page out again
            yield SettingsForm(self.SETTINGS, self.document(self.service.config), id="form")
            yield from self.compose_after()
            yield Static("", id="status")
        yield EwsFooter()

    def compose_before(self) -> ComposeResult:
        """Rows shown above the form (read-only facts)."""
        yield from ()

    def compose_after(self) -> ComposeResult:
        """Rows shown under the form."""
        yield from ()

    @property
    def service(self) -> SettingsService:
        return self.session.service(SettingsService)

    @property
    def form(self) -> SettingsForm:
        return self.query_one("#form", SettingsForm)

    def on_mount(self) -> None:
        self.reload()  # the form already holds these values: loading them again is cheap
        self.form.query("Input, Select, Switch").first().focus()

    def document(self, config: Config) -> Mapping[str, Any]:
        """The config document the form shows (as ``config.toml`` spells it)."""
        return to_document(config, self.service.base_dir)

    def reload(self) -> None:
        config = self.service.config
        self.form.load(self.document(config))
        self.show_config(config)

    def show_config(self, config: Config) -> None:
        """Refresh the read-only facts of the page (hook for subclasses)."""

    def set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(error, "-error")

    # ------------------------------------------------------------------ saving

    def action_save(self) -> None:
        changes = self.form.changes()
        if not changes:
            self.form.show_problems([])
            self.set_status(_("Nothing to save: no value changed."))
            return
        problems = self.service.problems(changes)
        self.form.show_problems(problems)
        if problems:
            self.set_status(_("Not saved: correct the values shown."), error=True)
            return
        if self.CONFIRM is None:
            self.run_worker(self.save(changes), exclusive=True, group="save")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self.save(changes), exclusive=True, group="save")

        self.app.push_screen(ConfirmScreen(_(self.CONFIRM), yes=N_("Save")), answered)

    async def save(self, changes: dict[str, Any]) -> None:
        try:
            config = await self.service.apply(changes)
        except ConfigError as error:
            self.form.show_problems(error.problems)
            self.set_status(_("Not saved: correct the values shown."), error=True)
            return
        self.form.show_problems([])
        self.reload()
        self.set_status(self.saved_message(config))

    def saved_message(self, config: Config) -> str:
        return _("Saved.")
