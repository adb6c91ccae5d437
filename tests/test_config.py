"""The box settings file: defaults, every refusal with its key, atomic save, changes from the UI."""

from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ews_tui.config import (
    Config,
    ConfigError,
    HostPort,
    NetworkBackend,
    Parity,
    SmtpSecurity,
    SshUser,
    Theme,
    apply_changes,
    check_changes,
    check_config,
    default_config,
    find_problems,
    load_config,
    parse_config,
    save_config,
    to_document,
)
from ews_tui.i18n import translator

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
BASE = Path("/etc/ews")
HASH = "scrypt$16384$8$1$" + "a5" * 16 + "$" + "3c" * 32  # the shape hash-password prints


def problems_of(doc: dict[str, Any]) -> list[str]:
    return check_config(doc, BASE)


# --- defaults and the example file ---------------------------------------------------------


def test_an_empty_document_gives_the_manuals_defaults() -> None:
    config = parse_config({}, BASE)
    assert config == default_config(Path("/var/lib/ews"))
    assert (config.rs485.baudrate, config.rs485.parity, config.rs485.stopbits) == (
        19200,
        Parity.EVEN,
        1,
    )
    assert config.rs485.timeout_ms == 300 and config.rs485.timeout_s == 0.3
    assert config.modbus_tcp_server.enabled is False
    assert config.modbus_tcp_server.listen == HostPort("0.0.0.0", 502)
    assert config.licence == 32
    assert config.language == "en"
    assert str(config.network.ip) == "192.168.1.100"
    assert str(config.network.netmask) == "255.255.255.0"
    assert str(config.network.gateway) == "192.168.1.1"
    assert config.network.backend is NetworkBackend.NONE
    assert config.time.timezone == "Europe/Paris"
    assert config.ssh.listen == HostPort("127.0.0.1", 2222)
    assert config.smtp.security is SmtpSecurity.STARTTLS
    assert config.ui.theme is Theme.AUTO
    assert config.installation is None


def test_the_example_file_loads_with_the_manuals_defaults() -> None:
    config = load_config(EXAMPLE)
    assert config == default_config(Path("/var/lib/ews"))
    assert config.rs485.parity.letter == "E"


def test_the_example_file_shows_every_key() -> None:
    """A key added to the model and forgotten in the example fails here."""
    example = tomllib.loads(EXAMPLE.read_text("utf-8"))
    written = to_document(default_config(Path("/var/lib/ews")), BASE)
    written["ssh"].pop("users")  # shown commented out: an optional list
    assert example == written


def test_default_config_takes_the_data_dir(tmp_path: Path) -> None:
    config = default_config(tmp_path)
    assert config.data_dir == tmp_path
    assert config.ssh_host_key_file == tmp_path / "ssh_host_ed25519_key"
    assert config.ssh_authorized_keys_file is None


# --- every key's refusal -------------------------------------------------------------------

