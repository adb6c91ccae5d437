"""Cost of consumption > the currency of an energy and, for gas, its conversion factor
(manual §7.16.3): the ISO 4217 code (EUR, USD, GBP...) and the kWh-equivalent of one m³.
"""

from __future__ import annotations

from decimal import Decimal

from textual.app import ComposeResult
from textual.widgets import Input

from ews_tui.domain.cost_edits import set_page
from ews_tui.domain.costs import CostSettings, EnergyCosts
from ews_tui.i18n import N_, _
from ews_tui.ui.cost_text import number_text, parse_number
from ews_tui.ui.screens.cost_form import CostForm, Reading


class CurrencyForm(CostForm):
    TITLE_MSGID = N_("Currency")

    def __init__(self, energy: str) -> None:
        super().__init__(energy)
        if energy == "gas":
            self.TITLE_MSGID = N_("Currency and conversion factor")

    def compose_rows(self) -> ComposeResult:
        yield self.row(
            "currency",
            N_("Currency (ISO 4217)"),
            Input(id="f-currency", max_length=3, restrict=r"[A-Za-z]*", compact=True),
            suffix=_("e.g. EUR, USD, GBP"),
        )
        if self.energy == "gas":
            yield self.row(
                "factor",
                N_("Conversion factor"),
                Input(id="f-factor", compact=True, placeholder=_("not set")),
                suffix="kWh/m³",
            )

    def load(self, costs: EnergyCosts) -> None:
        self.query_one("#f-currency", Input).value = costs.currency
        if self.energy == "gas":
            factor = costs.kwh_per_m3
            self.query_one("#f-factor", Input).value = "" if factor is None else number_text(factor)

    def read(self, settings: CostSettings) -> Reading:
        factor: Decimal | None = None
        unread: dict[str, str] = {}
        if self.energy == "gas" and self.text("factor"):  # empty: no factor
            factor = parse_number(self.text("factor"))
            if factor is None:
                unread["factor"] = _("{value} is not a number").format(value=self.text("factor"))
        currency = self.text("currency").upper()
        rows = {f"{self.energy}.currency": "currency", f"{self.energy}.kwh_per_m3": "factor"}
        return Reading(set_page(settings, self.energy, currency, factor), rows, (), unread)


SCREEN = CurrencyForm
