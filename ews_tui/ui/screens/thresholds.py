"""Alarm thresholds: alarms on any live quantity of a device, a circuit, a zone or the site.

Opened from the Alarms screen (``T``). Each row: the name, what it watches, the rule
(``p > 80``, with its hysteresis), the delay, the severity and whether it is on. The System
configuration role (the installer) adds (``a``), edits (Enter) and deletes (Delete, confirmed)
them; the other roles see the list. The site is what its consumption total counts (the
devices not marked "Exclude from totals"); a circuit or a zone adds up its devices.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, DataTable, Input, Label, Select, Static

from ews_tui.domain.alarm_sources import TARGET_KINDS, TargetKind, Threshold
from ews_tui.domain.alarms import Severity
from ews_tui.domain.auth import Role
from ews_tui.domain.installation import Installation
from ews_tui.i18n import N_, _
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.installation import InstallationService
from ews_tui.ui.alarm_text import severity_text
from ews_tui.ui.screen import EwsModalScreen, EwsScreen
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.ticks import TickBox

STYLES = Path(__file__).resolve().parent.parent / "styles"
KIND_WORDS: dict[str, str] = {
    "device": N_("Device"),
    "circuit": N_("Circuit"),
    "zone": N_("Zone"),
    "site": N_("Site"),
}


def may_edit(role: Role | None) -> bool:
    """The installer's role (System configuration) edits the thresholds."""
    return role is Role.SYSTEM


def target_text(t: Threshold, inst: Installation) -> str:
    """``Site``, ``Device: Main meter``, ``Zone: #4`` (an object since deleted)."""
    kind = _(KIND_WORDS[t.target_kind])
    if t.target_kind == "site" or t.target_id is None:
        return kind
    return f"{kind}: {dict(targets(inst, t.target_kind)).get(t.target_id, f'#{t.target_id}')}"


def targets(inst: Installation, kind: str) -> list[tuple[int, str]]:
    """The objects a threshold of ``kind`` may watch: (id, name)."""
    if kind == "device":
        return [(d.id, d.display_name()) for d in inst.devices]
    if kind == "circuit":
        return [(c.id, c.name) for c in inst.circuits]
    if kind == "zone":
        return [(z.id, z.name) for z in inst.zones]
    return []


def rule_text(t: Threshold) -> str:
    text = t.text()
    return f"{text} ±{t.hysteresis:g}" if t.hysteresis else text


TEXT_COLUMNS = (("name", N_("Name"), 14), ("target", N_("Watches"), 18), ("rule", N_("Rule"), 15))
SHORT_COLUMNS = (("delay", N_("Delay"), 6), ("severity", N_("Severity"), 10), ("on", N_("On"), 3))