REFUSALS = [
    ({"data_dir": 3}, "data_dir: 3 is not a string"),
    ({"data_dir": ""}, "data_dir: must not be empty"),
    (
        {"language": "fr_FR"},
        'language: "fr_FR" is not one of de, en, es, fr, fr_BE, el, it, nl_BE, nl, pl, pt, ru, hu',
    ),
    ({"licence": 16}, "licence: 16 is not one of 10, 32"),
    ({"licence": "32"}, 'licence: "32" is not an integer'),
    ({"rs485": []}, "rs485: a list is not a table"),
    ({"rs485": {"port": ""}}, "rs485.port: must not be empty"),
    (
        {"rs485": {"baudrate": 19201}},
        "rs485.baudrate: 19201 is not a supported speed "
        "(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)",
    ),
    ({"rs485": {"baudrate": "19200"}}, 'rs485.baudrate: "19200" is not an integer'),
    ({"rs485": {"baudrate": 19200.0}}, "rs485.baudrate: 19200.0 is not an integer"),
    ({"rs485": {"parity": "mark"}}, 'rs485.parity: "mark" is not one of none, even, odd'),
    ({"rs485": {"stopbits": 3}}, "rs485.stopbits: 3 is not one of 1, 2"),
    ({"rs485": {"stopbits": True}}, "rs485.stopbits: true is not an integer"),
    ({"rs485": {"timeout_ms": 49}}, "rs485.timeout_ms: 49 is out of range 50..10000"),
    ({"rs485": {"timeout_ms": 10001}}, "rs485.timeout_ms: 10001 is out of range 50..10000"),
    ({"rs485": {"enabled": 1}}, "rs485.enabled: 1 is not true or false"),
    (
        {"modbus_tcp_server": {"enabled": "no"}},
        'modbus_tcp_server.enabled: "no" is not true or false',
    ),
    (
        {"modbus_tcp_server": {"listen": "0.0.0.0"}},
        'modbus_tcp_server.listen: "0.0.0.0" is not HOST:PORT',
    ),
    (
        {"network": {"backend": "netplan"}},
        'network.backend: "netplan" is not one of none, systemd-networkd',
    ),
    ({"network": {"interface": "a b"}}, 'network.interface: "a b" is not an interface name'),
    ({"network": {"ip": "192.168.1.300"}}, 'network.ip: "192.168.1.300" is not an IPv4 address'),
    (
        {"network": {"netmask": "255.0.255.0"}},
        'network.netmask: "255.0.255.0" is not a netmask (e.g. 255.255.255.0)',
    ),
    (
        {"network": {"gateway": "10.0.0.1"}},
        'network.gateway: "10.0.0.1" is not in the network 192.168.1.0/24',
    ),
    ({"network": {"networkd_dir": ""}}, "network.networkd_dir: must not be empty"),
    (
        {"time": {"timezone": "Europe/Pariss"}},
        'time.timezone: "Europe/Pariss" is not a time zone (e.g. Europe/Paris)',
    ),
    ({"time": {"ntp_enabled": "yes"}}, 'time.ntp_enabled: "yes" is not true or false'),
    (
        {"time": {"ntp_server": "ntp server"}},
        'time.ntp_server: "ntp server" is not a host name or IP address',
    ),
    (
        {"time": {"ntp_enabled": True, "ntp_server": ""}},
        "time.ntp_server: required when ntp_enabled is true",
    ),
    ({"ssh": {"enabled": 0}}, "ssh.enabled: 0 is not true or false"),
    ({"ssh": {"listen": "1.2.3:22"}}, 'ssh.listen: "1.2.3:22" is not HOST:PORT'),
    ({"ssh": {"listen": "host:65536"}}, 'ssh.listen: "host:65536" is not HOST:PORT'),
    ({"ssh": {"host_key": ""}}, "ssh.host_key: must not be empty"),
    ({"ssh": {"authorized_keys": 1}}, "ssh.authorized_keys: 1 is not a string"),
    ({"ssh": {"max_sessions": 0}}, "ssh.max_sessions: 0 is out of range 1..256"),
    ({"ssh": {"max_sessions": 257}}, "ssh.max_sessions: 257 is out of range 1..256"),
    ({"ssh": {"idle_logout_minutes": -1}}, "ssh.idle_logout_minutes: -1 is out of range 0..1440"),
    ({"ssh": {"users": {"name": "a"}}}, "ssh.users: a table is not a list of tables"),
    ({"ssh": {"users": ["a"]}}, 'ssh.users[0]: "a" is not a table'),
    (
        {"ssh": {"users": [{"name": "bob"}]}},
        "ssh.users[0].password_scrypt: required key is missing",
    ),
    (
        {"ssh": {"users": [{"name": "b b", "password_scrypt": HASH}]}},
        'ssh.users[0].name: "b b" is not a user name',
    ),
    ({"console": {"enabled": "true"}}, 'console.enabled: "true" is not true or false'),
    ({"console": {"tty": 0}}, "console.tty: 0 is not a string"),
    (
        {"console": {"baudrate": 250000}},
        "console.baudrate: 250000 is not a supported speed "
        "(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)",
    ),
    ({"console": {"columns": 39}}, "console.columns: 39 is out of range 40..500"),
    ({"console": {"rows": 201}}, "console.rows: 201 is out of range 10..200"),
    ({"console": {"colors": 8}}, 'console.colors: 8 is not one of 16, 256, "truecolor"'),
    ({"console": {"colors": "256"}}, 'console.colors: "256" is not one of 16, 256, "truecolor"'),
    ({"kiosk": {"enabled": None}}, "kiosk.enabled: None is not true or false"),
    ({"kiosk": {"tty": ""}}, "kiosk.tty: must not be empty"),
    ({"kiosk": {"page_seconds": 0}}, "kiosk.page_seconds: 0 is out of range 1..3600"),
    (
        {"smtp": {"host": "mail..example"}},
        'smtp.host: "mail..example" is not a host name or IP address',
    ),
    ({"smtp": {"port": 0}}, "smtp.port: 0 is out of range 1..65535"),
    ({"smtp": {"security": "ssl"}}, 'smtp.security: "ssl" is not one of none, starttls, tls'),
    ({"smtp": {"username": []}}, "smtp.username: a list is not a string"),
    ({"smtp": {"password": 1234}}, "smtp.password: 1234 is not a string"),
    ({"smtp": {"sender": "box"}}, 'smtp.sender: "box" is not an e-mail address'),
    ({"smtp": {"host": "mail.example.com"}}, "smtp.sender: required when smtp.host is set"),
    ({"smtp": {"timeout_s": 601}}, "smtp.timeout_s: 601 is out of range 1..600"),
    ({"ui": {"theme": "blue"}}, 'ui.theme: "blue" is not one of auto, ansi, dark, light'),
    ({"installation": "site.toml"}, 'installation: "site.toml" is not a table'),
]


