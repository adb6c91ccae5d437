"""The bases of the product's screens: ``self.app`` is an :class:`EwsApp`.

Textual types ``Widget.app`` as ``App[object]``; ``getters.app`` is its way to say which App
subclass a widget lives in (checked with ``isinstance`` when read). Screens then reach the
box through ``self.session.service(Kind)``, which the type checker follows to the service's
class: a method the service lacks is an error before a user sees it.

    class GatewaysScreen(EwsScreen[None]):
        def _test(self) -> None:
            polling = self.session.service(PollingService)
            polling.test_gateway(...)          # checked by mypy

This module imports :mod:`ews_tui.ui.app`; the app imports screens only by name, at run time.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events, getters, messages
from textual._time import get_time
from textual.geometry import Size
from textual.screen import ModalScreen, Screen

from ews_tui.ui.app import EwsApp
from ews_tui.ui.cycles import RetiresStyles
from ews_tui.ui.frames import PacedFrames, ShortSteps
from ews_tui.ui.session import Session

ResultT = TypeVar("ResultT")


class StyledOnce(Screen[ResultT]):
    """A screen whose widgets are styled once when it opens, not three times.

    Textual styles each widget as it mounts, then styles the whole screen again when the
    screen first shows (``ScreenResume(refresh_styles=True)``), in one step of the loop
    that every session and poller shares (Devices: 230 style applications). On that first
    resume only the screen's own node is out of date (Textual styled it before reading its
    ``CSS_PATH``); its widgets were styled moments ago, after its CSS was read and with the
    breakpoint classes already set (``EwsApp._get_screen``). So the first resume styles the
    screen node alone; a later one (back from another screen) is left to Textual.
    """

    _resumed = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual calls this before Screen's own handler, with the same event.
        if not self._resumed:
            self._resumed = True
            if event.refresh_styles:
                event.refresh_styles = False
                self.app.stylesheet.apply(self, animate=False)


class LaidOutOnce(Screen[ResultT]):
    """A screen laid out once when it opens, not three times before its first frame.

    Textual lays a screen out as it first shows (``ScreenResume``), yet the request for a
    layout its widgets' mounting made stays pending, and the frame after lays the whole
    screen out again with nothing changed; that first layout also sends the screen itself
    a Resize, for which Textual lays it out a third time at the same size (Settings SMTP:
    16, 12 and 4 ms of the loop every session shares, before the frame). Here a whole
    layout answers every request made before it; a widget that changes afterwards asks
    again (its Layout message), and the next frame lays the screen out then; a Resize of
    the size the screen was just laid out at lays out nothing. A terminal that really
    changed size is laid out at once, as Textual does.
    """

    _laid_out_at = float("-inf")  # when the last whole layout began (Textual's clock)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        whole = (not scroll or bool(self._layout_widgets)) and bool(self.outer_size or size)
        started = get_time()
        super()._refresh_layout(size, scroll)
        if whole:
            self._layout_required = False
            self._laid_out_at = started

    async def _on_layout(self, message: messages.Layout) -> None:
        """A widget's request made before the last whole layout began was answered by it
        (the widget cleared its parents' arrangements as it asked): Textual's handler is
        left out, and no layout is asked again for it."""
        if message.time < self._laid_out_at:
            message.stop()
            message.prevent_default()

    def _screen_resized(self, size: Size) -> None:
        if size and self._compositor.size == size:
            return  # laid out at this size, and what changed since asked for a layout
        super()._screen_resized(size)


class EwsScreen(
    PacedFrames[ResultT], LaidOutOnce[ResultT], StyledOnce[ResultT], RetiresStyles[ResultT]
):
    """A screen of one UI session: typed ``app`` and ``session``; styled once and laid out
    once when it opens, its frames take turns with the other sessions'
    (:mod:`~ews_tui.ui.frames`), and it leaves no style cycles (:mod:`~ews_tui.ui.cycles`)."""

    app = getters.app(EwsApp)

    @property
    def session(self) -> Session:
        """The session this screen belongs to (its role, language and services)."""
        return self.app.session


class EwsModalScreen(
    ShortSteps,
    LaidOutOnce[ResultT],
    StyledOnce[ResultT],
    RetiresStyles[ResultT],
    ModalScreen[ResultT],
):
    """A modal screen (form, question) of one UI session: typed ``app`` and ``session``;
    styled once and laid out once when it opens; its message loop keeps its steps short
    (:class:`~ews_tui.ui.frames.ShortSteps`); it leaves no style cycles."""

    app = getters.app(EwsApp)

    @property
    def session(self) -> Session:
        return self.app.session
