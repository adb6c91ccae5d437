"""The box settings service: the one place where ``config.toml`` changes while the box runs.

Screens ask it to ``apply`` changes spelled as in the TOML file (``{"rs485.baudrate": 9600}``).
It checks them with the config's own rules (:func:`ews_tui.config.apply_changes`, so a bad
value is refused with the same message a bad file gets), writes the file atomically, and
publishes one :class:`SettingsChanged` per section touched: the polling service restarts the
local bus poller on ``"rs485"``, not the process.

Three things reach outside the file:

- the **network backend** (``network.backend``, :mod:`ews_tui.services.network_apply`):
  ``none`` keeps the address in the file only (the UI shows it as not applied);
  ``systemd-networkd`` writes ``<networkd_dir>/10-ews-<interface>.network`` atomically, then
  reloads and reconfigures the interface;
- the **time backend** (``time.backend``, :mod:`ews_tui.services.time_apply`): ``none`` or
  ``systemd-timesyncd`` (a drop-in, ``timedatectl``), and the clock set by hand;
- the **NTP offset**: one SNTP query (RFC 4330) over UDP with a timeout, never blocking the
  loop; an unreachable server gives a reading with ``offset`` None and the reason.

Every system command goes through one :class:`CommandRunner` (tests give a recording one).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ews_tui.config import (
    Config,
    ConfigError,
    Problem,
    check_changes,
    load_config,
    save_config,
)
from ews_tui.config import apply_changes as apply_config_changes
from ews_tui.domain.events import SettingsChanged
from ews_tui.domain.installation import Gateway
from ews_tui.domain.messages import Message
from ews_tui.hub import Hub
from ews_tui.i18n import N_
from ews_tui.services.network_apply import (
    NetworkResult,
    apply_network,
    network_status,
    networkd_file,
    networkd_text,
)
from ews_tui.services.system_commands import CommandRunner, SubprocessRunner
from ews_tui.services.time_apply import TimeResult, apply_time, set_clock, time_status

log = logging.getLogger(__name__)

NTP_PORT = 123
NTP_TIMEOUT_S = 2.0
_NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


@dataclass(frozen=True)
class NtpReading:
    """One SNTP query: the clock's offset in seconds (server minus box), or why not."""

    server: str
    offset: float | None
    error: str = ""


def sections_of(changes: Mapping[str, Any]) -> tuple[str, ...]:
    """The sections a change touches, in order: ``rs485.baudrate`` -> ``rs485``."""
    seen: dict[str, None] = {}
    for key in changes:
        seen.setdefault(key.split(".", 1)[0], None)
    return tuple(seen)


class _SntpProtocol(asyncio.DatagramProtocol):
    def __init__(self, answer: asyncio.Future[tuple[bytes, float]]) -> None:
        self._answer = answer

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self._answer.done():
            self._answer.set_result((data, time.time()))

    def error_received(self, exc: Exception) -> None:
        if not self._answer.done():
            self._answer.set_exception(exc)


def _to_ntp(seconds: float) -> bytes:
    whole = int(seconds) + _NTP_EPOCH
    return struct.pack("!II", whole & 0xFFFFFFFF, int((seconds % 1) * 2**32))


def _from_ntp(data: bytes) -> float:
    whole, fraction = struct.unpack("!II", data)
    return float(whole - _NTP_EPOCH + fraction / 2**32)


def sntp_offset(request_sent: float, packet: bytes, received: float) -> float:
    """RFC 4330 clock offset ``((t2 - t1) + (t3 - t4)) / 2`` from a server's answer."""
    if len(packet) < 48:
        raise ValueError(f"SNTP answer of {len(packet)} bytes, expected 48")
    t2 = _from_ntp(packet[32:40])
    t3 = _from_ntp(packet[40:48])
    return ((t2 - request_sent) + (t3 - received)) / 2


def check_sntp_answer(packet: bytes, request_stamp: bytes) -> None:
    """ValueError when ``packet`` is not a usable server answer to the request stamped
    ``request_stamp``: too short, not from a server, a kiss-o'-death (stratum 0), a server
    not synchronised itself, or an answer to another request (RFC 4330 §5)."""
    if len(packet) < 48:
        raise ValueError(f"SNTP answer of {len(packet)} bytes, expected 48")
    leap, mode, stratum = packet[0] >> 6, packet[0] & 0x07, packet[1]
    if mode != 4:
        raise ValueError(f"not a server answer (mode {mode})")
    if stratum == 0:
        code = packet[12:16].decode("ascii", "replace")
        raise ValueError(f"the server refused the request ({code})")
    if leap == 3:
        raise ValueError("the server is not synchronised")
    if packet[24:32] != request_stamp:
        raise ValueError("an answer to another request")


