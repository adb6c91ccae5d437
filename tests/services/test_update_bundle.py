"""The update file: its manifest, its ed25519 signature and the checks on every wheel."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import asyncssh
import pytest

from ews_tui.services.update_bundle import (
    MANIFEST,
    SIGNATURE,
    UpdateError,
    compare_versions,
    extract_wheels,
    generate_key,
    inspect_bundle,
    read_signing_key,
    read_trusted_keys,
    stage_source,
    write_bundle,
)


def wheel(folder: Path, name: str, body: str = "x = 1\n") -> Path:
    """A small real zip named as a wheel."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("module.py", body)
    return path


@pytest.fixture
def wheels(tmp_path: Path) -> list[Path]:
    return [
        wheel(tmp_path / "w", "ews_tui-0.2.0-py3-none-any.whl"),
        wheel(tmp_path / "w", "tomli_w-1.2.0-py3-none-any.whl"),
    ]


@pytest.fixture
def key(tmp_path: Path) -> tuple[asyncssh.SSHKey, Path]:
    (tmp_path / "keys").mkdir()
    public = generate_key(tmp_path / "keys" / "update_key")
    return read_signing_key(tmp_path / "keys" / "update_key"), public


def test_versions_order_as_pep_440_says() -> None:
    assert compare_versions("0.10.0", "0.2.0") == 1
    assert compare_versions("1.0", "1.0.0") == 0
    assert compare_versions("1.0rc1", "1.0") == -1
    assert compare_versions("1.0.post1", "1.0") == 1
    assert compare_versions("0.1.0", "0.1.1.dev3") == -1
    with pytest.raises(UpdateError, match="is not a version number"):
        compare_versions("latest", "1.0")


def test_keygen_writes_a_private_key_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    public = generate_key(tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert public.read_text().startswith("ssh-ed25519 ")
    assert len(read_trusted_keys(public)) == 1
    with pytest.raises(UpdateError, match="exists already"):
        generate_key(tmp_path / "k")


def test_an_rsa_key_is_refused_for_signing(tmp_path: Path) -> None:
    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    rsa.write_private_key(tmp_path / "rsa")
    with pytest.raises(UpdateError, match="an ed25519 key is needed"):
        read_signing_key(tmp_path / "rsa")


def test_a_signed_bundle_checks_and_extracts(
    tmp_path: Path, wheels: list[Path], key: tuple[asyncssh.SSHKey, Path]
) -> None:
    signing, public = key
    manifest = write_bundle(tmp_path / "u.ewsupdate", wheels, key=signing)
    assert manifest.version == "0.2.0"
    checked = inspect_bundle(
        tmp_path / "u.ewsupdate", read_trusted_keys(public), allow_unsigned=False
    )
    assert checked.version == "0.2.0"
    assert checked.signer is not None and checked.signer.startswith("SHA256:")
    out = extract_wheels(checked, tmp_path / "out")
    assert sorted(p.name for p in out) == sorted(w.name for w in wheels)
    assert [p.read_bytes() for p in sorted(out)] == [w.read_bytes() for w in sorted(wheels)]


def test_an_unsigned_bundle_is_refused_unless_allowed(
    tmp_path: Path, wheels: list[Path], key: tuple[asyncssh.SSHKey, Path]
) -> None:
    _signing, public = key
    write_bundle(tmp_path / "u.ewsupdate", wheels, key=None)
    trusted = read_trusted_keys(public)
    with pytest.raises(UpdateError, match="not signed"):
        inspect_bundle(tmp_path / "u.ewsupdate", trusted, allow_unsigned=False)
    checked = inspect_bundle(tmp_path / "u.ewsupdate", trusted, allow_unsigned=True)
    assert checked.signer is None


def test_a_signature_by_another_key_is_refused_even_when_unsigned_is_allowed(
    tmp_path: Path, wheels: list[Path], key: tuple[asyncssh.SSHKey, Path]
) -> None:
    _signing, public = key
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    write_bundle(tmp_path / "u.ewsupdate", wheels, key=stranger)
    with pytest.raises(UpdateError, match="not from a trusted key"):
        inspect_bundle(tmp_path / "u.ewsupdate", read_trusted_keys(public), allow_unsigned=True)
    with pytest.raises(UpdateError, match="no trusted key is installed"):
        inspect_bundle(tmp_path / "u.ewsupdate", [], allow_unsigned=True)


def retar(source: Path, target: Path, change: dict[str, bytes]) -> None:
    """Copy the tar ``source`` to ``target`` with some members' bytes replaced."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for info in old:
            data = old.extractfile(info)
            assert data is not None
            body = change.get(info.name, data.read())
            info.size = len(body)
            new.addfile(info, io.BytesIO(body))


def test_a_changed_manifest_breaks_the_signature(
    tmp_path: Path, wheels: list[Path], key: tuple[asyncssh.SSHKey, Path]
) -> None:
    signing, public = key
    write_bundle(tmp_path / "u.ewsupdate", wheels, key=signing)
    with tarfile.open(tmp_path / "u.ewsupdate") as tar:
        member = tar.extractfile(MANIFEST)
        assert member is not None
        body = json.loads(member.read())
    body["version"] = "9.9.9"
    retar(
        tmp_path / "u.ewsupdate", tmp_path / "bad.ewsupdate", {MANIFEST: json.dumps(body).encode()}
    )
    with pytest.raises(UpdateError, match="not from a trusted key"):
        inspect_bundle(tmp_path / "bad.ewsupdate", read_trusted_keys(public), allow_unsigned=False)


def test_a_changed_wheel_is_refused_at_extraction(
    tmp_path: Path, wheels: list[Path], key: tuple[asyncssh.SSHKey, Path]
) -> None:
    signing, public = key
    write_bundle(tmp_path / "u.ewsupdate", wheels, key=signing)
    evil = wheel(tmp_path / "evil", wheels[0].name, "x = 2\n")
    retar(
        tmp_path / "u.ewsupdate",
        tmp_path / "bad.ewsupdate",
        {f"wheels/{wheels[0].name}": evil.read_bytes()},
    )
    checked = inspect_bundle(
        tmp_path / "bad.ewsupdate", read_trusted_keys(public), allow_unsigned=False
    )
    with pytest.raises(UpdateError, match="differs from the manifest"):
        extract_wheels(checked, tmp_path / "out")


def test_not_a_bundle_is_refused_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "x.ewsupdate").write_bytes(b"hello")
    with pytest.raises(UpdateError, match="cannot read the update file"):
        inspect_bundle(tmp_path / "x.ewsupdate", [], allow_unsigned=True)
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    with pytest.raises(UpdateError, match="not an ews-tui update file"):
        inspect_bundle(tmp_path / "empty.tar", [], allow_unsigned=True)
    assert SIGNATURE == "manifest.sig"


def test_the_staged_source_carries_the_bumped_version(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    stage = stage_source(root, tmp_path / "stage", "7.8.9")
    assert 'version = "7.8.9"' in (stage / "pyproject.toml").read_text()
    assert (stage / "ews_tui" / "cli" / "update.py").is_file()
    assert not list(stage.rglob("__pycache__"))