@pytest.mark.parametrize(
    ("doc", "line"), REFUSALS, ids=[line.split(":")[0] for _, line in REFUSALS]
)
def test_each_bad_value_is_refused_naming_its_key(doc: dict[str, Any], line: str) -> None:
    assert problems_of(doc) == [line]
    with pytest.raises(ConfigError) as caught:
        parse_config(doc, BASE)
    assert str(caught.value) == line


def test_every_problem_is_reported_at_once() -> None:
    doc = {
        "licence": 11,
        "rs485": {"baudrate": 1, "parity": "x"},
        "smtp": {"prot": 25},
        "colour": "red",
    }
    assert problems_of(doc) == [
        "colour: unknown key",
        "licence: 11 is not one of 10, 32",
        "rs485.baudrate: 1 is not a supported speed "
        "(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)",
        'rs485.parity: "x" is not one of none, even, odd',
        "smtp.prot: unknown key (did you mean port?)",
    ]


@pytest.mark.parametrize(
    ("doc", "line"),
    [
        ({"langage": "fr"}, "langage: unknown key (did you mean language?)"),
        ({"zzz": 1}, "zzz: unknown key"),
        ({"rs485": {"speed": 9600}}, "rs485.speed: unknown key"),
        (
            {"ssh": {"users": [{"name": "a", "password_scrypt": HASH, "pin": 1}]}},
            "ssh.users[0].pin: unknown key",
        ),
        ({"ui": {"themes": "dark"}}, "ui.themes: unknown key (did you mean theme?)"),
    ],
)
def test_unknown_keys_are_refused_at_every_level(doc: dict[str, Any], line: str) -> None:
    assert problems_of(doc) == [line]


# --- accepted spellings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "parity"),
    [
        ("E", Parity.EVEN),
        ("e", Parity.EVEN),
        ("N", Parity.NONE),
        ("O", Parity.ODD),
        ("Odd", Parity.ODD),
    ],
)
def test_parity_takes_words_and_letters(word: str, parity: Parity) -> None:
    assert parse_config({"rs485": {"parity": word}}, BASE).rs485.parity is parity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0.0.0:502", HostPort("0.0.0.0", 502)),
        ("[::]:22", HostPort("::", 22)),
        ("box.local:0", HostPort("box.local", 0)),
    ],
)
def test_listen_addresses(text: str, expected: HostPort) -> None:
    config = parse_config({"ssh": {"listen": text}}, BASE)
    assert config.ssh.listen == expected
    assert str(config.ssh.listen) == text


