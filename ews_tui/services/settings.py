"""The box settings service: the one place where ``config.toml`` changes while the box runs.

Screens ask it to ``apply`` changes spelled as in the TOML file (``{"rs485.baudrate": 9600}``).
It checks them with the config's own rules (:func:`ews_tui.config.apply_changes`, so a bad
value is refused with the same message a bad file gets), writes the file atomically, and
publishes one :class:`SettingsChanged` per section touched: the polling service restarts the
local bus poller on ``"rs485"``, not the process.

Two things reach outside the file:

- the **network backend** (``network.backend``): ``none`` keeps the address in the file only
  (the UI shows it as not applied); ``systemd-networkd`` writes
  ``<networkd_dir>/10-ews-<interface>.network`` atomically;
- the **NTP offset**: one SNTP query (RFC 4330) over UDP with a timeout, never blocking the
  loop; an unreachable server gives a reading with ``offset`` None and the reason.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ews_tui.atomic_file import write_atomically
from ews_tui.config import (
    Config,
    ConfigError,
    NetworkBackend,
    NetworkSettings,
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

log = logging.getLogger(__name__)

NTP_PORT = 123
NTP_TIMEOUT_S = 2.0
_NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


@dataclass(frozen=True)
class NetworkResult:
    """What the network backend did with the saved address: ``applied`` and where."""

    backend: NetworkBackend
    applied: bool
    file: Path | None = None
    error: str = ""


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


def networkd_file(net: NetworkSettings) -> Path:
    return net.networkd_dir / f"10-ews-{net.interface}.network"


def networkd_text(net: NetworkSettings) -> str:
    """The systemd-networkd unit of the box's static address."""
    lines = [
        "# Written by ews-tui (Server settings > Network). Changes here are overwritten.",
        "[Match]",
        f"Name={net.interface}",
        "",
        "[Network]",
        f"Address={net.ip}/{net.network.prefixlen}",
    ]
    if net.gateway is not None:
        lines.append(f"Gateway={net.gateway}")
    return "\n".join(lines) + "\n"


def apply_network(net: NetworkSettings) -> NetworkResult:
    """Hand the saved address to the backend (blocking file I/O: run it in a thread)."""
    if net.backend is NetworkBackend.NONE:
        return NetworkResult(net.backend, applied=False)
    target = networkd_file(net)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # systemd-networkd runs as its own user: the file must be readable by others.
        write_atomically(target, networkd_text(net).encode("utf-8"), new_mode=0o644)
    except OSError as error:
        log.error("cannot write %s: %s", target, error)
        return NetworkResult(net.backend, False, target, error.strerror or str(error))
    log.info("wrote the network settings of %s to %s", net.interface, target)
    return NetworkResult(net.backend, applied=True, file=target)


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
            transport.sendto(b"\x23" + b"\0" * 39 + _to_ntp(sent))  # LI 0, version 4, client
            packet, received = await answer
        finally:
            transport.close()
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
    ) -> None:
        self.path = Path(path)
        self._gateways = gateways  # the installation's, read at each check
        self._hub = hub
        self._config = config if config is not None else load_config(self.path)
        self._lock = asyncio.Lock()
        self.ntp_port = ntp_port
        self.ntp_timeout = ntp_timeout
        self.last_network: NetworkResult | None = None

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
                self.last_network = await asyncio.to_thread(apply_network, new.network)
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
        net = self._config.network
        if net.backend is NetworkBackend.NONE:
            return NetworkResult(net.backend, applied=False)
        target = networkd_file(net)
        return NetworkResult(net.backend, applied=target.is_file(), file=target)

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
    "apply_network",
    "networkd_text",
    "query_sntp",
    "sections_of",
    "sntp_offset",
]
