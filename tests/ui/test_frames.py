"""Frames of the UI sessions take turns, each in a loop pass of its own: what became ready
meanwhile (a poller's next step) runs between two frames, not after a batch of them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ews_tui.domain.edits import save_device
from ews_tui.domain.events import DeviceState, DeviceStateChanged, Sample
from ews_tui.domain.installation import Device
from ews_tui.services.installation import InstallationService
from ews_tui.ui.frames import FrameGate, frame_gate
from ews_tui.ui.widgets.measure_table import MeasureTable
from tests.ui.box_fixtures import box_runtime, make_box_app


async def test_a_step_made_ready_during_a_frame_runs_before_the_next_frame() -> None:
    """Three sessions' frames due in the same loop pass ran back to back, and a bus step made
    ready by the first (an RTU answer arriving) waited for all three."""
    gate, order = FrameGate(), []
    loop = asyncio.get_running_loop()

    async def frame(name: str) -> None:
        async with gate.turn():
            order.append(name)
            loop.call_soon(order.append, f"bus step after {name}")

    await asyncio.gather(frame("a"), frame("b"), frame("c"))
    assert order == ["a", "bus step after a", "b", "bus step after b", "c", "bus step after c"]
    assert (gate.frames, gate.waited) == (3, 2)


async def test_a_cancelled_waiter_does_not_keep_the_turn() -> None:
    """A session closing while its frame waits for a turn must not stop every other
    session's frames."""
    gate, drawn = FrameGate(), []

    async def frame(name: str) -> None:
        async with gate.turn():
            drawn.append(name)

    async with gate.turn():
        waiting = asyncio.create_task(frame("closed"))
        other = asyncio.create_task(frame("open"))
        await asyncio.sleep(0)
        waiting.cancel()
    await asyncio.gather(waiting, other, return_exceptions=True)
    assert drawn == ["open"]
    async with asyncio.timeout(5):  # and the gate is free again
        await frame("next")
    assert drawn == ["open", "next"]


async def test_session_screens_draw_through_the_gate(tmp_path: Path) -> None:
    async with box_runtime(tmp_path) as rt:
        await rt.get(InstallationService).apply(save_device, Device(0, 1, "0 146 68", 5))
        app = make_box_app(rt, "live")
        async with app.run_test(size=(80, 24)) as pilot:
            table = pilot.app.screen.query_one(MeasureTable)
            frames = frame_gate().frames
            rt.hub.publish(DeviceStateChanged(1, DeviceState.ON))
            rt.hub.publish(Sample(1, time.time(), {"v1": 231.4}))
            deadline = time.monotonic() + 10
            while table.value_of("v1") != "231.4" or frame_gate().frames == frames:
                assert time.monotonic() < deadline, "no frame drawn"
                await pilot.pause(0.02)