@pytest.mark.parametrize("text", ["::1:22", "[nothost]:22", ":22", "host:", "host:2a", "host:٣"])
def test_listen_refusals(text: str) -> None:
    assert problems_of({"ssh": {"listen": text}}) == [f'ssh.listen: "{text}" is not HOST:PORT']


def test_an_empty_gateway_means_none() -> None:
    assert parse_config({"network": {"gateway": ""}}, BASE).network.gateway is None


def test_network_values_are_addresses() -> None:
    net = parse_config(
        {"network": {"ip": "10.1.2.3", "netmask": "255.255.0.0", "gateway": "10.1.0.1"}}, BASE
    ).network
    assert net.ip == ipaddress.IPv4Address("10.1.2.3")
    assert str(net.network) == "10.1.0.0/16"


def test_colors_takes_the_word_truecolor() -> None:
    assert parse_config({"console": {"colors": "truecolor"}}, BASE).console.colors == "truecolor"


def test_ssh_users_and_key_files() -> None:
    config = parse_config(
        {
            "data_dir": "/srv/ews",
            "ssh": {
                "authorized_keys": "keys/authorized_keys",
                "host_key": "/etc/ssh/key",
                "users": [{"name": "installer", "password_scrypt": HASH}],
            },
        },
        BASE,
    )
    assert config.ssh.users == (SshUser("installer", HASH),)
    assert config.ssh_authorized_keys_file == Path("/srv/ews/keys/authorized_keys")
    assert config.ssh_host_key_file == Path("/etc/ssh/key")


def test_duplicate_ssh_users_are_refused() -> None:
    users = [{"name": "a", "password_scrypt": HASH}, {"name": "a", "password_scrypt": HASH}]
    assert problems_of({"ssh": {"users": users}}) == ['ssh.users[1].name: "a" appears twice']


def test_two_enabled_front_ends_cannot_share_a_serial_line() -> None:
    doc = {"console": {"enabled": True, "tty": "/dev/ttyUSB0"}}
    assert problems_of(doc) == ['console.tty: "/dev/ttyUSB0" is already used by rs485.port']
    doc["rs485"] = {"enabled": False}
    assert problems_of(doc) == []


# --- paths -------------------------------------------------------------------------------------


def test_a_relative_data_dir_resolves_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    path.parent.mkdir()
    path.write_text('data_dir = "../var/ews"\n[network]\nnetworkd_dir = "net"\n')
    config = load_config(path)
    assert config.data_dir == tmp_path / "etc" / ".." / "var" / "ews"
    assert config.network.networkd_dir == tmp_path / "etc" / "net"


def test_an_absolute_data_dir_is_kept() -> None:
    assert parse_config({"data_dir": "/data/ews"}, BASE).data_dir == Path("/data/ews")


def test_a_data_dir_inside_the_config_folder_is_written_relative(tmp_path: Path) -> None:
    config = default_config(tmp_path / "data")
    assert to_document(config, tmp_path)["data_dir"] == "data"
    assert to_document(config, tmp_path / "elsewhere")["data_dir"] == str(tmp_path / "data")


# --- the file ----------------------------------------------------------------------------------


