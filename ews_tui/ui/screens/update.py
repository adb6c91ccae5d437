"""Server settings > Update (manual §6, §7.10): the installed version, the update files in
reach, and installing one.

Update files are looked for in ``<data_dir>/updates/`` and on removable media (``update.media``);
each line says its version against the running one, or why it is refused (not signed, wrong
signature, damaged). Enter on a newer one asks once, then starts the install: the box
restarts on the new version, and goes back by itself if that one does not report healthy.
An older one asks twice (a downgrade). The last update's outcome shows at the top.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ews_tui.domain.messages import Message
from ews_tui.i18n import N_, _
from ews_tui.services.update import FoundBundle, UpdateService, outcome_text
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.widgets.footer import EwsFooter


def bundle_line(found: FoundBundle) -> str:
    """One line of the list: version, how it compares, file name (or why it is refused)."""
    name = found.path.name
    if found.bundle is None or found.problem is not None:
        if found.problem is None:
            return name
        # The refusal names the file by its path: here its name is enough.
        problem = Message(found.problem.msgid, {**found.problem.params, "path": name})
        return _("Refused: {problem}").format(problem=problem.render(_))
    words = {1: N_("newer"), 0: N_("installed"), -1: N_("older")}
    return f"{found.bundle.version:<10} {_(words[found.order]):<14} {name}"


class UpdateScreen(EwsScreen[None]):
    DEFAULT_CSS = """
    UpdateScreen #update-list { height: 1fr; border: round $primary; }
    UpdateScreen .page-fact { height: auto; }
    UpdateScreen #update-last.-error, UpdateScreen #status.-error { color: $error; }
    UpdateScreen #status { height: auto; min-height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "refresh", N_("Look again"), show=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._found: list[FoundBundle] = []

    def compose(self) -> ComposeResult:
        yield Static(_("Update"), id="title", classes="screen-title")
        yield Static("", id="update-installed", classes="page-fact")
        yield Static("", id="update-last", classes="page-fact")
        yield Static(_("Update files (data dir's updates folder, USB media):"), classes="page-fact")
        yield OptionList(id="update-list")
        yield Static("", id="status")
        yield EwsFooter()

    @property
    def updates(self) -> UpdateService:
        return self.session.service(UpdateService)

    def on_mount(self) -> None:
        self.query_one("#update-installed", Static).update(
            _("Installed version: {version}").format(version=self.updates.running_version)
        )
        self.action_refresh()

    def set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(error, "-error")

    def action_refresh(self) -> None:
        self.run_worker(self._refresh(), exclusive=True, group="list")

    async def _refresh(self) -> None:
        last = await self.updates.last()
        widget = self.query_one("#update-last", Static)
        widget.update(outcome_text(last) if last is not None else "")
        widget.set_class(last is not None and not last.ok, "-error")
        try:
            self._found = await self.updates.find()
        except OSError as error:
            self.set_status(
                _("Cannot look for update files: {reason}").format(reason=error), error=True
            )
            return
        listing = self.query_one("#update-list", OptionList)
        listing.clear_options()
        listing.add_options(
            Option(bundle_line(found), id=f"u{index}", disabled=found.bundle is None)
            for index, found in enumerate(self._found)
        )
        if not self._found:
            self.set_status(
                _("No update file found. Copy one into the updates folder or plug in a USB stick.")
            )
        else:
            self.set_status(_("Enter: install the chosen update file."))
            listing.focus()

    @on(OptionList.OptionSelected, "#update-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        found = self._found[event.option_index]
        if found.bundle is None:
            return
        running = self.updates.running_version
        version = found.bundle.version
        if found.order == 0:
            self.set_status(_("Version {version} is already installed.").format(version=version))
            return
        if found.order > 0:
            question = _("Install version {version} (installed: {running})? The box restarts.")
            self.app.push_screen(
                ConfirmScreen(question.format(version=version, running=running), yes=N_("Install")),
                lambda yes: self._install(found) if yes else None,
            )
            return
        first = _("Version {version} is OLDER than the installed {running}. Downgrade?")
        second = _(
            "Really go back to version {version}? Its database may be older: settings "
            "made since can be lost."
        )

        def again(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(
                    ConfirmScreen(second.format(version=version), yes=N_("Downgrade")),
                    lambda sure: self._install(found) if sure else None,
                )

        self.app.push_screen(
            ConfirmScreen(first.format(version=version, running=running), yes=N_("Downgrade")),
            again,
        )

    def _install(self, found: FoundBundle) -> None:
        self.set_status(_("Starting the update..."))
        self.run_worker(self._start(found), exclusive=True, group="install")

    async def _start(self, found: FoundBundle) -> None:
        result = await self.updates.install(found)
        if result.ok:
            self.set_status(
                _("Update to {version} started: the box restarts in a moment.").format(
                    version=found.version
                )
            )
        else:
            self.set_status(
                _("Cannot start the update: {reason}").format(reason=result.reason.render(_)),
                error=True,
            )


SCREEN = UpdateScreen
