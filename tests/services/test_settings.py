"""SettingsService: checked changes saved atomically and announced, the network backend, and
the SNTP offset against a real UDP server on loopback."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ews_tui.config import ConfigError, default_config, load_config, save_config
from ews_tui.domain.events import SettingsChanged
from ews_tui.domain.installation import Gateway
from ews_tui.hub import Hub
from ews_tui.services.settings import (
    SettingsService,
    networkd_text,
    sections_of,
    sntp_offset,
)
from tests.services.command_fixtures import RecordingRunner

NTP_EPOCH = 2_208_988_800


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path / "data"), path)
    return path


def test_sections_of_changes() -> None:
    changes = {"rs485.baudrate": 9600, "rs485.parity": "odd", "language": "fr"}
    assert sections_of(changes) == ("rs485", "language")


async def test_apply_saves_reloads_and_announces(config_path: Path) -> None:
    hub = Hub()
    service = SettingsService(config_path, hub)
    with hub.subscribe(SettingsChanged, name="test") as events:
        new = await service.apply({"rs485.baudrate": 9600, "modbus_tcp_server.enabled": True})
        assert [events.get_nowait(), events.get_nowait()] == [
            SettingsChanged("rs485"),
            SettingsChanged("modbus_tcp_server"),
        ]
    assert new.rs485.baudrate == 9600
    assert service.config is new
    again = load_config(config_path)  # what a restart reads
    assert (again.rs485.baudrate, again.modbus_tcp_server.enabled) == (9600, True)
    assert [p.name for p in config_path.parent.iterdir() if p.name.endswith(".tmp")] == []


async def test_bad_value_is_refused_and_nothing_changes(config_path: Path) -> None:
    hub = Hub()
    service = SettingsService(config_path, hub)
    before = config_path.read_bytes()
    assert [str(p) for p in service.problems({"rs485.stopbits": 3})] == [
        "rs485.stopbits: 3 is not one of 1, 2"
    ]
    with hub.subscribe(SettingsChanged, name="test") as events:
        with pytest.raises(ConfigError) as refused:
            await service.apply({"time.timezone": "Europe/Atlantis"})
        assert len(events) == 0
    assert refused.value.problems[0].where == "time.timezone"
    assert config_path.read_bytes() == before
    assert service.config.time.timezone == "Europe/Paris"


async def test_the_server_may_not_be_switched_on_over_a_gateway(config_path: Path) -> None:
    """A gateway "Roof" at 127.0.0.1:502: switching the box's Modbus TCP server on (it listens
    on 0.0.0.0:502) would make the box poll its own bus through itself; refused, nothing
    saved. The same on another port is fine."""
    roof = Gateway(id=2, name="Roof", ip="127.0.0.1", port=502)
    hub = Hub()
    service = SettingsService(
        config_path, hub, gateways=lambda: (Gateway(id=1, name="Local", ip="127.0.0.1"), roof)
    )
    before = config_path.read_bytes()
    on = {"modbus_tcp_server.enabled": True}
    assert [str(p) for p in service.problems(on)] == [
        'modbus_tcp_server.enabled: gateway "Roof" (127.0.0.1:502) would be this box\'s own '
        "Modbus TCP server: the box would poll its own bus through itself; change the "
        "gateway first"
    ]
    with pytest.raises(ConfigError):
        await service.apply(on)
    assert config_path.read_bytes() == before
    elsewhere = {"modbus_tcp_server.enabled": True, "modbus_tcp_server.listen": "0.0.0.0:5020"}
    assert service.problems(elsewhere) == []
    await service.apply(elsewhere)
    assert service.config.modbus_tcp_server.enabled


async def test_backend_none_stores_only(config_path: Path) -> None:
    service = SettingsService(config_path, Hub())
    await service.apply({"network.ip": "192.168.1.50"})
    status = service.network_status()
    assert (status.applied, status.file) == (False, None)
    assert str(load_config(config_path).network.ip) == "192.168.1.50"


async def test_systemd_networkd_backend_writes_the_unit(config_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "networkd"
    runner = RecordingRunner()
    service = SettingsService(config_path, Hub(), runner=runner)
    await service.apply(
        {"network.backend": "systemd-networkd", "network.networkd_dir": str(folder)}
    )
    await service.apply({"network.ip": "172.168.1.101", "network.gateway": "172.168.1.100"})
    status = service.network_status()
    assert status.applied and status.file == folder / "10-ews-eth0.network"
    assert status.file.read_text() == networkd_text(service.config.network)
    assert "Address=172.168.1.101/24\nGateway=172.168.1.100\n" in status.file.read_text()
    assert "[Match]\nName=eth0\n" in status.file.read_text()
    assert runner.calls[-2:] == [("networkctl", "reload"), ("networkctl", "reconfigure", "eth0")]


def test_networkd_unit_without_gateway(tmp_path: Path) -> None:
    from ews_tui.config import apply_changes

    config = apply_changes(default_config(tmp_path), {"network.gateway": ""}, tmp_path)
    assert "Gateway" not in networkd_text(config.network)


def _ntp(seconds: float) -> bytes:
    return struct.pack("!II", int(seconds) + NTP_EPOCH, int((seconds % 1) * 2**32))


def test_sntp_offset_arithmetic() -> None:
    packet = bytes(32) + _ntp(1000.5) + _ntp(1000.5)
    # request sent at 990.0, answer received at 990.2: the server is ~10.4 s ahead
    assert sntp_offset(990.0, packet, 990.2) == pytest.approx(10.4)
    with pytest.raises(ValueError):
        sntp_offset(0.0, b"short", 0.0)


class _FakeNtpServer(asyncio.DatagramProtocol):
    """Answers every request with the box's clock plus ``ahead`` seconds."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[no-untyped-def]
        assert len(data) == 48 and data[0] & 0x07 == 3  # a client request
        now = time.time() + self.ahead
        reply = b"\x24\x02" + bytes(22) + data[40:48] + _ntp(now) + _ntp(now)  # stratum 2
        assert self.transport is not None
        self.transport.sendto(reply, addr)


@pytest.fixture
async def ntp_server() -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _FakeNtpServer(ahead=42.0), local_addr=("127.0.0.1", 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


async def test_ntp_offset_measured(config_path: Path, ntp_server: int) -> None:
    service = SettingsService(config_path, Hub(), ntp_port=ntp_server)
    await service.apply({"time.ntp_server": "127.0.0.1"})
    reading = await service.ntp_offset()
    assert reading.server == "127.0.0.1" and reading.error == ""
    assert reading.offset == pytest.approx(42.0, abs=0.5)


async def test_ntp_unreachable(config_path: Path) -> None:
    sock_free = await asyncio.get_running_loop().create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    port = sock_free[0].get_extra_info("sockname")[1]
    sock_free[0].close()  # nothing listens there now
    service = SettingsService(config_path, Hub(), ntp_port=port, ntp_timeout=0.5)
    reading = await service.ntp_offset("127.0.0.1")
    assert reading.offset is None and reading.error