def test_a_toml_syntax_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('language = "fr"\n[rs485]\nbaudrate = = 9600\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:3:12: not valid TOML: Invalid value"
    assert caught.value.render(translator("de").gettext) == (
        f"{path}:3:12: kein gültiges TOML: Ungültiger Wert"
    )


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: cannot read the file: No such file or directory"


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'language = "\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: not UTF-8 text (byte 12)"


def test_a_bad_file_lists_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[rs485]\nbaudrate = 19201\nstopbits = "1"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == [
        "rs485.baudrate: 19201 is not a supported speed "
        "(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)",
        'rs485.stopbits: "1" is not an integer',
    ]


def custom_config(data_dir: Path) -> Config:
    doc = {
        "language": "fr_BE",
        "licence": 10,
        "rs485": {"port": "/dev/ttyAMA0", "baudrate": 9600, "parity": "N", "stopbits": 2},
        "modbus_tcp_server": {"enabled": True, "listen": "[::]:1502"},
        "network": {
            "backend": "systemd-networkd",
            "ip": "10.0.0.5",
            "netmask": "255.0.0.0",
            "gateway": "",
        },
        "time": {"timezone": "Europe/Brussels", "ntp_enabled": True, "ntp_server": "10.0.0.1"},
        "ssh": {
            "enabled": True,
            "authorized_keys": "authorized_keys",
            "users": [{"name": "tech", "password_scrypt": HASH}],
        },
        "console": {"enabled": True, "colors": "truecolor"},
        "smtp": {"host": "mail.example.com", "sender": "box@example.com", "security": "tls"},
        "ui": {"theme": "light"},
        "installation": {"gateways": [{"name": "Local", "ip": "127.0.0.1"}]},
    }
    doc["data_dir"] = data_dir.name
    return parse_config(doc, data_dir.parent)


def test_save_then_load_gives_the_same_config(tmp_path: Path) -> None:
    config = custom_config(tmp_path / "data")
    path = tmp_path / "config.toml"
    save_config(config, path)
    assert load_config(path) == config
    assert 'data_dir = "data"' in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_keeps_the_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(0o640)
    save_config(default_config(tmp_path), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_keeps_the_installation_table_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'language = "de"\n[installation]\nsite = "Lyon"\n'
        '[[installation.gateways]]\nip = "10.0.0.2"\n'
    )
    loaded = load_config(path)
    assert loaded.installation == {"site": "Lyon", "gateways": [{"ip": "10.0.0.2"}]}
    save_config(default_config(tmp_path), path)
    again = load_config(path)
    assert again.language == "en"
    assert again.installation == {"site": "Lyon", "gateways": [{"ip": "10.0.0.2"}]}


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path), path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    changed = apply_changes(load_config(path), {"rs485.baudrate": 9600}, tmp_path)
    with pytest.raises(OSError, match="No space left"):
        save_config(changed, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_an_unserialisable_value_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path), path)
    before = path.read_bytes()
    bad = Config(data_dir=tmp_path, installation={"when": object()})
    with pytest.raises(TypeError):
        save_config(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


# --- changes from the UI ------------------------------------------------------------------------


def test_apply_changes_checks_like_a_file(tmp_path: Path) -> None:
    config = default_config(tmp_path)
    changed = apply_changes(
        config, {"rs485.baudrate": 9600, "rs485.parity": "O", "language": "pl"}, tmp_path
    )
    assert (changed.rs485.baudrate, changed.rs485.parity, changed.language) == (
        9600,
        Parity.ODD,
        "pl",
    )
    assert changed.network == config.network
    with pytest.raises(ConfigError) as caught:
        apply_changes(config, {"network.ip": "10.0.0.300", "rs485.baud": 9600}, tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "rs485.baud: unknown key (did you mean baudrate?)",
        'network.ip: "10.0.0.300" is not an IPv4 address',
    ]


def test_a_change_below_a_value_is_an_unknown_key(tmp_path: Path) -> None:
    problems = check_changes(default_config(tmp_path), {"rs485.baudrate.x": 1}, tmp_path)
    assert [str(p) for p in problems] == ["rs485.baudrate.x: unknown key"]


def test_a_network_change_is_checked_as_a_whole(tmp_path: Path) -> None:
    config = default_config(tmp_path)
    assert [str(p) for p in check_changes(config, {"network.ip": "10.0.0.5"}, tmp_path)] == [
        'network.gateway: "192.168.1.1" is not in the network 10.0.0.0/24'
    ]
    changes = {"network.ip": "10.0.0.5", "network.gateway": "10.0.0.1"}
    assert check_changes(config, changes, tmp_path) == []


def test_problems_render_in_the_sessions_language() -> None:
    french = {
        "{value} is out of range {low}..{high}": "{value} est hors de l'intervalle {low}..{high}"
    }
    [problem] = find_problems({"rs485": {"timeout_ms": 20}}, BASE)
    assert problem.render(lambda msgid: french.get(msgid, msgid)) == (
        "rs485.timeout_ms: 20 est hors de l'intervalle 50..10000"
    )
    assert str(problem) == "rs485.timeout_ms: 20 is out of range 50..10000"


# --- any document ------------------------------------------------------------------------------

KEYS = st.sampled_from(
    [
        "data_dir",
        "language",
        "licence",
        "rs485",
        "ssh",
        "users",
        "name",
        "password_scrypt",
        "port",
        "baudrate",
        "parity",
        "listen",
        "network",
        "ip",
        "gateway",
        "colors",
        "installation",
        "x",
    ]
)
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["even", "E", "/dev/ttyS0", "0.0.0.0:502", "10.0.0.1", "en", "..", "", "\0"]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
DEFAULT_DOC = to_document(default_config(Path("/var/lib/ews")), BASE)
PATHS = [
    (section, key)
    for section, table in DEFAULT_DOC.items()
    if isinstance(table, dict)
    for key in table
] + [(None, key) for key, value in DEFAULT_DOC.items() if not isinstance(value, dict)]
PATHS.append((None, "installation"))
GOOD_VALUES: dict[str, list[Any]] = {
    "baudrate": [9600, 115200],
    "parity": ["odd", "N"],
    "stopbits": [2],
    "timeout_ms": [50, 10000],
    "enabled": [True, False],
    "listen": ["[::]:22", "host.example:1"],
    "ip": ["192.168.1.7"],
    "gateway": ["", "192.168.1.254"],
    "timezone": ["Europe/Brussels", "UTC"],
    "language": ["fr", "nl_BE"],
    "colors": ["truecolor", 256],
    "theme": ["dark"],
    "security": ["tls"],
    "users": [[{"name": "u", "password_scrypt": HASH}]],
    "authorized_keys": ["keys"],
    "installation": [{"site": 1}],
}


GOOD_PATHS = [(section, key) for section, key in PATHS if key in GOOD_VALUES]


@st.composite
def edited_defaults(draw: st.DrawFn) -> dict[str, Any]:
    """The default document with a few keys set to good or random values."""
    doc = to_document(default_config(Path("/var/lib/ews")), BASE)
    for _ in range(draw(st.integers(0, 3))):
        good = draw(st.booleans())
        section, key = draw(st.sampled_from(GOOD_PATHS if good else PATHS))
        table = doc if section is None else doc[section]
        table[key] = draw(st.sampled_from(GOOD_VALUES[key]) if good else VALUES)
    return doc


DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=6) | edited_defaults()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_any_document_gives_a_config_or_problems(doc: dict[str, Any]) -> None:
    problems = check_config(doc, BASE)
    try:
        config = parse_config(doc, BASE)
    except ConfigError as error:
        assert problems == [str(p) for p in error.problems] and problems
        assert all(": " in line for line in problems)
    else:
        assert problems == []
        written = tomllib.loads(tomli_w.dumps(to_document(config, BASE)))
        assert parse_config(written, BASE) == config


