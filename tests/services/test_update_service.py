"""The update service: an update that rolled back is a system alarm once the box is up
again (once, not at every start); the files in reach are listed newest first."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

from ews_tui.config import Config, default_config
from ews_tui.domain.events import ServiceDegraded, ServiceRecovered
from ews_tui.hub import Hub, SubscriptionEmpty
from ews_tui.services.update import UpdateService, update_files
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
    service = UpdateService(hub, config=lambda: config, config_path=tmp_path / "c.toml")
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
    service = UpdateService(
        Hub(), config=lambda: config, config_path=tmp_path / "c.toml", runner=runner
    )
    found = await service.find()
    assert [f.version for f in found] == ["0.10.0", "0.2.0", "0.0.1", None]
    assert [f.order for f in found[:3]] == [1, 1, -1]
    assert found[3].problem is not None and "cannot read" in found[3].problem.msgid
    result = await service.install(found[0])
    assert result.ok
    assert runner.calls[0][-5:] == (
        "apply",
        str(found[0].path),
        "--yes",
        "--config",
        str(tmp_path / "c.toml"),
    )
