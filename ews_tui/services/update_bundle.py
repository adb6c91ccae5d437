"""The update file: one tar holding the wheels the box installs and a signed manifest.

``ews update build OUT`` writes it (:func:`build_bundle`); the box reads it back with
:func:`inspect_bundle` (manifest and signature only: quick enough for the Update page's list)
and :func:`extract_wheels` (every wheel, each checked against its SHA-256 in the manifest).

Layout of the tar (uncompressed: wheels are zip files already)::

    manifest.json    {"format": 1, "name": "ews-tui", "version": "0.2.0", "created": ...,
                      "python": "3.11", "files": [{"path": "wheels/x.whl", "size", "sha256"}]}
    manifest.sig     an SSH signature (ed25519) of the exact bytes of manifest.json
    wheels/*.whl     the project's wheel and every dependency's

The signing key is an OpenSSH ed25519 key (``ews update keygen`` or ``ssh-keygen -t
ed25519``); the box trusts the public keys listed in ``update.trusted_keys``. Every refusal is
an :class:`UpdateError` carrying a translatable message. Blocking calls: from the loop, run
them in a thread.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncssh

from ews_tui.atomic_file import open_atomically
from ews_tui.domain.messages import N_, Message
from ews_tui.services.update_health import PROJECT

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
WHEELS = "wheels"
SUFFIX = ".ewsupdate"
KEY_ALGORITHM = "ssh-ed25519"
_CHUNK = 1 << 20
_MANIFEST_MAX = 1 << 20


class UpdateError(Exception):
    """A refused or failed update step; ``message`` says why, to translate at the edge."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.message = Message(msgid, params)
        super().__init__(self.message.render(lambda text: text))


# --------------------------------------------------------------------------- versions


_VERSION = re.compile(r"(\d+(?:\.\d+)*)(?:[-_.]?(a|b|rc|dev|post)[-_.]?(\d*))?(?:\+.*)?")
_PHASE = {"dev": -4, "a": -3, "b": -2, "rc": -1, "": 0, "post": 1}


