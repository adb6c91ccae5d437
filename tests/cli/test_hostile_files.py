"""Every hostile file is refused in one line a problem (issue 12 item 6).

``ews config check F`` and ``ews install import F`` on any input: exit 0 or 1, one line per
problem, no traceback, no control character on the terminal, and nothing stored when the
import is refused. Hypothesis runs the commands in-process (``ews_tui.cli.main``) for
speed; a few hostile files also go through a real ``ews`` subprocess.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ews_tui.cli import main
from ews_tui.domain.text_rules import control_char
from tests.cli.conftest import Run

HOSTILE = "\x1b]0;PWNED-TITLE\x07\x1b[2J"
KEYS = [
    "gateways",
    "devices",
    "circuits",
    "zones",
    "switchboards",
    "name",
    "ip",
    "port",
    "model",
    "address",
    "description",
    "advanced",
    "labels",
    "generic",
    "register",
    "eq_device",
    "installation",
    "data_dir",
    "licence",
    "rs485",
    "ssh",
    "users",
    "enabled",
    "in1",
]
scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["0 146 68", "192.168.1.20", "127.0.0.1", "2-1", HOSTILE, "x" * 5000, "data", "\x9b"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=25,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def _toml(doc: dict[str, Any]) -> bytes:
    try:
        return tomli_w.dumps(doc).encode("utf-8")
    except (TypeError, ValueError):
        assume(False)
        raise


def _nested(n: int, inline: bool) -> bytes:
    body = ("{a = " * n + "1" + "}" * n) if inline else ("[" * n + "]" * n)
    return f"gateways = {body}\n".encode()


files = st.one_of(
    documents.map(_toml),
    documents.map(lambda d: _toml({"data_dir": "data", "installation": d})),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(_nested, st.integers(1, 3000), st.booleans()),
)


@pytest.fixture
def box(box_config: Path, tmp_path: Path) -> Path:
    """The config of a box whose database exists (a factory-new installation)."""
    assert (
        main(["install", "export", str(tmp_path / "factory.toml"), "--config", str(box_config)])
        == 0
    )
    return box_config


def stored(database: Path) -> list[tuple[object, ...]]:
    """What the installation tables hold."""
    db = sqlite3.connect(database)
    try:
        return [
            (table, *row)
            for table in ("gateways", "devices", "circuits", "zones", "switchboards")
            for row in db.execute(f"SELECT * FROM {table} ORDER BY id")
        ]
    finally:
        db.close()


def check_output(code: int, out: str, err: str) -> None:
    assert code in (0, 1), (code, out, err)
    assert "Traceback" not in out + err
    assert control_char(out.replace("\n", "")) is None, out
    assert control_char(err.replace("\n", "")) is None, err
    said = [line for line in err.splitlines() if line.startswith("ews: ")]
    assert len(said) <= 1, err
    if code == 1:
        assert said, err  # the reason, or the count of the problems above
    for line in out.splitlines():
        assert len(line) < 500, line[:200]
        if code == 1:
            assert ": " in line, line


Capture = Callable[[], tuple[str, str]]


@pytest.fixture
def capture(capsys: pytest.CaptureFixture[str]) -> Capture:
    def read() -> tuple[str, str]:
        got = capsys.readouterr()
        return got.out, got.err

    return read


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=files)
def test_config_check_on_any_file(tmp_path: Path, capture: Capture, content: bytes) -> None:
    path = tmp_path / "any.toml"
    path.write_bytes(content)
    capture()
    code = main(["config", "check", str(path)])
    out, err = capture()
    check_output(code, out, err)
    if code == 1:
        assert len(out.splitlines()) == int(err.split(": ")[-1].split(" ")[0]), (out, err)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=files)
def test_install_import_of_any_file(
    box: Path, tmp_path: Path, capture: Capture, content: bytes
) -> None:
    box_config = box
    path = tmp_path / "any.toml"
    path.write_bytes(content)
    database = box_config.parent / "data" / "ews.sqlite"
    before = stored(database)
    capture()
    code = main(["install", "import", str(path), "--config", str(box_config)])
    out, err = capture()
    check_output(code, out, err)
    if code == 1:
        assert stored(database) == before, "a refused import stored something"


HOSTILE_FILES = {
    "arrays": b"gateways = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "inline tables": _nested(5000, inline=True),
    "huge model": b'[[gateways]]\nname = "g"\nip = "192.168.1.2"\n[[gateways.devices]]\n'
    + b'address = 3\nmodel = "'
    + b"m" * 900_000
    + b'"\n',
    "escapes": b'[[gateways]]\nname = "g"\nip = "192.168.1.2"\n[[gateways.devices]]\n'
    b'address = 3\nmodel = "0 146 68"\nname = "\\u001b]0;PWNED\\u0007\\u001b[2J"\n',
    "10 MB": b'[[gateways]]\nname = "g"\nip = "192.168.1.2"\ndescription = "'
    + b"d" * 10_000_000
    + b'"\n',
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_hostile_files_are_refused_in_one_line_by_the_real_command(
    ews: Run, box: Path, tmp_path: Path, name: str
) -> None:
    box_config = box
    path = tmp_path / "hostile.toml"
    path.write_bytes(HOSTILE_FILES[name])
    database = box_config.parent / "data" / "ews.sqlite"
    before = stored(database)
    done = ews("install", "import", str(path), "--config", str(box_config))
    assert done.returncode == 1, done.stderr
    check_output(done.returncode, done.stdout, done.stderr)
    assert len(done.stdout.splitlines()) <= 1 and len(done.stderr.splitlines()) == 1
    assert stored(database) == before
    config = tmp_path / "config.toml"
    config.write_bytes(b"[installation]\n" + HOSTILE_FILES[name])
    checked = ews("config", "check", str(config))
    assert checked.returncode == 1
    check_output(checked.returncode, checked.stdout, checked.stderr)
    assert len(checked.stdout.splitlines()) == 1, checked.stdout[:500]
