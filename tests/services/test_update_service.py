"""The update service: an update that rolled back is a system alarm once the box is up
again (once, not at every start); the files in reach are listed newest first; an install
starts the update template unit of the file, which the unit files and the polkit rule in
``scripts/`` agree on."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from ews_tui.config import Config, default_config
from ews_tui.domain.events import ServiceDegraded, ServiceRecovered
from ews_tui.hub import Hub, SubscriptionEmpty
from ews_tui.services.update import UpdateService, apply_unit, systemd_escape_path, update_files
from ews_tui.services.update_bundle import write_bundle
from ews_tui.services.update_install import (
    INSTALLED,
    ROLLED_BACK,
    Layout,
    UpdateOutcome,
    read_outcome,
    write_outcome,
)

from .command_fixtures import RecordingRunner

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PATHS = (
    "/var/lib/ews/updates/ews-0.2.0.ewsupdate",
    "/media/ews/MY USB/ews-é 1.ewsupdate",
    "/media/x/.hidden/a-b.ewsupdate",
    ".lead/x",
    "//a//b/",
    "/",
)


def settings(tmp_path: Path) -> Config:
    config = default_config(tmp_path / "data")
    return replace(
        config,
        update=replace(
            config.update,
            prefix=tmp_path / "prefix",
            trusted_keys=tmp_path / "none.pub",
            allow_unsigned=True,
            media=(tmp_path / "media",),
        ),
    )


def rolled_back() -> UpdateOutcome:
    return UpdateOutcome(
        "0.9.0",
        "0.1.0",
        ROLLED_BACK,
        "2026-12-03T02:15:00+01:00",
        "version {version} did not report healthy within {seconds} s",
        {"version": "0.9.0", "seconds": "120"},
    )


async def test_a_rollback_is_raised_once_when_the_box_starts(tmp_path: Path) -> None:
    config = settings(tmp_path)
    layout = Layout(config.update.prefix)
    layout.prefix.mkdir()
    write_outcome(layout, rolled_back())
    hub = Hub()
    seen = hub.subscribe(ServiceDegraded, ServiceRecovered)
    service = UpdateService(hub, config=lambda: config)
    await service.start()
    event = seen.get_nowait()
    assert isinstance(event, ServiceDegraded) and event.service == "update"
    assert event.problem.render() == (
        "the update to 0.9.0 was rolled back to 0.1.0: "
        "version 0.9.0 did not report healthy within 120 s"
    )
    outcome = read_outcome(layout)
    assert outcome is not None and outcome.reported
    await service.start()  # the next start of the box: nothing new to say
    try:
        seen.get_nowait()
        raise AssertionError("reported twice")
    except SubscriptionEmpty:
        pass
    # A good update afterwards clears the alarm.
    write_outcome(layout, replace(rolled_back(), result=INSTALLED, problem="", params={}))
    await service.start()
    assert isinstance(seen.get_nowait(), ServiceRecovered)


async def test_files_in_reach_are_listed_newest_first(tmp_path: Path) -> None:
    config = settings(tmp_path)
    for folder, version in [
        (config.data_dir / "updates", "0.10.0"),
        (tmp_path / "media" / "alice" / "USB", "0.2.0"),
        (tmp_path / "media" / "sdb1", "0.0.1"),
    ]:
        folder.mkdir(parents=True)
        wheel = folder / f"ews_tui-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("x.py", "")
        write_bundle(folder / f"ews-{version}.ewsupdate", [wheel], key=None)
    (tmp_path / "media" / "sdb1" / "junk.ewsupdate").write_text("not a tar")
    deep = tmp_path / "media" / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    (deep / "too-deep.ewsupdate").write_text("")
    assert len(update_files([tmp_path / "media"])) == 3
    runner = RecordingRunner()
    service = UpdateService(Hub(), config=lambda: config, runner=runner)
    found = await service.find()
    assert [f.version for f in found] == ["0.10.0", "0.2.0", "0.0.1", None]
    assert [f.order for f in found[:3]] == [1, 1, -1]
    assert found[3].problem is not None and "cannot read" in found[3].problem.msgid
    result = await service.install(found[0])
    assert result.ok
    unit = apply_unit(found[0].path.resolve())
    assert runner.calls == [("systemctl", "start", "--no-block", unit)]
    assert unit.startswith("ews-update@") and unit.endswith("-ews\\x2d0.10.0.ewsupdate.service")


def test_a_path_is_escaped_as_systemd_escape_does() -> None:
    assert systemd_escape_path(Path("/media/ews/MY USB/ews-é 1.ewsupdate")) == (
        r"media-ews-MY\x20USB-ews\x2d\xc3\xa9\x201.ewsupdate"
    )
    assert systemd_escape_path(Path(".lead/x")) == r"\x2elead-x"
    tool = shutil.which("systemd-escape")
    if tool is None:
        pytest.skip("systemd-escape is not installed")
    for path in PATHS:
        done = subprocess.run([tool, "--path", path], capture_output=True, text=True, check=True)
        assert systemd_escape_path(Path(path)) == done.stdout.strip(), path


def test_the_unit_files_and_the_polkit_rule_agree() -> None:
    config = default_config(Path("/var/lib/ews"))
    ews = config.update.prefix / "current" / "bin" / "ews"
    box = (SCRIPTS / "ews.service").read_text("utf-8")
    template = (SCRIPTS / "ews-update@.service").read_text("utf-8")
    # The box runs the version `current` points at, the one an update switches.
    assert re.search(rf"(?m)^ExecStart={re.escape(str(ews))} serve\b", box)
    assert re.search(rf"(?m)^ExecStart={re.escape(str(ews))} update apply %f --yes$", template)
    assert config.update.unit in ("ews", "ews.service")  # what `systemctl restart` gets
    # Both read the same configuration.
    [box_env] = re.findall(r"(?m)^Environment=EWS_CONFIG=(\S+)$", box)
    [template_env] = re.findall(r"(?m)^Environment=EWS_CONFIG=(\S+)$", template)
    assert box_env == template_env
    # The folders the settings pages write are writable under ProtectSystem=strict.
    [paths] = re.findall(r"(?m)^ReadWritePaths=(.+)$", box)
    writable = {p.lstrip("-") for p in paths.split()}
    assert {str(config.network.networkd_dir), str(config.time.timesyncd_dir)} <= writable
    # The polkit rule lets the ews user start the unit of any update file, one level only.
    rule = (SCRIPTS / "ews.polkit.rules").read_text("utf-8")
    [pattern] = re.findall(r"/(\^ews-update@.+?\$)/\.test\(unit\)", rule)
    js = re.compile(pattern.replace(r"\/", "/"))
    for path in PATHS[:3]:
        assert js.match(apply_unit(Path(path)))
    assert not js.match("ews.service") and not js.match("ews-update@x.service/../y")
    assert f'subject.user != "{box_user(box)}"' in rule


def box_user(unit: str) -> str:
    [user] = re.findall(r"(?m)^User=(\S+)$", unit)
    return user
