"""Server settings > Modbus configuration (manual §7.8): the RS485 port and the TCP server.

Defaults: even parity, 1 stop bit, 19200 bps, 300 ms, Modbus TCP server OFF. Saving publishes
``SettingsChanged("rs485")`` (and ``"modbus_tcp_server"``): the polling service restarts the
local bus poller, not the process.
"""

from __future__ import annotations

from ews_tui.config import RS485_BAUDRATES, Config
from ews_tui.i18n import N_, _
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting

PARITIES = ((N_("Even"), "even"), (N_("Odd"), "odd"), (N_("None"), "none"))


class ModbusSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("Modbus configuration")
    SETTINGS = (
        Setting("rs485.parity", N_("Parity"), "select", PARITIES),
        Setting("rs485.stopbits", N_("Stop bits"), "select", (("1", 1), ("2", 2)), native=True),
        Setting(
            "rs485.baudrate",
            N_("Speed (bps)"),
            "select",
            tuple((str(speed), speed) for speed in RS485_BAUDRATES),
            native=True,
        ),
        Setting("rs485.timeout_ms", N_("RS485 timeout"), "number", suffix=N_("ms")),
        Setting("modbus_tcp_server.enabled", N_("Modbus TCP server"), "switch"),
    )
    CONFIRM = N_("Save the Modbus settings? The local bus restarts with them.")

    def saved_message(self, config: Config) -> str:
        return _("Saved. The local RS485 bus restarts with the new settings.")


SCREEN = ModbusSettingsScreen
