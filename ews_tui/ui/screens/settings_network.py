"""Server settings > Network (manual §7.7.1): the box's IP address, mask and default gateway.

The values are saved in ``config.toml``; the network backend of the config applies them:
``none`` stores them only (the page says so), ``systemd-networkd`` writes the interface's
``.network`` file. Saving asks for confirmation: the box may leave the line.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ews_tui.config import Config, NetworkBackend
from ews_tui.i18n import N_, _
from ews_tui.services.settings import NetworkResult
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting


def backend_text(result: NetworkResult) -> str:
    """One line saying whether the stored address is in force on the box."""
    if result.backend is NetworkBackend.NONE:
        return _("Network backend: none. The address is stored only, not applied to the box.")
    if result.error:
        return _("Not applied: cannot write {file}: {error}").format(
            file=result.file, error=result.error
        )
    if result.applied:
        return _("Applied: written to {file}").format(file=result.file)
    return _("Not applied yet: {file} will be written on save").format(file=result.file)


class NetworkSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("Network settings")
    SETTINGS = (
        Setting("network.ip", N_("IP address")),
        Setting("network.netmask", N_("Subnet mask")),
        Setting("network.gateway", N_("Default gateway")),
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
        result = self.service.network_status()
        backend = self.query_one("#net-backend", Static)
        backend.update(backend_text(result))
        backend.set_class(not result.applied, "-warning")

    def saved_message(self, config: Config) -> str:
        return _("Saved.") + " " + backend_text(self.service.network_status())


SCREEN = NetworkSettingsScreen
