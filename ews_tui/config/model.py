"""The box settings as frozen values, one dataclass per ``config.toml`` section.

Each field carries its default and, in its metadata, the rule that reads it (see ``fields.py``);
the rules of a key and its default stay side by side. Defaults are the manual's (§7.5, §7.8).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ews_tui.config import fields as f
from ews_tui.domain import connector as conn
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.rules import OwnServer
from ews_tui.domain.system_watch import DiskLimits

LANGUAGES = ("de", "en", "es", "fr", "fr_BE", "el", "it", "nl_BE", "nl", "pl", "pt", "ru", "hu")
LICENCES = (10, 32)  # ref. 4 149 47 "Mini Serveur web énergie 10", 4 149 48 "... 32"
RS485_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
CONSOLE_BAUDRATES = (*RS485_BAUDRATES, 230400)
COLOR_DEPTHS: tuple[int | str, ...] = (16, 256, "truecolor")
DEFAULT_DATA_DIR = Path("/var/lib/ews")
MAX_DNS_SERVERS = 3  # what glibc's resolver uses (MAXNS)

_SPEED = N_("{value} is not a supported speed ({allowed})")
_INTERFACE = f.text(
    required=True, pattern=r"[\w.:@-]{1,15}", refusal=N_("{value} is not an interface name")
)
_USER_NAME = f.text(
    required=True,
    pattern=r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}",
    refusal=N_("{value} is not a user name"),
)
_EMAIL = f.text(
    required=False, pattern=r"[^@\s<>]+@[^@\s<>]+", refusal=N_("{value} is not an e-mail address")
)


def _r(spec: object) -> dict[str, Any]:
    """Field metadata carrying the rule that reads the key."""
    return {f.SPEC: spec}


class Parity(StrEnum):
    NONE = "none"
    EVEN = "even"
    ODD = "odd"

    @property
    def letter(self) -> str:
        """pyserial's spelling: ``"N"``, ``"E"`` or ``"O"``."""
        return self.value[0].upper()


class NetworkBackend(StrEnum):
    NONE = "none"  # the box's address is managed outside ews-tui; the UI shows it read-only
    SYSTEMD_NETWORKD = "systemd-networkd"


class TimeBackend(StrEnum):
    NONE = "none"  # the clock is set outside ews-tui; the page shows the settings as not applied
    SYSTEMD_TIMESYNCD = "systemd-timesyncd"


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class Theme(StrEnum):
    AUTO = "auto"
    ANSI = "ansi"
    DARK = "dark"
    LIGHT = "light"


