"""System configuration > Cost of consumption (manual §7.16.3): currencies, cost rules,
their tariffs and time bands, for electricity, gas and water.

One page per energy (tabs; ``←``/``→`` or e, g, w switch): its currency (and, for gas, the
conversion factor to kWh-equivalent), then its rules as a tree: each rule (its name and what
it applies to: the site, or chosen circuits and zones), its tariffs (in force from a date,
with a base price) and each tariff's time bands (days x hours at a price). Keys: Enter edits
the line under the cursor; r adds a rule, t a tariff to the rule, b a band to the tariff;
d deletes (after a confirmation); c edits the currency. Each form saves through the
consumption service, which refuses wrong values with a message under their field. The
screen follows the saved pages, so an edit from another session shows here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static, Tab, Tabs, Tree

from ews_tui.domain.cost_edits import delete_band, delete_rule, delete_tariff, move_rule
from ews_tui.domain.costs import ENERGIES, CostError, CostSettings, EnergyCosts
from ews_tui.domain.events import SettingsChanged
from ews_tui.i18n import N_, _
from ews_tui.ui.cost_text import (
    ENERGY_NAMES,
    band_text,
    currency_text,
    day_text,
    factor_text,
    rule_text,
    tariff_text,
)
from ews_tui.ui.follow import while_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.cost_band import BandForm
from ews_tui.ui.screens.cost_currency import CurrencyForm
from ews_tui.ui.screens.cost_form import CostServices, Place
from ews_tui.ui.screens.cost_rule_form import RuleForm
from ews_tui.ui.screens.cost_tariff import TariffForm
from ews_tui.ui.widgets.footer import EwsFooter

STYLES = Path(__file__).resolve().parent.parent / "styles"
KEYS_HINT = N_("Enter edits · c currency · u n move a rule · e g w or ← → energy")


NOT_MOVED = N_("Not moved: {reasons}")
NOT_DELETED = N_("Not deleted: {reasons}")


class CostTree(Tree[Place]):
    """The rules of one energy; Enter edits the line under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", N_("Edit"), show=False),
    ]


