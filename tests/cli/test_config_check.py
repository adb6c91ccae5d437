"""``ews config check F``: every problem on its own line with its place, exit 1; no traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from ews_tui.frontends.ssh import hash_password

Run = Callable[..., CompletedProcess[str]]

REPO = Path(__file__).resolve().parents[2]


def test_example_config_is_valid(ews_here: Run) -> None:
    result = ews_here("config", "check", str(REPO / "config.example.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("config.example.toml: OK")


def test_a_good_file_is_said_good_in_the_users_language(ews_here: Run) -> None:
    result = ews_here("config", "check", str(REPO / "config.example.toml"), env={"LANGUAGE": "ru"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("config.example.toml: ошибок нет")


def test_bad_keys_each_on_a_line(ews_here: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("licence = 12\n[rs485]\nbaudrate = 19201\nspeed = 3\n", encoding="utf-8")
    result = ews_here("config", "check", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("licence: ") for line in lines)
    assert any(line.startswith("rs485.baudrate: 19201") for line in lines)
    assert any(line.startswith("rs485.speed: unknown key") for line in lines)
    assert "Traceback" not in result.stderr


def test_toml_syntax_error_and_missing_file(ews_here: Run, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("licence = \n", encoding="utf-8")
    result = ews_here("config", "check", str(broken))
    assert result.returncode == 1
    assert result.stdout == f"{broken}:1:11: not valid TOML: Invalid value\n"
    french = ews_here("config", "check", str(broken), env={"LANGUAGE": "fr"})
    assert french.stdout == f"{broken}:1:11: TOML non valide\u00a0: Valeur non valide\n"
    missing = ews_here("config", "check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1 and "cannot read the file" in missing.stdout
    assert "Traceback" not in result.stderr + missing.stderr


def test_installation_violations_have_their_place(ews_here: Run, tmp_path: Path) -> None:
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
    result = ews_here("config", "check", str(path))
    assert result.returncode == 1
    # The file's own indexes: "GW" is the file's gateways[0] (the box adds Local first).
    assert result.stdout.splitlines() == [
        'installation.gateways[0].ip: "10.0.0.300" is not an IPv4 address',
        "installation.gateways[0].devices[0].address: Modbus address 300 is not between 1 and 247",
        'installation.gateways[1].devices[1].address: address 4 is already used by "4"',
    ]


def test_installation_problems_show_beside_other_sections_problems(
    ews_here: Run, tmp_path: Path
) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        """
data_dir = "data"
[rs485]
baudrate = 19201
[[installation.circuits]]
name = "A"
[[installation.circuits]]
name = "A"
[[installation.gateways]]
name = "Meter"
ip = "10.0.0.9"
[[installation.gateways.devices]]
model = "GENERIC"
address = 3
generic = { fc = 3, register = 70000, words = 2, multiplier = 1 }
""",
        encoding="utf-8",
    )
    result = ews_here("config", "check", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("rs485.baudrate: 19201")
    assert lines[1:] == [
        "installation.gateways[0].devices[0].generic.register: "
        "register 11170 is not between 0000 and FFFF",
        'installation.circuits[1].name: the name "A" is already used',
    ]


def test_a_gateway_on_the_boxs_own_modbus_server_is_refused(ews_here: Run, tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    site = """
data_dir = "data"
[modbus_tcp_server]
enabled = {enabled}
listen = "0.0.0.0:502"
[network]
ip = "192.168.1.100"
[[installation.gateways]]
name = "Roof"
ip = "127.0.0.1"
port = 502
[[installation.gateways]]
name = "Box"
ip = "192.168.1.100"
port = 502
[[installation.gateways]]
name = "mbusd"
ip = "127.0.0.1"
port = 5020
"""
    path.write_text(site.format(enabled="true"), encoding="utf-8")
    result = ews_here("config", "check", str(path))
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "installation.gateways[0].ip",
        "installation.gateways[1].ip",
    ]
    assert "own Modbus TCP server (0.0.0.0:502)" in result.stdout
    # The server off: the same gateways are other servers (a local bridge on 502, say).
    path.write_text(site.format(enabled="false"), encoding="utf-8")
    assert ews_here("config", "check", str(path)).returncode == 0


def test_usage_error_exits_2(ews_here: Run) -> None:
    result = ews_here("config", "frobnicate")
    assert result.returncode == 2
    help_result = ews_here("--help")
    assert help_result.returncode == 0 and "config" in help_result.stdout


def test_a_plain_password_and_an_unbounded_scrypt_cost_are_refused(
    ews_here: Run, tmp_path: Path
) -> None:
    """Issue 12, item 3: both used to pass ``config check``; ``serve`` then refused the
    first and dropped every login on the second without a log line."""
    huge = "scrypt$1073741824$8$1$" + "a5" * 16 + "$" + "3c" * 32
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[ssh.users]]\nname = "a"\npassword_scrypt = "hunter2"\n'
        f'[[ssh.users]]\nname = "b"\npassword_scrypt = "{huge}"\n',
        encoding="utf-8",
    )
    result = ews_here("config", "check", str(bad))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        'ssh.users[0].password_scrypt: "hunter2" is not a scrypt$N$r$p$SALT$HASH text '
        "(make one with: ews ssh hash-password)",
        "ssh.users[1].password_scrypt: scrypt cost N=1073741824, r=8, p=1 is refused: "
        "N a power of 2 from 2 to 1048576, r 1..32, p 1..16, at most 64 MiB (128·N·r) "
        "and N·r·p at most 4194304",
    ]
    good = tmp_path / "good.toml"
    hashed = hash_password("s3cret")
    good.write_text(f'[[ssh.users]]\nname = "a"\npassword_scrypt = "{hashed}"\n', "utf-8")
    assert ews_here("config", "check", str(good)).returncode == 0


def test_deep_nesting_anywhere_is_one_line_each(ews_here: Run, tmp_path: Path) -> None:
    """The config, its [installation] table and a user model file, each nested 100,000
    deep: no RecursionError traceback, one line naming each file."""
    deep = "[" * 100_000 + "]" * 100_000
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    (models / "deep.toml").write_text(f"families = {deep}\n", encoding="utf-8")
    (models / "bad\x1b[2J.toml").write_text("x = 1\n", encoding="utf-8")
    inline = tmp_path / "inline.toml"
    inline.write_text("licence = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", encoding="utf-8")
    installation = tmp_path / "installation.toml"
    installation.write_text(f'data_dir = "data"\n[installation]\ngateways = {deep}\n')
    models_only = tmp_path / "models.toml"
    models_only.write_text('data_dir = "data"\n[installation]\n', encoding="utf-8")
    for path in (inline, installation):
        result = ews_here("config", "check", str(path))
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stdout.splitlines() == [
            f"{path}: tables and arrays nest deeper than 32 levels: not read"
        ]
    result = ews_here("config", "check", str(models_only))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert "models/deep.toml: tables and arrays nest deeper than 32 levels: not read" in lines
    assert "models/bad\\x1b[2J.toml: unknown key 'x'" in lines
    assert "\x1b" not in result.stdout + result.stderr


def test_a_user_model_with_a_hostile_name_is_refused(ews_here: Run, tmp_path: Path) -> None:
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    (models / "mine.toml").write_text(
        '[[models]]\nref = "MY 1"\nname = "Meter\\u001b]0;T\\u0007"\nfamily = "meters"\n'
        'provenance = "documented"\nmap = "' + "m" * 100_000 + '"\n',
        encoding="utf-8",
    )
    config = tmp_path / "c.toml"
    config.write_text('data_dir = "data"\n[installation]\n', encoding="utf-8")
    result = ews_here("config", "check", str(config))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "models/mine.toml: models[0].name: control characters (here \\x1b) are not allowed"
    ]


BAD_MODELS = {
    "bad.toml": """
