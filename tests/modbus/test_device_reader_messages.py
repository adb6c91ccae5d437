"""A generic meter whose register is wrong cannot be read: the reason is a message to
translate (shown on the device's line and by its test), not an English sentence."""

from __future__ import annotations

import pytest

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.installation import Device, GenericRegister
from ews_tui.i18n import translator
from ews_tui.modbus.device_reader import DeviceMapError, device_target


def test_a_bad_generic_register_is_told_in_the_users_language() -> None:
    bad = Device(2, 1, "GENERIC", 6, generic=GenericRegister(3, 0x0156, 3, 0.1))
    with pytest.raises(DeviceMapError) as info:
        device_target(bad, builtin_catalog())
    assert str(info.value) == "3 words is not 1, 2 or 4"
    french = info.value.message.render(translator("fr").gettext)
    assert french == "3 mots, ce n'est ni 1, ni 2, ni 4"