class CostRulesScreen(CostServices, EwsScreen[None]):
    CSS_PATH = STYLES / "cost_rules.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "add_rule", N_("+Rule")),
        Binding("t", "add_tariff", N_("+Tariff")),
        Binding("b", "add_band", N_("+Band")),
        Binding("d,delete", "delete", N_("Delete")),
        Binding("c", "currency", N_("Currency"), show=False),
        Binding("u,ctrl+up", "move(-1)", N_("Move the rule up"), show=False),
        Binding("n,ctrl+down", "move(1)", N_("Move the rule down"), show=False),
        Binding("left", "energy(-1)", N_("Previous energy"), show=False),
        Binding("right", "energy(1)", N_("Next energy"), show=False),
        Binding("e", "show('electricity')", N_("Electricity"), show=False),
        Binding("g", "show('gas')", N_("Gas"), show=False),
        Binding("w", "show('water')", N_("Water"), show=False),
    ]

    def __init__(self, energy: str = "electricity", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.energy = energy
        self._places: list[Place] = []

    @property
    def page(self) -> EnergyCosts:
        return self.service.costs.of(self.energy)

    @property
    def cost_tree(self) -> CostTree:
        return self.query_one("#cost-tree", CostTree)

    def compose(self) -> ComposeResult:
        yield Static(_("Cost of consumption"), classes="page-title")
        yield Tabs(
            *(Tab(_(ENERGY_NAMES[e]), id=e) for e in ENERGIES),
            active=self.energy,
            id="energies",
        )
        yield Static("", id="cost-page")
        tree = CostTree("", id="cost-tree")
        tree.show_root = False
        tree.auto_expand = False
        yield tree
        yield Static(_("No cost rule yet: r adds one."), id="cost-empty")
        yield Static(_(KEYS_HINT), id="cost-keys")
        yield EwsFooter()

    def on_mount(self) -> None:
        self.show_page((0,))
        self.cost_tree.focus()
        self._follow()

    @work(exclusive=True, group="follow")
    async def _follow(self) -> None:
        """Show the cost pages saved by any session."""
        with self.session.hub.subscribe(
            SettingsChanged, maxsize=8, name="cost-rules-screen"
        ) as changes:
            async for event in while_shown(self, changes):
                if isinstance(event, SettingsChanged) and event.section == "costs":
                    self.show_page(self.place)

    # ------------------------------------------------------------------ showing

    def show_page(self, select: Place | None = None) -> None:
        """Show the saved page of the current energy; the cursor on ``select``."""
        page = self.page
        facts = [_("Currency: {currency}").format(currency=currency_text(page))]
        if self.energy == "gas":
            factor = _("Conversion factor: {factor}").format(factor=factor_text(page))
            facts.append(factor + (" kWh/m³" if page.kwh_per_m3 is not None else ""))
        self.query_one("#cost-page", Static).update("   ".join(facts))
        self._fill(page)
        self.query_one("#cost-empty").display = not page.rules
        if select is not None and self._places:
            self.cost_tree.cursor_line = self._line_of(select)

    def _fill(self, page: EnergyCosts) -> None:
        tree = self.cost_tree
        tree.clear()
        self._places = []
        inst = self.installation
        for r, rule in enumerate(page.rules):
            rule_node = tree.root.add(Text(rule_text(rule, inst)), (r,), expand=True)
            self._places.append((r,))
            for t, tariff in enumerate(rule.tariffs):
                label = Text(tariff_text(tariff, page))
                tariff_node = rule_node.add(label, (r, t), expand=True)
                self._places.append((r, t))
                for b, band in enumerate(tariff.bands):
                    tariff_node.add_leaf(Text(band_text(band, page)), (r, t, b))
                    self._places.append((r, t, b))

    def _line_of(self, select: Place) -> int:
        """The line of ``select``, else of its nearest parent shown, else of the rule before."""
        parents = [p for p in self._places if select[: len(p)] == p]
        if parents:
            return self._places.index(max(parents, key=len))
        before = [p for p in self._places if len(p) == 1 and select and p[0] <= select[0]]
        return self._places.index(before[-1]) if before else 0

    @property
    def place(self) -> Place | None:
        """Where the cursor is: ``(rule,)``, ``(rule, tariff)`` or ``(rule, tariff, band)``."""
        node = self.cost_tree.cursor_node
        return node.data if node is not None else None

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        energy = event.tab.id or self.energy
        if energy != self.energy:
            self.energy = energy
            self.show_page((0,))

    # ------------------------------------------------------------------ actions

    def action_show(self, energy: str) -> None:
        self.query_one("#energies", Tabs).active = energy

    def action_energy(self, step: int) -> None:
        index = (ENERGIES.index(self.energy) + step) % len(ENERGIES)
        self.action_show(ENERGIES[index])

    def _open(self, form: Any) -> None:
        def saved(place: Place | None) -> None:
            if place is not None:
                self.show_page(place or self.place)
                self.notify(_("Saved."), timeout=2)
            self.cost_tree.focus()

        self.app.push_screen(form, saved)

    def action_currency(self) -> None:
        self._open(CurrencyForm(self.energy))

    def action_add_rule(self) -> None:
        self._open(RuleForm(self.energy))

    def action_add_tariff(self) -> None:
        place = self.place
        if place is None:
            self.notify(_("Choose a rule first (r adds one)."), severity="warning")
            return
        self._open(TariffForm(self.energy, place[0]))

    def action_add_band(self) -> None:
        place = self.place
        if place is None:
            self.notify(_("Choose a tariff first."), severity="warning")
            return
        tariff = place[1] if len(place) > 1 else len(self.page.rules[place[0]].tariffs) - 1
        self._open(BandForm(self.energy, place[0], tariff))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Place]) -> None:
        event.stop()
        place = event.node.data
        if place is None:
            return
        if len(place) == 1:
            self._open(RuleForm(self.energy, place[0]))
        elif len(place) == 2:
            self._open(TariffForm(self.energy, place[0], place[1]))
        else:
            self._open(BandForm(self.energy, *place))

    @work(exclusive=True, group="cost-move")
    async def action_move(self, step: int) -> None:
        """The rule under the cursor one place up or down: the first of equals prices."""
        place = self.place
        if place is None:
            return
        rule = place[0]
        to = max(0, min(len(self.page.rules) - 1, rule + step))
        if to == rule:
            return
        if await self._saved(move_rule(self.service.costs, self.energy, rule, step), NOT_MOVED):
            self.show_page((to,))

    def action_delete(self) -> None:
        place = self.place
        if place is None:
            return
        page = self.page
        rule = page.rules[place[0]]
        if len(place) == 1:
            question = _('Delete the cost rule "{name}" and its tariffs?').format(name=rule.name)
        elif len(place) == 2:
            question = _("Delete the tariff from {date} of {name}?").format(
                date=day_text(rule.tariffs[place[1]].valid_from), name=rule.name
            )
        else:
            band = rule.tariffs[place[1]].bands[place[2]]
            question = _("Delete the time band {band}?").format(band=band_text(band, page))

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(place)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="cost-delete")
    async def _delete(self, place: Place) -> None:
        settings: CostSettings = self.service.costs
        if len(place) == 1:
            settings = delete_rule(settings, self.energy, *place)
        elif len(place) == 2:
            settings = delete_tariff(settings, self.energy, *place)
        else:
            settings = delete_band(settings, self.energy, *place)
        if not await self._saved(settings, NOT_DELETED):
            return
        self.show_page((*place[:-1], max(place[-1] - 1, 0)) if len(place) > 1 else place)
        self.notify(_("Deleted."), timeout=2)

    async def _saved(self, settings: CostSettings, refusal: str) -> bool:
        """Save ``settings``; False, with the refusal (a msgid with ``{reasons}``) told."""
        try:
            await self.service.save_costs(settings)
        except CostError as error:
            reasons = "\n".join(message.render(_) for _where, message in error.problems)
            self.notify(_(refusal).format(reasons=reasons), severity="error")
            return False
        return True


SCREEN = CostRulesScreen
