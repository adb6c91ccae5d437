"""The home menus per role, opening entries, and snapshots of login and home."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList, Select

from ews_tui.frontends.sessions import default_language
from ews_tui.runtime import Runtime
from ews_tui.ui.menu import MENU
from ews_tui.ui.screens.coming import ComingScreen
from ews_tui.ui.screens.consumption_costs import CostsScreen
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.screens.login import LoginScreen
from ews_tui.ui.session import Role
from tests.ui.screen_text import screen_text
from tests.ui.shell_fixtures import ShellSnapshotApp, make_shell_app, shell_runtime

SIZE = (80, 24)
SECTION_KEYS = {s.key: {e.key for e in s.entries} for s in MENU}


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with shell_runtime(tmp_path) as runtime:
        yield runtime


def menu_ids(app: object) -> set[str]:
    menu = app.screen.query_one("#menu", OptionList)  # type: ignore[attr-defined]
    ids = {menu.get_option_at_index(i).id for i in range(menu.option_count)}
    return {i for i in ids if i is not None and not i.startswith("section:")}


@pytest.mark.parametrize(
    ("role", "sections"),
    [
        (Role.CONSULTATION, {"consultation"}),
        (Role.SYSTEM, {"consultation", "system"}),
        (Role.SERVER, {"consultation", "server"}),
    ],
)
async def test_each_role_sees_only_its_menus(rt: Runtime, role: Role, sections: set[str]) -> None:
    app = make_shell_app(rt, "home", role=role)
    async with app.run_test(size=SIZE):
        assert isinstance(app.screen, HomeScreen)
        assert menu_ids(app) == set().union(*(SECTION_KEYS[s] for s in sections))


async def test_a_role_cannot_open_a_screen_of_another_section(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.CONSULTATION)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("gateways")
        app.open_screen("settings_users")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert len(app.screen_stack) == 2


async def test_an_entry_not_there_yet_opens_the_coming_screen(rt: Runtime) -> None:
    coming = [(s, e) for s in MENU for e in s.entries if e.screen is None]
    if not coming:
        pytest.skip("every menu entry has its screen")
    section, entry = coming[0]
    role = next(r for r in (Role.SYSTEM, Role.SERVER) if r in section.roles)
    app = make_shell_app(rt, "home", role=role)
    async with app.run_test(size=SIZE) as pilot:
        menu = app.screen.query_one("#menu", OptionList)
        menu.highlighted = menu.get_option_index(entry.key)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ComingScreen)
        assert app.screen.title_msgid == entry.label
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_a_missing_screen_module_opens_the_coming_screen(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.SERVER)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("no_such_screen")
        await pilot.pause()
        assert isinstance(app.screen, ComingScreen)


# -- snapshots (80x24) ---------------------------------------------------------------------


def test_snapshot_login_en(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(ShellSnapshotApp(tmp_path), terminal_size=SIZE)


def test_snapshot_login_fr(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(ShellSnapshotApp(tmp_path, language="fr"), terminal_size=SIZE)


def test_snapshot_login_16_colours(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(ShellSnapshotApp(tmp_path, colors=16), terminal_size=SIZE)


def test_snapshot_home_en(snap_compare, tmp_path: Path) -> None:
    app = ShellSnapshotApp(tmp_path, "home", role=Role.SYSTEM)
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_home_fr(snap_compare, tmp_path: Path) -> None:
    app = ShellSnapshotApp(tmp_path, "home", role=Role.SERVER, language="fr")
    assert snap_compare(app, terminal_size=SIZE)


async def test_the_mouse_opens_an_entry(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.CONSULTATION)
    async with app.run_test(size=SIZE) as pilot:
        # Inside the menu's padding: the heading on row 1, then Live measures,
        # Consumption, Costs.
        assert await pilot.click("#menu", offset=(6, 4))
        await pilot.pause()
        assert isinstance(app.screen, CostsScreen)


# -- issue 16: the language from Home; a log-out key no word can hold ------------------------


async def test_the_language_chosen_on_home_changes_this_session_only(
    rt: Runtime, tmp_path: Path
) -> None:
    """Manual §7.11.2: the language list on Home changes every text of this session at
    once (title, menu, status line, footer) and not the box's default language."""
    config_file = tmp_path / "config.toml"
    before = config_file.read_text()
    app = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the frame: Home's layout with its menu and footer
        shown = screen_text(app)
        assert "Live measures" in shown and "Log out" in shown and "Language" in shown
        await pilot.press("tab")  # from the menu to the language list
        assert app.focused is app.screen.query_one("#language", Select)
        await pilot.press("enter")  # the list opens: Deutsch, English, Español, Français...
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        shown = screen_text(app)
        assert app.session.language == "fr"
        assert "Accueil" in shown and "Mesures en temps réel" in shown
        assert "Se déconnecter" in shown and "Langue" in shown  # the footer, the label
        assert "Live measures" not in shown and "Log out" not in shown
        assert app.focused is app.screen.query_one("#menu", OptionList)
    assert rt.config.language == "en"  # the box's default is unchanged ...
    assert config_file.read_text() == before  # ... in memory and on disk
    again = make_shell_app(rt, "home", role=Role.SYSTEM, language=default_language(rt))
    async with again.run_test(size=SIZE) as again_pilot:
        await again_pilot.pause()
        assert "Live measures" in screen_text(again)  # a new session opens in the default


async def test_typing_a_word_on_home_does_not_log_out_ctrl_d_does(rt: Runtime) -> None:
    """ "lighting" typed while Home has the keys used to log out at its "l"."""
    app = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"lighting")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and app.session.role is Role.SYSTEM
        assert "^d Log out" in screen_text(app)  # the key is shown in the footer
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.session.role is None


async def test_the_menu_is_measured_once_when_home_opens(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each option added to a shown list made the list measure its lines again (and a
    divider cleared every cached line): the menu is added in one go."""
    adds: list[int] = []
    add_options = OptionList.add_options

    def counted(self: OptionList, options: Any) -> OptionList:
        options = list(options)
        if self.id == "menu" and options:
            adds.append(len(options))
        return add_options(self, options)

    monkeypatch.setattr(OptionList, "add_options", counted)
    app = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#menu", OptionList)
        assert len(adds) == 1 and adds[0] >= menu.option_count > 10  # one add, all of it
        assert menu.highlighted == 1
