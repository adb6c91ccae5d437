"""Cost of consumption > a tariff of a cost rule (manual §7.16.3.1): the date it is in force
from and its base price (the price outside its time bands).

A new price is a new tariff from a new date, so the cost of a past period never changes;
two tariffs of one rule cannot start on the same date. Editing a tariff keeps its bands.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.widgets import Input

from ews_tui.domain.cost_edits import put_tariff, tariff_index
from ews_tui.domain.costs import CostSettings, EnergyCosts, Tariff
from ews_tui.i18n import N_
from ews_tui.ui.cost_text import number_text
from ews_tui.ui.screens.cost_form import CostForm, Reading


class TariffForm(CostForm):
    """``tariff``: the index of the tariff edited in rule ``rule``, None for a new one."""

    def __init__(self, energy: str, rule: int, tariff: int | None = None) -> None:
        super().__init__(energy)
        self.rule = rule
        self.tariff = tariff
        self.TITLE_MSGID = N_("new tariff") if tariff is None else N_("tariff")

    def compose_rows(self) -> ComposeResult:
        yield from self.tariff_rows()

    def load(self, costs: EnergyCosts) -> None:
        rule = costs.rules[self.rule]
        self.sub_title = rule.name
        self.start_tariff(costs)
        if self.tariff is None:
            return
        tariff = rule.tariffs[self.tariff]
        self.query_one("#f-valid-from", Input).value = tariff.valid_from.isoformat()
        self.query_one("#f-base", Input).value = number_text(tariff.base)

    def read(self, settings: CostSettings) -> Reading:
        unread: dict[str, str] = {}
        valid_from, base = self.day("valid-from", unread), self.number("base", unread)
        rule = settings.of(self.energy).rules[self.rule]
        if self.tariff is None:
            tariff = Tariff(valid_from, base)
        else:
            tariff = replace(rule.tariffs[self.tariff], valid_from=valid_from, base=base)
        new = put_tariff(settings, self.energy, self.rule, self.tariff, tariff)
        index = tariff_index(new, self.energy, self.rule, tariff)
        place = f"{self.energy}.rules[{self.rule}].tariffs"
        rows = {place: "valid-from", f"{place}[{index}].base": "base"}
        return Reading(new, rows, (self.rule, index), unread)


SCREEN = TariffForm
