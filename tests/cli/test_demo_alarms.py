"""``ews demo`` shows alarms from the start: a threshold on the site's power, and a device
that goes silent now and then (a simulator fault), on the real demo box. The site's power
is the sum of the devices the site's consumption total counts (not the gateways' EQ
devices); the silent device is not one of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ews_tui.cli import demo
from ews_tui.domain.alarms import AlarmChanged, AlarmType
from ews_tui.services.alarms import AlarmEngine
from ews_tui.store.alarms_repo import AlarmFilter
from tests.ui.box_fixtures import CHEAP_SCRYPT


async def test_demo_raises_a_threshold_and_a_silent_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "FLAKY_FIRST_S", 0.0)  # silent at once, not after 20 s
    monkeypatch.setattr(demo, "THRESHOLD_DELAY_S", 0.0)
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    async with demo.demo_box(data_dir, wire_time=False, scrypt=CHEAP_SCRYPT) as rt:
        engine = rt.get(AlarmEngine)
        (threshold,) = await engine.thresholds()
        assert (threshold.name, threshold.target_kind, threshold.quantity) == (
            "Site power",
            "site",  # the devices the site's consumption total counts
            "p",
        )
        with rt.hub.subscribe(AlarmChanged, lossless=True, name="test") as changes:
            wanted = {
                (AlarmType.THRESHOLD, "Site power"),
                (AlarmType.DEVICE_COMM_ERROR, demo.FLAKY_DEVICE),
            }

            async def found() -> set[tuple[AlarmType, str]]:
                page = await engine.page(AlarmFilter(state="active"), 0, 100)
                return {
                    (a.type, a.subject.name.rpartition(" · ")[2] or a.subject.name)
                    for a in page.alarms
                }

            async with asyncio.timeout(60):
                while not wanted <= await found():
                    await changes.get()
        assert engine.counts.unacknowledged >= 2
