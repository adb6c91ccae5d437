"""sshd stopped in the middle of a transfer, then started again (real OpenSSH on loopback).

The cut happens from the transfer's own progress hook, once the big file is partly written
on the server: no sleep decides when. The failed run says so in plain words and what it sent
before; the next run sends the rest, every file byte for byte, none twice, no part file left.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ews_tui.services import connector_transfer as transfer
from ews_tui.services.connector_transfer import Progress
from ews_tui.store.connector_repo import ConnectorRepo
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

BIG = "measures/2022-11-02-big.csv"
BIG_SIZE = 24 * 1024 * 1024  # many SFTP blocks: the cut lands inside it


async def test_sshd_stopped_mid_transfer_then_started_resumes_without_loss(
    tmp_path: Path,
    openssh_server: OpenSshServer,
    repo: ConnectorRepo,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = box(tmp_path, openssh_server)
    files = write_csv(config)
    big = config.csv_folder / BIG
    big.write_bytes(os.urandom(BIG_SIZE))
    files[BIG] = big.read_bytes()
    await trust_and_authorize(config, openssh_server)
    remote = openssh_server.home / "backup"
    seen_part: list[bool] = []

    def cut_inside_the_big_file(step: Progress) -> None:
        if step.name == BIG and 0 < step.done < step.total and not seen_part:
            # The server is writing it under its part name right now; then it goes down.
            seen_part.append((remote / (BIG + transfer.PART)).exists())
            openssh_server.cut()

    with caplog.at_level(logging.ERROR, logger="ews_tui.services.connector_transfer"):
        cut = await transfer.run_transfer(
            config, repo, now=WEDNESDAY_14H, progress=cut_inside_the_big_file
        )
    assert seen_part == [True]
    assert cut.problem is not None and cut.problem.msgid == transfer.CONNECTION_LOST
    assert "failed: connection to the server lost" in caplog.text
    assert 0 < cut.files < len(files)  # some went before the cut, the big one did not
    assert BIG not in arrived(remote)
    assert (await repo.transfers())[0] == cut  # the log page has it, in the same words

    await openssh_server.stop()
    await openssh_server.start()
    back = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert back.ok, back.problem
    assert cut.files + back.files == len(files)  # none sent twice
    assert cut.size + back.size == sum(map(len, files.values()))
    assert arrived(remote) == files  # byte for byte, and no ".ews-part" left over
    again = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert again.ok and again.files == 0
