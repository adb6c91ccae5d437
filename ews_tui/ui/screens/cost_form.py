"""The base of the cost forms (``cost_currency``, ``cost_rule_form``, ``cost_tariff``,
``cost_band``): a modal box of rows, each with its error right under it, Save and Cancel.

Not a screen of its own (no ``SCREEN``). A form reads its rows into new cost settings
(:meth:`CostForm.read`). Save checks them with the domain's rules before asking the
consumption service to save: every problem shows at once under its row (a text that is not
even a number or a date, or the domain's refusal of the place it names, e.g.
``gas.rules[0].name``), and nothing is saved while one remains; the form stays open with
what was typed. Once saved,
the form is dismissed with the place of what it saved (``(rule, tariff, band)`` indices).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from ews_tui.domain.costs import CostError, CostSettings, EnergyCosts, check_energy_costs
from ews_tui.domain.installation import Installation
from ews_tui.domain.messages import Message
from ews_tui.i18n import N_, _
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.ui.cost_text import ENERGY_NAMES, UNITS, parse_day, parse_number
from ews_tui.ui.screen import EwsModalScreen
from ews_tui.ui.session import Session

STYLES = Path(__file__).resolve().parent.parent / "styles"
Place = tuple[int, ...]
Rows = Mapping[str, str]  # a domain place ("gas.rules[0].name") -> the key of its row


BAD_DATE = N_("type a date as YYYY-MM-DD")
BAD_PRICE = N_("type a price, e.g. 0.1740")


@dataclass
class Reading:
    """What a form read: the settings with its change, the row of each domain place it edits
    (``{"gas.rules[1].name": "name"}``), the place of what it saves (indices), and the rows
    whose text is not a value at all (row key -> message; a stand-in value was used)."""

    settings: CostSettings
    rows: Rows
    saved: Place
    unread: dict[str, str] = field(default_factory=dict)


class CostServices:
    """What the cost screens and forms ask of the session: the cost pages, the installation."""

    session: Session  # the screen's (EwsScreen, EwsModalScreen)

    @property
    def service(self) -> ConsumptionService:
        return self.session.service(ConsumptionService)

    @property
    def installation(self) -> Installation:
        return self.session.service(InstallationService).current


class CostForm(CostServices, EwsModalScreen[Place | None]):
    """A modal form of the cost pages of one energy; subclasses give rows and ``read``."""

    CSS_PATH = STYLES / "cost_rules.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), priority=True),
        Binding("escape", "cancel", N_("Cancel")),
    ]
    TITLE_MSGID: str = ""

    def __init__(self, energy: str) -> None:
        super().__init__()
        self.energy = energy

    # ------------------------------------------------------------------ building

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self.title_text(), id="form-title")
            with VerticalScroll(id="form-rows"):
                yield from self.compose_rows()
            yield Static("", id="err-form", classes="error -empty")
            with Horizontal(id="form-buttons"):
                yield Button(
                    _("Save") + " (Ctrl+S)", id="form-save", variant="primary", compact=True
                )
                yield Button(_("Cancel") + " (Esc)", id="form-cancel", compact=True)

    def title_text(self) -> str:
        return _("{energy}: {form}").format(
            energy=_(ENERGY_NAMES[self.energy]), form=_(self.TITLE_MSGID)
        )

    def compose_rows(self) -> ComposeResult:
        yield from ()

    def row(self, key: str, label: str, *widgets: Widget, suffix: str = "") -> Vertical:
        """A labelled row (``label`` a msgid) and its error line, ``#err-<key>``."""
        parts: list[Widget] = [Label(_(label), classes="form-label"), *widgets]
        if suffix:
            parts.append(Label(suffix, classes="form-suffix"))
        return Vertical(
            Horizontal(*parts, classes="form-row"),
            Static("", id=f"err-{key}", classes="error form-error -empty"),
            classes="form-field",
        )

    def on_mount(self) -> None:
        self.load(self.service.costs.of(self.energy))
        self.query("Input, SelectionList").first().focus()

    def load(self, costs: EnergyCosts) -> None:
        """Fill the rows from the saved page (hook)."""

    def tariff_rows(self) -> ComposeResult:
        """The rows of a tariff: the date it is in force from, its base price."""
        yield self.row(
            "valid-from",
            N_("Valid from"),
            Input(id="f-valid-from", max_length=10, compact=True, placeholder="YYYY-MM-DD"),
        )
        yield self.row("base", N_("Base price"), Input(id="f-base", compact=True))

    def start_tariff(self, costs: EnergyCosts) -> None:
        """A new tariff's rows: in force from today (the box's date), priced per unit."""
        today = datetime.now(self.service.tz).date()
        self.query_one("#f-valid-from", Input).value = today.isoformat()
        self.query_one("#f-base", Input).placeholder = f"{costs.currency}/{UNITS[self.energy]}"

    def text(self, key: str) -> str:
        return self.query_one(f"#f-{key}", Input).value.strip()

    def number(self, key: str, unread: dict[str, str], message: str = BAD_PRICE) -> Decimal:
        """The number in row ``key``; else ``message`` (a msgid) noted and 0 stands in."""
        value = parse_number(self.text(key))
        if value is None:
            unread[key] = _(message)
        return value if value is not None else Decimal(0)

    def day(self, key: str, unread: dict[str, str]) -> date:
        """The date in row ``key``; else a message noted and the first date stands in."""
        value = parse_day(self.text(key))
        if value is None:
            unread[key] = _(BAD_DATE)
        return value or date.min

    # ------------------------------------------------------------------ saving

    def read(self, settings: CostSettings) -> Reading:
        """``settings`` with this form's change."""
        raise NotImplementedError

    def action_save(self) -> None:
        self.run_worker(self._save(), exclusive=True, group="cost-save")

    def action_cancel(self) -> None:
        self.dismiss(None)

    async def _save(self) -> None:
        reading = self.read(self.service.costs)
        found = [p for page in reading.settings.energies for p in check_energy_costs(page)]
        problems = rows_of(found, reading.rows) | reading.unread  # every problem at once
        if not problems:
            try:
                await self.service.save_costs(reading.settings)
            except CostError as error:
                problems = rows_of(error.problems, reading.rows)
        if problems:
            self.show_problems(problems)
            return
        self.dismiss(reading.saved)

    def show_problems(self, problems: Mapping[str, str]) -> None:
        for static in self.query(".form-error").results(Static):
            key = (static.id or "").removeprefix("err-")
            static.update(problems.get(key, ""))
            static.set_class(key not in problems, "-empty")
        if "form" in problems:
            self.query_one("#err-form", Static).update(problems["form"])
        self.query_one("#err-form").set_class("form" not in problems, "-empty")

    def error_of(self, key: str) -> str:
        """The message under row ``key`` ("form": under the form), "" when none."""
        return str(self.query_one(f"#err-{key}", Static).content)

    # ------------------------------------------------------------------ keys

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-save":
            self.action_save()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()


def rows_of(problems: Iterable[tuple[str, Message]], rows: Rows) -> dict[str, str]:
    """Each domain problem under the row of its place; the others under the form."""
    found: dict[str, list[str]] = {}
    for where, message in problems:
        key = rows.get(where)
        text = message.render(_) if key else f"{where}: {message.render(_)}"
        found.setdefault(key or "form", []).append(text)
    return {key: "\n".join(lines) for key, lines in found.items()}
