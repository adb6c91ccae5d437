"""The Update page's service: the running version, the update files in reach, the last
update's outcome, and starting an install.

Update files are looked for in ``<data_dir>/updates/`` and on removable media (the folders of
``update.media``, three levels down: ``/media/<user>/<label>/x.ewsupdate``). An install is
``ews update apply FILE --yes`` run by the unit ``ews-update@<FILE, escaped>.service``
(``scripts/ews-update@.service``, started with ``systemctl start --no-block``): it restarts the
box, so it cannot run inside it (systemd stops every process of ``ews.service`` on restart),
and it installs into ``/opt/ews`` as root while the box runs as the ``ews`` user. A template
unit, not ``systemd-run``: the polkit rule (``scripts/ews.polkit.rules``) can then let the
``ews`` user start this one command, where a transient unit could run anything as root.

It writes its outcome to ``<prefix>/last-update.json``; when the box starts
after an update that rolled back or failed, this service raises it as a system alarm
(:class:`~ews_tui.domain.events.ServiceDegraded` of "update"), once; a good one clears it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ews_tui.config import Config
from ews_tui.domain.events import ServiceDegraded, ServiceRecovered
from ews_tui.domain.messages import N_, Message
from ews_tui.hub import Hub
from ews_tui.i18n import _
from ews_tui.services.system_commands import CommandResult, CommandRunner, SubprocessRunner
from ews_tui.services.update_bundle import (
    SUFFIX,
    CheckedBundle,
    UpdateError,
    compare_versions,
    inspect_bundle,
    read_trusted_keys,
    version_key,
)
from ews_tui.services.update_health import installed_version
from ews_tui.services.update_install import (
    FAILED,
    RESULTS,
    ROLLED_BACK,
    Layout,
    UpdateOutcome,
    read_outcome,
    write_outcome,
)

log = logging.getLogger(__name__)

UPDATES_FOLDER = "updates"
MEDIA_DEPTH = 3


@dataclass(frozen=True)
class FoundBundle:
    """An update file in reach: checked (``bundle``) or refused (``problem``)."""

    path: Path
    bundle: CheckedBundle | None
    problem: Message | None
    order: int = 0  # vs the running version: 1 newer, 0 same, -1 older

    @property
    def version(self) -> str | None:
        return self.bundle.version if self.bundle is not None else None


def update_files(folders: list[Path], depth: int = MEDIA_DEPTH) -> list[Path]:
    """The ``*.ewsupdate`` files in ``folders``, ``depth`` levels down at most."""
    found: list[Path] = []
    for folder in folders:
        patterns = [("*/" * level) + f"*{SUFFIX}" for level in range(depth)]
        for pattern in patterns:
            try:
                found.extend(p for p in folder.glob(pattern) if p.is_file())
            except OSError:
                continue
    return sorted(set(found))


class UpdateService:
    """What the Update page asks; reports the last update once the box is up."""

    name = "update"

    def __init__(
        self,
        hub: Hub,
        *,
        config: Callable[[], Config],
        runner: CommandRunner | None = None,
    ) -> None:
        self._hub = hub
        self._config = config
        self._runner = runner or SubprocessRunner()

    async def start(self) -> None:
        outcome = await asyncio.to_thread(read_outcome, self.layout)
        if outcome is None or outcome.reported:
            return
        if outcome.result in (ROLLED_BACK, FAILED):
            self._hub.publish(ServiceDegraded(self.name, update_problem(outcome)))
        else:
            self._hub.publish(ServiceRecovered(self.name))
        try:
            await asyncio.to_thread(write_outcome, self.layout, replace(outcome, reported=True))
        except OSError as error:  # reported again at the next start: better than never
            log.warning("cannot mark the last update as reported: %s", error)

    async def stop(self) -> None:
        return None

    @property
    def config(self) -> Config:
        return self._config()

    @property
    def layout(self) -> Layout:
        return Layout(self.config.update.prefix)

    @property
    def running_version(self) -> str:
        """The version of the code running this box."""
        return installed_version()

    def folders(self) -> list[Path]:
        return [self.config.data_dir / UPDATES_FOLDER, *self.config.update.media]

    async def last(self) -> UpdateOutcome | None:
        return await asyncio.to_thread(read_outcome, self.layout)

    async def find(self) -> list[FoundBundle]:
        """Every update file in reach, checked; newest version first, refused ones last."""
        return await asyncio.to_thread(self._find)

    def _find(self) -> list[FoundBundle]:
        settings = self.config.update
        running = self.running_version
        try:
            trusted = read_trusted_keys(settings.trusted_keys)
        except UpdateError as error:
            trusted = []
            log.error("%s", error)
        found: list[FoundBundle] = []
        for path in update_files(self.folders()):
            try:
                bundle = inspect_bundle(path, trusted, allow_unsigned=settings.allow_unsigned)
            except UpdateError as error:
                found.append(FoundBundle(path, None, error.message))
                continue
            found.append(FoundBundle(path, bundle, None, compare_versions(bundle.version, running)))
        checked = [f for f in found if f.bundle is not None]
        checked.sort(key=lambda f: (version_key(f.version or "0"), f.path.name), reverse=True)
        return checked + [f for f in found if f.bundle is None]

    async def install(self, found: FoundBundle) -> CommandResult:
        """Start ``ews update apply`` on ``found`` as its own systemd unit (it outlives the
        restart of this box); the result of starting it."""
        return await self._runner.run(
            "systemctl", "start", "--no-block", apply_unit(found.path.resolve())
        )


#: The template unit that runs ``ews update apply %f --yes`` (scripts/ews-update@.service).
APPLY_TEMPLATE = "ews-update@{}.service"


def systemd_escape_path(path: Path) -> str:
    """``path`` as ``systemd-escape --path`` writes it (the unit's ``%f`` gives it back):
    slashes trimmed, inner ones as ``-``, every byte but ASCII letters, digits, ``:``, ``_``
    and a ``.`` not leading written ``\\xNN``."""
    text = "/".join(part for part in str(path).split("/") if part)
    if not text:
        return "-"
    out: list[str] = []
    for index, char in enumerate(text):
        if char == "/":
            out.append("-")
        elif (char.isascii() and char.isalnum()) or char in ":_" or (char == "." and index):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8"))
    return "".join(out)


def apply_unit(path: Path) -> str:
    """The unit that installs the update file ``path``."""
    return APPLY_TEMPLATE.format(systemd_escape_path(path))


def update_problem(outcome: UpdateOutcome) -> Message:
    """What the alarm says about an update that did not stay."""
    reason = outcome.message.render() if outcome.message is not None else ""
    if outcome.result == ROLLED_BACK:
        return Message(
            N_("the update to {version} was rolled back to {previous}: {reason}"),
            {"version": outcome.version, "previous": outcome.previous or "", "reason": reason},
        )
    return Message(
        N_("the update to {version} failed: {reason}"),
        {"version": outcome.version, "reason": reason},
    )


def outcome_text(outcome: UpdateOutcome) -> str:
    """``Last update: 0.2.0 (2026-12-03 02:15): rolled back. <why>``, in the session's
    language."""
    problem = outcome.message.render(_) if outcome.message is not None else ""
    text = _("Last update: {version} ({at}): {result}").format(
        version=outcome.version,
        at=outcome.at[:16].replace("T", " "),
        result=_(RESULTS[outcome.result]),
    )
    return f"{text}. {problem}" if problem else text
