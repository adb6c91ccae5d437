"""One screen frame at a time across every UI session, each in a loop pass of its own.

Every session is its own Textual App in the loop the bus pollers share. Textual draws a
screen from a timer (at most 60 times a second); sessions that change at the same moment
(a sample every Live measures screen shows, keys typed together) had their timers fire in
the same loop pass, and asyncio runs a pass to its end: a poller whose RTU answer had just
arrived waited behind every session's frame before it could send the next request.

:class:`FrameGate` hands out turns: one frame per turn, and the next turn starts in a later
loop pass, so whatever became ready meanwhile (an answer on the serial line, a poller's
timer) runs between two frames. A bus step then waits for one frame at most, not for a
batch of them. Nothing is dropped: a screen waiting for its turn draws everything that
changed until then.

    async with frame_gate().turn():
        ...  # draw one screen

:class:`PacedFrames` is the screen side (the base of the product's screens): Textual's frame
timer waits for a turn, then draws as Textual does. It also keeps each of the screen's own
steps short (issue 11: five sessions opening screens stalled the loop 220 ms in one step):

- **a layout and its drawing in turns of their own**: Textual lays out a screen (the
  compositor's reflow) and draws all of it in the same step, when it first shows and
  whenever a widget changes size. Here the layout is one turn; then the widgets render
  their lines (kept in each widget's line cache), a few widgets a turn, within
  :data:`STEP_BUDGET_S`; then the frame is made from those lines and sent. The terminal
  shows the previous frame until the new one is whole: nothing half drawn;
- **the first layouts in steps of their own**: the first layout sends the screen itself a
  Resize, and Textual laid out the whole screen again for it in the same step (it is kept:
  widgets changed meanwhile; the message loop below gives way between the two);
- **a few messages per step**: Textual's message loop handles every message already queued
  without letting the loop run anything else (a screen opening: its resume, the Resize, the
  widgets' Layout and Update messages, the form's checks); the screen's loop gives way once
  it has run for :data:`STEP_BUDGET_S` in one step;
- **a little UI work per loop pass**: on the box's loop (:mod:`ews_tui.passes`) a screen's,
  a modal's or the app's message loop, and a frame, give way once the loop's pass has run
  for :data:`ews_tui.passes.PASS_BUDGET_S`, and queue for later passes: five sessions' steps
  no longer add up in one pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from time import perf_counter
from typing import Any, TypeVar

from textual._compositor import Compositor
from textual.geometry import Region
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import UPDATE_PERIOD, Screen
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from ews_tui import passes
from ews_tui.ui import strips

strips.install()  # lines without their own caches (fewer objects for full collections)

ResultT = TypeVar("ResultT")
STEP_BUDGET_S = 0.008  # a screen's message loop gives way after this long in one loop step


class FrameGate:
    """Turns for drawing: one holder at a time; the next turn begins a loop pass later."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        self.frames = 0  # turns taken (tests and benches read it)
        self.waited = 0  # ... of which had to wait for another frame

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._busy or self._waiting:
            self.waited += 1
            future = asyncio.get_running_loop().create_future()
            self._waiting.append(future)
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release()  # granted, then cancelled: hand the turn on
                raise
        self._busy = True
        self.frames += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        # The next holder starts in a later loop pass: what became ready meanwhile runs first.
        asyncio.get_running_loop().call_soon(self._next)

    def _next(self) -> None:
        self._busy = False
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                self._busy = True
                future.set_result(None)
                return


_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FrameGate] = (
    weakref.WeakKeyDictionary()
)


def frame_gate() -> FrameGate:
    """The gate of the running loop (every session of a box shares it)."""
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = FrameGate()
    return gate


class ShortSteps(MessagePump):
    """A message loop (an App's, a screen's) that gives the event loop a turn once it has
    run for :data:`STEP_BUDGET_S` in one step, or once the loop's pass has run for
    :data:`ews_tui.passes.PASS_BUDGET_S` (on the box's loop): Textual handles every message
    already queued in one step (a screen opening: its resume, its Resize, the widgets'
    Layout and Update messages, a form's checks), and nothing else of the loop runs
    meanwhile; and five sessions' steps in one pass added up."""

    _step_started = 0.0  # when this message loop last resumed (perf_counter)

    async def _get_message(self) -> Message:
        """Textual's, giving the loop a turn once this loop has run for
        :data:`STEP_BUDGET_S` in one step, or the pass for its budget (a message already
        queued comes back at once otherwise); a message it waited for is handled in the next
        pass if the one it came in has run long."""
        pending: Message | None = self._pending_message
        queued = self.message_queue_size
        if pending is None and not queued:
            message = await super()._get_message()  # waits: the next step starts here
            if (late := passes.over_budget()) is not None:  # resumed in a long pass
                await late.give_way()
            self._step_started = perf_counter()
            return message
        if (late := passes.over_budget()) is not None:
            await late.give_way()
            self._step_started = perf_counter()
        elif perf_counter() - self._step_started > STEP_BUDGET_S:
            await asyncio.sleep(0)
            self._step_started = perf_counter()
        return await super()._get_message()


