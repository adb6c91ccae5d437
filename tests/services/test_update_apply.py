"""End to end in a temp prefix: apply an update of this tree, then a broken one that rolls back.

Real parts: the wheels of this tree (built once, :mod:`update_fixtures`), real virtualenvs
installed by pip with ``--no-index``, the real ``ews serve`` of each version started by a
runner that plays systemd, its real health file, a real database migrated by the broken
version and restored from the backup the update took.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

import asyncssh
import pytest

from ews_tui.config import Config, default_config, save_config
from ews_tui.domain.messages import Message
from ews_tui.services.update_bundle import (
    generate_key,
    inspect_bundle,
    read_signing_key,
    read_trusted_keys,
    write_bundle,
)
from ews_tui.services.update_health import installed_version
from ews_tui.services.update_install import (
    INSTALLED,
    ROLLED_BACK,
    ApplyPlan,
    Layout,
    apply_update,
    read_outcome,
)
from ews_tui.store.backup import schema_version_of
from ews_tui.store.db import DATABASE_FILE
from ews_tui.store.migrations import latest_version

from .update_fixtures import BROKEN_VERSION, GOOD_VERSION, ServeRunner, Wheels, update_wheels

__all__ = ["update_wheels"]

FRENCH = "from ews_tui.i18n import translator; print(translator('fr').gettext('Install'))"
VENV = Path(__file__).resolve().parents[2] / ".venv"


def box(tmp_path: Path, timeout_s: int) -> tuple[Config, Path]:
    config = default_config(tmp_path / "data")
    config = replace(
        config,
        update=replace(
            config.update,
            prefix=tmp_path / "prefix",
            trusted_keys=tmp_path / "keys.pub",
            health_timeout_s=timeout_s,
        ),
    )
    path = tmp_path / "config.toml"
    save_config(config, path)
    return config, path


def bundle(folder: Path, out: Path, key: asyncssh.SSHKey) -> Path:
    write_bundle(out, sorted(folder.glob("*.whl")), key=key)
    return out


@pytest.mark.timeout(900)
async def test_an_update_switches_and_a_broken_one_rolls_back(
    tmp_path: Path, update_wheels: Wheels
) -> None:
    # The box as installed: <prefix>/current -> versions/<this version> (this venv).
    running = installed_version()
    prefix = tmp_path / "prefix"
    (prefix / "versions").mkdir(parents=True)
    os.symlink(VENV, prefix / "versions" / running)
    os.symlink(Path("versions") / running, prefix / "current")
    generate_key(tmp_path / "key")
    key = read_signing_key(tmp_path / "key")
    (tmp_path / "keys.pub").write_text((tmp_path / "key.pub").read_text())
    config, config_path = box(tmp_path, timeout_s=90)
    (tmp_path / "logs").mkdir()
    runner = ServeRunner(prefix, config_path, tmp_path / "logs", config.data_dir)
    runner.start()  # the box runs the old version, and made its database
    await runner.started_or_ended()
    layout = Layout(prefix)
    trusted = read_trusted_keys(tmp_path / "keys.pub")
    said: list[Message] = []
    try:
        # 1. A good update: installed beside, switched, restarted, healthy.
        good = inspect_bundle(
            bundle(update_wheels.good, tmp_path / "good.ewsupdate", key),
            trusted,
            allow_unsigned=False,
        )
        plan = ApplyPlan(config, config_path, runner)
        outcome = await apply_update(good, plan, said.append)
        log = (tmp_path / "logs" / "serve-2.log").read_text(errors="replace")
        assert outcome.result == INSTALLED, (outcome, log)
        assert os.readlink(prefix / "current") == f"versions/{GOOD_VERSION}"
        assert runner.calls == [("systemctl", "restart", "ews")]
        assert runner.process is not None and runner.process.poll() is None
        installed = prefix / "versions" / GOOD_VERSION
        # The catalogs came with the wheel: the updated box still speaks French.
        french = subprocess.run(
            [installed / "bin" / "python", "-c", FRENCH], capture_output=True, text=True
        )
        assert french.stdout.strip() == "Installer", french.stderr
        assert Path(outcome.backup).is_file()
        assert read_outcome(layout) == outcome
        assert any("Installing version" in m.msgid for m in said)
        database = config.data_dir / DATABASE_FILE
        assert schema_version_of(database) == latest_version()

        # 2. A broken update: it migrates the database, then never says it is healthy. The
        # runner's restart returns once it has ended: the shortest timeout the config takes
        # judges it (no wait for a start-up that may be slow on a loaded machine).
        broken = inspect_bundle(
            bundle(update_wheels.broken, tmp_path / "broken.ewsupdate", key),
            trusted,
            allow_unsigned=False,
        )
        config, config_path = box(tmp_path, timeout_s=5)
        runner.calls.clear()
        outcome = await apply_update(broken, ApplyPlan(config, config_path, runner))
        broken_log = (tmp_path / "logs" / "serve-3.log").read_text(errors="replace")
        assert "broken on purpose" in broken_log
        assert outcome.result == ROLLED_BACK, (outcome, broken_log)
        assert outcome.previous == GOOD_VERSION
        assert outcome.message is not None
        assert "did not report healthy within 5 s" in outcome.message.render()
        assert runner.calls == [
            ("systemctl", "restart", "ews"),
            ("systemctl", "stop", "ews"),
            ("systemctl", "start", "ews"),
        ]
        assert runner.started[-2:] == [f"versions/{BROKEN_VERSION}", f"versions/{GOOD_VERSION}"]
        assert os.readlink(prefix / "current") == f"versions/{GOOD_VERSION}"
        # The migration the broken version ran is undone: the backup came back.
        assert schema_version_of(database) == latest_version()
        tables = sqlite3.connect(database).execute(
            "SELECT name FROM sqlite_master WHERE name = 'update_test'"
        )
        assert tables.fetchall() == []
        assert runner.process is not None and runner.process.poll() is None
        assert read_outcome(layout) == outcome
    finally:
        runner.stop()
