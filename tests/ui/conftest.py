"""UI fixtures: a real Runtime (store and config on a temp dir) per test.

Screens under test get the same services as in production (tests/ui/box_fixtures.py builds
the box once for every UI test); only the front end differs (Textual's test driver instead
of SSH or a tty).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from ews_tui.runtime import Runtime
from ews_tui.ui.app import EwsApp
from ews_tui.ui.session import Role
from tests.ui.box_fixtures import box_runtime, make_box_app


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


MakeApp = Callable[..., EwsApp]


@pytest.fixture
def make_app(runtime: Runtime) -> MakeApp:
    """``make_app(start_screen="gateways", role=Role.SYSTEM, language="fr")``."""

    def make(
        start_screen: str | None = None,
        *,
        role: Role | None = Role.SYSTEM,
        language: str = "en",
        **session: Any,
    ) -> EwsApp:
        return make_box_app(runtime, start_screen, role=role, language=language, **session)

    return make


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text cursor does not blink in UI tests: a snapshot taken on a loaded machine
    caught it hidden now and then (device form, band form, first login) and failed. A
    focused field shows its cursor, as on the first frame of a real session."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