def table_columns(width: int) -> list[tuple[str, str, int]]:
    """The table's columns ``(key, title, width)`` in ``width`` cells: the short ones as
    wide as their title needs, the name, target and rule share the rest (a title longer
    than its column would be cut, and the last column pushed off an 80-column console)."""
    columns = TEXT_COLUMNS + SHORT_COLUMNS
    room = width - 2 * len(columns) - 2  # each cell's padding, the scroll bar
    short = [(key, _(label), max(size, len(_(label)))) for key, label, size in SHORT_COLUMNS]
    room -= sum(size for _key, _label, size in short)
    wanted = sum(size for _key, _label, size in TEXT_COLUMNS)
    text = [
        (key, _(label), max(len(_(label)), size * room // wanted))
        for key, label, size in TEXT_COLUMNS
    ]
    return text + short


class ThresholdsScreen(EwsScreen[None]):
    CSS_PATH = STYLES / "alarms.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", N_("Add")),
        Binding("enter", "edit", N_("Edit")),
        Binding("delete", "delete", N_("Delete")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[Threshold] = []

    @property
    def engine(self) -> AlarmEngine:
        return self.session.service(AlarmEngine)

    @property
    def installation(self) -> Installation:
        return self.session.service(InstallationService).current

    def compose(self) -> ComposeResult:
        yield Static(_("Alarm thresholds"), classes="page-title")
        yield DataTable(id="thresholds-table", cursor_type="row")
        yield Static(id="thresholds-status")
        yield EwsFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#thresholds-table", DataTable)
        for key, label, width in table_columns(self.app.size.width):
            table.add_column(label, key=key, width=width)
        table.focus()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "edit", "delete"):
            return may_edit(self.session.role)
        return True

    @work(exclusive=True, group="thresholds-load")
    async def reload(self) -> None:
        self.shown = await self.engine.thresholds()
        inst = self.installation
        table = self.query_one("#thresholds-table", DataTable)
        keep = table.cursor_row
        table.clear()
        for t in self.shown:
            table.add_row(
                Text(t.name),
                Text(target_text(t, inst)),
                Text(rule_text(t)),
                Text(f"{t.delay_s:g} s"),
                Text(severity_text(t.severity)),
                Text("✓" if t.enabled else "—"),
                key=str(t.id),
            )
        if self.shown:
            table.move_cursor(row=min(keep, len(self.shown) - 1))
        if not self.shown:
            self._status(_("No threshold yet."))
        elif not may_edit(self.session.role):
            self._status(_("Thresholds are edited by the System configuration role."))
        else:
            self._status(_("a add · Enter edit · Delete delete"))

    def _status(self, text: str) -> None:
        self.query_one("#thresholds-status", Static).update(text)

    def highlighted(self) -> Threshold | None:
        row = self.query_one("#thresholds-table", DataTable).cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def _form(self, threshold: Threshold | None) -> ThresholdForm:
        taken = {t.name for t in self.shown if threshold is None or t.id != threshold.id}
        return ThresholdForm(threshold, self.installation, taken)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if may_edit(self.session.role):
            self.action_edit()

    def action_add(self) -> None:
        self.app.push_screen(self._form(None), self._answered)

    def action_edit(self) -> None:
        found = self.highlighted()
        if found is not None:
            self.app.push_screen(self._form(found), self._answered)

    def action_delete(self) -> None:
        found = self.highlighted()
        if found is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(found)

        question = _("Delete the threshold {name}?").format(name=found.name)
        self.app.push_screen(ConfirmScreen(question), answered)

    def _answered(self, threshold: Threshold | None) -> None:
        self._save(threshold)

    @work(group="thresholds-save")
    async def _save(self, threshold: Threshold | None) -> None:
        if threshold is None:
            return
        saved = await self.engine.save_threshold(threshold)  # by name: a renamed one is new
        if threshold.id and saved.id != threshold.id:
            await self.engine.delete_threshold(threshold.id)
        self.notify(_("Threshold {name} saved.").format(name=saved.name))
        self.reload()

    @work(group="thresholds-save")
    async def _delete(self, threshold: Threshold) -> None:
        await self.engine.delete_threshold(threshold.id)
        self.notify(_("Threshold {name} deleted.").format(name=threshold.name))
        self.reload()


class ThresholdForm(EwsModalScreen[Threshold | None]):
    """Add or edit one threshold; dismissed with it, or None when cancelled."""

    CSS_PATH = STYLES / "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "ok", N_("OK"), show=True, priority=True),
        Binding("escape", "cancel", N_("Cancel"), show=True),
    ]
    DEFAULT_CSS = """
    ThresholdForm { align: center middle; }
    ThresholdForm > Vertical { width: 76; height: auto; max-height: 22; border: round $primary;
        background: $surface; padding: 0 1; }
    ThresholdForm #thr-error { color: $text-error; height: auto; }
    """

    def __init__(
        self, threshold: Threshold | None, installation: Installation, taken: set[str]
    ) -> None:
        super().__init__()
        self.threshold = threshold or Threshold(0, "", "site", None, "p", ">", 0.0)
        self.installation = installation
        self.taken = taken  # the other thresholds' names

    def compose(self) -> ComposeResult:
        t = self.threshold
        with Vertical():
            yield from self._row(_("Name"), Input(t.name, id="thr-name", compact=True))
            kinds = [(_(KIND_WORDS[k]), k) for k in TARGET_KINDS]
            yield from self._row(
                _("Watches"),
                Select(kinds, value=t.target_kind, allow_blank=False, id="thr-kind", compact=True),
            )
            objects = [(name, i) for i, name in targets(self.installation, t.target_kind)]
            yield from self._row(
                _("Object"),
                Select(
                    objects,
                    value=t.target_id if t.target_id is not None else Select.NULL,
                    id="thr-target",
                    compact=True,
                ),
            )
            yield from self._row(_("Quantity"), Input(t.quantity, id="thr-quantity", compact=True))
            ops = [(_("above"), ">"), (_("below"), "<")]
            yield from self._row(
                _("Raised when"),
                Select(ops, value=t.op, allow_blank=False, id="thr-op", compact=True),
            )
            yield from self._row(_("Limit"), Input(f"{t.limit:g}", id="thr-limit", compact=True))
            yield from self._row(
                _("Hysteresis"), Input(f"{t.hysteresis:g}", id="thr-hysteresis", compact=True)
            )
            yield from self._row(
                _("Delay (s)"), Input(f"{t.delay_s:g}", id="thr-delay", compact=True)
            )
            severities = [(severity_text(s), s.key) for s in Severity]
            yield from self._row(
                _("Severity"),
                Select(
                    severities,
                    value=t.severity.key,
                    allow_blank=False,
                    id="thr-severity",
                    compact=True,
                ),
            )
            yield TickBox(_("On"), t.enabled, id="thr-enabled", compact=True)
            yield Static(id="thr-error")
            yield EwsFooter(compact=True)

    def _row(self, label: str, widget: Input | Select[str] | Select[int]) -> ComposeResult:
        with Horizontal(classes="setting-row"):
            yield Label(label, classes="setting-label")
            yield widget

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "thr-kind":
            return
        kind = str(event.value)
        target = self.query_one("#thr-target", Select)
        target.set_options([(name, i) for i, name in targets(self.installation, kind)])
        target.disabled = kind == "site"

    def on_mount(self) -> None:
        self.query_one("#thr-target", Select).disabled = self.threshold.target_kind == "site"
        self.query_one("#thr-name", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_ok(self) -> None:
        made = self.read()
        if isinstance(made, Threshold):
            self.dismiss(made)
        else:
            self.query_one("#thr-error", Static).update(made)

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def read(self) -> Threshold | str:
        """The threshold the form says, or what is wrong with it (translated)."""
        name = self._text("thr-name")
        if not name or len(name) > 64 or not name.isprintable():
            return _("a threshold name is 1 to 64 printable characters")
        if name in self.taken:
            return _("A threshold named {name} exists already.").format(name=name)
        kind_value = self.query_one("#thr-kind", Select).value
        kind: TargetKind = "site"
        for known in ("device", "circuit", "zone"):
            if kind_value == known:
                kind = known
        target: int | None = None
        if kind != "site":
            chosen = self.query_one("#thr-target", Select).value
            if not isinstance(chosen, int):
                return _("Choose the object the threshold watches.")
            target = chosen
        quantity = self._text("thr-quantity")
        if not quantity or not quantity.replace("_", "").isalnum():
            return _("{value} is not a quantity id").format(value=quantity)
        try:
            limit, hysteresis, delay = (
                float(self._text(w).replace(",", "."))
                for w in ("thr-limit", "thr-hysteresis", "thr-delay")
            )
        except ValueError:
            return _("the limit must be a number, hysteresis and delay not negative")
        op: Literal[">", "<"] = "<" if self.query_one("#thr-op", Select).value == "<" else ">"
        severity = Severity.from_key(str(self.query_one("#thr-severity", Select).value))
        if not all(math.isfinite(v) for v in (limit, hysteresis, delay)):
            return _("the limit must be a number, hysteresis and delay not negative")
        try:
            return Threshold(
                self.threshold.id,
                name,
                kind,
                target,
                quantity,
                op,
                limit,
                hysteresis=hysteresis,
                delay_s=delay,
                severity=severity,
                enabled=self.query_one("#thr-enabled", Checkbox).value,
            )
        except ValueError:
            return _("the limit must be a number, hysteresis and delay not negative")


SCREEN = ThresholdsScreen
