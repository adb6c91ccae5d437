"""``ews install export/import``: round trip through a real store; a bad file changes nothing."""

from __future__ import annotations

import json
import sqlite3
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
    ews_here: Run, box_config: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    result = ews_here("install", "import", str(site), "--config", str(box_config))
    assert result.returncode == 0, result.stderr
    assert "3 devices imported" in result.stdout
    first = tmp_path / "first.toml"
    assert ews_here("install", "export", str(first), "--config", str(box_config)).returncode == 0
    exported = tomllib.loads(first.read_text(encoding="utf-8"))
    assert [g["name"] for g in exported["gateways"]] == ["Box", "Roof"]
    box = exported["gateways"][0]
    assert box["eq_device"] == "Main" and box["switchboard"] == "TGBT"
    assert box["devices"][1]["address"] == "2-1"
    assert box["devices"][1]["name"] == "2-1"  # the manual's default name
    # Export -> import -> export is a fixed point.
    assert ews_here("install", "import", str(first), "--config", str(box_config)).returncode == 0
    second = tmp_path / "second.toml"
    assert ews_here("install", "export", str(second), "--config", str(box_config)).returncode == 0
    assert tomllib.loads(second.read_text(encoding="utf-8")) == exported


def test_bad_import_changes_nothing(ews_here: Run, box_config: Path, tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    assert ews_here("install", "import", str(site), "--config", str(box_config)).returncode == 0
    before = tmp_path / "before.toml"
    assert ews_here("install", "export", str(before), "--config", str(box_config)).returncode == 0

    bad = tmp_path / "bad.toml"
    bad.write_text(
        SITE.replace("address = 3", "address = 0").replace('model = "4 149 20"', 'model = ""'),
        encoding="utf-8",
    )
    result = ews_here("install", "import", str(bad), "--config", str(box_config))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "gateways[0].devices[1].model: the model is missing (Configuration error)",
        "gateways[1].devices[0].address: Modbus address 0 is not between 1 and 247",
    ]
    assert "nothing imported" in result.stderr and "Traceback" not in result.stderr

    after = tmp_path / "after.toml"
    assert ews_here("install", "export", str(after), "--config", str(box_config)).returncode == 0
    assert tomllib.loads(after.read_text()) == tomllib.loads(before.read_text())


