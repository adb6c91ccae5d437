"""The gateway Test panel in French: numbers as Live measures writes them (babel, "230,3 V"),
and a Modbus exception named in French, against a real simulator over loopback."""

from __future__ import annotations

import re
from pathlib import Path

from ews_tui.ui.screens.gateway_test import GatewayTestScreen
from tests.ui.box_fixtures import make_box_app
from tests.ui.polling_box import polling_box
from tests.ui.test_gateways import highlight, text_of, until


async def test_the_test_panel_writes_numbers_and_exceptions_in_french(tmp_path: Path) -> None:
    async with polling_box(tmp_path) as box:
        app = make_box_app(box.runtime, "gateways", language="fr")
        async with app.run_test(size=(80, 24)) as pilot:
            await highlight(pilot, app.screen, box.gateway.id)
            await pilot.press("t")
            panel = app.screen
            assert isinstance(panel, GatewayTestScreen)
            await until(pilot, lambda: panel.result is not None, "the gateway test")
            summary = text_of(panel, "#gateway-test-summary")
            assert "La passerelle répond. Dispositifs testés : 4 ; sans réponse : 1." in summary
            head, feeder, silent, gas = (
                str(line.render()) for line in panel.query(".gateway-test-line")
            )
            assert re.search(r"Tension L1-N 2\d\d,\d V · ", head), head
            assert re.search(r"Courant L1 \d+,\d\d A", head), head
            assert re.search(r"Fréquence \d\d,\d\d Hz", feeder), feeder
            number = r"\d[\d\u202f\u00a0]*,\d+"  # French grouping: a narrow no-break space
            energy = (
                rf"Énergie active importée {number} kWh|Index de l’entrée impulsions 2 {number} m³"
            )
            assert re.search(energy, gas), gas
            for line in (head, feeder, gas):
                assert not re.search(r"\d\.\d", line), line  # no English decimal point
            assert "a répondu l’exception 11 (la cible de la passerelle n'a pas répondu)" in silent
