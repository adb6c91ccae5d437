"""``ews install export/import``: round trip through a real store; a bad file changes nothing."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

Run = Callable[..., CompletedProcess[str]]

SITE = """
[[gateways]]
name = "Box"
ip = "127.0.0.1"
switchboard = "TGBT"
eq_device = "Main"

[[gateways.devices]]
name = "Main"
model = "014668"
address = 5
circuit = "Lighting"
zones = ["Floor 1"]

[[gateways.devices]]
model = "4 149 20"
address = "2-1"
supply = "downstream"

[[gateways]]
name = "Roof"
ip = "192.168.1.20"
port = 5020

[[gateways.devices]]
name = "EV"
model = "0 590 14"
address = 3

[[zones]]
name = "Floor 1"

[[switchboards]]
name = "TGBT"
"""


def test_import_then_export_gives_the_same_installation(
    ews: Run, box_config: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    result = ews("install", "import", str(site), "--config", str(box_config))
    assert result.returncode == 0, result.stderr
    assert "3 devices imported" in result.stdout
    first = tmp_path / "first.toml"
    assert ews("install", "export", str(first), "--config", str(box_config)).returncode == 0
    exported = tomllib.loads(first.read_text(encoding="utf-8"))
    assert [g["name"] for g in exported["gateways"]] == ["Box", "Roof"]
    box = exported["gateways"][0]
    assert box["eq_device"] == "Main" and box["switchboard"] == "TGBT"
    assert box["devices"][1]["address"] == "2-1"
    assert box["devices"][1]["name"] == "2-1"  # the manual's default name
    # Export -> import -> export is a fixed point.
    assert ews("install", "import", str(first), "--config", str(box_config)).returncode == 0
    second = tmp_path / "second.toml"
    assert ews("install", "export", str(second), "--config", str(box_config)).returncode == 0
    assert tomllib.loads(second.read_text(encoding="utf-8")) == exported


def test_bad_import_changes_nothing(ews: Run, box_config: Path, tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    assert ews("install", "import", str(site), "--config", str(box_config)).returncode == 0
    before = tmp_path / "before.toml"
    assert ews("install", "export", str(before), "--config", str(box_config)).returncode == 0

    bad = tmp_path / "bad.toml"
    bad.write_text(
        SITE.replace("address = 3", "address = 0").replace('model = "4 149 20"', 'model = ""'),
        encoding="utf-8",
    )
    result = ews("install", "import", str(bad), "--config", str(box_config))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "gateways[0].devices[1].model: the model is missing (Configuration error)",
        "gateways[1].devices[0].address: Modbus address 0 is not between 1 and 247",
    ]
    assert "nothing imported" in result.stderr and "Traceback" not in result.stderr

    after = tmp_path / "after.toml"
    assert ews("install", "export", str(after), "--config", str(box_config)).returncode == 0
    assert tomllib.loads(after.read_text()) == tomllib.loads(before.read_text())


def test_import_syntax_error_is_one_line(ews: Run, box_config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[gateways]\n", encoding="utf-8")
    result = ews("install", "import", str(bad), "--config", str(box_config))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "bad.toml" in result.stderr


def test_bad_config_is_one_line(ews: Run, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("licence = 11\n", encoding="utf-8")
    result = ews("install", "export", str(tmp_path / "x.toml"), "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.startswith("ews: ") and "licence" in result.stderr
