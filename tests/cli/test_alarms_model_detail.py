"""``ews alarms list`` of a skipped user model file: its reason in words (translated in the
user's language), never the stored form of the message."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from ews_tui.domain.alarm_detail import message_detail
from ews_tui.domain.alarms import Alarm, AlarmType, AlarmWrite, Severity, Subject
from ews_tui.domain.messages import N_, Message
from ews_tui.store.alarms_repo import AlarmsRepo
from ews_tui.store.db import open_database
from tests.cli.conftest import Run

T0 = 1_735_730_000.0


def store_skipped_file(data_dir: Path) -> None:
    detail = message_detail(
        Message(N_("{register} is outside 0..0xFFFF"), {"register": "0x10000"}), "maps[0].register"
    )

    async def write() -> None:
        db = await open_database(data_dir / "ews.sqlite")
        try:
            subject = Subject("system", None, "models/bad.toml", None, "models/bad.toml")
            alarm = Alarm(
                1,
                AlarmType.USER_MODEL_SKIPPED,
                Severity.WARNING,
                subject,
                T0,
                T0,
                T0,
                detail=detail,
            )
            await AlarmsRepo(db).record([AlarmWrite(alarm, True)])
        finally:
            await db.close()

    asyncio.run(write())


def test_the_reason_is_in_words_in_the_users_language(
    ews: Run, box_config: Path, tmp_path: Path
) -> None:
    store_skipped_file(tmp_path / "data")
    french = ews("alarms", "list", "--config", str(box_config), env={"LANGUAGE": "fr"})
    assert french.returncode == 0, french.stderr
    (line,) = french.stdout.splitlines()
    assert "models/bad.toml" in line and "system.user_model_skipped" in line
    assert line.endswith("(maps[0].register: 0x10000 est hors de 0..0xFFFF)")
    listed = ews("alarms", "list", "--json", "--config", str(box_config))
    assert json.loads(listed.stdout)[0]["detail"] == (
        "maps[0].register: 0x10000 is outside 0..0xFFFF"
    )
