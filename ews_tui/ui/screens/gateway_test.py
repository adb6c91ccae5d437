"""The gateway Test panel (manual §7.16.1.2, step 4): is the gateway reachable, and what does
each of its enabled devices answer.

The test runs through the polling service (the gateway's bus poller owns the line; the UI
never talks Modbus). Each device is named by its own address (``2-1``, ``7-2``...), with its
Modbus unit in brackets when the two differ. Keys: t test again, Esc or Enter close.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ews_tui.domain.events import DeviceState, GatewayState
from ews_tui.domain.installation import Gateway
from ews_tui.i18n import N_, _
from ews_tui.services.polling import GatewayTestResult, PollingService
from ews_tui.ui.test_answer import answer_text, device_address
from ews_tui.ui.widgets.state_symbol import state_glyph

log = logging.getLogger(__name__)
STYLES = Path(__file__).resolve().parent.parent / "styles"
TEST_TIMEOUT = 90.0  # a safety net: the polling service has its own, shorter, timeouts


class GatewayTestScreen(ModalScreen[None]):
    """Test ``gateway`` now and show the answer of each of its devices."""

    CSS_PATH = STYLES / "gateway_test.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "test", N_("Test again")),
        Binding("escape", "close", N_("Close")),
        Binding("enter", "close", N_("Close"), show=False),
    ]

    def __init__(self, gateway: Gateway, polling: PollingService, *, plain: bool = False) -> None:
        super().__init__()
        self.gateway = gateway
        self.polling = polling
        self.plain = plain
        self.result: GatewayTestResult | None = None

    def compose(self) -> ComposeResult:
        where = (
            self.gateway.ip if self.gateway.is_local else f"{self.gateway.ip}:{self.gateway.port}"
        )
        with Vertical(id="gateway-test-box"):
            yield Static(
                _("Test of gateway {name} ({where})").format(name=self.gateway.name, where=where),
                id="gateway-test-title",
            )
            yield Static("", id="gateway-test-summary")
            yield VerticalScroll(id="gateway-test-devices")
            yield Static(_("t: test again · Esc: close"), id="gateway-test-keys")

    def on_mount(self) -> None:
        self.action_test()

    def action_test(self) -> None:
        self.result = None
        self.query_one("#gateway-test-summary", Static).update(
            _("Testing {ip}...").format(ip=self.gateway.ip)
        )
        self.query_one("#gateway-test-devices", VerticalScroll).remove_children()
        self.run_worker(self._test(), group="test", exclusive=True)

    def action_close(self) -> None:
        self.dismiss(None)

    async def _test(self) -> None:
        try:
            result = await asyncio.wait_for(self.polling.test_gateway(self.gateway), TEST_TIMEOUT)
        except TimeoutError:
            log.info("test of gateway %s: no answer in %s s", self.gateway.ip, TEST_TIMEOUT)
            self.query_one("#gateway-test-summary", Static).update(
                Text(_("No answer from the test in time: try again."), style="red")
            )
            return
        await self.show(result)

    async def show(self, result: GatewayTestResult) -> None:
        self.result = result
        summary = self.query_one("#gateway-test-summary", Static)
        if result.error is not None:
            summary.update(
                Text.assemble(
                    state_glyph(GatewayState.COMM_ERROR, plain=self.plain),
                    " ",
                    _("The gateway cannot be reached: {error}").format(
                        error=result.error.render(_)
                    ),
                )
            )
            return
        failed = sum(1 for _device, answer in result.devices if not answer.ok)
        total = len(result.devices)
        summary.update(
            Text.assemble(
                state_glyph(GatewayState.ON, plain=self.plain),
                " ",
                _("The gateway answers.") + " ",
                _("Devices tested: {count}; without an answer: {failed}.").format(
                    count=total, failed=failed
                )
                if total
                else _("It has no enabled device to read."),
            )
        )
        lines = []
        for device, answer in result.devices:
            state = DeviceState.ON if answer.ok else DeviceState.COMM_ERROR
            text = Text.assemble(
                state_glyph(state, plain=self.plain),
                " ",
                (device_address(device), "bold"),
                " ",
                device.name,
                "\n  ",
                (answer_text(answer, device, limit=4), "" if answer.ok else "red"),
            )
            lines.append(Static(text, classes="gateway-test-line"))
        await self.query_one("#gateway-test-devices", VerticalScroll).mount_all(lines)


SCREEN = GatewayTestScreen