@dataclass(frozen=True)
class HostPort:
    """A listening address, written ``HOST:PORT`` (``[::1]:22`` for IPv6)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> HostPort:
        """Read ``HOST:PORT``; raise ValueError when it is not one."""
        head, sep, port_text = text.rpartition(":")
        if head.startswith("[") and head.endswith("]"):
            head = head[1:-1]
            ipaddress.IPv6Address(head)
        elif ":" in head:
            raise ValueError(text)
        if not sep or not head or not f.is_host(head):
            raise ValueError(text)
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            raise ValueError(text)
        return cls(head, int(port_text))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Rs485Settings:
    port: str = field(default="/dev/ttyUSB0", metadata=_r(f.text(required=True)))
    baudrate: int = field(default=19200, metadata=_r(f.int_choice(RS485_BAUDRATES, _SPEED)))
    parity: Parity = field(
        default=Parity.EVEN, metadata=_r(f.choice(Parity, {"n": "none", "e": "even", "o": "odd"}))
    )
    stopbits: int = field(default=1, metadata=_r(f.int_choice((1, 2))))
    timeout_ms: int = field(default=300, metadata=_r(f.integer(50, 10000)))
    enabled: bool = field(default=True, metadata=_r(f.boolean()))

    @property
    def timeout_s(self) -> float:
        return self.timeout_ms / 1000


@dataclass(frozen=True)
class ModbusTcpServerSettings:
    enabled: bool = field(default=False, metadata=_r(f.boolean()))
    listen: HostPort = field(
        default=HostPort("0.0.0.0", 502), metadata=_r(f.endpoint(HostPort.parse))
    )
    max_clients: int = field(default=16, metadata=_r(f.integer(1, 1000)))
    max_clients_per_source: int = field(default=4, metadata=_r(f.integer(1, 1000)))
    idle_timeout_s: int = field(default=60, metadata=_r(f.integer(1, 86400)))
    read_timeout_ms: int = field(default=2000, metadata=_r(f.integer(100, 60000)))


@dataclass(frozen=True)
class NetworkSettings:
    backend: NetworkBackend = field(
        default=NetworkBackend.NONE, metadata=_r(f.choice(NetworkBackend))
    )
    interface: str = field(default="eth0", metadata=_r(_INTERFACE))
    ip: ipaddress.IPv4Address = field(
        default=ipaddress.IPv4Address("192.168.1.100"), metadata=_r(f.ipv4())
    )
    netmask: ipaddress.IPv4Address = field(
        default=ipaddress.IPv4Address("255.255.255.0"), metadata=_r(f.netmask())
    )
    gateway: ipaddress.IPv4Address | None = field(
        default=ipaddress.IPv4Address("192.168.1.1"), metadata=_r(f.ipv4(required=False))
    )
    networkd_dir: Path = field(default=Path("/etc/systemd/network"), metadata=_r(f.config_path()))
    # DNS servers written into the .network file: the Connector and NTP servers may be names.
    dns: tuple[str, ...] = field(default=(), metadata=_r(f.address_list(most=MAX_DNS_SERVERS)))

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.ip}/{self.netmask}", strict=False)


@dataclass(frozen=True)
class TimeSettings:
    timezone: str = field(default="Europe/Paris", metadata=_r(f.timezone()))
    ntp_enabled: bool = field(default=False, metadata=_r(f.boolean()))
    ntp_server: str = field(default="0.europe.pool.ntp.org", metadata=_r(f.host()))
    backend: TimeBackend = field(default=TimeBackend.NONE, metadata=_r(f.choice(TimeBackend)))
    timesyncd_dir: Path = field(
        default=Path("/etc/systemd/timesyncd.conf.d"), metadata=_r(f.config_path())
    )


@dataclass(frozen=True)
class SshUser:
    name: str = field(metadata=_r(_USER_NAME))
    password_scrypt: str = field(metadata=_r(f.scrypt_hash()))


@dataclass(frozen=True)
class SshSettings:
    enabled: bool = field(default=False, metadata=_r(f.boolean()))
    listen: HostPort = field(
        default=HostPort("127.0.0.1", 2222), metadata=_r(f.endpoint(HostPort.parse))
    )
    host_key: Path = field(
        default=Path("ssh_host_ed25519_key"), metadata=_r(f.plain_path(required=True))
    )
    authorized_keys: Path | None = field(default=None, metadata=_r(f.plain_path(required=False)))
    max_sessions: int = field(default=16, metadata=_r(f.integer(1, 256)))
    idle_logout_minutes: int = field(default=30, metadata=_r(f.integer(0, 1440)))
    max_auth_tries: int = field(default=6, metadata=_r(f.integer(1, 100)))
    max_startups: int = field(default=10, metadata=_r(f.integer(1, 1000)))
    users: tuple[SshUser, ...] = field(default=(), metadata=_r(f.TableList(SshUser)))


@dataclass(frozen=True)
class ConsoleSettings:
    enabled: bool = field(default=False, metadata=_r(f.boolean()))
    tty: str = field(default="/dev/ttyS0", metadata=_r(f.text(required=True)))
    baudrate: int = field(default=115200, metadata=_r(f.int_choice(CONSOLE_BAUDRATES, _SPEED)))
    columns: int = field(default=80, metadata=_r(f.integer(40, 500)))
    rows: int = field(default=24, metadata=_r(f.integer(10, 200)))
    colors: int | str = field(default=16, metadata=_r(f.colors(COLOR_DEPTHS)))


@dataclass(frozen=True)
class KioskSettings:
    enabled: bool = field(default=False, metadata=_r(f.boolean()))
    tty: str = field(default="/dev/tty1", metadata=_r(f.text(required=True)))
    page_seconds: int = field(default=10, metadata=_r(f.integer(1, 3600)))


@dataclass(frozen=True)
class SmtpSettings:
    host: str = field(default="", metadata=_r(f.host()))
    port: int = field(default=587, metadata=_r(f.integer(1, 65535)))
    security: SmtpSecurity = field(
        default=SmtpSecurity.STARTTLS, metadata=_r(f.choice(SmtpSecurity))
    )
    username: str = field(default="", metadata=_r(f.text()))
    password: str = field(default="", metadata=_r(f.text()))
    sender: str = field(default="", metadata=_r(_EMAIL))
    timeout_s: int = field(default=30, metadata=_r(f.integer(1, 600)))


@dataclass(frozen=True)
class UiSettings:
    theme: Theme = field(default=Theme.AUTO, metadata=_r(f.choice(Theme)))


@dataclass(frozen=True)
class RetentionSettings:
    """Days each kind of history is kept in the store; 0 keeps it forever."""

    measures_days: int = field(default=3 * 365, metadata=_r(f.integer(0, 36500)))
    energy_days: int = field(default=0, metadata=_r(f.integer(0, 36500)))
    # Alarms cleared longer ago than this are deleted (active ones are always kept).
    alarms_days: int = field(default=2 * 365, metadata=_r(f.integer(0, 36500)))


@dataclass(frozen=True)
class CsvSettings:
    """The CSV folders of the data dir: written each day, pushed by the Connector."""

    enabled: bool = field(default=True, metadata=_r(f.boolean()))
    folder: Path = field(default=Path("csv"), metadata=_r(f.plain_path(required=True)))
    # Minutes between rewrites of today's files (0: only whole days, after midnight).
    refresh_minutes: int = field(default=60, metadata=_r(f.integer(0, 1440)))
    # Days of files kept in the folder (0: forever); the store keeps its own history.
    keep_days: int = field(default=400, metadata=_r(f.integer(0, 36500)))


@dataclass(frozen=True)
class SystemSettings:
    """The box watching itself: room left on the data dir's disk, clock jumps."""

    # "Disk almost full": below this share of the disk or this many MB free (the larger).
    disk_warning_percent: int = field(default=10, metadata=_r(f.integer(1, 90)))
    disk_warning_mb: int = field(default=500, metadata=_r(f.integer(0, 1_000_000)))
    # Critical below this share of the disk (less than disk_warning_percent).
    disk_critical_percent: int = field(default=2, metadata=_r(f.integer(0, 89)))
    # Cleared once the free room is back above the limit by this share of the disk.
    disk_hysteresis_percent: int = field(default=2, metadata=_r(f.integer(0, 50)))
    # The wall clock moving this many seconds more (or less) than the elapsed time is a jump.
    clock_jump_s: int = field(default=60, metadata=_r(f.integer(5, 86400)))

    @property
    def disk_limits(self) -> DiskLimits:
        return DiskLimits(
            self.disk_warning_percent,
            self.disk_warning_mb,
            self.disk_critical_percent,
            self.disk_hysteresis_percent,
        )


