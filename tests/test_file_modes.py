"""Issue 12, item 4: the box's folders 0700 and files 0600, whatever the umask."""

from __future__ import annotations

import logging
import logging.handlers
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ews_tui import logs
from ews_tui.atomic_file import write_atomically
from ews_tui.file_modes import create_private_file, make_private_dir, wider_than_private


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_folder_is_0700_and_an_existing_one_keeps_its_mode(
    tmp_path: Path, umask: int
) -> None:
    make_private_dir(tmp_path / "a" / "data")
    assert mode(tmp_path / "a" / "data") == 0o700
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared").chmod(0o755)
    make_private_dir(tmp_path / "shared")
    assert mode(tmp_path / "shared") == 0o755


def test_a_new_file_is_0600_and_an_existing_one_is_untouched(tmp_path: Path, umask: int) -> None:
    create_private_file(tmp_path / "new")
    assert mode(tmp_path / "new") == 0o600
    (tmp_path / "old").write_text("kept")
    (tmp_path / "old").chmod(0o644)
    create_private_file(tmp_path / "old")
    assert (mode(tmp_path / "old"), (tmp_path / "old").read_text()) == (0o644, "kept")


def test_a_file_written_atomically_is_0600_unless_said_otherwise(
    tmp_path: Path, umask: int
) -> None:
    write_atomically(tmp_path / "secret.toml", b"x")
    write_atomically(tmp_path / "public.network", b"x", new_mode=0o644)
    assert (mode(tmp_path / "secret.toml"), mode(tmp_path / "public.network")) == (0o600, 0o644)


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_the_log_folder_and_every_log_file_are_private(
    tmp_path: Path, umask: int, root_handlers: None
) -> None:
    path = logs.log_to_data_dir(tmp_path, ui_on_terminal=True)
    logging.getLogger("ews_tui.test").warning("one line")
    (handler,) = [h for h in logging.getLogger().handlers if h.name == "ews-file"]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    handler.doRollover()
    logging.getLogger("ews_tui.test").warning("after the rollover")
    assert mode(path.parent) == 0o700
    assert {p.name: mode(p) for p in path.parent.iterdir()} == {
        "ews.log": 0o600,
        "ews.log.1": 0o600,
    }


def test_files_others_may_read_are_listed_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(mode=0o755)
    (tmp_path / "data").chmod(0o755)
    (tmp_path / "ews.sqlite").write_text("")
    (tmp_path / "ews.sqlite").chmod(0o644)
    (tmp_path / "key").write_text("")
    (tmp_path / "key").chmod(0o600)
    (tmp_path / "link").symlink_to(tmp_path / "ews.sqlite")
    found = wider_than_private(
        [tmp_path / n for n in ("data", "ews.sqlite", "key", "link", "missing", "data")]
    )
    assert [str(w) for w in found] == [
        f"{tmp_path}/data is mode 0755: others may read it (chmod 700 {tmp_path}/data)",
        f"{tmp_path}/ews.sqlite is mode 0644: others may read it (chmod 600 {tmp_path}/ews.sqlite)",
    ]