# --- retention -----------------------------------------------------------------------------


def test_retention_keeps_measures_three_years_and_energy_forever_by_default() -> None:
    config = parse_config({}, BASE)
    assert (config.retention.measures_days, config.retention.energy_days) == (1095, 0)
    custom = parse_config({"retention": {"measures_days": 30, "energy_days": 3650}}, BASE)
    assert (custom.retention.measures_days, custom.retention.energy_days) == (30, 3650)


def test_retention_refuses_negative_days_naming_the_key() -> None:
    problems = problems_of({"retention": {"measures_days": -1}})
    assert len(problems) == 1 and problems[0].startswith("retention.measures_days: ")


@pytest.mark.parametrize("days", [1, 7])
def test_measures_are_kept_long_enough_for_the_weekly_en50160_check(days: int) -> None:
    problems = problems_of({"retention": {"measures_days": days}})
    assert problems == [
        "retention.measures_days: at least 8 days (the weekly EN 50160 check reads the last"
        " week), or 0"
    ]
    for fine in (0, 8):
        assert (
            parse_config({"retention": {"measures_days": fine}}, BASE).retention.measures_days
            == fine
        )


# --- password hashes (issue 12, item 3) ----------------------------------------------------


def _user(password_scrypt: str) -> dict[str, Any]:
    return {"ssh": {"users": [{"name": "installer", "password_scrypt": password_scrypt}]}}


