"""``ews --version`` and ``ews update keygen/check/apply/status`` as a user runs them: what is
refused before anything on the box changes (unsigned, wrong key, same version, a downgrade
without --yes)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import asyncssh

from ews_tui.services.update_bundle import write_bundle
from ews_tui.services.update_health import installed_version
from tests.cli.conftest import Run


def config(tmp_path: Path, allow_unsigned: bool = False) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        'data_dir = "data"\n[update]\n'
        f'prefix = "{tmp_path / "prefix"}"\n'
        f'trusted_keys = "{tmp_path / "key.pub"}"\n'
        f"allow_unsigned = {'true' if allow_unsigned else 'false'}\n",
        encoding="utf-8",
    )
    return path


def bundle(tmp_path: Path, version: str, key: asyncssh.SSHKey | None) -> Path:
    wheel = tmp_path / "w" / f"ews_tui-{version}-py3-none-any.whl"
    wheel.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("ews_tui/__init__.py", "")
    out = tmp_path / f"ews-{version}.ewsupdate"
    write_bundle(out, [wheel], key=key)
    wheel.unlink()
    return out


def test_version_prints_the_package_version(ews_here: Run) -> None:
    done = ews_here("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ews {installed_version()}"


def test_keygen_then_check_a_signed_file(ews_here: Run, tmp_path: Path) -> None:
    done = ews_here("update", "keygen", str(tmp_path / "key"))
    assert done.returncode == 0, done.stderr
    assert os.stat(tmp_path / "key").st_mode & 0o777 == 0o600
    key = asyncssh.read_private_key(tmp_path / "key")
    signed = bundle(tmp_path, "9.0.0", key)
    done = ews_here("update", "check", str(signed), "--config", str(config(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "version 9.0.0, signed by SHA256:" in done.stdout
    again = ews_here("update", "keygen", str(tmp_path / "key"))
    assert again.returncode == 1 and "exists already" in again.stderr


def test_apply_refuses_before_changing_anything(ews_here: Run, tmp_path: Path) -> None:
    ews_here("update", "keygen", str(tmp_path / "key"))
    key = asyncssh.read_private_key(tmp_path / "key")
    path = str(config(tmp_path))

    unsigned = bundle(tmp_path, "9.0.0", None)
    done = ews_here("update", "apply", str(unsigned), "--config", path)
    assert done.returncode == 1
    assert "is not signed (update.allow_unsigned is off)" in done.stderr

    stranger = asyncssh.generate_private_key("ssh-ed25519")
    other = bundle(tmp_path, "9.0.1", stranger)
    done = ews_here("update", "apply", str(other), "--config", path, "--allow-unsigned")
    assert done.returncode == 1 and "not from a trusted key" in done.stderr

    same = bundle(tmp_path, installed_version(), key)
    done = ews_here("update", "apply", str(same), "--config", path)
    assert done.returncode == 1 and "is already installed" in done.stderr

    older = bundle(tmp_path, "0.0.1", key)
    done = ews_here("update", "apply", str(older), "--config", path)
    assert done.returncode == 1
    assert "downgrade to 0.0.1 refused (--yes to allow it)" in done.stderr

    assert not (tmp_path / "prefix").exists()  # nothing installed, nothing switched
    assert not (tmp_path / "data" / "backups").exists()


def test_status_says_the_running_version(ews_here: Run, tmp_path: Path) -> None:
    done = ews_here("update", "status", "--config", str(config(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Running version: {installed_version()}"
