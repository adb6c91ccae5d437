"""A real box for the shell's UI tests (login, home, help, palette), imported by its modules.

``shell_runtime`` starts a Runtime with a store on a temp dir and the services the shell
uses: installation and auth (cheap scrypt: the real cost is covered in
tests/services/test_auth.py). :class:`ShellSnapshotApp` builds the same box inside the
app's own loop, for ``snap_compare`` (sync, running the app in a loop of its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from ews_tui.config import default_config
from ews_tui.domain.auth import ScryptParams
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.runtime import Runtime
from ews_tui.services.auth import AuthService
from ews_tui.services.installation import InstallationService
from ews_tui.store.db import open_database
from ews_tui.store.installation_repo import InstallationRepo
from ews_tui.store.users_repo import UsersRepo
from ews_tui.ui.app import EwsApp
from ews_tui.ui.session import Role, Session

CHEAP_SCRYPT = ScryptParams(n=2**4, r=1, p=1)
SYSTEM_PUK = "00000 8888 00000"


@asynccontextmanager
async def shell_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    config = default_config(tmp_path / "data")
    async with AsyncExitStack() as stack:
        db = await open_database(config.data_dir / "ews.sqlite")
        stack.push_async_callback(db.close)
        rt = Runtime(config)
        rt.add(InstallationService(InstallationRepo(db), rt.hub, builtin_catalog(), config.licence))
        rt.add(AuthService(UsersRepo(db), params=CHEAP_SCRYPT))
        await rt.start()
        stack.push_async_callback(rt.stop)
        yield rt


def make_shell_app(
    rt: Runtime,
    start_screen: str | None = None,
    *,
    role: Role | None = None,
    language: str = "en",
    **session: Any,
) -> EwsApp:
    return EwsApp(Session(rt, language=language, role=role, **session), start_screen=start_screen)


class ShellSnapshotApp(EwsApp):
    """An EwsApp that starts its own box in its own loop before opening its first screen."""

    def __init__(
        self,
        tmp_path: Path,
        start_screen: str | None = None,
        *,
        role: Role | None = None,
        language: str = "en",
        **session: Any,
    ) -> None:
        self._tmp_path = tmp_path
        self._stack = AsyncExitStack()
        placeholder = Runtime(default_config(tmp_path / "data"))
        super().__init__(
            Session(placeholder, language=language, role=role, **session),
            start_screen=start_screen,
        )

    async def on_mount(self) -> None:  # type: ignore[override]
        # Textual runs this class's on_mount first (awaited), then EwsApp's.
        self.session.runtime = await self._stack.enter_async_context(shell_runtime(self._tmp_path))

    async def on_unmount(self) -> None:
        await self._stack.aclose()
