"""Cost of consumption (manual §7.16.3): currencies, rules, tariffs and time bands written
through the keyboard, saved in the store, and the refusals (each under its field, nothing
saved while one remains)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, SelectionList

from ews_tui.domain.cost_edits import put_rule
from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff, TimeBand
from ews_tui.domain.installation import Circuit
from ews_tui.runtime import Runtime
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.cost_band import BandForm
from ews_tui.ui.screens.cost_currency import CurrencyForm
from ews_tui.ui.screens.cost_form import CostForm
from ews_tui.ui.screens.cost_rule_form import RuleForm
from ews_tui.ui.screens.cost_rules import CostRulesScreen
from ews_tui.ui.screens.cost_tariff import TariffForm
from ews_tui.ui.session import Role
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app

WEEKDAYS = frozenset(range(5))
OFFICES = CostRule(
    "Offices",
    (
        Tariff(
            date(2025, 1, 1),
            Decimal("0.1740"),
            (
                TimeBand(WEEKDAYS, 7, 22, Decimal("0.2100")),
                TimeBand(frozenset({5, 6}), 0, 24, Decimal("0.1500")),
            ),
        ),
    ),
)
PRICED = CostSettings(
    (
        EnergyCosts("electricity", "EUR", (OFFICES,)),
        EnergyCosts("gas", "EUR", (), Decimal("10.5")),
        EnergyCosts("water"),
    )
)


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


@pytest.fixture
async def priced(box: Runtime) -> Runtime:
    await box.get(ConsumptionService).save_costs(PRICED)
    return box


def _costs(box: Runtime) -> CostSettings:
    return box.get(ConsumptionService).costs  # type: ignore[no-any-return]


def _unchanged(box: Runtime) -> bool:
    """The saved pages are still PRICED (the store numbers the rules)."""
    saved = _costs(box)
    return [replace(e, rules=tuple(replace(r, id=0) for r in e.rules)) for e in saved.energies] == [
        PRICED.of(e.energy) for e in saved.energies
    ]


async def _settled(pilot: Any) -> None:
    await pilot.pause()
    for worker in [w for w in pilot.app.workers if w.group.startswith("cost-")]:
        await worker.wait()
    await pilot.pause()


def _form(pilot: Any) -> CostForm:
    screen = pilot.app.screen
    assert isinstance(screen, CostForm), screen
    return screen


def _tree_lines(pilot: Any) -> list[str]:
    screen = pilot.app.screen
    assert isinstance(screen, CostRulesScreen)
    tree = screen.cost_tree
    return [str(tree.get_node_at_line(i).label) for i in range(tree.last_line + 1)]


# ----------------------------------------------------------------------------- creating


async def test_create_a_rule_with_a_tariff_and_a_band_by_keyboard(tmp_path: Path) -> None:
    async with box_runtime(tmp_path) as box:
        app = make_box_app(box, "cost_rules")
        async with app.run_test(size=(80, 24)) as pilot:
            assert isinstance(app.screen, CostRulesScreen)
            await pilot.press("r")
            assert isinstance(app.screen, RuleForm)
            assert app.focused is not None and app.focused.id == "f-name"
            # name, Enter: the circuits and zones (none chosen: the site), Tab: the date
            await pilot.press(*"Offices", "enter", "tab", *"2025-01-01", "enter", *"0.1740")
            await pilot.press("ctrl+s")
            await _settled(pilot)
            assert isinstance(app.screen, CostRulesScreen)
            await pilot.press("b")  # on the rule: a band for its latest tariff
            assert isinstance(app.screen, BandForm)
            days = app.screen.query_one("#f-days", SelectionList)
            assert sorted(days.selected) == [0, 1, 2, 3, 4]  # Monday to Friday offered
            await pilot.press("tab", "7", "enter", *"22", "enter", *"0.2100", "ctrl+s")
            await _settled(pilot)
            assert _tree_lines(pilot) == [
                "Offices (Site)",
                "From Jan 1, 2025: €0.174/kWh",
                "Mon–Fri 07:00–22:00: €0.21/kWh",
            ]
    band = TimeBand(WEEKDAYS, 7, 22, Decimal("0.21"))
    async with box_runtime(tmp_path) as fresh:  # a new box reads it back from the store
        [rule] = _costs(fresh).of("electricity").rules
        assert (rule.name, rule.site) == ("Offices", True)
        assert rule.tariffs == (Tariff(date(2025, 1, 1), Decimal("0.1740"), (band,)),)


async def test_a_rule_for_chosen_circuits(box: Runtime) -> None:
    inst = box.get(InstallationService).current
    heating: Circuit = inst.circuits[0]
    app = make_box_app(box, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r", *"Heating", "enter", "space", "tab", "tab", *"0.12", "ctrl+s")
        await _settled(pilot)
        assert _tree_lines(pilot)[0] == "Heating (Heating)"
    [rule] = _costs(box).of("electricity").rules
    assert (rule.circuit_ids, rule.zone_ids, rule.site) == ((heating.id,), (), False)


async def test_a_second_tariff_from_a_later_date(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        assert isinstance(app.screen, TariffForm)
        await pilot.press(*"2026-01-01", "enter", *"0.1900", "ctrl+s")
        await _settled(pilot)
    tariffs = _costs(priced).of("electricity").rules[0].tariffs
    assert [(t.valid_from, t.base) for t in tariffs] == [
        (date(2025, 1, 1), Decimal("0.1740")),
        (date(2026, 1, 1), Decimal("0.1900")),
    ]
    assert tariffs[0].bands == OFFICES.tariffs[0].bands  # the past keeps its prices


async def test_gas_conversion_factor(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g")
        page = str(app.screen.query_one("#cost-page").content)
        assert "Conversion factor: 10.5 kWh/m³" in page
        await pilot.press("c")
        assert isinstance(app.screen, CurrencyForm)
        await pilot.press(*"CHF", "tab", *"11.2", "ctrl+s")
        await _settled(pilot)
    gas = _costs(priced).of("gas")
    assert (gas.currency, gas.kwh_per_m3) == ("CHF", Decimal("11.2"))


# ----------------------------------------------------------------------------- editing


async def test_edit_a_price(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "enter")  # the tariff under the rule
        form = _form(pilot)
        assert isinstance(form, TariffForm)
        assert form.query_one("#f-base", Input).value == "0.174"
        await pilot.press("tab", *"0.1875", "ctrl+s")
        await _settled(pilot)
        assert _tree_lines(pilot)[1] == "From Jan 1, 2025: €0.1875/kWh"
    [tariff] = _costs(priced).of("electricity").rules[0].tariffs
    assert tariff.base == Decimal("0.1875")
    assert tariff.bands == OFFICES.tariffs[0].bands  # editing a tariff keeps its bands


async def test_french_accepts_a_decimal_comma_or_point(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules", language="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "enter")  # the first band
        form = _form(pilot)
        assert form.query_one("#f-price", Input).value == "0,21"
        await pilot.press("tab", "tab", "tab", *"0,2250", "ctrl+s")
        await _settled(pilot)
        assert _tree_lines(pilot)[2] == "lun.–ven. 07:00–22:00 : 0,225\xa0€/kWh"
        await pilot.press("down", "enter", "tab", "tab", "tab", *"0.1450", "ctrl+s")
        await _settled(pilot)
    bands = _costs(priced).of("electricity").rules[0].tariffs[0].bands
    assert [b.price for b in bands] == [Decimal("0.2250"), Decimal("0.1450")]


async def test_delete_a_band_after_confirmation(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "down")  # the weekend band
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Sat, Sun 00:00–24:00" in str(app.screen.query_one("#confirm-question").content)
        await pilot.press("n")  # no: nothing deleted
        await _settled(pilot)
        assert len(_costs(priced).of("electricity").rules[0].tariffs[0].bands) == 2
        await pilot.press("d", "y")
        await _settled(pilot)
        assert len(_tree_lines(pilot)) == 3
    [band] = _costs(priced).of("electricity").rules[0].tariffs[0].bands
    assert band.days == WEEKDAYS


async def test_delete_a_rule_after_confirmation(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d", "y")
        await _settled(pilot)
        assert app.screen.query_one("#cost-empty").display
    assert _costs(priced).of("electricity").rules == ()


async def test_a_rule_moves_up_and_the_order_is_saved(priced: Runtime) -> None:
    service = priced.get(ConsumptionService)
    second = CostRule("Night", (Tariff(date(2025, 1, 1), Decimal("0.10")),))
    await service.save_costs(put_rule(service.costs, "electricity", None, second))
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, CostRulesScreen)
        first_name = _costs(priced).of("electricity").rules[0].name
        screen.cost_tree.cursor_line = screen._line_of((1,))
        await pilot.press("u")
        await _settled(pilot)
        assert [r.name for r in _costs(priced).of("electricity").rules] == ["Night", first_name]
        assert screen.place == (0,)  # the cursor follows the rule
        await pilot.press("u")  # already first: nothing changes
        await _settled(pilot)
        await pilot.press("ctrl+down")
        await _settled(pilot)
        assert [r.name for r in _costs(priced).of("electricity").rules] == [first_name, "Night"]


async def test_the_last_tariff_of_a_rule_is_not_deleted(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "d", "y")
        await _settled(pilot)
        assert len(_tree_lines(pilot)) == 4
    assert _unchanged(priced)


# ----------------------------------------------------------------------------- refusals


async def test_a_bad_currency_is_refused_under_its_field(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", *"ABC", "ctrl+s")
        await _settled(pilot)
        form = _form(pilot)
        assert form.error_of("currency") == "ABC is not an ISO 4217 currency code"
        assert form.query_one("#f-currency", Input).value == "ABC"  # what was typed stays
    assert _unchanged(priced)


async def test_bad_hours_empty_days_and_a_negative_price_are_refused(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "enter")  # the weekday band
        form = _form(pilot)
        form.query_one("#f-days", SelectionList).deselect_all()
        await pilot.press("tab", *"22", "tab", "7", "tab", *"-1", "ctrl+s")
        await _settled(pilot)
        assert form.error_of("hours") == "hours 22-7 are not within 0-24, start before end"
        assert form.error_of("days") == "choose days of the week"
        assert form.error_of("price") == "a price cannot be negative"
        await pilot.press("shift+tab", "backspace")  # an end hour left empty
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert form.error_of("hours") == "type an hour from 0 to 24"
        assert form.error_of("days") == "choose days of the week"  # still said
    assert _unchanged(priced)


async def test_a_bad_date_and_a_duplicate_date_are_refused(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", *"2025-02-30", "enter", *"0,19", "ctrl+s")
        await _settled(pilot)
        form = _form(pilot)
        assert form.error_of("valid-from") == "type a date as YYYY-MM-DD"
        assert form.error_of("base") == "type a price, e.g. 0.1740"
        await pilot.press("shift+tab", *"2025-01-01", "tab", *"0.19", "ctrl+s")
        await _settled(pilot)
        assert form.error_of("valid-from") == "two tariffs start on the same date"
        assert form.error_of("base") == ""
        await pilot.press("escape")
        assert isinstance(app.screen, CostRulesScreen)
    assert _unchanged(priced)


async def test_every_problem_of_a_new_rule_shows_at_once(box: Runtime) -> None:
    app = make_box_app(box, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r", "enter", "tab", *"2025-13-01", "tab", *"-0.2", "ctrl+s")
        await _settled(pilot)
        form = _form(pilot)
        assert form.error_of("name") == "a name is required"
        assert form.error_of("valid-from") == "type a date as YYYY-MM-DD"
        assert form.error_of("base") == "a price cannot be negative"
        assert form.error_of("form") == ""
    assert _costs(box).of("electricity").rules == ()


# ----------------------------------------------------------------------------- access


async def test_the_consultation_role_cannot_open_it(box: Runtime) -> None:
    app = make_box_app(box, "cost_rules", role=Role.CONSULTATION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not isinstance(app.screen, CostRulesScreen)
        assert type(app.screen).__module__ == "ews_tui.ui.screens.home"


async def test_another_sessions_edit_shows(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        other = CostSettings((EnergyCosts("electricity", "USD", (OFFICES,)),))
        await priced.get(ConsumptionService).save_costs(other)
        for _ in range(5):
            await pilot.pause()
        assert "USD" in str(app.screen.query_one("#cost-page").content)


async def test_arrows_and_letters_switch_the_energy(priced: Runtime) -> None:
    app = make_box_app(priced, "cost_rules")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, CostRulesScreen)
        await pilot.press("right")
        assert screen.energy == "gas"
        assert screen.query_one("#cost-empty").display  # no gas rule yet
        await pilot.press("w")
        assert screen.energy == "water"
        await pilot.press("left", "left")
        assert screen.energy == "electricity"
        assert len(_tree_lines(pilot)) == 4


# ----------------------------------------------------------------------------- look


async def _prepare(rt: Runtime) -> None:
    inst = rt.get(InstallationService).current
    lighting = next(c for c in inst.circuits if c.preset == "lighting")
    rules = (OFFICES, CostRule("Lighting", OFFICES.tariffs, circuit_ids=(lighting.id,)))
    settings = CostSettings(
        (EnergyCosts("electricity", "EUR", rules), *PRICED.energies[1:]),
    )
    await rt.get(ConsumptionService).save_costs(settings)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_cost_rules(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    app = SnapshotApp(tmp_path, "cost_rules", language=language, prepare=_prepare)
    assert snap_compare(app, terminal_size=(80, 24))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_band_form(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    async def refused(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("down", "down", "enter", "tab", *"23", "ctrl+s")
        await _settled(pilot)

    app = SnapshotApp(tmp_path, "cost_rules", language=language, prepare=_prepare)
    assert snap_compare(app, terminal_size=(80, 24), run_before=refused)
