"""UI fixtures: a real Runtime (store on a temp dir, the installation service) per test.

Screens under test get the same services as in production; only the front end differs
(Textual's test driver instead of SSH or a tty).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ews_tui.config import default_config
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.store.db import open_database
from ews_tui.store.installation_repo import InstallationRepo
from ews_tui.ui.app import EwsApp
from ews_tui.ui.session import Role, Session


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    config = default_config(tmp_path / "data")
    db = await open_database(config.data_dir / "ews.sqlite")
    rt = Runtime(config)
    rt.add(InstallationService(InstallationRepo(db), rt.hub, builtin_catalog(), config.licence))
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()
        await db.close()


MakeApp = Callable[..., EwsApp]


@pytest.fixture
def make_app(runtime: Runtime) -> MakeApp:
    """``make_app(start_screen="gateways", role=Role.SYSTEM, language="fr")``."""

    def make(start_screen: str | None = None, *, role: Role | None = Role.SYSTEM,
             language: str = "en", **session: Any) -> EwsApp:
        return EwsApp(Session(runtime, language=language, role=role, **session),
                      start_screen=start_screen)

    return make
