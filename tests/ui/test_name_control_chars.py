"""A form refuses a name holding control characters, under its field (issue 12 item 5)."""

from __future__ import annotations

from textual.widgets import Input, Static

from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from tests.ui.conftest import MakeApp

HOSTILE = "\x1b]0;PWNED-TITLE\x07\x1b[2J"


async def test_the_gateway_form_refuses_a_name_with_escapes(
    make_app: MakeApp, runtime: Runtime
) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("a")
        screen.query_one("#f-ip", Input).value = "192.168.1.30"
        screen.query_one("#f-name", Input).value = HOSTILE
        screen.query_one("#f-description", Input).value = "d" * 121
        await pilot.pause()
        shown = str(screen.query_one("#err-name", Static).render())
        assert shown == "control characters (here \\x1b) are not allowed"
        described = str(screen.query_one("#err-description", Static).render())
        assert described == "121 characters: at most 120 are allowed"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [g.name for g in runtime.get(InstallationService).current.gateways] == ["Local"]
