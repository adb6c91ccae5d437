"""The login flow through the keyboard, on a real store: PIN, PUK, the lockout per session
source, slowed PUKs, the first login's new PIN and PUK."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select, Static

from ews_tui.domain.auth import Role as AuthRole
from ews_tui.i18n import translator
from ews_tui.runtime import Runtime
from ews_tui.services.auth import AuthService
from ews_tui.store.users_repo import PEPPER_FILE
from ews_tui.ui.screens.change_pin import ChangePinScreen
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.screens.login import LoginScreen
from ews_tui.ui.session import Role
from tests.ui.auth_fixtures import set_failures
from tests.ui.shell_fixtures import SYSTEM_PUK, ShellSnapshotApp, make_shell_app, shell_runtime

SIZE = (80, 24)
GUEST = "ssh:guest@10.0.0.9"
ADMIN = "ssh:admin@10.0.0.2"


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with shell_runtime(tmp_path) as runtime:
        yield runtime


def text(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def type_in(pilot: Pilot[None], value: str) -> None:
    """Type ``value`` key by key into the focused field, then Enter."""
    await pilot.press(*("space" if c == " " else c for c in value), "enter")
    await pilot.pause()


async def enter(pilot: Pilot[None], value: str) -> None:
    """Fill the focused field at once (faster than typing), then Enter."""
    focused = pilot.app.focused
    assert isinstance(focused, Input)
    focused.value = value
    await pilot.press("enter")
    await pilot.pause()


async def drawn_puk(pilot: Pilot[None]) -> str:
    """The PUK the change screen shows once; Enter then goes on."""
    assert isinstance(pilot.app.screen, ChangePinScreen)
    shown = text(pilot, "#shown-puk")
    found = re.search(r"\d{5} \d{4} \d{5}", shown)
    assert found is not None, shown
    assert "shown only once" in shown
    await pilot.press("enter")
    await pilot.pause()
    return found.group()


async def test_first_login_sets_a_new_pin_and_shows_a_new_puk_once(rt: Runtime) -> None:
    app = make_shell_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)
        assert app.focused is app.screen.query_one("#pin", Input)
        assert app.screen.query_one("#puk", Input).disabled
        await type_in(pilot, "88888")
        assert app.focused is app.screen.query_one("#puk", Input)  # Enter moves to the PUK
        await type_in(pilot, SYSTEM_PUK)  # with spaces
        assert isinstance(app.screen, ChangePinScreen) and app.session.role is None
        assert "The default PUK is published" in text(pilot, "#intro")
        await enter(pilot, "24680")
        await enter(pilot, "24680")  # the PUK left empty: one is drawn
        puk = await drawn_puk(pilot)
        assert puk != SYSTEM_PUK
        assert isinstance(app.screen, HomeScreen)
        assert app.session.role is Role.SYSTEM

        await pilot.press("ctrl+d")  # log out
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.session.role is None
        await enter(pilot, "24680")
        await enter(pilot, SYSTEM_PUK)  # the published PUK no longer opens anything
        assert text(pilot, "#puk-error") == "Wrong PUK. Attempts left before the lock: 4."
        await enter(pilot, puk.replace(" ", ""))  # without spaces
        assert isinstance(app.screen, HomeScreen)
        assert app.session.role is Role.SYSTEM
        assert len(app.screen_stack) == 2


async def test_first_login_with_a_chosen_puk(rt: Runtime) -> None:
    app = make_shell_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await enter(pilot, "99999")
        await enter(pilot, "00000 9999 00000")
        await enter(pilot, "13579")
        app.screen.query_one("#confirm", Input).value = "13579"
        await pilot.press("tab")  # down to the PUK
        assert app.focused is app.screen.query_one("#puk", Input)
        await enter(pilot, "00000 8888 00000")
        await enter(pilot, "00000 8888 00000")
        assert text(pilot, "#puk-error") == "Choose a PUK other than the default PUKs."
        assert app.focused is app.screen.query_one("#puk", Input)
        await enter(pilot, "11111 2222 33333")
        await enter(pilot, "11111 2222 33334")
        assert text(pilot, "#puk-confirm-error") == "The two new PUKs differ."
        await enter(pilot, "11111 2222 33333")
        await enter(pilot, "11111222233333")
        assert isinstance(app.screen, HomeScreen) and app.session.role is Role.SERVER
    result = await rt.get(AuthService).login("13579", "11111 2222 33333", source="test")
    assert result.role is AuthRole.SERVER


async def test_wrong_pin_and_malformed_codes_show_under_their_field(rt: Runtime) -> None:
    app = make_shell_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await enter(pilot, "123")
        assert text(pilot, "#pin-error") == "The PIN is 5 digits."
        await enter(pilot, "12345")
        assert text(pilot, "#pin-error") == "Wrong PIN. Attempts left before the lock: 4."
        assert app.screen.query_one("#pin", Input).value == ""
        assert app.screen.query_one("#puk", Input).disabled
        await enter(pilot, "88888")
        assert text(pilot, "#pin-error") == ""
        await enter(pilot, "00000 9999 00000")  # another role's PUK
        assert text(pilot, "#puk-error") == "Wrong PUK. Attempts left before the lock: 3."
        assert isinstance(app.screen, LoginScreen)
        await enter(pilot, "00000 9999 00000")  # the third failure: the next one must wait
        await enter(pilot, SYSTEM_PUK)
        assert "wait 2 s before trying again" in text(pilot, "#puk-error")
        assert isinstance(app.screen, LoginScreen)


async def test_five_failures_lock_this_source_only(rt: Runtime) -> None:
    """Issue 12 item 1: a guest's wrong PINs lock the guest's sessions, not the admin's."""
    await set_failures(rt, GUEST, 4)
    guest = make_shell_app(rt, origin=GUEST)
    admin = make_shell_app(rt, origin=ADMIN)
    async with guest.run_test(size=SIZE) as g_pilot, admin.run_test(size=SIZE) as a_pilot:
        await enter(g_pilot, "12345")  # the fifth
        assert "enter a PUK to unlock" in text(g_pilot, "#status")
        assert guest.screen.query_one("#pin", Input).disabled
        assert guest.focused is guest.screen.query_one("#puk", Input)

        await a_pilot.pause()
        assert not admin.screen.query_one("#pin", Input).disabled
        assert text(a_pilot, "#status") == ""
        await enter(a_pilot, "99999")
        await enter(a_pilot, "00000 9999 00000")
        assert isinstance(admin.screen, ChangePinScreen)
    again = make_shell_app(rt, origin=GUEST)  # a new session from the same source
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.screen.query_one("#pin", Input).disabled
        assert again.focused is again.screen.query_one("#puk", Input)


