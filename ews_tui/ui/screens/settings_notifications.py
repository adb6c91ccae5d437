"""E-mail and notifications > Notification settings: which events mail, and to whom.

Per event type: mail or not (Space), and the lowest severity that mails (``s`` cycles
Information, Warning, Critical). Recipients: an address, the language of its mails (one of
the 13) and the event types it gets (none ticked: all of them); ``a`` adds one, Enter edits
the one under the cursor, Delete removes it. The site's name heads every subject; at most one
mail per recipient per interval, what happens in between goes into the next mail. Ctrl+S
saves all of it in the store (checked first: a refusal names the field).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Select, SelectionList, Static

from ews_tui.domain.notifications import (
    EVENT_TYPES,
    EventRule,
    NotificationError,
    NotificationSettings,
    Recipient,
    Severity,
    check_settings,
)
from ews_tui.i18n import LANGUAGES, N_, _
from ews_tui.services.mailer import Mailer
from ews_tui.ui.screen import EwsModalScreen, EwsScreen
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.ticks import TickList

STYLES = Path(__file__).resolve().parent.parent / "styles"
SEVERITIES = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def types_text(recipient: Recipient) -> str:
    if not recipient.event_types:
        return _("all")
    return ", ".join(_(t.label) for t in EVENT_TYPES if t.id in recipient.event_types)


class RecipientForm(EwsModalScreen[Recipient | None]):
    """Add or edit one recipient; dismissed with the recipient, or None when cancelled."""

    CSS_PATH = STYLES / "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "ok", N_("OK"), show=True, priority=True),
        Binding("escape", "cancel", N_("Cancel"), show=True),
    ]
    DEFAULT_CSS = """
    RecipientForm { align: center middle; }
    RecipientForm > Vertical { width: 76; height: auto; max-height: 22; border: round $primary;
        background: $surface; padding: 0 1; }
    RecipientForm SelectionList { height: 9; }
    """

    def __init__(self, recipient: Recipient | None) -> None:
        super().__init__()
        self.recipient = recipient or Recipient("", "en")

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal(classes="setting-row"):
                yield Label(_("Address"), classes="setting-label")
                yield Input(self.recipient.address, id="rcpt-address", compact=True)
            with Horizontal(classes="setting-row"):
                yield Label(_("Language"), classes="setting-label")
                yield Select(
                    [(name, code) for code, name in LANGUAGES.items()],
                    value=self.recipient.language,
                    allow_blank=False,
                    id="rcpt-language",
                    compact=True,
                )
            yield Label(_("Event types it gets (none ticked: all)"))
            yield TickList[str](
                *((_(t.label), t.id, t.id in self.recipient.event_types) for t in EVENT_TYPES),
                id="rcpt-types",
            )
            yield Static("", id="rcpt-error", classes="setting-error -empty")
            with Horizontal(classes="setting-row"):
                yield Button(_("OK"), id="rcpt-ok", compact=True)
                yield Button(_("Cancel"), id="rcpt-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#rcpt-address", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rcpt-ok":
            self.action_ok()
        else:
            self.action_cancel()

    def action_ok(self) -> None:
        language = self.query_one("#rcpt-language", Select).value
        recipient = Recipient(
            self.query_one("#rcpt-address", Input).value.strip(),
            language if isinstance(language, str) else "en",
            frozenset(self.query_one("#rcpt-types", SelectionList).selected),
        )
        problems = check_settings(NotificationSettings(recipients=(recipient,)))
        if problems:
            error = self.query_one("#rcpt-error", Static)
            error.update(problems[0].message.render(_))
            error.set_class(False, "-empty")
            return
        self.dismiss(recipient)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NotificationSettingsScreen(EwsScreen[None]):
    CSS_PATH = STYLES / "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), show=True, priority=True),
        Binding("space", "toggle_mail", N_("Mail on/off"), show=True),
        Binding("s", "cycle_severity", N_("Severity"), show=True),
        Binding("a", "add", N_("Add recipient"), show=True),
        Binding("delete", "remove", N_("Remove"), show=True),
    ]
    DEFAULT_CSS = """
    NotificationSettingsScreen DataTable { height: auto; max-height: 12; margin-top: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.settings = NotificationSettings()

    def compose(self) -> ComposeResult:
        yield Static(_("Notification settings"), classes="page-title")
        with VerticalScroll(classes="page-body"):
            with Horizontal(classes="setting-row"):
                yield Label(_("Site name (in subjects)"), classes="setting-label")
                yield Input(id="notify-site", compact=True)
            yield Static("", id="notify-site-error", classes="setting-error -empty")
            with Horizontal(classes="setting-row"):
                yield Label(_("One mail at most every"), classes="setting-label")
                yield Input(id="notify-digest", compact=True)
                yield Label(_("min"), classes="setting-suffix")
            yield Static("", id="notify-digest-error", classes="setting-error -empty")
            yield DataTable(id="notify-types", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="notify-recipients", cursor_type="row", zebra_stripes=True)
            yield Static("", id="notify-recipients-error", classes="setting-error -empty")
            yield Static(
                _(
                    "Space: mail on/off. s: lowest severity that mails. a: add a recipient, "
                    "Enter: edit it, Delete: remove it."
                ),
                classes="page-fact",
            )
            yield Static("", id="status")
        yield EwsFooter()

    @property
    def mailer(self) -> Mailer:
        return self.session.service(Mailer)

    def on_mount(self) -> None:
        types = self.query_one("#notify-types", DataTable)
        types.add_columns(_("Event type"), _("Mail"), _("Lowest severity"))
        recipients = self.query_one("#notify-recipients", DataTable)
        recipients.add_columns(_("Recipient"), _("Language"), _("Event types"))
        self.run_worker(self._load(), exclusive=True, group="load")

    async def _load(self) -> None:
        self.settings = await self.mailer.notification_settings()
        self.query_one("#notify-site", Input).value = self.settings.site_name
        self.query_one("#notify-digest", Input).value = str(self.settings.digest_minutes)
        self._show_types()
        self._show_recipients()
        self.query_one("#notify-types", DataTable).focus()

    def _show_types(self) -> None:
        table = self.query_one("#notify-types", DataTable)
        row = table.cursor_row
        table.clear()
        for event in EVENT_TYPES:
            rule = self.settings.rule(event.id)
            table.add_row(
                _(event.label), yes_no(rule.mail), _(rule.min_severity.label), key=event.id
            )
        if row:
            table.move_cursor(row=row)

    def _show_recipients(self) -> None:
        table = self.query_one("#notify-recipients", DataTable)
        row = table.cursor_row
        table.clear()
        for n, recipient in enumerate(self.settings.recipients):
            table.add_row(
                recipient.address,
                LANGUAGES.get(recipient.language, recipient.language),
                types_text(recipient),
                key=str(n),
            )
        if not self.settings.recipients:
            # The hint below the table says how to add one: a hint as wide as the table
            # here pushed the other columns' headers off the 80 columns.
            table.add_row(_("(none)"), "", "", key="none")
        if row:
            table.move_cursor(row=min(row, max(len(self.settings.recipients) - 1, 0)))

    # -- event types --------------------------------------------------------------------------

    def _focused_table(self) -> DataTable[str] | None:
        focused = self.focused
        return focused if isinstance(focused, DataTable) else None

    def _rule_under_cursor(self) -> tuple[str, EventRule] | None:
        table = self._focused_table()
        if table is None or table.id != "notify-types" or not table.row_count:
            return None
        type_id = EVENT_TYPES[table.cursor_row].id
        return type_id, self.settings.rule(type_id)

    def _set_rule(self, type_id: str, rule: EventRule) -> None:
        rules = dict(self.settings.rules)
        rules[type_id] = rule
        self.settings = replace(self.settings, rules=rules)
        self._show_types()

    def action_toggle_mail(self) -> None:
        found = self._rule_under_cursor()
        if found is not None:
            type_id, rule = found
            self._set_rule(type_id, replace(rule, mail=not rule.mail))

    def action_cycle_severity(self) -> None:
        found = self._rule_under_cursor()
        if found is not None:
            type_id, rule = found
            following = SEVERITIES[(SEVERITIES.index(rule.min_severity) + 1) % len(SEVERITIES)]
            self._set_rule(type_id, replace(rule, min_severity=following))

    # -- recipients ---------------------------------------------------------------------------

    def _recipient_index(self) -> int | None:
        table = self._focused_table()
        if table is None or table.id != "notify-recipients":
            return None
        index = table.cursor_row
        return index if 0 <= index < len(self.settings.recipients) else None

    def action_add(self) -> None:
        self._edit(None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "notify-recipients":
            index = self._recipient_index()
            self._edit(index)
        elif event.data_table.id == "notify-types":
            self.action_toggle_mail()

    def _edit(self, index: int | None) -> None:
        current = None if index is None else self.settings.recipients[index]

        def done(recipient: Recipient | None) -> None:
            if recipient is None:
                return
            recipients = list(self.settings.recipients)
            if index is None:
                recipients.append(recipient)
            else:
                recipients[index] = recipient
            self.settings = replace(self.settings, recipients=tuple(recipients))
            self._show_recipients()

        self.app.push_screen(RecipientForm(current), done)

    def action_remove(self) -> None:
        index = self._recipient_index()
        if index is None:
            return
        recipients = list(self.settings.recipients)
        del recipients[index]
        self.settings = replace(self.settings, recipients=tuple(recipients))
        self._show_recipients()

    # -- saving -------------------------------------------------------------------------------

    def _read_fields(self) -> NotificationSettings | None:
        digest_text = self.query_one("#notify-digest", Input).value.strip()
        self._show_error("notify-digest-error", "")
        if not (digest_text.isascii() and digest_text.isdigit()):
            self._show_error(
                "notify-digest-error",
                _("{value} is not a whole number of minutes").format(value=digest_text),
            )
            return None
        return replace(
            self.settings,
            site_name=self.query_one("#notify-site", Input).value.strip(),
            digest_minutes=int(digest_text),
        )

    def _show_error(self, dom_id: str, text: str) -> None:
        error = self.query_one(f"#{dom_id}", Static)
        error.update(text)
        error.set_class(not text, "-empty")

    def action_save(self) -> None:
        settings = self._read_fields()
        status = self.query_one("#status", Static)
        if settings is None:
            status.update(_("Not saved: correct the values shown."))
            status.set_class(True, "-error")
            return
        self.run_worker(self._save(settings), exclusive=True, group="save")

    async def _save(self, settings: NotificationSettings) -> None:
        status = self.query_one("#status", Static)
        for dom_id in ("notify-site-error", "notify-digest-error", "notify-recipients-error"):
            self._show_error(dom_id, "")
        try:
            await self.mailer.save_notification_settings(settings)
        except NotificationError as error:
            place = {"site_name": "notify-site-error", "digest_minutes": "notify-digest-error"}
            self._show_error(
                place.get(error.where, "notify-recipients-error"),
                f"{error.where}: {error.message.render(_)}"
                if error.where.startswith("recipients")
                else error.message.render(_),
            )
            status.update(_("Not saved: correct the values shown."))
            status.set_class(True, "-error")
            return
        self.settings = settings
        status.update(_("Saved."))
        status.set_class(False, "-error")


SCREEN = NotificationSettingsScreen
