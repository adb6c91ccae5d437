"""The box every UI test runs on (imported by the UI test modules and tests/ui/conftest.py).

``box_runtime`` starts a Runtime with a store on a temp dir, a ``config.toml`` written there,
and production's own assembly, :func:`ews_tui.services.box.running_box` with ``buses=False``
(every service but the pollers and the Modbus TCP server; a cheap scrypt).
The screens under test get the same services as in production; the bus pollers and the
Modbus TCP server are left out so that only what a test publishes on the Hub moves the
screens (tests/ui/test_demo_flow.py runs the whole box). :class:`SnapshotApp` builds the
same box inside the app's own loop, for snapshot tests (``snap_compare`` is sync and runs the
app in a loop of its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from ews_tui.config import apply_changes, default_config, save_config
from ews_tui.domain.auth import ScryptParams
from ews_tui.runtime import Runtime
from ews_tui.services.box import running_box
from ews_tui.services.system_commands import CommandRunner
from ews_tui.ui.app import EwsApp
from ews_tui.ui.session import Role, Session
from tests.services.command_fixtures import RecordingRunner

# The real cost is covered in tests/services/test_auth.py.
CHEAP_SCRYPT = ScryptParams(n=2**4, r=1, p=1)
# Nothing listens on this loopback UDP port in the tests: SNTP reads "unreachable" at once.
CLOSED_NTP = {"time.ntp_server": "127.0.0.1"}
CLOSED_NTP_PORT = 9


@asynccontextmanager
async def box_runtime(
    tmp_path: Path, changes: dict[str, Any] | None = None, runner: CommandRunner | None = None
) -> AsyncIterator[Runtime]:
    """A started Runtime whose settings live in ``tmp_path / "config.toml"``; system commands
    (timedatectl, networkctl) go to ``runner``, by default one that records them only."""
    path = tmp_path / "config.toml"
    config = apply_changes(default_config(tmp_path / "data"), changes or CLOSED_NTP, tmp_path)
    save_config(config, path)
    async with running_box(  # no system watch: its "Box started" would be in every alarm list
        path,
        config,
        scrypt=CHEAP_SCRYPT,
        buses=False,
        ntp_port=CLOSED_NTP_PORT,
        watch=False,
        runner=runner if runner is not None else RecordingRunner(),
    ) as rt:
        yield rt


def make_box_app(
    rt: Runtime,
    start_screen: str | None,
    *,
    role: Role | None = Role.SYSTEM,
    language: str = "en",
    **session: Any,
) -> EwsApp:
    return EwsApp(Session(rt, language=language, role=role, **session), start_screen=start_screen)


class SnapshotApp(EwsApp):
    """An EwsApp that starts its own box in its own loop, then opens ``start_screen``.

    ``prepare`` is awaited with the started runtime before the screen opens (to add
    groups, publish samples...).
    """

    def __init__(
        self,
        tmp_path: Path,
        start_screen: str | None,
        *,
        role: Role | None = Role.SYSTEM,
        language: str = "en",
        prepare: Callable[[Runtime], Any] | None = None,
        **session: Any,
    ) -> None:
        self._tmp_path = tmp_path
        self._prepare = prepare
        self._stack = AsyncExitStack()
        placeholder = Runtime(default_config(tmp_path / "data"))
        super().__init__(
            Session(placeholder, language=language, role=role, **session),
            start_screen=start_screen,
        )

    async def on_mount(self) -> None:  # type: ignore[override]
        # Textual calls each class's on_mount in MRO order: this one first, awaited, then
        # EwsApp's, which opens the start screen on the started runtime.
        self.session.runtime = await self._stack.enter_async_context(box_runtime(self._tmp_path))
        if self._prepare is not None:
            await self._prepare(self.session.runtime)

    async def on_unmount(self) -> None:
        await self._stack.aclose()
