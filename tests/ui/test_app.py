"""The shell: help keys, Esc, the command palette, the small-terminal notice, themes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from ews_tui.config import apply_changes, default_config
from ews_tui.runtime import Runtime
from ews_tui.ui.app import ANSI_THEME, EwsApp, SharedStylesheet
from ews_tui.ui.screens.coming import ComingScreen
from ews_tui.ui.screens.greenup import GreenUpScreen
from ews_tui.ui.screens.help import HelpScreen
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.screens.login import LoginScreen
from ews_tui.ui.session import Role, Session
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.too_small import TooSmall
from tests.ui.shell_fixtures import make_shell_app, shell_runtime

SIZE = (80, 24)


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with shell_runtime(tmp_path) as runtime:
        yield runtime


async def test_below_80x24_the_screen_asks_to_enlarge_the_terminal(rt: Runtime) -> None:
    app = make_shell_app(rt)
    async with app.run_test(size=(79, 23)) as pilot:
        await pilot.pause()
        notice = app.screen.query_one(TooSmall)
        assert notice.display and app.screen.query_one("#login-box").display is False
        assert "Please enlarge the terminal to at least 80x24" in str(notice.render())
        await pilot.resize_terminal(80, 23)
        await pilot.pause()
        assert notice.display  # still too short
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not notice.display and app.screen.query_one("#login-box").display


async def test_f1_and_question_mark_open_help_and_esc_goes_back(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")  # nothing behind home
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        lines = [str(s.render()) for s in app.screen.query(".help-line")]
        assert any(line.startswith("Gateways and devices: ") for line in lines)
        assert not any(line.startswith("Network: ") for line in lines)  # not this role's
        assert f"{'Ctrl+D':<16}Log out (home screen)" in lines  # no letter: issue 16
        await pilot.press("f1")  # help does not stack on help
        assert len(app.screen_stack) == 3
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        assert isinstance(app.screen, HomeScreen)


async def test_help_on_the_login_screen_explains_the_login(rt: Runtime) -> None:
    app = make_shell_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")  # the PIN field has the focus: F1 still works
        assert isinstance(app.screen, HelpScreen)
        lines = [str(s.render()) for s in app.screen.query(".help-line")]
        assert any("PUK (14 digits" in line for line in lines)
        await pilot.press("escape")
        assert isinstance(app.screen, LoginScreen)


async def palette_prompts(pilot: object, app: EwsApp) -> list[str]:
    await pilot.press("ctrl+p")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert CommandPalette.is_open(app)
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    results = app.screen.query_one(CommandList)
    return [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]


async def test_ctrl_p_lists_the_screens_of_the_role(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with app.run_test(size=SIZE) as pilot:
        prompts = "\n".join(await palette_prompts(pilot, app))
        for name in ("Live measures", "Gateways and devices", "Green'Up", "Help", "Log out"):
            assert name in prompts
        assert "Network" not in prompts and "Users and PINs" not in prompts
        await pilot.press(*"green", "enter")
        await pilot.pause()
        assert isinstance(app.screen, GreenUpScreen)


async def test_the_palette_speaks_the_session_language(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.SERVER, language="fr")
    async with app.run_test(size=SIZE) as pilot:
        prompts = "\n".join(await palette_prompts(pilot, app))
        assert "Paramètres de réseau" in prompts and "Aide" in prompts
        palette_input = app.screen.query_one(Input)
        assert palette_input.placeholder == "Rechercher un écran…"


async def test_the_footer_translates_the_keys(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.SYSTEM, language="fr")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(EwsFooter)
        descriptions = {key.description for key in footer.query("FooterKey")}
        assert {"Aide", "Se déconnecter", "Commandes"} <= descriptions


async def test_the_footer_mounts_its_keys_a_few_per_loop_step(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual mounted (and styled) the whole bar of keys in one step of the loop each
    time a screen opened; the footer mounts KEYS_PER_STEP at a time, and the bar it ends
    with is the same."""
    mounts: list[int] = []
    mount_all = EwsFooter.mount_all

    def counted(self: EwsFooter, widgets: Any, **kwargs: Any) -> Any:
        widgets = list(widgets)
        mounts.append(len(widgets))
        return mount_all(self, widgets, **kwargs)

    monkeypatch.setattr(EwsFooter, "mount_all", counted)
    monkeypatch.setattr(EwsFooter, "KEYS_PER_STEP", 2, raising=False)  # Home shows 4 keys
    app = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        footer = app.screen.query_one(EwsFooter)
        keys = [key.key for key in footer.query("FooterKey")]
        assert len(keys) > EwsFooter.KEYS_PER_STEP
        assert max(mounts) <= EwsFooter.KEYS_PER_STEP and sum(mounts) >= len(keys)
        assert keys == ["o", "ctrl+d", "f1", "ctrl+p"]  # in Textual's order


async def test_logout_from_a_deeper_screen_returns_to_login(rt: Runtime) -> None:
    app = make_shell_app(rt, "help", role=Role.SYSTEM)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HelpScreen) and len(app.screen_stack) == 3
        app.logout()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and len(app.screen_stack) == 2
        assert app.session.role is None


async def test_without_a_role_the_app_starts_on_login(rt: Runtime) -> None:
    app = make_shell_app(rt, "gateways")
    async with app.run_test(size=SIZE):
        assert isinstance(app.screen, LoginScreen)


def test_the_16_colour_theme_is_chosen_for_vt_no_color_or_config(tmp_path: Path) -> None:
    plain = Runtime(default_config(tmp_path))
    ansi_config = Runtime(apply_changes(default_config(tmp_path), {"ui.theme": "ansi"}, tmp_path))
    assert EwsApp(Session(plain)).theme == "textual-dark"
    assert EwsApp(Session(plain, colors=16)).theme == ANSI_THEME
    assert EwsApp(Session(plain, extra={"env": {"NO_COLOR": "1"}})).theme == ANSI_THEME
    assert EwsApp(Session(ansi_config)).theme == ANSI_THEME


async def test_a_second_session_parses_no_css(rt: Runtime) -> None:
    first = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with first.run_test(size=SIZE) as pilot:
        first.open_screen("coming", title="x")
        await pilot.pause()
    parsed = SharedStylesheet.parses
    second = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with second.run_test(size=SIZE) as pilot:
        second.open_screen("coming", title="x")
        await pilot.pause()
        assert isinstance(second.screen, ComingScreen)
        assert second.screen.query_one(TooSmall).styles.display == "none"  # rules applied
    assert SharedStylesheet.parses == parsed
