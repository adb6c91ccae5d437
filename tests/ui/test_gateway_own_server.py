"""The gateway form refuses the box's own Modbus TCP server as a gateway (manual §7.1)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from ews_tui.services.installation import InstallationService
from ews_tui.ui.screens.gateways import GatewaysScreen
from tests.ui.box_fixtures import CLOSED_NTP, box_runtime, make_box_app


async def test_the_form_refuses_the_boxs_own_server_and_takes_another_port(
    tmp_path: Path,
) -> None:
    server_on = {**CLOSED_NTP, "modbus_tcp_server.enabled": True, "network.ip": "192.168.1.7"}
    async with box_runtime(tmp_path, server_on) as rt:
        app = make_box_app(rt, "gateways")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, GatewaysScreen)
            await pilot.press("a")
            screen.query_one("#f-ip", Input).value = "192.168.1.7"
            screen.query_one("#f-name", Input).value = "Roof"
            await pilot.pause()
            error = str(screen.query_one("#err-ip", Static).render())
            assert "own Modbus TCP server (0.0.0.0:502)" in error
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert len(rt.get(InstallationService).current.gateways) == 1
            screen.query_one("#f-port", Input).value = "5020"
            await pilot.pause()
            assert not screen.query_one("#err-ip").display
            await pilot.press("ctrl+s")
            await pilot.pause()
            gateways = rt.get(InstallationService).current.gateways
            assert [(g.name, g.port) for g in gateways] == [("Local", 502), ("Roof", 5020)]
