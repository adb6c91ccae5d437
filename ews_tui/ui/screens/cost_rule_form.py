"""Cost of consumption > a cost rule (manual §7.16.3.1): its name and what it applies to.

A rule applies to the whole site when no circuit nor zone is chosen, else to the chosen
circuits and measurement zones of the installation. A new rule is written with its first
tariff (the date it is in force from, its base price): a rule without a tariff prices
nothing. Its time bands and later tariffs are added from the rules screen.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.widgets import Input, SelectionList, Static

from ews_tui.domain.cost_edits import put_rule
from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff
from ews_tui.i18n import N_, _
from ews_tui.ui.screens.cost_form import CostForm, Reading
from ews_tui.ui.widgets.group_panel import group_name
from ews_tui.ui.widgets.ticks import TickList


class RuleForm(CostForm):
    """``rule``: the index of the rule edited, None for a new one (with its first tariff)."""

    def __init__(self, energy: str, rule: int | None = None) -> None:
        super().__init__(energy)
        self.rule = rule
        self.TITLE_MSGID = N_("new cost rule") if rule is None else N_("cost rule")

    def compose_rows(self) -> ComposeResult:
        yield self.row("name", N_("Name"), Input(id="f-name", max_length=64, compact=True))
        scope = TickList[str](id="f-scope", compact=True)
        yield self.row("scope", N_("Applies to"), scope)
        yield Static(_("Nothing chosen: the whole site."), classes="form-note")
        if self.rule is None:
            yield from self.tariff_rows()

    def load(self, costs: EnergyCosts) -> None:
        rule = costs.rules[self.rule] if self.rule is not None else None
        inst = self.installation
        chosen = set()
        if rule is not None:
            self.query_one("#f-name", Input).value = rule.name
            chosen = {f"c{i}" for i in rule.circuit_ids} | {f"z{i}" for i in rule.zone_ids}
        options = [
            (_("Circuit: {name}").format(name=group_name(c)), f"c{c.id}") for c in inst.circuits
        ]
        options += [(_("Zone: {name}").format(name=z.name), f"z{z.id}") for z in inst.zones]
        scope = self.query_one("#f-scope", SelectionList)
        scope.add_options([(label, value, value in chosen) for label, value in options])
        scope.highlighted = 0 if options else None
        if self.rule is None:
            self.start_tariff(costs)

    def read(self, settings: CostSettings) -> Reading:
        scope = self.query_one("#f-scope", SelectionList).selected
        circuits = tuple(sorted(int(v[1:]) for v in scope if v.startswith("c")))
        zones = tuple(sorted(int(v[1:]) for v in scope if v.startswith("z")))
        rules = settings.of(self.energy).rules
        unread: dict[str, str] = {}
        if self.rule is None:
            tariff = Tariff(self.day("valid-from", unread), self.number("base", unread))
            rule = CostRule(self.text("name"), (tariff,), circuits, zones)
            index = len(rules)
        else:
            index = self.rule
            rule = replace(
                rules[index], name=self.text("name"), circuit_ids=circuits, zone_ids=zones
            )
        place = f"{self.energy}.rules[{index}]"
        rows = {f"{place}.name": "name", f"{place}.tariffs[0].base": "base"}
        return Reading(put_rule(settings, self.energy, self.rule, rule), rows, (index,), unread)


SCREEN = RuleForm
