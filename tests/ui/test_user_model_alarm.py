"""The Alarms screen of a box started with a bad user model file: the skipped file is there,
its reason in the session's language."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from ews_tui.ui.screens.alarms import AlarmsScreen
from tests.services.test_user_model_events import BAD_REGISTER, skipped_alarms, write_models
from tests.ui.box_fixtures import box_runtime, make_box_app
from tests.ui.test_alarms import settle


async def test_the_skipped_file_is_in_the_alarms_list_translated(tmp_path: Path) -> None:
    write_models(tmp_path / "data", {"bad.toml": BAD_REGISTER})
    async with box_runtime(tmp_path) as rt:
        await skipped_alarms(rt, 1)
        app = make_box_app(rt, "alarms", language="fr")
        async with app.run_test(size=(100, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, AlarmsScreen)
            table = app.screen.query_one("#alarms-table", DataTable)
            shown = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            assert [r for r in shown if "models/bad.toml" in r], shown
            detail = str(app.screen.query_one("#alarms-detail", Static).render())
            assert "Fichier de modèle d'appareil ignoré" in detail
            assert "maps[0].quantities[0].register: 0x10000 est hors de 0..0xFFFF" in detail
