"""Frames of the UI sessions take turns, each in a loop pass of its own: what became ready
meanwhile (a poller's next step) runs between two frames, not after a batch of them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from textual._compositor import Compositor
from textual.geometry import Size
from textual.widget import Widget

from ews_tui.domain.edits import save_device
from ews_tui.domain.events import DeviceState, DeviceStateChanged, Sample
from ews_tui.domain.installation import Device
from ews_tui.services.installation import InstallationService
from ews_tui.ui import frames
from ews_tui.ui.frames import FrameGate, frame_gate
from ews_tui.ui.screens.live import LiveScreen
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


class LoopPasses:
    """Counts the loop's passes: a callback that schedules itself again each pass."""

    def __init__(self) -> None:
        self.count = 0
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.count += 1
        self._handle = self._loop.call_soon(self._tick)

    def stop(self) -> None:
        self._handle.cancel()


async def test_a_screen_lays_out_and_draws_in_different_loop_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual laid a new screen out and drew all of it in one step of the loop: Gateways
    or Live opening in five sessions at once held the loop 220 ms (issue 11). The frame is
    now made in turns: the layout, the widgets' lines, then the frame from them."""
    events: list[tuple[str, int]] = []
    passes: LoopPasses | None = None
    reflow, render = Compositor.reflow, Compositor.render_update

    def counted_reflow(self: Compositor, parent: Widget, size: Size) -> Any:
        if passes is not None and isinstance(parent, LiveScreen):
            events.append(("layout", passes.count))
        return reflow(self, parent, size)

    def counted_render(self: Compositor, *args: Any, **kwargs: Any) -> Any:
        if passes is not None and isinstance(self.root, LiveScreen):
            events.append(("draw", passes.count))
        return render(self, *args, **kwargs)

    monkeypatch.setattr(Compositor, "reflow", counted_reflow)
    monkeypatch.setattr(Compositor, "render_update", counted_render)
    async with box_runtime(tmp_path) as rt:
        await rt.get(InstallationService).apply(save_device, Device(0, 1, "0 146 68", 5))
        app = make_box_app(rt, "home")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            passes = LoopPasses()
            app.open_screen("live")
            screen = app.screen
            assert isinstance(screen, LiveScreen)
            async with asyncio.timeout(10):
                while not any(kind == "draw" for kind, _ in events):
                    await asyncio.sleep(0)  # no pilot.pause(): it draws at once
            passes.stop()
            first_draw = next(n for kind, n in events if kind == "draw")
            layouts = [n for kind, n in events if kind == "layout" and n <= first_draw]
            assert layouts and max(layouts) < first_draw
            assert screen.render_turns >= 1  # its widgets rendered in a turn of their own
            await pilot.pause()
            assert "Live" in "".join(str(s.text) for s in app.screen._compositor.render_strips())


@pytest.mark.parametrize("pump", ["screen", "app"])
async def test_queued_messages_give_the_loop_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pump: str
) -> None:
    """Textual handles every message a screen (or the app) has queued in one step of the
    loop; it gives way once it has run for STEP_BUDGET_S (here: at once)."""
    monkeypatch.setattr(frames, "STEP_BUDGET_S", -1.0, raising=False)
    async with box_runtime(tmp_path) as rt:
        app = make_box_app(rt, "home")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            seen: list[int] = []
            passes = LoopPasses()
            target = app.screen if pump == "screen" else app
            for _ in range(3):
                target.call_later(lambda: seen.append(passes.count))
            async with asyncio.timeout(10):
                while len(seen) < 3:
                    await asyncio.sleep(0)
            passes.stop()
            assert seen[0] < seen[1] < seen[2]
