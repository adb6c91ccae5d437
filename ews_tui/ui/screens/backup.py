"""Server settings > Backup: the nightly backup's settings, "Create backup now", the list.

The box backs itself up every night into ``<data_dir>/backups`` (databases, config, user
device models), keeping the newest ``backup.keep`` nightly files; F5 makes one now, while
the box goes on polling and recording. Restoring needs the box stopped, so it is done from
a shell (``ews backup restore FILE``); the page says so. The last outcome shows on the page,
a failed one in red (and the nightly one also on the home screen's status line).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ews_tui.config import Config
from ews_tui.i18n import N_, _, babel_locale, ngettext
from ews_tui.services.backup import BackupOutcome, BackupService
from ews_tui.store.backup import BackupInfo
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting

LIST_LINES = 12

KINDS = {
    "nightly": N_("nightly"),
    "manual": N_("by hand"),
    "before-restore": N_("before a restore"),
    "other": N_("other"),
}


def size_text(size: int) -> str:
    """``1.4 MB`` (``640 kB`` under a megabyte) in the session's number format."""
    if size < 1_000_000:
        kilobytes = format_decimal(max(1, round(size / 1000)), locale=babel_locale())
        return _("{size} kB").format(size=kilobytes)
    megabytes = format_decimal(round(size / 1_000_000, 1), "#,##0.0", locale=babel_locale())
    return _("{size} MB").format(size=megabytes)


def backup_line(info: BackupInfo, tz: ZoneInfo) -> str:
    when = datetime.fromtimestamp(info.mtime, tz).strftime("%Y-%m-%d %H:%M")
    kind = _(KINDS.get(info.kind, KINDS["other"]))
    return f"{when} {size_text(info.size):>9} {info.path.name} {kind}"


def outcome_text(outcome: BackupOutcome, tz: ZoneInfo) -> str:
    when = datetime.fromtimestamp(outcome.at, tz).strftime("%Y-%m-%d %H:%M")
    if outcome.problem is not None:
        return _("Backup of {when} failed: {problem}").format(
            when=when, problem=outcome.problem.render(_)
        )
    name = outcome.path.name if outcome.path is not None else ""
    return _("Backup of {when} written: {name}").format(when=when, name=name)


class BackupScreen(SettingsPage):
    DEFAULT_CSS = """
    BackupScreen .section-title { height: 1; margin-top: 1; text-style: bold; }
    BackupScreen #backup-list { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), show=True, priority=True),
        Binding("f5", "create_now", N_("Create backup now"), show=True, priority=True),
    ]
    TITLE_MSGID = N_("Backup")
    SETTINGS = (
        Setting("backup.nightly", N_("Nightly backup"), "switch"),
        Setting("backup.hour", N_("At (hour, 0..23)"), "number", suffix=N_("h")),
        Setting("backup.keep", N_("Nightly backups kept"), "number"),
    )

    def compose_before(self) -> ComposeResult:
        yield Static("", id="backup-folder", classes="page-fact")

    def compose_after(self) -> ComposeResult:
        yield Static("", id="backup-last", classes="page-fact")
        yield Static(_("Backups"), classes="section-title")
        yield Static("", id="backup-list")
        yield Static(
            _(
                "Restoring needs the box stopped: on its shell, run ews backup restore FILE "
                "(ews backup restore --undo brings back the state before)."
            ),
            classes="page-fact",
        )

    @property
    def backups(self) -> BackupService:
        return self.session.service(BackupService)

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.service.config.time.timezone)

    def show_config(self, config: Config) -> None:
        self.query_one("#backup-folder", Static).update(
            _(
                "Backups are kept in the backups folder of the data dir: the databases, "
                "the settings and the device models."
            )
        )
        self.show_last()
        self.run_worker(self.show_list(), group="list")

    def show_last(self) -> None:
        """The last nightly backup's outcome (one made here shows in the status line)."""
        last = self.backups.last
        nightly = last if last is not None and last.nightly else None
        widget = self.query_one("#backup-last", Static)
        text = outcome_text(nightly, self._tz()) if nightly is not None else ""
        widget.update(_("Last nightly backup: {outcome}").format(outcome=text) if text else "")
        widget.set_class(nightly is not None and not nightly.ok, "-warning")

    async def show_list(self) -> None:
        listing = self.query_one("#backup-list", Static)
        try:
            found = await self.backups.backups()
        except OSError as error:
            reason = error.strerror or str(error)
            listing.update(_("Cannot list the backups: {reason}").format(reason=reason))
            return
        tz = self._tz()
        lines = [backup_line(info, tz) for info in found[:LIST_LINES]]
        if len(found) > LIST_LINES:
            more = len(found) - LIST_LINES
            lines.append(
                ngettext("... and {count} more", "... and {count} more", more).format(count=more)
            )
        listing.update("\n".join(lines) if lines else _("No backup yet."))

    def saved_message(self, config: Config) -> str:
        return _("Saved. The next nightly backup follows these settings.")

    def action_create_now(self) -> None:
        self.set_status(_("Writing the backup..."))
        self.run_worker(self._create_now(), exclusive=True, group="create")

    async def _create_now(self) -> None:
        outcome = await self.backups.create_now()
        text = outcome_text(outcome, self._tz())
        self.set_status(text, error=not outcome.ok)
        self.show_last()
        await self.show_list()


SCREEN = BackupScreen
