"""``ews config check`` reads the keys of issue 17 (``time.backend``, ``time.timesyncd_dir``,
``network.dns``): a good file is OK, each bad key is named on its own line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

Run = Callable[..., CompletedProcess[str]]


def test_time_and_network_keys_checked(ews: Run, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        '[network]\nbackend = "systemd-networkd"\ndns = ["192.168.1.1", "9.9.9.9"]\n'
        '[time]\nbackend = "systemd-timesyncd"\ntimesyncd_dir = "timesyncd.conf.d"\n',
        encoding="utf-8",
    )
    result = ews("config", "check", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[network]\ndns = ["192.168.1.1", "resolver.example"]\n[time]\nbackend = "chrony"\n',
        encoding="utf-8",
    )
    result = ews("config", "check", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert 'network.dns: "resolver.example" is not an IP address' in lines
    assert 'time.backend: "chrony" is not one of none, systemd-timesyncd' in lines
    assert "Traceback" not in result.stderr