async def test_a_locked_source_unlocks_with_a_puk_slowed_after_a_wrong_one(rt: Runtime) -> None:
    await set_failures(rt, GUEST, 5)
    app = make_shell_app(rt, origin=GUEST)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#pin", Input).disabled
        await enter(pilot, "11111 11111 1111")
        assert text(pilot, "#puk-error") == (
            "Wrong PUK. Attempts left before logins from here are blocked: 9."
        )
        await enter(pilot, SYSTEM_PUK)  # right, but too soon: not even checked
        assert "wait 16 s before trying again" in text(pilot, "#puk-error")
        await set_failures(rt, GUEST, 6)  # ... the wait is over
        await enter(pilot, SYSTEM_PUK)
        assert isinstance(app.screen, ChangePinScreen)
        await enter(pilot, "13579")
        await enter(pilot, "13579")
        await drawn_puk(pilot)
        assert isinstance(app.screen, HomeScreen) and app.session.role is Role.SYSTEM
    assert await rt.get(AuthService).refusal(GUEST) is None


async def test_a_blocked_source_has_nothing_to_type(rt: Runtime) -> None:
    await set_failures(rt, GUEST, 15)
    app = make_shell_app(rt, origin=GUEST)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#pin", Input).disabled
        assert app.screen.query_one("#puk", Input).disabled
        assert "ews auth reset" in text(pilot, "#status")