CSV_FOLDERS = ("energy", "measures", "events", "eqcheck")  # as store.csv_export.FOLDERS


def _connector_spec(read: Any, dump: Any = lambda value, _ctx: value) -> f.Spec:
    """A spec around a pure parser of ``domain.connector`` (its refusal becomes Invalid)."""

    def parse(value: Any, _ctx: f.Context) -> Any:
        try:
            return read(value)
        except conn.ConnectorValueError as error:
            raise f.Invalid(error.message.msgid, **error.message.params) from None

    return f.Spec(parse, dump)


def _port(value: Any) -> int:
    """A TCP port; "" (an empty field) is 22."""
    if value == "" or value is None:
        return 22
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise conn.ConnectorValueError(
            Message(
                N_("{value} is out of range {low}..{high}"),
                {"value": value, "low": 1, "high": 65535},
            )
        )
    return value


def _sources(value: Any) -> tuple[str, ...]:
    if not isinstance(value, str | list | tuple):
        raise conn.ConnectorValueError(
            Message(N_("{value} is not a folder name"), {"value": value})
        )
    return conn.parse_sources(value, CSV_FOLDERS)


def _destination(value: Any) -> str:
    if not isinstance(value, str):
        raise conn.ConnectorValueError(Message(N_("{value} is not a string"), {"value": value}))
    return conn.check_destination(value)


@dataclass(frozen=True)
class ConnectorSettings:
    """The Connector (manual §7.12): push the CSV folders to a server by SFTP or SCP."""

    mode: conn.ConnectorMode = field(
        default=conn.ConnectorMode.OFF, metadata=_r(f.choice(conn.ConnectorMode))
    )
    address: str = field(default="", metadata=_r(f.host()))
    port: int = field(default=22, metadata=_r(_connector_spec(_port)))
    user: str = field(default="", metadata=_r(f.text()))
    # Stored in this file only (0600); never logged, never shown again by the UI.
    password: str = field(default="", metadata=_r(f.text()))
    # The box's own ed25519 key (relative to data_dir), made on first use; "" for none.
    key: Path | None = field(
        default=Path("connector_ed25519_key"), metadata=_r(f.plain_path(required=False))
    )
    sources: tuple[str, ...] = field(
        default=(), metadata=_r(_connector_spec(_sources, lambda value, _ctx: list(value)))
    )
    destination: str = field(default="", metadata=_r(_connector_spec(_destination)))
    day: conn.Day = field(default="*", metadata=_r(_connector_spec(conn.parse_day)))
    hour: conn.Hour = field(default=0, metadata=_r(_connector_spec(conn.parse_hour)))


