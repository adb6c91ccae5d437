"""How the answer of a Test reads, on the devices screen and in the gateway Test panel.

A device is named by its own address as the user typed it (``12``, ``3-2`` for an EMS CX3
module, ``7-2`` for a pulse meter on a concentrator input, ``5-2`` for a charger side), with
the Modbus unit on the wire in brackets when the two differ: ``3-2 (unit 23)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ews_tui.domain.catalog import known_unit
from ews_tui.domain.installation import Device
from ews_tui.domain.messages import Message
from ews_tui.i18n import _
from ews_tui.modbus.failures import EXCEPTION_MESSAGE
from ews_tui.services.polling import TestResult
from ews_tui.ui.value_text import value_text
from ews_tui.ui.widgets.measure_table import quantity_label

SHOWN_VALUES = 6
UNIT_NAMES: Mapping[str, str] = {"m3": "m³"}  # the register maps' ids, as a screen writes them


def device_address(device: Device) -> str:
    """``12``, or ``3-2 (unit 23)`` when the user's address is not the Modbus unit."""
    text = device.address_text()
    if text == str(device.address):
        return text
    return _("{address} (unit {unit})").format(address=text, unit=device.address)


def error_text(error: Message, device: Device) -> str:
    """``error`` translated, naming ``device`` by its own address where it names its unit
    (and a Modbus exception by its name in the session's language)."""
    params = dict(error.params)
    if params.get("address") == device.address:
        params["address"] = device_address(device)
    name = params.get("name")
    if error.msgid == EXCEPTION_MESSAGE and isinstance(name, str):
        params["name"] = _(name)  # the Modbus exception's name ("illegal data address")
    return Message(error.msgid, params).render(_)


def values_text(
    values: Mapping[str, float | str | None],
    limit: int = SHOWN_VALUES,
    units: Mapping[str, str] | None = None,
) -> str:
    """A few values read, named as Live measures names them, in the session's language:
    ``Voltage L1-N 230.1 V · Current L1 5.20 A ...`` (``Tension L1-N 230,1 V`` in French);
    a state word is translated. ``units``: the units of the map that was read (a pulse
    meter's index is in kWh or m³, as its input is programmed); otherwise the catalog's."""
    parts = []
    for key, value in values.items():
        if value is None:
            continue
        unit = (units or {}).get(key) or known_unit(key) or ""
        # The session's number format, whole (``.6g`` cut 1234567.8 kWh to 1.23457e+06).
        number = value_text(value, unit)
        parts.append(f"{quantity_label(key)} {number} {UNIT_NAMES.get(unit, unit)}".strip())
        if len(parts) == limit:
            break
    return " · ".join(parts) if parts else _("the device answered, with no values")


def answer_text(result: TestResult, device: Device, limit: int = SHOWN_VALUES) -> str:
    """What one device's Test says: its values, or why there are none."""
    if result.error is not None:
        return error_text(result.error, device)
    return values_text(result.values or {}, limit, result.units)