async def test_the_forced_change_refuses_bad_pins_and_esc_gives_up(rt: Runtime) -> None:
    app = make_shell_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await enter(pilot, "99999")
        await enter(pilot, "00000 9999 00000")
        assert isinstance(app.screen, ChangePinScreen)
        await enter(pilot, "88888")
        await enter(pilot, "88888")
        assert text(pilot, "#new-error") == "Choose a PIN other than the default PINs."
        assert app.focused is app.screen.query_one("#new", Input)
        await enter(pilot, "24680")
        await enter(pilot, "24681")
        assert text(pilot, "#confirm-error") == "The two new PINs differ."
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.session.role is None
        assert app.screen.query_one("#pin", Input).value == ""
        assert app.focused is app.screen.query_one("#pin", Input)


async def test_pins_are_stored_hashed_with_the_pepper(rt: Runtime) -> None:
    app = make_shell_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        for value in ("77777", "00000 7777 00000", "31415", "31415"):
            await enter(pilot, value)
        await drawn_puk(pilot)
        assert app.session.role is Role.CONSULTATION
    path = rt.config.data_dir / "ews.sqlite"
    raw = path.read_bytes() + Path(f"{path}-wal").read_bytes()
    assert b"31415" not in raw and b"77777" not in raw
    pepper = (rt.config.data_dir / PEPPER_FILE).read_bytes()
    state = rt.get(AuthService).state
    assert state.credentials[AuthRole.CONSULTATION].pin.matches("31415", pepper)
    assert not state.credentials[AuthRole.CONSULTATION].must_change


async def test_choosing_a_language_on_the_login_screen_changes_the_labels(rt: Runtime) -> None:
    app = make_shell_app(rt)
    fr = translator("fr")
    async with app.run_test(size=SIZE) as pilot:
        assert str(app.screen.query_one("#language-label", Label).render()) == "Language"
        await pilot.press("shift+tab")  # from the PIN to the language
        assert app.focused is app.screen.query_one("#language", Select)
        await pilot.press("enter", "down", "down", "enter")  # English -> Español -> Français
        await pilot.pause()
        assert app.screen.query_one("#language", Select).value == "fr"
        assert app.session.language == "fr"
        label = str(app.screen.query_one("#language-label", Label).render())
        assert label == fr.gettext("Language") == "Langue"
        assert text(pilot, "#intro") == fr.gettext("Enter your PIN, then your PUK.")
        await pilot.press("tab")
        await enter(pilot, "123")
        assert text(pilot, "#pin-error") == "Le code PIN comporte 5 chiffres."


async def test_two_sessions_keep_their_own_language(rt: Runtime) -> None:
    english, french = make_shell_app(rt), make_shell_app(rt, language="fr")
    async with english.run_test(size=SIZE) as en_pilot, french.run_test(size=SIZE) as fr_pilot:
        await enter(en_pilot, "123")
        await enter(fr_pilot, "123")
        assert text(en_pilot, "#pin-error") == "The PIN is 5 digits."
        assert text(fr_pilot, "#pin-error") == "Le code PIN comporte 5 chiffres."
        french.change_language("de")
        await fr_pilot.pause()
        await enter(en_pilot, "")
        assert text(en_pilot, "#pin-error") == "The PIN is 5 digits."
        assert str(english.screen.query_one("#pin-label", Label).render()) == "PIN"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_first_login_change(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    """The first login's form at 80x24: the new PIN twice and the new PUK (optional)."""

    async def run_before(pilot: Any) -> None:
        await pilot.pause()
        login = pilot.app.screen
        puk = login.query_one("#puk", Input)
        # Each code is checked off the UI loop: wait for its outcome, not for a fixed time
        # (a loaded machine, or tests in parallel, take longer than one pause).
        for field, value, checked in (
            ("#pin", "88888", lambda: not puk.disabled),
            ("#puk", SYSTEM_PUK, lambda: pilot.app.screen is not login),
        ):
            widget = login.query_one(field, Input)
            widget.value = value
            widget.focus()
            await pilot.press("enter")
            while not checked():
                await pilot.pause(0.02)
        await pilot.pause()

    app = ShellSnapshotApp(tmp_path, language=language)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
