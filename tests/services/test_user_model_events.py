"""A box started with a bad user model file says so: one system event per skipped file per
start, in the alarms list (translated on screen) and the events CSV, besides its log line."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ews_tui.config import default_config, save_config
from ews_tui.domain.alarm_detail import message_detail, render_detail
from ews_tui.domain.alarms import Alarm, AlarmChanged, AlarmType, Severity
from ews_tui.domain.messages import N_, Message
from ews_tui.i18n import translator
from ews_tui.runtime import Runtime
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.box import running_box
from ews_tui.store.alarms_repo import AlarmFilter
from tests.ui.box_fixtures import CHEAP_SCRYPT, CLOSED_NTP_PORT

BAD_REGISTER = """
[[maps]]
id = "acme_map"
provenance = "assumed"
quantities = [{ id = "ea_import", unit = "kWh", register = 0x10000, type = "u32" }]
"""
REGISTER_REASON = "maps[0].quantities[0].register: 0x10000 is outside 0..0xFFFF"


def write_models(data_dir: Path, files: dict[str, str]) -> None:
    folder = data_dir / "models"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@asynccontextmanager
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path / "data"), path)
    async with running_box(
        path, scrypt=CHEAP_SCRYPT, buses=False, ntp_port=CLOSED_NTP_PORT, watch=False
    ) as rt:
        yield rt


async def skipped_alarms(rt: Runtime, count: int) -> list[Alarm]:
    """The alarms of skipped model files once there are ``count`` (published at start: the
    engine may still be writing them)."""
    engine = rt.get(AlarmEngine)
    with rt.hub.subscribe(AlarmChanged, lossless=True, name="test-models") as changes:
        async with asyncio.timeout(20):
            while True:
                page = await engine.page(AlarmFilter())
                found = [a for a in page.alarms if a.type is AlarmType.USER_MODEL_SKIPPED]
                if len(found) >= count:
                    return sorted(found, key=lambda a: a.subject.name)
                await changes.get()


async def test_each_bad_model_file_is_a_system_event_with_its_place_and_reason(
    tmp_path: Path,
) -> None:
    write_models(
        tmp_path / "data",
        {"bad.toml": BAD_REGISTER, "broken.toml": "[[models]\n", "fine.txt": "not a model"},
    )
    async with box(tmp_path) as rt:
        bad, broken = await skipped_alarms(rt, 2)
        assert [bad.subject.name, broken.subject.name] == ["models/bad.toml", "models/broken.toml"]
        assert bad.severity is Severity.WARNING and not bad.active  # momentary: raised, cleared
        assert render_detail(bad.detail) == REGISTER_REASON
        assert render_detail(broken.detail).startswith("1:9: not valid TOML: ")
        french = translator("fr").gettext
        assert render_detail(bad.detail, french) == (
            "maps[0].quantities[0].register: 0x10000 est hors de 0..0xFFFF"
        )
    day_files = sorted((tmp_path / "data" / "csv" / "events").glob("*.csv"))
    assert day_files, "the events CSV folder has the skipped files"
    with day_files[-1].open(encoding="utf-8", newline="") as stream:
        lines = [row for row in csv.reader(stream) if "models/bad.toml" in row]
    assert lines and f"system.user_model_skipped; warning; {REGISTER_REASON}" in lines[0]


async def test_once_per_file_per_start(tmp_path: Path) -> None:
    write_models(tmp_path / "data", {"bad.toml": BAD_REGISTER})
    async with box(tmp_path) as rt:
        (first,) = await skipped_alarms(rt, 1)
        assert first.count == 1
    async with box(tmp_path) as rt:
        (again,) = await skipped_alarms(rt, 1)
        engine = rt.get(AlarmEngine)
        with rt.hub.subscribe(AlarmChanged, lossless=True, name="test-again") as changes:
            async with asyncio.timeout(20):
                while again.count < 2:
                    await changes.get()
                    (again,) = [
                        a
                        for a in (await engine.page(AlarmFilter())).alarms
                        if a.type is AlarmType.USER_MODEL_SKIPPED
                    ]
        assert again.count == 2  # one row, raised once at each of the two starts


async def test_a_box_without_bad_files_raises_nothing(tmp_path: Path) -> None:
    write_models(tmp_path / "data", {})
    async with box(tmp_path) as rt:
        page = await rt.get(AlarmEngine).page(AlarmFilter())
        assert [a for a in page.alarms if a.type is AlarmType.USER_MODEL_SKIPPED] == []


def test_a_message_detail_renders_translated_and_survives_damage() -> None:
    detail = message_detail(Message(N_("{value} is not 1 or 3"), {"value": "4"}), "models[0]")
    assert render_detail(detail) == "models[0]: 4 is not 1 or 3"
    assert render_detail(detail, translator("de").gettext) == "models[0]: 4 ist nicht 1 oder 3"
    assert render_detail("msg:{not json") == "msg:{not json"
    assert render_detail("last seen alive", translator("fr").gettext) != "last seen alive"