def version_key(version: str) -> tuple[tuple[int, ...], int, int]:
    """An order on PEP 440-like versions (``0.2.0 < 0.10.0``, ``1.0rc1 < 1.0 < 1.0.post1``)."""
    match = _VERSION.fullmatch(version.strip().lower())
    if match is None:
        raise UpdateError(N_("{version} is not a version number"), version=version)
    release = tuple(int(part) for part in match.group(1).split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    return release, _PHASE[match.group(2) or ""], int(match.group(3) or 0)


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` is older than, the same as or newer than ``right``."""
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)


# --------------------------------------------------------------------------- keys


def generate_key(path: Path) -> Path:
    """Write a new ed25519 signing key to ``path`` (0600) and its public key beside it
    (``path.pub``); the public key's path. Refuses to overwrite a key."""
    public = path.with_name(path.name + ".pub")
    for existing in (path, public):
        if existing.exists():
            raise UpdateError(N_("{path} exists already: not overwritten"), path=existing)
    key = asyncssh.generate_private_key(KEY_ALGORITHM, comment="ews-update")
    with open_atomically(path, new_mode=0o600) as stream:
        stream.write(key.export_private_key())
    with open_atomically(public, new_mode=0o644) as stream:
        stream.write(key.export_public_key())
    return public


def read_signing_key(path: Path) -> asyncssh.SSHKey:
    """The private ed25519 key in ``path``."""
    try:
        key = asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError, ValueError) as error:
        raise UpdateError(
            N_("{path}: cannot read the key: {reason}"), path=path, reason=error
        ) from None
    if key.get_algorithm() != KEY_ALGORITHM:
        raise UpdateError(
            N_("{path}: an ed25519 key is needed, not {kind}"), path=path, kind=key.get_algorithm()
        )
    return key


def read_trusted_keys(path: Path) -> list[asyncssh.SSHKey]:
    """The ed25519 public keys listed in ``path`` (OpenSSH format, one a line); none when
    the file does not exist."""
    if not path.is_file():
        return []
    try:
        keys = asyncssh.read_public_key_list(path)
    except (OSError, asyncssh.KeyImportError, ValueError) as error:
        raise UpdateError(
            N_("{path}: cannot read the trusted keys: {reason}"), path=path, reason=error
        ) from None
    return [key for key in keys if key.get_algorithm() == KEY_ALGORITHM]


def fingerprint(key: asyncssh.SSHKey) -> str:
    return str(key.get_fingerprint("sha256"))


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class BundleFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BundleManifest:
    version: str
    created: str
    python: str
    files: tuple[BundleFile, ...]
    name: str = PROJECT
    format: int = FORMAT

    def to_bytes(self) -> bytes:
        body = {
            "format": self.format,
            "name": self.name,
            "version": self.version,
            "created": self.created,
            "python": self.python,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }
        return json.dumps(body, indent=2, sort_keys=True).encode("utf-8") + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes, source: Path) -> BundleManifest:
        try:
            body = json.loads(data)
            files = tuple(
                BundleFile(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in body["files"]
            )
            manifest = cls(
                version=str(body["version"]),
                created=str(body["created"]),
                python=str(body["python"]),
                files=files,
                name=str(body["name"]),
                format=int(body["format"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise UpdateError(
                N_("{path}: the manifest cannot be read: {reason}"), path=source, reason=error
            ) from None
        if manifest.format != FORMAT or manifest.name != PROJECT:
            raise UpdateError(N_("{path}: not an ews-tui update file"), path=source)
        version_key(manifest.version)
        for item in files:
            if not _is_wheel_path(item.path):
                raise UpdateError(
                    N_("{path}: the manifest names {member}, not a wheel"),
                    path=source,
                    member=item.path,
                )
        return manifest


def _is_wheel_path(path: str) -> bool:
    return re.fullmatch(rf"{WHEELS}/[A-Za-z0-9_.+!-]+\.whl", path) is not None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- build


def project_root() -> Path | None:
    """The source tree this package runs from (its ``pyproject.toml``), if it is one."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "ews_tui").is_dir() else None


def stage_source(source: Path, stage: Path, version: str | None) -> Path:
    """Copy what a wheel is built from (``pyproject.toml``, ``README.md``, ``ews_tui``,
    ``locales``) to ``stage``, with ``version`` written in its ``pyproject.toml``."""
    if not (source / "pyproject.toml").is_file():
        raise UpdateError(N_("{path}: no pyproject.toml: not a source tree"), path=source)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for name in ("ews_tui", "locales"):
        if (source / name).is_dir():
            shutil.copytree(source / name, stage / name, ignore=ignore)
    for name in ("README.md", "LICENSE"):
        if (source / name).is_file():
            shutil.copy2(source / name, stage / name)
    text = (source / "pyproject.toml").read_text("utf-8")
    if version is not None:
        version_key(version)
        text, count = re.subn(
            r'(?m)^version\s*=\s*"[^"]*"', f'version = "{version}"', text, count=1
        )
        if count != 1:
            raise UpdateError(N_("{path}: no version line to change"), path=source)
    # The catalogs travel inside the package (ews_tui.i18n looks there when they are not
    # beside it): a box updated from a wheel keeps its languages.
    if (source / "locales").is_dir():
        inside = stage / "ews_tui" / "locales"
        shutil.copytree(source / "locales", inside, ignore=ignore, dirs_exist_ok=True)
        text, count = re.subn(
            r'(?m)^("ews_tui"\s*=\s*\[)(?!"locales)',
            r'\1"locales/*/LC_MESSAGES/*.po", ',
            text,
            count=1,
        )
        if count != 1 and '"locales/*/LC_MESSAGES/*.po"' not in text:
            raise UpdateError(N_("{path}: no package data line to change"), path=source)
    (stage / "pyproject.toml").write_text(text, "utf-8")
    return stage


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise UpdateError(
            N_("pip failed: {reason}"), reason=" / ".join(said) or f"exit {done.returncode}"
        )


def _has_setuptools() -> bool:
    command = [sys.executable, "-c", "import setuptools, wheel"]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def _constraints() -> str:
    """``name==version`` of every distribution installed here: the bundle holds the
    dependency versions this box was built and tested with."""
    pins = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() != PROJECT
    )
    return "\n".join(pins) + "\n"


def build_wheels(
    source: Path,
    into: Path,
    *,
    version: str | None = None,
    find_links: Sequence[Path] = (),
    offline: bool = False,
    platform: str | None = None,
) -> list[Path]:
    """The project's wheel (built from ``source``, at ``version``) and every dependency's,
    written to ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ews-build-") as work:
        stage = stage_source(source, Path(work) / "src", version)
        isolation = () if _has_setuptools() else ("--use-pep517",)
        build = ["--no-build-isolation"] if not isolation else list(isolation)
        _pip("wheel", "--no-deps", *build, "-q", "-w", str(into), str(stage))
    project = _project_wheels(into)
    if len(project) != 1:
        raise UpdateError(N_("the build gave {count} project wheels"), count=len(project))
    constraints = into / ".constraints.txt"
    constraints.write_text(_constraints(), "utf-8")
    links = [arg for link in find_links for arg in ("--find-links", str(link))]
    extra = [*links, *(["--no-index"] if offline else [])]
    if platform is not None:
        extra += ["--platform", platform, "--python-version", python_tag()]
    try:
        _pip(
            "download",
            "-q",
            "--only-binary=:all:",
            "-d",
            str(into),
            "-c",
            str(constraints),
            "--find-links",
            str(into),
            *extra,
            str(project[0]),
        )
    finally:
        constraints.unlink(missing_ok=True)
    return sorted(into.glob("*.whl"))


def _project_wheels(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{PROJECT.replace('-', '_')}-*.whl"))


def python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def wheel_version(wheel: Path) -> str:
    """The version in a wheel's file name (``ews_tui-0.2.0-py3-none-any.whl``)."""
    return wheel.name.split("-")[1]


def write_bundle(
    out: Path,
    wheels: Iterable[Path],
    *,
    key: asyncssh.SSHKey | None,
    now: datetime | None = None,
) -> BundleManifest:
    """The update file ``out`` (written atomically) with ``wheels``; its manifest signed
    with ``key`` (unsigned when None)."""
    wheels = sorted(wheels, key=lambda w: w.name)
    project = [w for w in wheels if w.name.startswith(PROJECT.replace("-", "_") + "-")]
    if len(project) != 1:
        raise UpdateError(N_("the build gave {count} project wheels"), count=len(project))
    manifest = BundleManifest(
        version=wheel_version(project[0]),
        created=(now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        python=python_tag(),
        files=tuple(
            BundleFile(f"{WHEELS}/{w.name}", w.stat().st_size, sha256_of(w)) for w in wheels
        ),
    )
    body = manifest.to_bytes()
    with (
        open_atomically(out, new_mode=0o644) as stream,
        tarfile.open(fileobj=stream, mode="w") as tar,
    ):
        _add_bytes(tar, MANIFEST, body)
        if key is not None:
            _add_bytes(tar, SIGNATURE, key.sign(body, KEY_ALGORITHM.encode()))
        for wheel in wheels:
            info = tar.gettarinfo(str(wheel), arcname=f"{WHEELS}/{wheel.name}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o644
            with wheel.open("rb") as data:
                tar.addfile(info, data)
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def build_bundle(
    out: Path,
    source: Path,
    *,
    version: str | None = None,
    key: asyncssh.SSHKey | None = None,
    find_links: Sequence[Path] = (),
    offline: bool = False,
    platform: str | None = None,
) -> BundleManifest:
    """Build the wheels of ``source`` and its dependencies and write the update file."""
    with tempfile.TemporaryDirectory(prefix="ews-wheels-") as work:
        wheels = build_wheels(
            source,
            Path(work),
            version=version,
            find_links=find_links,
            offline=offline,
            platform=platform,
        )
        return write_bundle(out, wheels, key=key)


# --------------------------------------------------------------------------- read, check


@dataclass(frozen=True)
class CheckedBundle:
    """An update file whose manifest was read and whose signature was checked."""

    path: Path
    manifest: BundleManifest
    signer: str | None  # the trusted key's fingerprint; None: unsigned, allowed

    @property
    def version(self) -> str:
        return self.manifest.version


def inspect_bundle(
    path: Path, trusted: Sequence[asyncssh.SSHKey], *, allow_unsigned: bool
) -> CheckedBundle:
    """Read ``path``'s manifest and check its signature against ``trusted``.

    Refused: not a tar, no manifest, an unsigned bundle (unless ``allow_unsigned``), a
    signature none of the trusted keys made (whatever ``allow_unsigned`` says)."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            body = _member_bytes(tar, MANIFEST, path)
            signature = _member_bytes(tar, SIGNATURE, path, required=False)
    except (tarfile.TarError, OSError) as error:
        raise UpdateError(
            N_("{path}: cannot read the update file: {reason}"), path=path, reason=error
        ) from None
    if body is None:
        raise UpdateError(N_("{path}: not an ews-tui update file"), path=path)
    manifest = BundleManifest.from_bytes(body, path)
    if signature is None:
        if not allow_unsigned:
            raise UpdateError(
                N_("{path}: the update file is not signed (update.allow_unsigned is off)"),
                path=path,
            )
        return CheckedBundle(path, manifest, None)
    for key in trusted:
        if key.verify(body, signature):
            return CheckedBundle(path, manifest, fingerprint(key))
    if not trusted:
        raise UpdateError(
            N_("{path}: signed, but no trusted key is installed to check it"), path=path
        )
    raise UpdateError(N_("{path}: the signature is not from a trusted key"), path=path)


def _member_bytes(
    tar: tarfile.TarFile, name: str, path: Path, *, required: bool = True
) -> bytes | None:
    try:
        info = tar.getmember(name)
    except KeyError:
        return None
    if not info.isfile() or info.size > _MANIFEST_MAX:
        raise UpdateError(N_("{path}: not an ews-tui update file"), path=path)
    stream = tar.extractfile(info)
    assert stream is not None  # a regular file
    return stream.read()


def extract_wheels(bundle: CheckedBundle, into: Path) -> list[Path]:
    """Extract the manifest's wheels to ``into``, each checked (size and SHA-256) against
    the signed manifest; anything else in the tar is ignored, a missing wheel refused."""
    expected = {f.path: f for f in bundle.manifest.files}
    into.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        with tarfile.open(bundle.path, mode="r:") as tar:
            for info in tar:
                want = expected.pop(info.name, None)
                if want is None:
                    continue
                if not info.isfile() or info.size != want.size:
                    raise UpdateError(
                        N_("{path}: {member} differs from the manifest"),
                        path=bundle.path,
                        member=info.name,
                    )
                target = into / Path(info.name).name
                digest = hashlib.sha256()
                source = tar.extractfile(info)
                assert source is not None
                with target.open("wb") as out:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != want.sha256:
                    raise UpdateError(
                        N_("{path}: {member} differs from the manifest"),
                        path=bundle.path,
                        member=info.name,
                    )
                written.append(target)
    except (tarfile.TarError, OSError) as error:
        raise UpdateError(
            N_("{path}: cannot read the update file: {reason}"), path=bundle.path, reason=error
        ) from None
    if expected:
        raise UpdateError(
            N_("{path}: {member} is missing"), path=bundle.path, member=sorted(expected)[0]
        )
    return written
