"""Textual's own words (the palette's "No matches found", Ctrl+C's note, an open dropdown's
key in the footer) in the session's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.align import Align
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Select
from textual.widgets._footer import FooterKey

from ews_tui.runtime import Runtime
from ews_tui.ui.app import EwsApp
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.session import Role
from ews_tui.ui.textual_words import EwsCommandPalette
from tests.ui.shell_fixtures import make_shell_app, shell_runtime

SIZE = (80, 24)


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with shell_runtime(tmp_path) as runtime:
        yield runtime


async def search_palette(pilot: Pilot[None], app: EwsApp, typed: str) -> list[str]:
    """What the palette lists once the search for ``typed`` is over."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert CommandPalette.is_open(app)
    await pilot.press(*typed)
    await app.workers.wait_for_complete()
    await pilot.pause()
    palette = app.screen
    assert isinstance(palette, EwsCommandPalette)
    timer = palette._no_matches_timer
    if timer is not None and timer._task is not None:  # nothing found: it says so, once
        await timer._task
    await pilot.pause()
    results = app.screen.query_one(CommandList)
    prompts = [results.get_option_at_index(i).prompt for i in range(results.option_count)]
    # "No matches found" is centred: its text is inside an Align
    return [str(p.renderable) if isinstance(p, Align) else str(p) for p in prompts]


@pytest.mark.parametrize(
    ("language", "nothing"), [("fr", "Aucun résultat"), ("en", "No matches found")]
)
async def test_a_search_that_finds_nothing_says_so_in_the_session_language(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, language: str, nothing: str
) -> None:
    # Textual waits half a second before saying it: a millisecond here.
    monkeypatch.setattr(EwsCommandPalette, "_NO_MATCHES_COUNTDOWN", 0.001)
    app = make_shell_app(rt, "home", role=Role.SYSTEM, language=language)
    async with app.run_test(size=SIZE) as pilot:
        prompts = await search_palette(pilot, app, "zzzq")
        assert prompts == [nothing]


async def test_a_search_that_finds_lists_no_no_matches_line(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EwsCommandPalette, "_NO_MATCHES_COUNTDOWN", 0.001)
    app = make_shell_app(rt, "home", role=Role.SYSTEM, language="fr")
    async with app.run_test(size=SIZE) as pilot:
        prompts = await search_palette(pilot, app, "aide")
        assert prompts == ["Aide\nTouches et menus"]


async def test_ctrl_c_says_which_key_quits_in_the_session_language(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.SYSTEM, language="fr")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)  # it does not quit
        notes = [(n.title, n.message) for n in app._notifications]
        assert notes == [("Voulez-vous quitter ?", "Appuyez sur [b]^q[/b] pour quitter")]


@pytest.mark.parametrize(
    ("language", "words"), [("fr", "Fermer le menu"), ("de", "Menü schließen")]
)
async def test_an_open_dropdown_says_its_key_in_the_session_language(
    rt: Runtime, language: str, words: str
) -> None:
    app = make_shell_app(rt, "home", role=Role.SYSTEM, language=language)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#language", Select).focus()
        await pilot.press("enter")  # the dropdown opens: its Esc shows in the footer
        await pilot.pause()
        await pilot.pause()
        keys = [key.description for key in app.screen.query(FooterKey) if key.key == "escape"]
        assert words in keys, keys
