"""Circuits, zones and switchboards (manual §7.16.2): add, save, deactivate, activate, delete,
and the refusals: a preset circuit only deactivates, no 9th circuit of one's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Button, Input, OptionList

from ews_tui.domain.edits import save_device, save_group
from ews_tui.domain.installation import Circuit, Device, Switchboard, Zone
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.group_remove import GroupRemoveScreen
from ews_tui.ui.screens.groups import GroupsScreen
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.widgets.group_panel import DEACTIVATED, GroupPanel
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app
from tests.ui.screen_text import screen_text


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


def _stored(box: Runtime):  # type: ignore[no-untyped-def]
    return box.get(InstallationService).current


def _panel(pilot, kind: str) -> GroupPanel:  # type: ignore[no-untyped-def]
    return pilot.app.screen.query_one(f"#panel-{kind}", GroupPanel)


def _labels(panel: GroupPanel) -> list[str]:
    options = panel.option_list
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    for worker in [w for w in pilot.app.workers if w.group == "apply"]:
        await worker.wait()
    await pilot.pause()


async def test_add_switchboard_with_description(box: Runtime) -> None:
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w", "a")
        assert isinstance(app.focused, Input) and app.focused.id == "switchboards-name"
        await pilot.press(*"TGBT", "enter", *"Basement", "ctrl+s")
        await _settled(pilot)
        assert _labels(_panel(pilot, "switchboards")) == ["TGBT"]
    assert [(s.name, s.description, s.active) for s in _stored(box).switchboards] == [
        ("TGBT", "Basement", True)
    ]


async def test_name_is_required_and_unique(box: Runtime) -> None:
    await box.get(InstallationService).apply(save_group, Zone(0, "Offices"))
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z", "a", "ctrl+s")
        await _settled(pilot)
        panel = _panel(pilot, "zones")
        assert panel.error_text("name") == "the name is required"
        await pilot.press(*"offices", "ctrl+s")
        await _settled(pilot)
        assert panel.error_text("name") == 'the name "offices" is already used'
    assert [z.name for z in _stored(box).zones] == ["Offices"]


async def test_rename_a_zone(box: Runtime) -> None:
    await box.get(InstallationService).apply(save_group, Zone(0, "Offices"))
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")
        name = app.screen.query_one("#zones-name", Input)
        name.value = "Workshop"
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _labels(_panel(pilot, "zones")) == ["Workshop"]
    assert [z.name for z in _stored(box).zones] == ["Workshop"]


async def test_deactivate_then_activate(box: Runtime) -> None:
    await box.get(InstallationService).apply(save_group, Switchboard(0, "TGBT"))
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, GroupRemoveScreen)
        await pilot.press("d")  # Deactivate
        await _settled(pilot)
        assert _labels(_panel(pilot, "switchboards")) == [f"TGBT {DEACTIVATED}"]
        assert _stored(box).switchboards[0].active is False
        await pilot.press("o")  # Activate
        await _settled(pilot)
        assert _labels(_panel(pilot, "switchboards")) == ["TGBT"]
    assert _stored(box).switchboards[0].active is True


async def test_delete_user_circuit(box: Runtime) -> None:
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "a", *"Lifts", "ctrl+s")
        await _settled(pilot)
        assert "Lifts" in _labels(_panel(pilot, "circuits"))
        app.screen.query_one("#circuits-list", OptionList).focus()
        await pilot.press("d")
        assert app.screen.query_one("#remove-delete", Button)
        await pilot.press("x")
        await _settled(pilot)
        assert "Lifts" not in _labels(_panel(pilot, "circuits"))
    assert "Lifts" not in [c.name for c in _stored(box).circuits]


async def test_preset_circuit_can_only_be_deactivated(box: Runtime) -> None:
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        panel = _panel(pilot, "circuits")
        assert panel.selected is not None and panel.selected.preset == "heating"
        assert app.screen.query_one("#circuits-name", Input).disabled
        await pilot.press("d")
        modal = app.screen
        assert isinstance(modal, GroupRemoveScreen)
        assert modal.choices == ("deactivate",)
        assert not modal.query("#remove-delete")
        await pilot.press("x")  # Delete is not offered: nothing happens
        assert app.screen is modal
        await pilot.press("d")
        await _settled(pilot)
        assert _labels(panel)[0] == f"Heating * {DEACTIVATED}"
    heating = _stored(box).circuits[0]
    assert (heating.preset, heating.active) == ("heating", False)


async def test_ninth_user_circuit_is_refused(box: Runtime) -> None:
    service = box.get(InstallationService)
    for n in range(8):
        await service.apply(save_group, Circuit(0, f"Circuit {n + 1}"))
    assert len(service.current.circuits) == 15
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "a")
        panel = _panel(pilot, "circuits")
        assert panel.error_text() == "at most 8 circuits of your own (14 in all)"
        assert panel.selected is not None  # no empty form for a circuit that cannot be saved
    assert len(_stored(box).circuits) == 15


async def test_members_are_shown_read_only(box: Runtime) -> None:
    service = box.get(InstallationService)
    inst = await service.apply(save_group, Zone(0, "Offices"))
    zone_id = inst.zones[0].id
    await service.apply(
        save_device, Device(0, 1, "0 146 68", 5, name="Meter A", zone_ids=(zone_id,))
    )
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")
        members = str(app.screen.query_one("#zones-members").content)
        assert members == "Meter A"
        await pilot.press("c")
        # "Others" lists the devices without a circuit
        _panel(pilot, "circuits").option_list.highlighted = 6
        await pilot.pause()
        assert str(app.screen.query_one("#circuits-members").content) == "Meter A"


async def test_another_sessions_edit_shows(box: Runtime) -> None:
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")
        await box.get(InstallationService).apply(save_group, Zone(0, "Roof"))
        for _ in range(5):
            await pilot.pause()
        assert _labels(_panel(pilot, "zones")) == ["Roof"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_groups(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    async def circuits_page(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("c")
        await pilot.pause()

    app = SnapshotApp(tmp_path, "groups", language=language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=circuits_page)


async def test_esc_from_a_new_unsaved_circuit_asks_before_leaving(box: Runtime) -> None:
    """Issue 16: Esc on a circuit being written left the screen and lost what was typed."""
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")  # nothing typed: back at once
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("down", "down", "down", "down", "down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, GroupsScreen)  # from the menu, as a user opens it
        await pilot.press("c", "a", *"Lighting 2", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Leave without saving?" in screen_text(app)
        await pilot.press("n")  # stay: the input is still there
        await pilot.pause()
        assert isinstance(app.screen, GroupsScreen)
        assert app.screen.query_one("#circuits-name", Input).value == "Lighting 2"
        await pilot.press("escape", "y")  # leave: nothing saved
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert "Lighting 2" not in [c.name for c in _stored(box).circuits]


async def test_esc_from_a_changed_zone_asks_a_saved_one_leaves(box: Runtime) -> None:
    await box.get(InstallationService).apply(save_group, Zone(0, "Offices"))
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")
        app.screen.query_one("#zones-name", Input).focus()
        await pilot.press("end", *" 2", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # Esc on the question: stay
        await pilot.pause()
        assert isinstance(app.screen, GroupsScreen)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert [z.name for z in _stored(box).zones] == ["Offices 2"]
        await pilot.press("escape")  # saved: nothing to lose
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_only_the_page_shown_is_composed_the_others_when_first_shown(box: Runtime) -> None:
    """Issue 16: the screen opens with its first page only; a page is composed when first
    shown (its key, or its tab chosen on the tab bar), with what was saved meanwhile."""
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, GroupsScreen)
        assert [p.kind for p in screen.query(GroupPanel)] == ["switchboards"]
        await box.get(InstallationService).apply(save_group, Zone(0, "Roof"))
        await pilot.press("z")
        assert _labels(_panel(pilot, "zones")) == ["Roof"]
        assert screen.focused is _panel(pilot, "zones").option_list
        await pilot.press("shift+tab")  # the tab bar
        await pilot.press("left")  # Circuits, from the tab bar
        for _ in range(5):
            await pilot.pause()
        assert "Lighting" in " ".join(_labels(_panel(pilot, "circuits")))
        assert sorted(p.kind for p in screen.query(GroupPanel)) == [
            "circuits",
            "switchboards",
            "zones",
        ]


async def test_the_first_page_opens_composed_with_its_first_item(
    box: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16 item 6: the page shown first was composed empty, then filled on mount (its
    list refilled, its fields set), styling and laying it out twice as the screen opened."""
    await box.get(InstallationService).apply(save_group, Switchboard(0, "TGBT", "Basement"))
    refills: list[str] = []
    show = GroupPanel.show

    def counted(panel: GroupPanel, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        refills.append(panel.kind)
        show(panel, *args, **kwargs)

    monkeypatch.setattr(GroupPanel, "show", counted)
    app = make_box_app(box, "groups")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panel = _panel(pilot, "switchboards")
        assert refills == []
        assert _labels(panel) == ["TGBT"] and panel.option_list.highlighted == 0
        assert panel.selected is not None and panel.selected.name == "TGBT"
        fields = [
            app.screen.query_one(f"#switchboards-{f}", Input) for f in ("name", "description")
        ]
        assert [f.value for f in fields] == ["TGBT", "Basement"]
        assert not panel.unsaved()
        await pilot.press("c")  # another page is still filled when first shown
        await _settled(pilot)
        assert refills == ["circuits"]
        circuits = _panel(pilot, "circuits")
        assert circuits.selected is not None and circuits.option_list.highlighted == 0
