"""``ews connector trust / key / send-now / log`` against a real OpenSSH sshd."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run
from tests.services.openssh_server import OpenSshServer, openssh_server

__all__ = ["openssh_server"]


def write_config(path: Path, server: OpenSshServer, **extra: str) -> None:
    lines = [
        'data_dir = "data"',
        "[connector]",
        'mode = "sftp"',
        'address = "127.0.0.1"',
        f"port = {server.port}",
        f'user = "{server.user}"',
        'destination = "pushed"',
        'sources = ["energy"]',
    ]
    lines += [f'{key} = "{value}"' for key, value in extra.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_trust_key_send_now_and_log(
    ews: Run, tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    config = tmp_path / "config.toml"
    write_config(config, openssh_server)
    data = tmp_path / "data/csv/energy/2026-12-01.csv"
    data.parent.mkdir(parents=True)
    data.write_text("timestamp,energy\n1,2\n")

    refused = ews("connector", "send-now", "--config", str(config))
    assert refused.returncode == 1 and "host key not accepted yet" in refused.stderr

    asked = ews("connector", "trust", "--config", str(config))  # no terminal, no --yes
    assert asked.returncode == 1 and "SHA256:" in asked.stdout
    trusted = ews("connector", "trust", "--config", str(config), "--yes")
    assert trusted.returncode == 0, trusted.stderr
    assert "Key accepted." in trusted.stdout

    key = ews("connector", "key", "--config", str(config))
    assert key.returncode == 0 and key.stdout.startswith("ssh-ed25519 ")
    openssh_server.authorize(key.stdout)

    sent = ews("connector", "send", "--config", str(config))
    assert sent.returncode == 0, sent.stderr
    assert "1 files" in sent.stdout
    assert (openssh_server.home / "pushed/energy/2026-12-01.csv").read_bytes() == (
        data.read_bytes()
    )

    log = ews("connector", "log", "--config", str(config), "--json")
    lines = json.loads(log.stdout)
    assert [(line["ok"], line["files"]) for line in lines] == [(True, 1), (False, 0)]
    assert lines[1]["problem"].startswith("host key not accepted yet")


async def test_unknown_source_folder_is_refused_by_config_check(
    ews: Run, tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    config = tmp_path / "config.toml"
    write_config(config, openssh_server)
    config.write_text(config.read_text().replace('["energy"]', '["energy", "power"]'))
    checked = ews("config", "check", str(config))
    assert checked.returncode == 1
    assert "connector.sources" in checked.stderr + checked.stdout
    assert "energy, measures, events, eqcheck" in checked.stderr + checked.stdout


async def test_send_now_says_which_scp_ran(
    ews: Run, tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    config = tmp_path / "config.toml"
    write_config(config, openssh_server)
    config.write_text(config.read_text().replace('mode = "sftp"', 'mode = "scp"'))
    data = tmp_path / "data/csv/energy/2026-12-01.csv"
    data.parent.mkdir(parents=True)
    data.write_text("timestamp,energy\n1,2\n")
    assert ews("connector", "trust", "--config", str(config), "--yes").returncode == 0
    openssh_server.authorize(ews("connector", "key", "--config", str(config)).stdout)

    legacy = ews("connector", "send-now", "--config", str(config))
    assert legacy.returncode == 0, legacy.stderr
    assert "  SCP  1 files" in legacy.stdout
    openssh_server.sftp_only = True
    over_sftp = ews("connector", "send-now", "--config", str(config))
    assert over_sftp.returncode == 0, over_sftp.stderr
    assert "  SCP over SFTP  1 files" in over_sftp.stdout
    log = json.loads(ews("connector", "log", "--config", str(config), "--json").stdout)
    assert [line["mode"] for line in log] == ["scp-sftp", "scp"]
    assert (openssh_server.home / "pushed.zip").is_file()
