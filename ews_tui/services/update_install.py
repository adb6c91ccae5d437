"""Installing an update file with rollback: what ``ews update apply`` and the Update page do.

Under ``update.prefix`` each version has its own virtualenv and one symlink says which runs::

    <prefix>/versions/0.1.0/      bin/ews, lib/python3.11/site-packages/...
    <prefix>/versions/0.2.0/
    <prefix>/current -> versions/0.2.0
    <prefix>/last-update.json     the outcome of the last update (the Update page shows it)

:func:`apply_update`: install the bundle's wheels into ``versions/<version>`` (``pip install
--no-index --find-links``), back the database up (:func:`~ews_tui.store.backup.create_backup`),
switch ``current`` atomically (a symlink under a temp name renamed over it), restart the unit
through the :class:`~ews_tui.services.system_commands.CommandRunner`, then wait for the new
box's health file (:mod:`ews_tui.services.update_health`). Not healthy in time: stop the
unit, switch ``current`` back, restore the database backup if the new version migrated the
database, start the unit again. Every outcome is written to ``last-update.json``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ews_tui.atomic_file import write_atomically
from ews_tui.config import Config
from ews_tui.domain.messages import N_, Message
from ews_tui.services.system_commands import CommandRunner
from ews_tui.services.update_bundle import (
    CheckedBundle,
    UpdateError,
    compare_versions,
    extract_wheels,
)
from ews_tui.services.update_health import PROJECT, clear_health, installed_version, wait_healthy
from ews_tui.store.backup import (
    BACKUPS_FOLDER,
    backups_folder,
    create_backup,
    new_backup_path,
    schema_version_of,
)
from ews_tui.store.backup_archive import BackupError
from ews_tui.store.backup_restore import restore_backup
from ews_tui.store.db import DATABASE_FILE

log = logging.getLogger(__name__)

VERSIONS = "versions"
CURRENT = "current"
STATUS_FILE = "last-update.json"
BACKUP_PREFIX = "before-update-"
ROLLBACK_WAIT_S = 60.0

INSTALLED = "installed"
ROLLED_BACK = "rolled back"
FAILED = "failed"
RESULTS = {INSTALLED: N_("installed"), ROLLED_BACK: N_("rolled back"), FAILED: N_("failed")}


@dataclass(frozen=True)
class Layout:
    """The folders of the installed versions under ``prefix``."""

    prefix: Path

    @property
    def versions(self) -> Path:
        return self.prefix / VERSIONS

    @property
    def current(self) -> Path:
        return self.prefix / CURRENT

    @property
    def status_file(self) -> Path:
        return self.prefix / STATUS_FILE

    def version_dir(self, version: str) -> Path:
        return self.versions / version

    def current_target(self) -> Path | None:
        """Where ``current`` points (as written in the link), None when there is none."""
        try:
            return Path(os.readlink(self.current))
        except (FileNotFoundError, OSError):
            return None

    def current_version(self) -> str | None:
        target = self.current_target()
        return target.name if target is not None else None

    def running_version(self) -> str:
        """The version ``current`` names, else the version of this code."""
        return self.current_version() or installed_version()


def switch_current(layout: Layout, target: Path) -> None:
    """Point ``current`` at ``target`` in one step: readers see the old link or the new."""
    link = target.relative_to(layout.prefix) if target.is_relative_to(layout.prefix) else target
    temp = layout.prefix / f".{CURRENT}-{os.getpid()}"
    temp.unlink(missing_ok=True)
    os.symlink(link, temp)
    os.replace(temp, layout.current)
    fd = os.open(layout.prefix, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- install


def _run(argv: list[str], what: str) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        said = " / ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
        raise UpdateError(
            N_("{what} failed: {reason}"), what=what, reason=said or f"exit {done.returncode}"
        )
    return done.stdout


def install_version(layout: Layout, bundle: CheckedBundle, *, python: str | None = None) -> Path:
    """Install ``bundle`` into its own virtualenv ``versions/<version>``; its folder.

    A folder of that version left by a failed attempt is replaced; the running one never."""
    version = bundle.version
    target = layout.version_dir(version)
    current = layout.current_target()
    if current is not None and (layout.prefix / current).resolve() == target.resolve():
        raise UpdateError(N_("version {version} is the one running"), version=version)
    layout.versions.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        if target.is_symlink():
            target.unlink()
        else:
            shutil.rmtree(target)
    python = python or sys.executable
    try:
        with tempfile.TemporaryDirectory(dir=layout.versions, prefix=".wheels-") as work:
            extract_wheels(bundle, Path(work))
            _run([python, "-m", "venv", "--without-pip", str(target)], "python -m venv")
            _run(
                [
                    python,
                    "-m",
                    "pip",
                    "--disable-pip-version-check",
                    "--python",
                    str(target / "bin" / "python"),
                    "install",
                    "-q",
                    "--no-index",
                    "--find-links",
                    work,
                    f"{PROJECT}=={version}",
                ],
                "pip install",
            )
        said = _run([str(target / "bin" / "ews"), "--version"], "ews --version").strip()
        if said.split()[-1:] != [version]:
            raise UpdateError(
                N_("the installed version says {said}, not {version}"), said=said, version=version
            )
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    log.info("update: version %s installed in %s", version, target)
    return target


# --------------------------------------------------------------------------- outcome


@dataclass(frozen=True)
class UpdateOutcome:
    """What the last update did: ``result`` is installed, rolled back or failed."""

    version: str
    previous: str | None
    result: str
    at: str
    problem: str = ""  # msgid
    params: dict[str, str] = field(default_factory=dict)
    backup: str = ""
    reported: bool = False

    @property
    def message(self) -> Message | None:
        return Message(self.problem, self.params) if self.problem else None

    @property
    def ok(self) -> bool:
        return self.result == INSTALLED


def write_outcome(layout: Layout, outcome: UpdateOutcome) -> None:
    body = asdict(outcome)
    write_atomically(
        layout.status_file, (json.dumps(body, indent=2) + "\n").encode(), new_mode=0o644
    )


def read_outcome(layout: Layout) -> UpdateOutcome | None:
    try:
        body = json.loads(layout.status_file.read_bytes())
        return UpdateOutcome(**body)
    except (OSError, ValueError, TypeError):
        return None


# --------------------------------------------------------------------------- apply


@dataclass(frozen=True)
class ApplyPlan:
    """Everything an update needs besides the bundle."""

    config: Config
    config_path: Path
    runner: CommandRunner
    python: str | None = None

    @property
    def layout(self) -> Layout:
        return Layout(self.config.update.prefix)

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def unit(self) -> str:
        return self.config.update.unit

    @property
    def timeout_s(self) -> float:
        return float(self.config.update.health_timeout_s)


Progress = Callable[[Message], None]


def is_downgrade(bundle: CheckedBundle, layout: Layout) -> bool:
    return compare_versions(bundle.version, layout.running_version()) < 0


async def apply_update(
    bundle: CheckedBundle, plan: ApplyPlan, progress: Progress = lambda _m: None
) -> UpdateOutcome:
    """Install ``bundle``, switch to it, restart, and roll back if it is not healthy in
    time. The outcome is also written to ``last-update.json``. UpdateError before the
    switch (nothing changed on the box)."""
    layout = plan.layout
    previous = layout.current_target()
    previous_version = previous.name if previous is not None else None
    version = bundle.version
    progress(Message(N_("Installing version {version}..."), {"version": version}))
    target = await asyncio.to_thread(install_version, layout, bundle, python=plan.python)
    progress(Message(N_("Backing up the database...")))
    backup = new_backup_path(backups_folder(plan.config), f"{BACKUP_PREFIX}{version}-", _now())
    try:
        manifest = await asyncio.to_thread(create_backup, backup, plan.config_path, plan.config)
    except BackupError as error:
        raise UpdateError(N_("cannot back up the database: {reason}"), reason=error) from None
    await asyncio.to_thread(hand_back, plan.data_dir)
    stamp = _now().isoformat(timespec="seconds")

    def outcome(result: str, problem: str = "", **params: Any) -> UpdateOutcome:
        text = {name: str(value) for name, value in params.items()}
        done = UpdateOutcome(version, previous_version, result, stamp, problem, text, str(backup))
        write_outcome(layout, done)
        return done

    progress(Message(N_("Switching to version {version} and restarting..."), {"version": version}))
    await asyncio.to_thread(switch_current, layout, target)
    await asyncio.to_thread(clear_health, plan.data_dir)
    restarted = await plan.runner.run("systemctl", "restart", plan.unit)
    if restarted.ok:
        progress(
            Message(
                N_("Waiting up to {seconds} s for version {version} to report healthy..."),
                {"seconds": int(plan.timeout_s), "version": version},
            )
        )
        if await wait_healthy(plan.data_dir, version, plan.timeout_s):
            log.info("update: version %s is running", version)
            return outcome(INSTALLED)
        why = Message(
            N_("version {version} did not report healthy within {seconds} s"),
            {"version": version, "seconds": int(plan.timeout_s)},
        )
    else:
        why = Message(
            N_("{command} failed: {reason}"),
            {"command": restarted.command, "reason": restarted.reason.render()},
        )
    log.error("update to %s failed: %s; rolling back", version, why.render())
    if previous is None:
        return outcome(FAILED, N_("{reason}; no previous version to go back to"), reason=why)
    progress(Message(N_("Going back to version {version}..."), {"version": previous_version}))
    back = await _roll_back(plan, previous, manifest.schema_version, backup)
    if back is not None:
        return outcome(
            FAILED, N_("{reason}; the rollback failed too: {more}"), reason=why, more=back
        )
    return outcome(ROLLED_BACK, why.msgid, **why.params)


async def _roll_back(plan: ApplyPlan, previous: Path, schema: int, backup: Path) -> str | None:
    """Stop, switch back, restore the database if it was migrated, start; None when the
    previous version reports healthy again, else what went wrong."""
    layout = plan.layout
    await plan.runner.run("systemctl", "stop", plan.unit)
    await asyncio.to_thread(switch_current, layout, layout.prefix / previous)
    database = plan.data_dir / DATABASE_FILE
    if database.is_file() and await asyncio.to_thread(schema_version_of, database) > schema:
        log.warning("update: the new version migrated the database; restoring %s", backup)
        config_owner = _owner(plan.config_path)
        try:
            await asyncio.to_thread(restore_backup, backup, plan.config_path)
        except BackupError as error:
            return str(error)
        finally:
            await asyncio.to_thread(hand_back, plan.data_dir)
            if config_owner is not None:
                await asyncio.to_thread(_chown, plan.config_path, *config_owner)
    await asyncio.to_thread(clear_health, plan.data_dir)
    started = await plan.runner.run("systemctl", "start", plan.unit)
    if not started.ok:
        return f"{started.command}: {started.reason.render()}"
    # The version that ran before gets at least ROLLBACK_WAIT_S: it came up here before.
    if not await wait_healthy(plan.data_dir, previous.name, max(plan.timeout_s, ROLLBACK_WAIT_S)):
        return Message(
            N_("version {version} did not report healthy either"), {"version": previous.name}
        ).render()
    log.info("update: rolled back to %s", previous.name)
    return None


def _owner(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_uid, info.st_gid


def _chown(path: Path, uid: int, gid: int) -> None:
    try:
        info = path.lstat()
        if (info.st_uid, info.st_gid) != (uid, gid):
            os.chown(path, uid, gid, follow_symlinks=False)
    except OSError as error:
        log.error("update: cannot give %s back to uid %s: %s", path, uid, error)


def hand_back(data_dir: Path) -> None:
    """Give what an update run as root wrote in the data dir (its backup, a restored
    database) back to the data dir's owner, the box's user: the top of the data dir, the
    backups folder, and what a restore kept aside. Nothing to do unless run as root."""
    owner = _owner(data_dir)
    if os.geteuid() != 0 or owner is None or owner[0] == 0:
        return
    try:
        top = list(data_dir.iterdir())
        kept = backups_folder_of(data_dir)
        deep = list(kept.rglob("*")) if kept.is_dir() else []
    except OSError as error:
        log.error("update: cannot look through %s: %s", data_dir, error)
        return
    for path in (*top, *deep):
        _chown(path, *owner)


def backups_folder_of(data_dir: Path) -> Path:
    return data_dir / BACKUPS_FOLDER


def _now() -> datetime:
    return datetime.now(UTC).astimezone()
