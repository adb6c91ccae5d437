"""Update files of this tree, built once and kept in the pytest cache; a runner that plays
systemd for ``ews serve``.

The wheels (the project's, at a bumped version, and every dependency's, at the versions
installed here) are built on the first run and kept under the pytest cache, keyed by the
source tree's content and the installed distributions: later runs reuse them. The
dependencies' wheels are kept apart, keyed by the installed distributions and
``pyproject.toml`` only: a change of the source rebuilds the two project wheels (seconds),
not the download of every dependency. The first download needs the package index
(``pip download``); later builds run with ``--no-index`` from that wheelhouse.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

from ews_tui.services.system_commands import CommandResult
from ews_tui.services.update_bundle import build_wheels, stage_source
from ews_tui.services.update_health import read_health

ROOT = Path(__file__).resolve().parents[2]
START_POLL_S = 0.05
GOOD_VERSION = "0.2.0"
BROKEN_VERSION = "0.3.0"


def _distributions_digest(digest: hashlib._Hash) -> None:
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()):
        digest.update(dist.encode())


def deps_key() -> str:
    """What the dependencies' wheels depend on: the installed distributions, the project's
    declared dependencies."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    _distributions_digest(digest)
    return digest.hexdigest()[:16]


def tree_key() -> str:
    """What the wheels depend on: every source file and the installed distributions."""
    digest = hashlib.sha256()
    for top in ("pyproject.toml", "ews_tui", "locales"):
        paths = [ROOT / top] if (ROOT / top).is_file() else sorted((ROOT / top).rglob("*"))
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".mo":
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    _distributions_digest(digest)
    return digest.hexdigest()[:16]


def sabotage(source: Path, stage: Path) -> Path:
    """A copy of ``source`` whose ``ews serve`` migrates the database one version further
    and then stops with an error before it says it is healthy."""
    shutil.copytree(source, stage, dirs_exist_ok=True)
    migrations = stage / "ews_tui" / "store" / "migrations.py"
    text = migrations.read_text()
    last = max(int(n) for n in re.findall(r"^    Migration\((\d+),", text, re.M))
    text, count = re.subn(
        r"(^    Migration\(\d+,[^\n]*\n)\)\n",
        rf'\1    Migration({last + 1}, "test", "CREATE TABLE update_test (x INTEGER);"),\n)\n',
        text,
        count=1,
        flags=re.M,
    )
    assert count == 1, "the migrations list changed shape"
    migrations.write_text(text)
    serve = stage / "ews_tui" / "cli" / "serve.py"
    text = serve.read_text()
    marker = "write_health(config.data_dir, installed_version())"
    assert marker in text
    serve.write_text(text.replace(marker, 'raise UserError("broken on purpose")'))
    return stage


@dataclass(frozen=True)
class Wheels:
    good: Path  # the wheels of this tree at GOOD_VERSION, and its dependencies'
    broken: Path  # the sabotaged tree at BROKEN_VERSION, same dependencies


def _build_deps(into: Path) -> None:
    """Every dependency's wheel (the project's built with them is left out)."""
    build_wheels(ROOT, into, version=GOOD_VERSION)
    for wheel in into.glob("ews_tui-*.whl"):
        wheel.unlink()


def _build(into: Path, deps: Path) -> None:
    good, broken = into / "good", into / "broken"
    build_wheels(ROOT, good, version=GOOD_VERSION, find_links=[deps], offline=True)
    with tempfile.TemporaryDirectory() as work:
        staged = stage_source(ROOT, Path(work) / "src", None)
        source = sabotage(staged, Path(work) / "broken")
        build_wheels(source, broken, version=BROKEN_VERSION, find_links=[deps], offline=True)


def _cached(cache: Path, key: str, prefix: str, build: Callable[[Path], None]) -> Path:
    """``cache/<prefix><key>``, built by ``build`` when missing; older ones removed."""
    ready = cache / f"{prefix}{key}"
    if not ready.is_dir():
        for old in cache.glob(f"{prefix}*"):
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        work = Path(tempfile.mkdtemp(dir=cache, prefix=".build-"))
        try:
            build(work)
            os.replace(work, ready)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return ready


@pytest.fixture(scope="session")
def update_wheels(request: pytest.FixtureRequest) -> Iterator[Wheels]:
    cache = Path(request.config.cache.mkdir("ews-update-wheels"))
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers build once between them
        deps = _cached(cache, deps_key(), "deps-", _build_deps)
        ready = _cached(cache, tree_key(), "tree-", lambda into: _build(into, deps))
    yield Wheels(ready / "good", ready / "broken")


class ServeRunner:
    """Plays ``systemctl restart/stop/start UNIT`` for a box under ``prefix``: runs
    ``<prefix>/current/bin/ews serve --config F`` as a child process. Records every call.

    Given ``data_dir``, a start returns once the started ``ews serve`` said it is up (its
    health file names its pid) or has ended, as ``systemctl start`` of a unit that notifies
    its start-up does: the update's own wait then judges a box that is up or gone, and a
    short health timeout is a verdict on a broken version, not a race with a slow start."""

    def __init__(
        self, prefix: Path, config: Path, logs: Path, data_dir: Path | None = None
    ) -> None:
        self.prefix = prefix
        self.config = config
        self.logs = logs
        self.data_dir = data_dir
        self.calls: list[tuple[str, ...]] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.started: list[str] = []  # the `current` target each start ran

    async def run(self, *argv: str) -> CommandResult:
        self.calls.append(argv)
        action = argv[1] if argv[:1] == ("systemctl",) and len(argv) > 2 else ""
        if action in ("restart", "stop"):
            self.stop()
        if action in ("restart", "start"):
            self.start()
            await self.started_or_ended()
        if not action:
            return CommandResult(argv, 127)
        return CommandResult(argv, 0)

    def start(self) -> None:
        current = self.prefix / "current"
        self.started.append(os.readlink(current))
        log = (self.logs / f"serve-{len(self.started)}.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
        self.process = subprocess.Popen(
            [str(current / "bin" / "ews"), "serve", "--config", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.logs,
        )
        log.close()

    async def started_or_ended(self) -> None:
        """Until the process started last wrote its health file or ended (no event tells
        when another process writes a file: looked at every :data:`START_POLL_S`)."""
        process = self.process
        if self.data_dir is None or process is None:
            return
        while process.poll() is None:
            health = read_health(self.data_dir)
            if health is not None and health.pid == process.pid:
                return
            await asyncio.sleep(START_POLL_S)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
