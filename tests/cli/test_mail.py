"""``ews mail test --to ADDR`` against a real SMTP server (aiosmtpd on loopback): the answer
in plain words, exit 0 when accepted and 1 with the reason when not."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.services.smtp_fixtures import Inbox, free_port, smtp_server


async def ews(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """Run ``ews`` in a subprocess without blocking this loop (the SMTP server runs in it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ews_tui.cli",
        *args,
        cwd=tmp_path,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def write_config(tmp_path: Path, port: int, language: str = "en") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'data_dir = "data"\nlanguage = "{language}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'sender = "box@site.test"\ntimeout_s = 10\n',
        encoding="utf-8",
    )
    return path


async def test_mail_test_prints_the_servers_acceptance(tmp_path: Path) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        config = write_config(tmp_path, port)
        code, out, err = await ews(
            tmp_path, "mail", "test", "--to", "marie@site.test", "--config", str(config)
        )
    assert (code, err) == (0, "")
    assert out.startswith(f"127.0.0.1:{port} accepted the mail (")
    [mail] = inbox.mails
    assert mail["To"] == "marie@site.test" and "Test mail" in mail["Subject"]


async def test_mail_test_says_why_not_in_the_boxs_language(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port, language="fr")
    code, out, err = await ews(
        tmp_path, "mail", "test", "--to", "marie@site.test", "--config", str(config)
    )
    assert (code, out) == (1, "")
    assert err == f"ews: mail de test via 127.0.0.1:{port} : connexion refusée sur le port {port}\n"