[[maps]]
id = "acme_map"
provenance = "assumed"
quantities = [{ id = "ea_import", unit = "Wh", register = 0x20, type = "u32" }]
""",
    "family.toml": """
[[models]]
ref = "ACME-3"
name = "ACME 3"
family = "no_such_family"
provenance = "assumed"
""",
}


def site_with_bad_models(tmp_path: Path) -> Path:
    """A config whose data dir has two bad user model files (checked with the installation)."""
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    for name, text in BAD_MODELS.items():
        (models / name).write_text(text, encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text('data_dir = "data"\n[installation]\n', encoding="utf-8")
    return path


def test_a_bad_model_file_is_told_in_the_users_language_with_file_and_place(
    ews_here: Run, tmp_path: Path
) -> None:
    path = site_with_bad_models(tmp_path)
    english = ews_here("config", "check", str(path))
    assert english.returncode == 1, english.stderr
    assert english.stdout.splitlines()[:2] == [
        "models/bad.toml: maps[0].quantities[0].unit: ea_import is in 'kWh', not 'Wh'",
        "models/family.toml: model ACME-3: unknown family 'no_such_family'",
    ]
    russian = ews_here("config", "check", str(path), env={"LANGUAGE": "ru"})
    assert russian.returncode == 1, russian.stderr
    assert russian.stdout.splitlines()[:2] == [
        "models/bad.toml: maps[0].quantities[0].unit: ea_import измеряется в 'kWh', а не 'Wh'",
        "models/family.toml: модель ACME-3: неизвестное семейство 'no_such_family'",
    ]
    german = ews_here("config", "check", str(path), env={"LANGUAGE": "de"})
    assert "models/bad.toml: maps[0].quantities[0].unit: ea_import ist in 'kWh', nicht 'Wh'" in (
        german.stdout.splitlines()
    )
    assert "Traceback" not in english.stderr + russian.stderr + german.stderr


def test_a_bad_model_file_is_told_without_an_installation_table(
    ews_here: Run, tmp_path: Path
) -> None:
    path = site_with_bad_models(tmp_path)
    path.write_text('data_dir = "data"\n', encoding="utf-8")  # the box's usual config
    result = ews_here("config", "check", str(path))
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "models/bad.toml: maps[0].quantities[0].unit: ea_import is in 'kWh', not 'Wh'",
        "models/family.toml: model ACME-3: unknown family 'no_such_family'",
    ]
