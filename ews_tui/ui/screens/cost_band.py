"""Cost of consumption > a time band of a tariff (manual §7.16.3.1): days of the week, the
hours from start to end (0 to 24, end excluded) and the price in force then.

Outside its bands a tariff's base price applies; where two bands overlap, the first listed
wins.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label, SelectionList

from ews_tui.domain.cost_edits import put_band
from ews_tui.domain.costs import CostSettings, EnergyCosts, TimeBand
from ews_tui.i18n import N_, _
from ews_tui.ui.cost_text import UNITS, day_names, day_text, number_text
from ews_tui.ui.screens.cost_form import CostForm, Reading
from ews_tui.ui.widgets.ticks import TickList

BAD_HOUR = N_("type an hour from 0 to 24")
WORKING_DAYS = frozenset(range(5))


def _hour(text: str) -> int | None:
    return int(text) if text.isdigit() else None


class BandForm(CostForm):
    """``band``: the index of the band edited in ``tariff`` of ``rule``, None for a new one."""

    def __init__(self, energy: str, rule: int, tariff: int, band: int | None = None) -> None:
        super().__init__(energy)
        self.rule = rule
        self.tariff = tariff
        self.band = band
        self.TITLE_MSGID = N_("new time band") if band is None else N_("time band")

    def compose_rows(self) -> ComposeResult:
        days = TickList[int](*((name, i) for i, name in enumerate(day_names("wide"))))
        days.id = "f-days"
        days.compact = True
        yield self.row("days", N_("Days"), days)
        yield self.row(
            "hours",
            N_("Hours"),
            Input(id="f-start", max_length=2, restrict=r"\d*", compact=True),
            Label(_("to"), classes="form-between"),
            Input(id="f-end", max_length=2, restrict=r"\d*", compact=True),
        )
        yield self.row("price", N_("Price"), Input(id="f-price", compact=True))

    def title_text(self) -> str:
        tariff = self.service.costs.of(self.energy).rules[self.rule].tariffs[self.tariff]
        return _("{title}, tariff from {date}").format(
            title=super().title_text(), date=day_text(tariff.valid_from)
        )

    def load(self, costs: EnergyCosts) -> None:
        tariff = costs.rules[self.rule].tariffs[self.tariff]
        band = tariff.bands[self.band] if self.band is not None else None
        price = self.query_one("#f-price", Input)
        price.placeholder = f"{costs.currency}/{UNITS[self.energy]}"
        days = self.query_one("#f-days", SelectionList)
        for day in band.days if band else WORKING_DAYS:
            days.select(day)
        days.highlighted = 0
        if band is not None:
            self.query_one("#f-start", Input).value = str(band.start)
            self.query_one("#f-end", Input).value = str(band.end)
            price.value = number_text(band.price)

    def read(self, settings: CostSettings) -> Reading:
        unread: dict[str, str] = {}
        start, end = _hour(self.text("start")), _hour(self.text("end"))
        if start is None or end is None:
            unread["hours"] = _(BAD_HOUR)
            start, end = 0, 24
        price = self.number("price", unread)
        days = frozenset(self.query_one("#f-days", SelectionList).selected)
        band = TimeBand(days, start, end, price)
        bands = settings.of(self.energy).rules[self.rule].tariffs[self.tariff].bands
        index = len(bands) if self.band is None else self.band
        new = put_band(settings, self.energy, self.rule, self.tariff, self.band, band)
        place = f"{self.energy}.rules[{self.rule}].tariffs[{self.tariff}].bands[{index}]"
        rows = {f"{place}.{key}": key for key in ("days", "hours", "price")}
        return Reading(new, rows, (self.rule, self.tariff, index), unread)


SCREEN = BandForm
