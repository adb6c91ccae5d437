"""``ews sim`` refusing a generic meter with a bad register says why in the user's language."""

from __future__ import annotations

import pytest

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.installation import GenericRegister
from ews_tui.i18n import use_language
from ews_tui.sim.device import DeviceSpec, SimError, resolve_map


def test_a_bad_generic_register_is_refused_in_the_users_language() -> None:
    spec = DeviceSpec(6, "GENERIC", generic=GenericRegister(6, 0x0156, 2, 1.0))
    with use_language("fr"), pytest.raises(SimError) as info:
        resolve_map(spec, builtin_catalog())
    assert str(info.value) == "adresse 6 : le code fonction 6 n'est ni 3 ni 4"