def test_import_syntax_error_is_one_line(ews_here: Run, box_config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[gateways]\n", encoding="utf-8")
    result = ews_here("install", "import", str(bad), "--config", str(box_config))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "bad.toml" in result.stderr


def test_bad_config_is_one_line(ews_here: Run, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("licence = 11\n", encoding="utf-8")
    result = ews_here("install", "export", str(tmp_path / "x.toml"), "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.startswith("ews: ") and "licence" in result.stderr


# -- a device's history stays its own --------------------------------------------------------


def demo_site(path: Path) -> Path:
    """The 15-device demo site as an import file."""
    from ews_tui.cli.sim import load_site
    from ews_tui.store.toml_files import write_installation_toml

    write_installation_toml(path, load_site("demo"))
    return path


def device_ids(box_config: Path) -> dict[str, int]:
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    try:
        return {name: i for i, name in db.execute("SELECT id, name FROM devices")}
    finally:
        db.close()


def record(ews_here: Run, box_config: Path) -> None:
    seed = ("history", "seed", "--config", str(box_config), "--days", "0.1", "--poll", "600")
    done = ews_here(*seed)
    assert done.returncode == 0, done.stderr


def test_ids_are_never_reused_after_an_emptying_import(
    ews_here: Run, box_config: Path, tmp_path: Path
) -> None:
    config = ("--config", str(box_config))
    assert (
        ews_here("install", "import", str(demo_site(tmp_path / "demo.toml")), *config).returncode
        == 0
    )
    record(ews_here, box_config)
    before = device_ids(box_config)
    assert len(before) == 15 and max(before.values()) == 15

    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    refused = ews_here("install", "import", str(empty), *config)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"ews: {empty}: the import would delete all 15 devices; give --replace to import it\n"
    )
    assert device_ids(box_config) == before  # nothing changed
    emptied = ews_here("install", "import", str(empty), "--replace", *config)
    assert emptied.returncode == 0, emptied.stderr
    assert device_ids(box_config) == {}

    one = tmp_path / "one.toml"
    one.write_text(
        '[[gateways]]\nname = "Local"\nip = "127.0.0.1"\n\n'
        '[[gateways.devices]]\nname = "Newcomer"\nmodel = "0 146 68"\naddress = 9\n',
        encoding="utf-8",
    )
    assert ews_here("install", "import", str(one), *config).returncode == 0
    assert device_ids(box_config) == {"Newcomer": 16}  # not 1: that history is another's
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    assert db.execute("SELECT COUNT(*) FROM measures WHERE device_id = 16").fetchone() == (0,)
    report = ews_here(
        "report", "consumption", *config, "--from", "2000-01-01", "--to", "2100-01-01",
        "--step", "year", "--by", "device", "--json",
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    rows = [row for row in json.loads(report.stdout) if row["key"] == "Newcomer"]
    assert rows and sum(row["kwh"] or 0 for row in rows) == 0  # it was never polled


def test_a_renamed_device_keeps_its_id_and_history(
    ews_here: Run, box_config: Path, tmp_path: Path
) -> None:
    config = ("--config", str(box_config))
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    assert ews_here("install", "import", str(site), *config).returncode == 0
    before = device_ids(box_config)
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(SITE.replace('name = "EV"', 'name = "Charger"'), encoding="utf-8")
    done = ews_here("install", "import", str(renamed), *config)
    assert done.returncode == 0, done.stderr
    after = device_ids(box_config)
    assert after["Charger"] == before["EV"] and "EV" not in after
    # Another model at that address is another device: a new id, never a used one.
    replaced = tmp_path / "replaced.toml"
    replaced.write_text(
        SITE.replace('name = "EV"\nmodel = "0 590 14"', 'name = "Meter"\nmodel = "0 146 68"'),
        encoding="utf-8",
    )
    assert ews_here("install", "import", str(replaced), *config).returncode == 0
    assert device_ids(box_config)["Meter"] == max(before.values()) + 1


def test_an_import_deleting_devices_with_history_needs_replace(
    ews_here: Run, box_config: Path, tmp_path: Path
) -> None:
    config = ("--config", str(box_config))
    demo = demo_site(tmp_path / "demo.toml")
    assert ews_here("install", "import", str(demo), *config).returncode == 0
    record(ews_here, box_config)
    before = device_ids(box_config)
    text = demo.read_text(encoding="utf-8")
    local = text.index('[[gateways]]\nname = "Local"')
    parking = text.index('[[gateways]]\nname = "Parking"')

    # A missing Local gateway: its devices would go (the box's RS485 bus stays, empty).
    no_local = tmp_path / "no_local.toml"
    no_local.write_text(text[:local] + text[parking:], encoding="utf-8")
    refused = ews_here("install", "import", str(no_local), *config)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith(f"ews: {no_local}: the import would delete ")
    assert "devices with history (" in refused.stderr and refused.stderr.count("\n") == 1
    assert refused.stderr.endswith("; give --replace to import it\n")
    assert device_ids(box_config) == before
    done = ews_here("install", "import", str(no_local), "--replace", *config)
    assert done.returncode == 0, done.stderr
    kept = device_ids(box_config)
    assert kept and all(before[name] == i for name, i in kept.items())


def test_a_moved_local_gateway_is_refused_with_its_reason(
    ews_here: Run, box_config: Path, tmp_path: Path
) -> None:
    config = ("--config", str(box_config))
    demo = demo_site(tmp_path / "demo.toml")
    assert ews_here("install", "import", str(demo), *config).returncode == 0
    before = device_ids(box_config)
    text = demo.read_text(encoding="utf-8")
    moved = tmp_path / "moved.toml"
    moved.write_text(
        text.replace('name = "Local"\nip = "127.0.0.1"', 'name = "Local"\nip = "192.168.1.9"'),
        encoding="utf-8",
    )
    refused = ews_here("install", "import", str(moved), *config)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert (
        "gateways[0].ip: the Local gateway is the box's own RS485 bus: "
        'give it ip = "127.0.0.1" and no port' in refused.stdout.splitlines()
    )
    assert device_ids(box_config) == before
    # A renamed IP gateway: a new gateway id; its devices keep theirs and move to it.
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(
        text.replace('name = "Parking"\nip', 'name = "Car park"\nip'), encoding="utf-8"
    )
    done = ews_here("install", "import", str(renamed), *config)
    assert done.returncode == 0, done.stderr
    assert device_ids(box_config) == before
