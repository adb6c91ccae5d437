"""``ews config check F``: every problem on its own line with its place, exit 1; no traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

Run = Callable[..., CompletedProcess[str]]

REPO = Path(__file__).resolve().parents[2]


def test_example_config_is_valid(ews: Run) -> None:
    result = ews("config", "check", str(REPO / "config.example.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("config.example.toml: OK")


def test_bad_keys_each_on_a_line(ews: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("licence = 12\n[rs485]\nbaudrate = 19201\nspeed = 3\n", encoding="utf-8")
    result = ews("config", "check", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("licence: ") for line in lines)
    assert any(line.startswith("rs485.baudrate: 19201") for line in lines)
    assert any(line.startswith("rs485.speed: unknown key") for line in lines)
    assert "Traceback" not in result.stderr


def test_toml_syntax_error_and_missing_file(ews: Run, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("licence = \n", encoding="utf-8")
    result = ews("config", "check", str(broken))
    assert result.returncode == 1
    assert "not valid TOML" in result.stdout and "line 1" in result.stdout
    missing = ews("config", "check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1 and "cannot read the file" in missing.stdout
    assert "Traceback" not in result.stderr + missing.stderr


def test_installation_violations_have_their_place(ews: Run, tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        """
data_dir = "data"
[[installation.gateways]]
name = "GW"
ip = "10.0.0.300"
[[installation.gateways.devices]]
model = "0 146 68"
address = 300
[[installation.gateways]]
name = "GW2"
ip = "10.0.0.2"
[[installation.gateways.devices]]
model = "0 146 68"
address = 4
[[installation.gateways.devices]]
model = "0 146 68"
address = 4
name = "other"
""",
        encoding="utf-8",
    )
    result = ews("config", "check", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        'installation.gateways[1].ip: "10.0.0.300" is not an IPv4 address',
        "installation.gateways[1].devices[0].address: Modbus address 300 is not between 1 and 247",
        'installation.gateways[2].devices[1].address: address 4 is already used by "4"',
    ]


def test_usage_error_exits_2(ews: Run) -> None:
    result = ews("config", "frobnicate")
    assert result.returncode == 2
    help_result = ews("--help")
    assert help_result.returncode == 0 and "config" in help_result.stdout
