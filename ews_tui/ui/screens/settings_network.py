"""Server settings > Network (manual §7.7.1): the box's IP address, mask, default gateway and
DNS servers.

The values are saved in ``config.toml``; the network backend of the config applies them:
``none`` stores them only (the page says so), ``systemd-networkd`` writes the interface's
``.network`` file, then runs ``networkctl reload`` and ``networkctl reconfigure``. The page
says "Applied" only after both succeeded, and otherwise which step failed and why; F6 applies
the saved settings again. Saving asks for confirmation: the box may leave the line.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ews_tui.config import Config, NetworkBackend
from ews_tui.i18n import N_, _
from ews_tui.services.network_apply import NetworkResult, NetworkState
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting


def backend_text(result: NetworkResult) -> str:
    """One line saying whether the stored address is in force on the box."""
    state = result.state
    if state is NetworkState.STORED_ONLY:
        return _("Network backend: none. The address is stored only, not applied to the box.")
    if state is NetworkState.FAILED:
        error = result.error.render(_) if result.error is not None else ""
        return _("Not applied: {step}: {error}").format(step=result.step, error=error)
    if state is NetworkState.APPLIED:
        return _("Applied: written to {file}").format(file=result.file)
    if state is NetworkState.WRITTEN:
        return _("Written to {file} before; F6 applies it again.").format(file=result.file)
    return _("Not applied yet: {file} will be written on save").format(file=result.file)


class NetworkSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("Network settings")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f6", "apply_again", N_("Apply again"), show=True),
    ]
    SETTINGS = (
        Setting("network.ip", N_("IP address")),
        Setting("network.netmask", N_("Subnet mask")),
        Setting("network.gateway", N_("Default gateway")),
        Setting("network.dns", N_("DNS servers"), "list"),
    )
    CONFIRM = N_(
        "Save the new network settings? Sessions reaching the box through its old address "
        "will be cut off."
    )

    def compose_before(self) -> ComposeResult:
        yield Static("", id="net-interface", classes="page-fact")

    def compose_after(self) -> ComposeResult:
        yield Static("", id="net-backend", classes="page-fact")

    def show_config(self, config: Config) -> None:
        interface = _("Interface: {name}").format(name=config.network.interface)
        self.query_one("#net-interface", Static).update(interface)
        self.show_result(self.service.network_status())

    def show_result(self, result: NetworkResult) -> None:
        backend = self.query_one("#net-backend", Static)
        backend.update(backend_text(result))
        backend.set_class(not result.applied, "-warning")

    def saved_message(self, config: Config) -> str:
        return _("Saved.") + " " + backend_text(self.service.network_status())

    async def save(self, changes: dict[str, Any]) -> None:
        await super().save(changes)
        if self.service.network_status().state is NetworkState.FAILED:
            status = self.query_one("#status", Static)
            self.set_status(str(status.content), error=True)

    def action_apply_again(self) -> None:
        if self.service.config.network.backend is NetworkBackend.NONE:
            self.set_status(_("Nothing to apply: the network backend is none."), error=True)
            return
        self.set_status(_("Applying…"))
        self.run_worker(self._apply_again(), exclusive=True, group="apply")

    async def _apply_again(self) -> None:
        result = await self.service.reapply_network()
        self.show_result(result)
        self.set_status(backend_text(result), error=not result.applied)


SCREEN = NetworkSettingsScreen
