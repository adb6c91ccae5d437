"""The shell's UI tests (login, home, help, palette) on the box of tests/ui/box_fixtures.py.

The same box as every UI test; only the defaults differ: nobody is logged in and no start
screen is named (the app opens on the login screen).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ews_tui.runtime import Runtime
from ews_tui.ui.app import EwsApp
from ews_tui.ui.session import Role
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app

SYSTEM_PUK = "00000 8888 00000"
shell_runtime = box_runtime


def make_shell_app(
    rt: Runtime,
    start_screen: str | None = None,
    *,
    role: Role | None = None,
    language: str = "en",
    **session: Any,
) -> EwsApp:
    return make_box_app(rt, start_screen, role=role, language=language, **session)


class ShellSnapshotApp(SnapshotApp):
    """A :class:`SnapshotApp` that opens on the login screen unless told otherwise."""

    def __init__(
        self,
        tmp_path: Path,
        start_screen: str | None = None,
        *,
        role: Role | None = None,
        language: str = "en",
        **session: Any,
    ) -> None:
        super().__init__(tmp_path, start_screen, role=role, language=language, **session)