async def query_sntp(server: str, port: int = NTP_PORT, timeout: float = NTP_TIMEOUT_S) -> float:
    """The box clock's offset to ``server`` in seconds; OSError/TimeoutError/ValueError if not."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[tuple[bytes, float]] = loop.create_future()
    async with asyncio.timeout(timeout):
        transport, _protocol = await loop.create_datagram_endpoint(
            lambda: _SntpProtocol(answer), remote_addr=(server, port)
        )
        try:
            sent = time.time()
            stamp = _to_ntp(sent)
            transport.sendto(b"\x23" + b"\0" * 39 + stamp)  # LI 0, version 4, client
            packet, received = await answer
        finally:
            transport.close()
    check_sntp_answer(packet, stamp)
    return sntp_offset(sent, packet, received)


class SettingsService:
    """Holds the box :class:`Config` and its file; applies, saves and announces changes."""

    name = "settings"

    def __init__(
        self,
        path: Path,
        hub: Hub,
        config: Config | None = None,
        *,
        ntp_port: int = NTP_PORT,
        ntp_timeout: float = NTP_TIMEOUT_S,
        gateways: Callable[[], Sequence[Gateway]] = tuple,
        runner: CommandRunner | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self._gateways = gateways  # the installation's, read at each check
        self._hub = hub
        self._config = config if config is not None else load_config(self.path)
        self._lock = asyncio.Lock()
        self.ntp_port = ntp_port
        self.ntp_timeout = ntp_timeout
        # timedatectl, networkctl, systemctl: tests give one that records the command lines.
        self.runner: CommandRunner = runner if runner is not None else SubprocessRunner()
        self.clock = clock  # the box's clock as the Date and time page shows it
        self.last_network: NetworkResult | None = None
        self.last_time: TimeResult | None = None

    @property
    def config(self) -> Config:
        return self._config

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def problems(self, changes: Mapping[str, Any]) -> list[Problem]:
        """What ``apply`` would refuse, key by key (for a form before saving)."""
        problems = check_changes(self._config, changes, self.base_dir)
        if problems:
            return problems
        new = apply_config_changes(self._config, changes, self.base_dir)
        return self._own_server_problems(new, changes)

    async def apply(self, changes: Mapping[str, Any]) -> Config:
        """Check, save atomically and announce ``changes``; ConfigError (nothing saved) if bad."""
        async with self._lock:
            new = apply_config_changes(self._config, changes, self.base_dir)
            if problems := self._own_server_problems(new, changes):
                raise ConfigError(problems)
            await asyncio.to_thread(save_config, new, self.path)
            self._config = new
            sections = sections_of(changes)
            if "network" in sections:
                self.last_network = await apply_network(new.network, self.runner)
            if "time" in sections:
                self.last_time = await apply_time(new.time, self.runner)
        log.info("settings saved: %s", ", ".join(sorted(changes)))
        for section in sections:
            self._hub.publish(SettingsChanged(section))
        return new

    def _own_server_problems(self, new: Config, changes: Mapping[str, Any]) -> list[Problem]:
        """A Modbus TCP server switched on, moved, or a box IP changed onto a gateway's
        address: the box would poll its own bus through itself (the installation rule,
        checked from the settings' side)."""
        server = new.own_server
        if server is None or not {"modbus_tcp_server", "network"} & set(sections_of(changes)):
            return []
        where = next(
            (
                key
                for key in ("modbus_tcp_server.listen", "modbus_tcp_server.enabled", "network.ip")
                if key in changes
            ),
            "modbus_tcp_server.enabled",
        )
        return [
            Problem(
                where,
                Message(
                    N_(
                        'gateway "{name}" ({ip}:{port}) would be this box\'s own Modbus TCP '
                        "server: the box would poll its own bus through itself; change the "
                        "gateway first"
                    ),
                    {"name": gw.name, "ip": gw.ip, "port": gw.port},
                ),
            )
            for gw in self._gateways()
            if not gw.is_local and server.serves(gw.ip, gw.port)
        ]

    def network_status(self) -> NetworkResult:
        """The last backend result, or what the backend would say before any save."""
        if self.last_network is not None:
            return self.last_network
        return network_status(self._config.network)

    async def reapply_network(self) -> NetworkResult:
        """Apply the saved network settings again (after a failure, or a file changed)."""
        async with self._lock:
            self.last_network = await apply_network(self._config.network, self.runner)
            return self.last_network

    def time_status(self) -> TimeResult:
        """The last time backend result, or what it would say before any save."""
        if self.last_time is not None:
            return self.last_time
        return time_status(self._config.time)

    async def reapply_time(self) -> TimeResult:
        """Apply the saved time zone and NTP settings again."""
        async with self._lock:
            self.last_time = await apply_time(self._config.time, self.runner)
            return self.last_time

    async def set_clock(self, moment: datetime) -> TimeResult:
        """Set the box's clock to ``moment`` (aware), by the time backend."""
        async with self._lock:
            return await set_clock(self._config.time, moment, self.runner)

    async def ntp_offset(self, server: str | None = None) -> NtpReading:
        """Measure the clock's offset to ``server`` (default: the configured one)."""
        server = server if server is not None else self._config.time.ntp_server
        if not server:
            return NtpReading(server, None, "no NTP server")
        try:
            offset = await query_sntp(server, self.ntp_port, self.ntp_timeout)
        except (OSError, TimeoutError, ValueError) as error:
            reason = "timeout" if isinstance(error, TimeoutError) else str(error)
            log.info("NTP server %s unreachable: %s", server, reason)
            return NtpReading(server, None, reason or type(error).__name__)
        return NtpReading(server, offset)


__all__ = [
    "ConfigError",
    "NetworkResult",
    "NtpReading",
    "SettingsService",
    "TimeResult",
    "apply_network",
    "check_sntp_answer",
    "networkd_file",
    "networkd_text",
    "query_sntp",
    "sections_of",
    "sntp_offset",
]
