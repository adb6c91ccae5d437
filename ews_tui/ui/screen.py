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

from textual import getters
from textual.screen import ModalScreen

from ews_tui.ui.app import EwsApp
from ews_tui.ui.frames import PacedFrames
from ews_tui.ui.session import Session

ResultT = TypeVar("ResultT")


class EwsScreen(PacedFrames[ResultT]):
    """A screen of one UI session: typed ``app`` and ``session``; its frames take turns
    with the other sessions' (:mod:`~ews_tui.ui.frames`)."""

    app = getters.app(EwsApp)

    @property
    def session(self) -> Session:
        """The session this screen belongs to (its role, language and services)."""
        return self.app.session


class EwsModalScreen(ModalScreen[ResultT]):
    """A modal screen (form, question) of one UI session: typed ``app`` and ``session``."""

    app = getters.app(EwsApp)

    @property
    def session(self) -> Session:
        return self.app.session
