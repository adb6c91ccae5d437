"""The kiosk: the box's own screen shows the dashboard; configuring needs a PIN.

:class:`KioskApp` is the product's App with the dashboard (``ui/screens/kiosk.py``) over the
login screen: any key on the dashboard shows the login, Esc on the login (or a logout, or
an idle session) brings the dashboard back. ``[kiosk] tty`` serves it on a VT (its own size,
16 colours); ``ews tui --kiosk`` in the current terminal.
"""

from __future__ import annotations

from typing import Any

from ews_tui.config import Config
from ews_tui.frontends.console import TtyFrontEnd, TtySetup
from ews_tui.runtime import Runtime
from ews_tui.ui.app import EwsApp
from ews_tui.ui.screens.kiosk import KioskScreen
from ews_tui.ui.session import Session


class KioskApp(EwsApp):
    """EwsApp whose resting screen is the dashboard instead of the login."""

    def on_mount(self) -> None:
        # Textual runs EwsApp.on_mount too (after this one): it opens the login; the
        # dashboard goes on top of it once mounted.
        self.call_later(self.show_dashboard)

    def show_dashboard(self) -> None:
        if not isinstance(self.screen, KioskScreen):
            self.push_screen(KioskScreen())

    def logout(self) -> None:
        super().logout()
        self.call_later(self.show_dashboard)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back" and self.session.role is None:
            return True
        return super().check_action(action, parameters)

    def action_back(self) -> None:  # type: ignore[override]  # sync, as EwsApp's
        if self.session.role is None and len(self.screen_stack) <= 2:
            self.show_dashboard()
        else:
            super().action_back()


def kiosk_app(session: Session) -> Any:
    session.kiosk = True
    return KioskApp(session)


def kiosk_front_end(runtime: Runtime, config: Config) -> TtyFrontEnd:
    """The ``[kiosk]`` front end of ``config``: the tty's own size, 16 colours."""
    minutes = config.ssh.idle_logout_minutes
    setup = TtySetup(
        config.kiosk.tty, None, None, 16, idle_timeout=minutes * 60 if minutes else None
    )
    return TtyFrontEnd("kiosk", runtime, setup, make_app=kiosk_app, kiosk=True)