@pytest.mark.parametrize(
    "text",
    [
        "hunter2",
        "$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA",
        "scrypt$16384$8$1$" + "a5" * 16,  # no hash
        "scrypt$16384$8$1$" + "a5" * 16 + "$" + "zz" * 32,  # not hex
        "scrypt$16384$8$1$$" + "3c" * 32,  # no salt
        HASH.upper(),
    ],
)
def test_a_password_hash_not_in_the_hash_password_format_is_refused(text: str) -> None:
    (line,) = problems_of(_user(text))
    assert line.startswith("ssh.users[0].password_scrypt: ")
    assert "is not a scrypt$N$r$p$SALT$HASH text (make one with: ews ssh hash-password)" in line


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [(2**30, 8, 1), (2**20, 8, 1), (3000, 8, 1), (1, 8, 1), (2**14, 0, 1), (2**14, 64, 1),
     (2**14, 8, 0), (2**14, 8, 17), (2**16, 8, 16)],
)  # fmt: skip
def test_a_password_hash_with_an_unbounded_cost_is_refused(n: int, r: int, p: int) -> None:
    text = f"scrypt${n}${r}${p}$" + "a5" * 16 + "$" + "3c" * 32
    (line,) = problems_of(_user(text))
    assert line.startswith(f"ssh.users[0].password_scrypt: scrypt cost N={n}, r={r}, p={p} is ")


def test_hash_password_output_and_cheap_costs_are_accepted() -> None:
    from ews_tui.domain.auth import ScryptParams
    from ews_tui.frontends.ssh import hash_password

    assert problems_of(_user(hash_password("s3cret"))) == []
    assert problems_of(_user(hash_password("s3cret", ScryptParams(n=2**4, r=1, p=1)))) == []
    assert problems_of(_user(f"scrypt${2**16}$8$1$" + "a5" * 16 + "$" + "3c" * 32)) == []


# --- hostile files (issue 12 items 5 and 6) ------------------------------------------------


def test_a_setting_text_is_bounded_and_plain() -> None:
    assert problems_of({"data_dir": "/d" * 5_000_000}) == [
        "data_dir: 10000000 characters: at most 4096 are allowed"
    ]
    assert problems_of({"smtp": {"username": "bob\x1b[2J"}}) == [
        "smtp.username: control characters (here \\x1b) are not allowed"
    ]
    assert problems_of({"data_dir": "/var/lib/ews-" + "x" * 4000}) == []


def test_a_hostile_unknown_key_is_shown_short_and_printable() -> None:
    [line] = problems_of({"rs485": {"\x1b]0;T\x07" + "k" * 10_000: 1}})
    assert line.startswith("rs485.\\x1b]0;T\\x07kkk") and line.endswith("…: unknown key")
    assert len(line) < 120


def test_a_value_quoted_back_is_printable() -> None:
    [line] = problems_of({"language": "fr\x9b2J"})
    assert "\x9b" not in line and line.startswith("language: ")


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 100_000 + "]" * 100_000,
        "a = " + "{b = " * 5_000 + "1" + "}" * 5_000,
        "a = " + "[" * 40 + "]" * 40,  # parses, but deeper than any setting
    ],
    ids=["arrays", "inline tables", "forty levels"],
)
def test_a_deeply_nested_file_is_refused_in_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: tables and arrays nest deeper than 32 levels: not read"


def test_a_file_over_a_megabyte_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(f'data_dir = "{"d" * 1_000_000}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: the file is larger than 1000000 bytes: not read"