@dataclass(frozen=True)
class BackupSettings:
    """The nightly backup of the whole box into ``<data_dir>/backups``."""

    nightly: bool = field(default=True, metadata=_r(f.boolean()))
    # Local hour the nightly backup is made at.
    hour: int = field(default=2, metadata=_r(f.integer(0, 23)))
    # Nightly backups kept; older ones are removed (backups made by hand are kept).
    keep: int = field(default=7, metadata=_r(f.integer(1, 365)))


@dataclass(frozen=True)
class Config:
    """Every box setting. Build with ``load_config``/``parse_config``/``default_config``;
    change with ``apply_changes`` (validated), persist with ``save_config``."""

    data_dir: Path = field(default=DEFAULT_DATA_DIR, metadata=_r(f.config_path()))
    language: str = field(default="en", metadata=_r(f.word_choice(LANGUAGES)))
    licence: int = field(default=32, metadata=_r(f.int_choice(LICENCES)))
    rs485: Rs485Settings = field(default_factory=Rs485Settings, metadata=_r(f.Table(Rs485Settings)))
    modbus_tcp_server: ModbusTcpServerSettings = field(
        default_factory=ModbusTcpServerSettings, metadata=_r(f.Table(ModbusTcpServerSettings))
    )
    network: NetworkSettings = field(
        default_factory=NetworkSettings, metadata=_r(f.Table(NetworkSettings))
    )
    time: TimeSettings = field(default_factory=TimeSettings, metadata=_r(f.Table(TimeSettings)))
    ssh: SshSettings = field(default_factory=SshSettings, metadata=_r(f.Table(SshSettings)))
    console: ConsoleSettings = field(
        default_factory=ConsoleSettings, metadata=_r(f.Table(ConsoleSettings))
    )
    kiosk: KioskSettings = field(default_factory=KioskSettings, metadata=_r(f.Table(KioskSettings)))
    smtp: SmtpSettings = field(default_factory=SmtpSettings, metadata=_r(f.Table(SmtpSettings)))
    ui: UiSettings = field(default_factory=UiSettings, metadata=_r(f.Table(UiSettings)))
    retention: RetentionSettings = field(
        default_factory=RetentionSettings, metadata=_r(f.Table(RetentionSettings))
    )
    csv: CsvSettings = field(default_factory=CsvSettings, metadata=_r(f.Table(CsvSettings)))
    system: SystemSettings = field(
        default_factory=SystemSettings, metadata=_r(f.Table(SystemSettings))
    )
    connector: ConnectorSettings = field(
        default_factory=ConnectorSettings, metadata=_r(f.Table(ConnectorSettings))
    )
    backup: BackupSettings = field(
        default_factory=BackupSettings, metadata=_r(f.Table(BackupSettings))
    )
    installation: Mapping[str, Any] | None = field(default=None, metadata=_r(f.RawTable()))

    @property
    def own_server(self) -> OwnServer | None:
        """Where the box's own Modbus TCP server listens, for the installation rules (a
        gateway must not point at it); None while the server is off."""
        server = self.modbus_tcp_server
        if not server.enabled:
            return None
        return OwnServer(server.listen.host, server.listen.port, str(self.network.ip))

    @property
    def csv_folder(self) -> Path:
        """``csv.folder`` resolved against the data dir."""
        return self.data_dir / self.csv.folder

    @property
    def connector_key_file(self) -> Path | None:
        """``connector.key`` resolved against the data dir, or None for no key login."""
        key = self.connector.key
        return None if key is None else self.data_dir / key

    @property
    def ssh_host_key_file(self) -> Path:
        """``ssh.host_key`` resolved against the data dir."""
        return self.data_dir / self.ssh.host_key

    @property
    def ssh_authorized_keys_file(self) -> Path | None:
        """``ssh.authorized_keys`` resolved against the data dir, or None when unset."""
        keys = self.ssh.authorized_keys
        return None if keys is None else self.data_dir / keys
