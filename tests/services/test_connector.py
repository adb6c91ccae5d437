"""The Connector against a real OpenSSH sshd on loopback: SFTP and SCP, keys, host keys, faults."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ews_tui.config import default_config
from ews_tui.domain import connector as conn
from ews_tui.domain.connector import (
    ConnectorFailed,
    ConnectorRecovered,
    ConnectorSent,
)
from ews_tui.hub import Hub
from ews_tui.services import connector_transfer as transfer
from ews_tui.services.connector import ConnectorService
from ews_tui.store.connector_repo import ConnectorRepo
from ews_tui.supervision import Supervisor
from tests.services.connector_fixtures import (
    WEDNESDAY_14H,
    arrived,
    box,
    repo,
    trust_and_authorize,
    write_csv,
)
from tests.services.openssh_server import OpenSshServer, openssh_server

__all__ = ["openssh_server", "repo"]


async def test_sftp_sends_new_and_changed_files_only_byte_for_byte(
    tmp_path: Path, openssh_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    config = box(tmp_path, openssh_server)
    files = write_csv(config)
    await trust_and_authorize(config, openssh_server)
    first = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert first.ok, first.problem
    assert (first.files, first.size) == (len(files), sum(map(len, files.values())))
    remote = openssh_server.home / "backup"
    assert arrived(remote) == files  # byte for byte, no ".ews-part" left behind

    again = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert again.ok and (again.files, again.size) == (0, 0)

    today = config.csv_folder / "events/2022-11-03.csv"
    today.write_bytes(files["events/2022-11-03.csv"] + b"\nnew line")
    changed = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert changed.ok and changed.files == 1
    assert (remote / "events/2022-11-03.csv").read_bytes() == today.read_bytes()
    log = await repo.transfers()
    assert [line.files for line in log] == [1, 0, len(files)]


async def test_sftp_sends_the_chosen_folders_into_the_expanded_destination(
    tmp_path: Path, openssh_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    config = box(
        tmp_path,
        openssh_server,
        sources=("energy", "events"),
        destination="répertoire/sauvegarde%date",
    )
    files = write_csv(config)
    await trust_and_authorize(config, openssh_server)
    line = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert line.ok, line.problem
    assert line.destination == "répertoire/sauvegarde202211301400"
    remote = openssh_server.home / "répertoire/sauvegarde202211301400"
    wanted = {rel: data for rel, data in files.items() if rel.split("/")[0] in ("energy", "events")}
    assert arrived(remote) == wanted


async def test_the_chargers_sessions_and_the_backups_go_only_when_named(
    tmp_path: Path, openssh_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    """Empty sources send the manual's four CSV folders. The Connector can also send the
    chargers' sessions and the nightly backups (issue 17), when named: a backup holds the
    config file and its passwords."""
    config = box(tmp_path, openssh_server)
    files = write_csv(config)
    sessions = config.csv_folder / "charging" / "2022-11-30.csv"
    sessions.parent.mkdir(parents=True)
    sessions.write_bytes(b"start,end,device_id,device,side,energy_kwh\n")
    backup = config.data_dir / "backups" / "ews-backup-20221130-0200.tar"
    backup.parent.mkdir(parents=True)
    backup.write_bytes(b"backup bytes")
    await trust_and_authorize(config, openssh_server)
    line = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert line.ok, line.problem
    remote = openssh_server.home / "backup"
    assert arrived(remote) == files

    named = box(tmp_path, openssh_server, sources=("charging", "backups"), destination="saved")
    line = await transfer.run_transfer(named, repo, now=WEDNESDAY_14H)
    assert line.ok, line.problem
    assert arrived(openssh_server.home / "saved") == {
        "charging/2022-11-30.csv": sessions.read_bytes(),
        "backups/ews-backup-20221130-0200.tar": b"backup bytes",
    }


async def test_a_wrong_password_is_refused_in_plain_words(
    tmp_path: Path, openssh_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    config = box(tmp_path, openssh_server, key=None, password="not-the-password")
    write_csv(config)
    transfer.store_trust(config, await transfer.fetch_host_key(config, 10))
    line = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert line.problem is not None and line.problem.msgid == conn.AUTH_REFUSED
    assert "not-the-password" not in str(await repo.transfers())


async def test_unknown_then_changed_host_key_is_refused(
    tmp_path: Path, openssh_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    config = box(tmp_path, openssh_server)
    write_csv(config)
    unknown = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert unknown.problem is not None and unknown.problem.msgid == conn.HOST_KEY_UNKNOWN
    await trust_and_authorize(config, openssh_server)
    first = transfer.trusted_fingerprint(config)
    assert first is not None and first.startswith("SHA256:")

    await openssh_server.stop()
    openssh_server.new_host_key()
    await openssh_server.start()
    changed = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert changed.problem is not None and changed.problem.msgid == conn.HOST_KEY_CHANGED
    assert not (openssh_server.home / "backup").exists()
    assert transfer.trusted_fingerprint(config) == first  # nothing accepted by itself


async def test_server_down_then_back_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, openssh_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    config = box(tmp_path, openssh_server)
    files = write_csv(config)
    await trust_and_authorize(config, openssh_server)
    await openssh_server.stop()
    down = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert down.problem is not None and down.problem.msgid == conn.UNREACHABLE
    await openssh_server.start()
    back = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert back.ok and back.files == len(files)
    assert arrived(openssh_server.home / "backup") == files
    assert (await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)).files == 0


async def test_a_half_sent_run_is_finished_by_the_next(
    tmp_path: Path, openssh_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    """A run cut after some files (here: a leftover part file and half the files sent):
    the next run sends the rest and replaces the part file."""
    config = box(tmp_path, openssh_server, sources=("energy",))
    files = write_csv(config)
    await trust_and_authorize(config, openssh_server)
    await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    energy = sorted(rel for rel in files if rel.startswith("energy/"))
    remote = openssh_server.home / "backup"
    # As if the connection dropped while the last file was being written:
    (remote / energy[-1]).unlink()
    (remote / (energy[-1] + transfer.PART)).write_bytes(b"half")
    target = transfer.target_of(config, "backup")
    await repo._db.execute("DELETE FROM sent WHERE target = ? AND path = ?", (target, energy[-1]))
    await repo._db.commit()
    line = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert line.ok and line.files == 1
    assert arrived(remote) == {rel: files[rel] for rel in energy}


async def test_the_service_publishes_a_failure_then_retries_and_recovers(
    tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    config = box(tmp_path, openssh_server)
    files = write_csv(config)
    await trust_and_authorize(config, openssh_server)
    await openssh_server.stop()
    hub = Hub()
    supervisor = Supervisor(hub)
    events = hub.subscribe(ConnectorFailed, ConnectorRecovered)
    service = ConnectorService(
        hub, config=lambda: config, supervisor=supervisor, retry_start_s=0.2, timeout_s=10
    )
    await service.start()
    try:
        line = await service.send_now()
        assert line.problem is not None and line.problem.msgid == conn.UNREACHABLE
        failed = await asyncio.wait_for(events.get(), 10)
        assert isinstance(failed, ConnectorFailed) and failed.problem == line.problem
        assert [h.state.value for h in supervisor.health() if h.name == "connector"] == ["degraded"]
        await openssh_server.start()
        recovered = await asyncio.wait_for(events.get(), 30)  # the backoff retry, by itself
        assert isinstance(recovered, ConnectorRecovered)
        assert arrived(openssh_server.home / "backup") == files
        log = await service.log_lines()
        assert log[0].ok and not log[-1].ok
    finally:
        await service.stop()
        await supervisor.cancel_all(5)


async def test_the_service_sends_at_the_scheduled_hour_by_itself(
    tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    """Every day at 14h, the box's clock a moment before: the run starts by itself, once."""
    config = box(tmp_path, openssh_server, day="*", hour=14)
    files = write_csv(config)
    await trust_and_authorize(config, openssh_server)
    hub = Hub()
    supervisor = Supervisor(hub)
    sent = hub.subscribe(ConnectorSent)
    just_before = WEDNESDAY_14H - 0.2
    service = ConnectorService(
        hub, config=lambda: config, supervisor=supervisor, clock=lambda: just_before
    )
    assert service.next_scheduled() == WEDNESDAY_14H
    await service.start()
    try:
        done = await asyncio.wait_for(sent.get(), 30)
        assert isinstance(done, ConnectorSent) and done.files == len(files)
        assert service.next_scheduled() == WEDNESDAY_14H + 86_400  # not the same run again
        assert len(await service.log_lines()) == 1
    finally:
        await service.stop()
        await supervisor.cancel_all(5)


async def test_the_box_key_is_made_once_even_when_asked_twice_at_once(tmp_path: Path) -> None:
    config = default_config(tmp_path / "box")
    keys = await asyncio.gather(
        *(asyncio.to_thread(transfer.public_key_text, config) for _ in range(8))
    )
    assert len(set(keys)) == 1
    assert transfer.public_key_text(config) == keys[0]
    assert (config.data_dir / "connector_ed25519_key").stat().st_mode & 0o077 == 0