class LineCompositor(Compositor):
    """Textual's compositor, rendering for a partial update only the lines it sends.

    Textual renders a partial update (a few widgets changed) inside the box around every
    changed region, and there it takes the whole of every widget whose clip touches the box:
    a widget's clip is its container's region, so every widget of the screen, each in full
    (its cached lines, each through the app's line filters), was rendered for a new period
    name on line 2. Here a widget renders only its rows that the update sends (from the
    first to the last of them), and none when it has none there."""

    _sent_line: Callable[[int], bool] | None = None  # the lines of the update in progress

    def _render_chops(
        self, crop: Region, is_rendered_line: Callable[[int], bool]
    ) -> Sequence[Mapping[int, Strip]]:
        self._sent_line = is_rendered_line
        try:
            return super()._render_chops(crop, is_rendered_line)
        finally:
            self._sent_line = None

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        sent = self._sent_line
        if crop is None or sent is None or crop == self.size.region:
            yield from super()._get_renders(crop)
            return
        top, bottom = crop.y, crop.bottom
        for widget, (region, clip) in self.visible_widgets.items():
            x, y, width, height = region.intersection(clip)
            if not width or not height:
                continue
            rows = [row for row in range(max(y, top), min(y + height, bottom)) if sent(row)]
            if not rows:
                continue
            first, last = rows[0], rows[-1] + 1
            shown = Region(x, first, width, last - first)  # within the widget's visible part
            lines = widget.render_lines(shown.translate(-region.offset))
            yield shown, clip, lines
            self.lines_rendered += len(lines)

    lines_rendered = 0  # widget lines rendered for partial updates (tests read it)


class PacedFrames(ShortSteps, Screen[ResultT]):
    """A screen whose frames take turns with every other session's (see the module).

    Textual's frame timer calls this screen's ``_on_timer_update`` once the gate gives a
    turn (a direct call, as Textual's Pilot makes in tests, draws at once).

    Its compositor is a :class:`LineCompositor`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compositor = LineCompositor()

    _paced_timer: Timer | None = None
    _drawing = False  # in Textual's frame update: a layout is drawn in the same turn
    layouts_drawn_later = 0  # layouts whose drawing waited for the next turn (tests read it)
    render_turns = 0  # frame turns spent rendering widgets ahead of a frame (tests read it)
    _to_render: list[tuple[Widget, Region]] | None = None  # widgets yet to render, and crop

    @property
    def _update_timer(self) -> Timer:
        if self._paced_timer is None:
            self._paced_timer = self.set_interval(
                UPDATE_PERIOD, self._paced_update, name="screen_update", pause=True
            )
        return self._paced_timer

    async def _paced_update(self) -> None:
        gate = frame_gate()
        more = True
        while more:  # a frame in several turns: the next one starts in a later loop pass
            async with gate.turn():
                if (late := passes.over_budget()) is not None:  # the turn came in a long pass
                    await late.give_way()
                more = self._frame_step()

    def _frame_step(self) -> bool:
        """One turn of this screen's frame; True while the frame needs another turn."""
        if not self.is_current or self.app._batch_count:
            self._on_timer_update()
            return False
        if self._layout_required:
            self._layout_now_draw_next_turn()
            return bool(self._to_render) or self._repaint_required
        if self._to_render:
            self._render_some()
            return True
        self._to_render = None
        self._on_timer_update()
        return False

    def _render_some(self) -> None:
        """Render widgets' lines ahead of the frame for :data:`STEP_BUDGET_S` (the rest
        in the next turn; the frame is made from them once every widget has rendered)."""
        self.render_turns += 1
        started = perf_counter()
        widgets = self._to_render or []
        while widgets and perf_counter() - started < STEP_BUDGET_S:
            widget, crop = widgets.pop()
            if widget is not self and widget.is_attached and not widget._pruning:
                widget.render_lines(crop)  # the screen's own (a background) renders with it

    def _layout_now_draw_next_turn(self) -> None:
        """Textual's frame update when a layout is due, drawing left to the next turn."""
        self._update_timer.pause()
        self._refresh_layout(scroll=self._scroll_required)  # draws later: _compositor_refresh
        self._layout_required = self._scroll_required = False

    def _on_timer_update(self) -> None:
        # Textual draws what it lays out here (and Pilot calls this to draw at once).
        self._drawing = True
        try:
            super()._on_timer_update()
        finally:
            self._drawing = False

    def _compositor_refresh(self) -> None:
        """Textual's, except after a layout outside a frame update: drawn next turn."""
        app = self.app
        if not self._drawing and self is app.screen and not app.is_inline:
            self.layouts_drawn_later += 1
            self._dirty_widgets.clear()
            self._repaint_required = True  # the whole screen, once its widgets have rendered
            self._to_render = _crops(self._compositor.visible_widgets)
            self._update_timer.resume()  # a layout outside a frame: its frame is due
            return
        super()._compositor_refresh()


def _crops(visible: dict[Widget, tuple[Region, Region]]) -> list[tuple[Widget, Region]]:
    """Each visible widget with the part of it the compositor renders (as its
    ``_get_renders`` crops it: the widget's region within its clip), the first to render
    last (the list is popped)."""
    crops = []
    for widget, (region, clip) in visible.items():
        if clip.contains_region(region):
            crops.append((widget, Region(0, 0, region.width, region.height)))
        else:
            x, y, width, height = region.intersection(clip)
            if width and height:
                crops.append((widget, Region(x - region.x, y - region.y, width, height)))
    crops.reverse()  # popped from the end: rendered in the compositor's order
    return crops
