"""The EN 50160 screen: per gateway with an EQ device, the last weeks' verdicts; Enter opens a
week's criteria (N, N1, N2, worst value, limit, verdict) and its harmonics.

Verdicts are a glyph *and* a word (✓ OK, ✕ KO, ? insufficient data, – not assessed), so they
read without colour on a 16-colour serial console. The check itself runs by itself each
Monday (:mod:`ews_tui.services.en50160`); this screen only reads what it stored.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from ews_tui.domain.en50160 import CriterionLine, Verdict, WeekReport, week_label
from ews_tui.domain.events import En50160Checked, InstallationChanged
from ews_tui.i18n import N_, _, babel_locale, ngettext
from ews_tui.services.en50160 import En50160Checker
from ews_tui.services.installation import InstallationService
from ews_tui.services.settings import SettingsService
from ews_tui.ui.en50160_text import verdict_text
from ews_tui.ui.follow import is_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.value_text import MISSING, value_text
from ews_tui.ui.widgets.footer import EwsFooter

STYLES = Path(__file__).resolve().parent.parent / "styles"
WEEKS_SHOWN = 26


def criterion_label(line: CriterionLine) -> str:
    return _(line.label).format(order=line.id[1:])


def limit_text(line: CriterionLine) -> str:
    unit = "" if not line.unit else f" {line.unit}"
    if line.low is None and line.high is not None:
        return f"≤ {value_text(line.high, line.unit)}{unit}"
    if line.low is not None and line.high is not None:
        return f"{value_text(line.low, line.unit)}–{value_text(line.high, line.unit)}{unit}"
    return MISSING


def worst_text(line: CriterionLine) -> str:
    return MISSING if line.worst is None else value_text(line.worst, line.unit)


def when_text(ts: int | None, tz: ZoneInfo) -> str:
    if ts is None:
        return MISSING
    moment, locale = datetime.fromtimestamp(ts, tz), babel_locale()
    day = format_skeleton("MMMEd", moment, locale=locale)
    return f"{day} {format_skeleton('Hm', moment, locale=locale)}"


class En50160Screen(EwsScreen[None]):
    """The last weeks' verdicts of every gateway's EQ device."""

    CSS_PATH = STYLES / "en50160.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.back", N_("Back")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.weeks: list[WeekReport] = []

    def compose(self) -> ComposeResult:
        yield Static(_("EN 50160: the weekly voltage quality check"), classes="page-title")
        yield Static("", id="en50160-summary")
        yield OptionList(id="en50160-weeks")
        yield Static(_("Enter: open the week · Esc: back"), id="en50160-keys")
        yield EwsFooter()

    def on_mount(self) -> None:
        self.query_one("#en50160-weeks", OptionList).focus()
        self._follow()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.session.service(SettingsService).config.time.timezone)

    async def reload(self) -> None:
        checker = self.session.service(En50160Checker)
        inst = self.session.service(InstallationService).current
        gateways = [g for g in inst.gateways if g.eq_device_id is not None]
        weeks: list[WeekReport] = []
        for gateway in gateways:
            weeks += await checker.repo.weeks(gateway.id, WEEKS_SHOWN)
        weeks.sort(key=lambda w: (-w.start, w.gateway_id))
        if not is_shown(self):
            # Esc while the store answered: the widgets may already be gone (a NoMatches
            # here ended the session).
            return
        self.weeks = weeks
        summary = self.query_one("#en50160-summary", Static)
        if not gateways:
            summary.update(
                _("No gateway has an EQ device: choose one on the Gateways screen (system "
                  "configuration).")
            )  # fmt: skip
        elif not weeks:
            summary.update(
                _("No week checked yet: the check runs each Monday after 00:00, for the week "
                  "just ended.")
            )  # fmt: skip
        else:
            summary.update(
                ngettext(
                    "{count} gateway with an EQ device; its last weeks, the newest first.",
                    "{count} gateways with an EQ device; their last weeks, the newest first.",
                    len(gateways),
                ).format(count=len(gateways))
            )
        tz = self.tz
        options = []
        for week in weeks:
            of = inst.gateway(week.gateway_id)
            device = inst.device(week.device_id)
            name = of.name if of is not None else f"#{week.gateway_id}"
            eq = device.display_name() if device is not None else f"#{week.device_id}"
            line = Text.assemble(
                week_label(week.start, tz),
                "  ",
                verdict_text(week.verdict.value, week=True),
                "  ",
                (name, "bold"),
                f" ({eq})",
            )
            options.append(Option(line, id=f"{week.gateway_id}:{week.start}"))
        weeks_list = self.query_one("#en50160-weeks", OptionList)
        weeks_list.clear_options()
        weeks_list.add_options(options)
        if options:
            weeks_list.highlighted = 0

    @work(exclusive=True, group="follow")
    async def _follow(self) -> None:
        """Show each week as soon as the checker stores it, and a newly chosen EQ device."""
        with self.session.hub.subscribe(
            En50160Checked, InstallationChanged, maxsize=8, name="en50160-screen"
        ) as news:
            await self.reload()
            while True:
                await news.get()
                await self.reload()

    @on(OptionList.OptionSelected, "#en50160-weeks")
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.app.push_screen(En50160WeekScreen(self.weeks[event.option_index], self.tz))


class En50160WeekScreen(EwsScreen[None]):
    """One judged week: the criteria table and the harmonics table."""

    CSS_PATH = STYLES / "en50160.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.back", N_("Back")),
    ]

    def __init__(self, week: WeekReport, tz: ZoneInfo) -> None:
        super().__init__()
        self.week = week
        self.tz = tz

    def compose(self) -> ComposeResult:
        inst = self.session.service(InstallationService).current
        week = self.week
        gateway = inst.gateway(week.gateway_id)
        device = inst.device(week.device_id)
        title = Text.assemble(
            _("EN 50160 {week}, gateway {gateway}, {device}: ").format(
                week=week_label(week.start, self.tz),
                gateway=gateway.name if gateway is not None else f"#{week.gateway_id}",
                device=device.display_name() if device is not None else f"#{week.device_id}",
            ),
            verdict_text(week.verdict.value, week=True),
        )
        yield Static(title, classes="page-title")
        yield Static(
            _("{valid} of {intervals} ten-minute intervals valid; {edition}").format(
                valid=week.intervals - week.flagged, intervals=week.intervals, edition=week.edition
            ),
            id="en50160-facts",
        )
        yield DataTable(id="en50160-criteria", cursor_type="row", zebra_stripes=False)
        yield Static("", id="en50160-worst")
        yield DataTable(id="en50160-harmonics", cursor_type="row")
        yield Static("", id="en50160-notes")
        yield EwsFooter()

    def on_mount(self) -> None:
        week = self.week
        main = [c for c in week.criteria if not c.id.startswith("h")]
        harmonics = [c for c in week.criteria if c.id.startswith("h")]
        table = self.query_one("#en50160-criteria", DataTable)
        table.add_column(_("Criterion"), key="label")
        for key in ("N", "N1", "N2"):
            table.add_column(key, key=key)
        table.add_column(_("Worst"), key="worst")
        table.add_column(_("Limit"), key="limit")
        table.add_column(_("Verdict"), key="verdict")
        for line in main:
            table.add_row(*self._row(line), key=line.id)
        table.focus()
        h_table = self.query_one("#en50160-harmonics", DataTable)
        if harmonics and all(c.verdict is Verdict.NOT_ASSESSED for c in harmonics):
            h_table.display = False
            notes = [_("Harmonics 2–25: not assessed (the EQ device does not measure them)")]
        else:
            h_table.add_column(_("Harmonic"), key="label")
            for key in ("N", "N1", "N2"):
                h_table.add_column(key, key=key)
            h_table.add_column(_("Worst"), key="worst")
            h_table.add_column(_("Limit"), key="limit")
            h_table.add_column(_("Verdict"), key="verdict")
            for line in harmonics:
                h_table.add_row(*self._row(line), key=line.id)
            notes = []
        if any(c.yearly for c in week.criteria):
            notes.append(_("Frequency: the standard's yearly rule, applied to the week."))
        notes.append(
            _("Not seen by a polling box: {phenomena}").format(
                phenomena=", ".join(_(p) for p in week.not_seen)
            )
        )
        self.query_one("#en50160-notes", Static).update("\n".join(notes))
        if main:
            self._show_worst(main[0])

    def _row(self, line: CriterionLine) -> tuple[str | Text, ...]:
        return (
            criterion_label(line),
            str(line.n),
            str(line.n1),
            str(line.n2),
            worst_text(line),
            limit_text(line),
            verdict_text(line.verdict.value),
        )

    def _show_worst(self, line: CriterionLine) -> None:
        text = (
            _("{criterion}: worst {value} on {when}").format(
                criterion=criterion_label(line),
                value=worst_text(line) + (f" {line.unit}" if line.unit else ""),
                when=when_text(line.worst_at, self.tz),
            )
            if line.worst is not None
            else _("{criterion}: no value").format(criterion=criterion_label(line))
        )
        self.query_one("#en50160-worst", Static).update(text)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        line = self.week.line(str(event.row_key.value))
        if line is not None:
            self._show_worst(line)


SCREEN = En50160Screen
