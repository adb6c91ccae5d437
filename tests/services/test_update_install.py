"""Pieces of the install: the atomic switch of ``current``, and giving what root wrote in
the data dir back to the box's user."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ews_tui.services.update_install import Layout, hand_back, switch_current

NOBODY = 65534


def test_switch_current_replaces_the_link_in_one_step(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    for version in ("0.1.0", "0.2.0"):
        layout.version_dir(version).mkdir(parents=True)
    switch_current(layout, layout.version_dir("0.1.0"))
    assert os.readlink(layout.current) == "versions/0.1.0"
    switch_current(layout, layout.version_dir("0.2.0"))
    assert os.readlink(layout.current) == "versions/0.2.0"
    assert layout.current_version() == "0.2.0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "versions"]  # no temp left


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files away")
def test_what_root_wrote_goes_back_to_the_data_dirs_owner(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "backups" / "before-restore-x" / "data").mkdir(parents=True)
    os.chown(data, NOBODY, NOBODY)
    written = [
        data / "ews.sqlite",
        data / "backups" / "before-update-0.2.0-x.tar.gz",
        data / "backups" / "before-restore-x" / "data" / "ews.sqlite",
    ]
    for path in written:
        path.write_bytes(b"x")
    (data / "csv").mkdir()
    (data / "csv" / "deep.csv").write_bytes(b"x")  # not the update's: left as it is
    hand_back(data)
    for path in [*written, data / "backups", data / "csv"]:
        assert path.stat().st_uid == NOBODY, path
    assert (data / "csv" / "deep.csv").stat().st_uid == 0
