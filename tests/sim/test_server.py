"""The simulator served over real sockets and ptys, read by real pymodbus clients."""

from __future__ import annotations

import asyncio
import time

import pytest
from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu import ExceptionResponse

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.installation import GenericRegister
from ews_tui.modbus.codec import decode
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.sim.device import Fault, SimError, encode_value, parse_device, parse_fault
from ews_tui.sim.server import DeviceSpec, Endpoint, SimulatedBus, crc16
from tests.sim.fixtures import *  # noqa: F403  (the simulator fixtures)
from tests.sim.fixtures import FIXED_NOW, HOST, SimClock, rtu_client, tcp_client

CATALOG = builtin_catalog()
SERVED = [m for m in CATALOG.models if m.map is not None or m.generic]
GENERIC = GenericRegister(fc=4, register=0x0100, words=2, multiplier=0.01)


def spec_for(address: int, model_ref: str) -> DeviceSpec:
    model = CATALOG.find(model_ref)
    assert model is not None
    return DeviceSpec(address, model.ref, GENERIC if model.generic else None)


async def read(client, fc: int, register: int, count: int, unit: int):
    call = client.read_holding_registers if fc == 3 else client.read_input_registers
    return await call(register, count=count, device_id=unit)


async def check_every_quantity(client, endpoint: Endpoint, address: int) -> int:
    """Read each quantity of the device at ``address`` and compare with the simulation."""
    device = endpoint.devices[address]
    checked = 0
    for side, reg_map in enumerate(device.maps, start=1):
        expected = endpoint.values(address, side)
        for q in reg_map.quantities:
            response = await read(client, q.fc, q.register, q.words, address)
            assert not response.isError(), f"{device.model.ref} {q.id}: {response}"
            got = decode(q, response.registers, reg_map)
            want = decode(q, encode_value(q, expected[q.id], reg_map), reg_map)
            assert got is not None, f"{device.model.ref} {q.id} reads as missing"
            assert got == want, f"{device.model.ref} side {side} {q.id}"
            checked += 1
    return checked


async def test_every_catalog_model_reads_back_over_tcp(sim_tcp) -> None:
    specs = [spec_for(i, m.ref) for i, m in enumerate(SERVED, start=1)]
    endpoint = await sim_tcp(specs)
    async with tcp_client(endpoint) as client:
        checked = 0
        for spec in specs:
            checked += await check_every_quantity(client, endpoint, spec.address)
    assert checked > 1000


async def test_every_register_map_reads_back_over_rtu_on_a_pty(sim_rtu) -> None:
    one_per_map = {(m.map or "generic"): m.ref for m in SERVED}
    specs = [spec_for(i, ref) for i, ref in enumerate(one_per_map.values(), start=1)]
    endpoint, path = await sim_rtu(specs)
    async with rtu_client(path) as client:
        for spec in specs:
            assert await check_every_quantity(client, endpoint, spec.address)


async def test_rtu_on_a_socat_pty_with_even_parity(sim_bus, socat_pty_pair) -> None:
    server_path, client_path = socat_pty_pair
    settings = LineSettings(server_path, 19200, "E", 1)  # a pty cannot set it: dropped
    endpoint = await sim_bus.serve_rtu(server_path, settings, [spec_for(4, "SDM630")])
    async with rtu_client(client_path) as client:
        assert await check_every_quantity(client, endpoint, 4) > 20


async def test_values_follow_the_clock(sim_tcp, sim_clock: SimClock) -> None:
    endpoint = await sim_tcp([spec_for(1, "0 146 68")])
    async with tcp_client(endpoint) as client:
        before = (await read(client, 3, 0xC65C, 2, 1)).registers
        sim_clock.advance(6 * 3600)
        after = (await read(client, 3, 0xC65C, 2, 1)).registers
    assert (after[0] << 16 | after[1]) > (before[0] << 16 | before[1])  # kWh counted


async def test_out_of_map_unreadable_and_wrong_function_answers(sim_tcp) -> None:
    endpoint = await sim_tcp([spec_for(1, "0 146 68"), spec_for(2, "SDM630")])
    async with tcp_client(endpoint) as client:
        ok = await read(client, 3, 0xC552, 36, 1)  # a merged read over the whole block
        assert not ok.isError() and len(ok.registers) == 36
        outside = await read(client, 3, 0x0000, 2, 1)
        across = await read(client, 3, 0xC58E, 4, 1)  # runs into 0xC590..0xC64F
        wrong_fc = await read(client, 4, 0xC552, 2, 1)
        too_many = await read(client, 4, 0x0000, 81, 2)  # Eastron: 80 at most
        for response, code in ((outside, 2), (across, 2), (wrong_fc, 1), (too_many, 3)):
            assert isinstance(response, ExceptionResponse) and response.exception_code == code
        missing = await read(client, 3, 0xC552, 2, 9)
        assert isinstance(missing, ExceptionResponse) and missing.exception_code == 0x0B


async def _timed(coro) -> tuple[object, float]:
    start = time.perf_counter()
    try:
        result: object = await coro
    except ModbusIOException as error:
        result = error
    return result, time.perf_counter() - start


class Received(list[bytes]):
    """The bytes a client received, and an event set at each arrival."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()


async def _check_faults(endpoint: Endpoint, client, received: Received) -> None:
    fast = await read(client, 3, 0x0000, 1, 2)
    assert not fast.isError()
    endpoint.set_fault(1, parse_fault("silent"))
    received.clear()
    result, _ = await _timed(read(client, 3, 0xC558, 2, 1))
    assert isinstance(result, ModbusIOException) and not received
    endpoint.set_fault(1, parse_fault("crc"))
    result, _ = await _timed(read(client, 3, 0xC558, 2, 1))
    assert isinstance(result, ModbusIOException) and received  # bytes came, none valid
    endpoint.set_fault(1, parse_fault("exception"))
    result, _ = await _timed(read(client, 3, 0xC558, 2, 1))
    assert isinstance(result, ExceptionResponse) and result.exception_code == 4
    # slow: the answer comes, later than the client's 0.3 s timeout; the others are not slowed
    endpoint.set_fault(1, parse_fault("slow:1000"))
    received.clear()
    result, _ = await _timed(read(client, 3, 0xC558, 2, 1))
    assert isinstance(result, ModbusIOException) and not received
    while not received:  # ... it does come (and the client drops it)
        await asyncio.wait_for(received.arrived.wait(), 10.0)
        received.arrived.clear()
    other, _ = await _timed(read(client, 3, 0x0000, 1, 2))
    assert not other.isError()  # type: ignore[attr-defined]
    endpoint.set_fault(1, parse_fault("clear"))
    result, _ = await _timed(read(client, 3, 0xC558, 2, 1))
    assert not result.isError()  # type: ignore[attr-defined]


def _recorder(received: Received):
    def trace(sending: bool, data: bytes) -> bytes:
        if not sending:
            received.append(data)
            received.arrived.set()
        return data

    return trace


async def test_each_fault_over_tcp_and_its_clearing(sim_tcp) -> None:
    endpoint = await sim_tcp([spec_for(1, "0 146 68"), spec_for(2, "DPX3 250 ELEC")])
    received = Received()
    async with tcp_client(endpoint, timeout=0.3, trace_packet=_recorder(received)) as client:
        await _check_faults(endpoint, client, received)


async def test_each_fault_over_rtu_and_its_clearing(sim_rtu) -> None:
    endpoint, path = await sim_rtu([spec_for(1, "0 146 68"), spec_for(2, "DPX3 250 ELEC")])
    received = Received()
    async with rtu_client(path, timeout=0.3, trace_packet=_recorder(received)) as client:
        await _check_faults(endpoint, client, received)
        result, _ = await _timed(read(client, 3, 0x0000, 1, 9))  # nobody at 9 on a bus
        assert isinstance(result, ModbusIOException)


async def test_wire_time_delays_each_answer_by_its_time_on_the_wire(sim_rtu) -> None:
    endpoint, path = await sim_rtu([spec_for(3, "0 146 68")], wire_time=True)
    expected = endpoint.wire_s(5, 2 + 2 * 36, 10.0)  # 8E1: 11 bits a char, 10 ms turnaround
    assert expected == pytest.approx((8 + 77 + 7) * 11 / 19200 + 0.010)
    async with rtu_client(path) as client:
        await read(client, 3, 0xC552, 36, 3)
        start = time.perf_counter()
        for _ in range(4):
            assert not (await read(client, 3, 0xC552, 36, 3)).isError()
        ratio = (time.perf_counter() - start) / 4 / expected
    # Never before its time on the wire (how close to it: scripts/bench_poll.py, rtu
    # cycle_over_wire_min, measures the same emulation without a loaded test run around it).
    assert ratio >= 0.99


async def test_many_tcp_gateways_at_once(sim_tcp) -> None:
    endpoints = [await sim_tcp([spec_for(1, "SDM120"), spec_for(2, "0 590 02")]) for _ in range(20)]
    assert len({ep.port for ep in endpoints}) == 20

    async def poll(endpoint: Endpoint) -> float:
        async with tcp_client(endpoint) as client:
            response = await client.read_input_registers(0, count=2, device_id=1)
            return decode(
                CATALOG.maps["eastron_sdm120"].quantities[0],
                response.registers,
                CATALOG.maps["eastron_sdm120"],
            )  # type: ignore[return-value]

    volts = await asyncio.gather(*(poll(ep) for ep in endpoints))
    assert all(220 < v < 240 for v in volts)
    assert len(set(volts)) > 1  # each gateway's devices have their own values


async def test_a_forced_trip_reads_back_and_stops_the_power(sim_tcp) -> None:
    endpoint = await sim_tcp([spec_for(5, "DPX3 630 MU")])
    reg_map = CATALOG.maps["dpx3_measure"]
    breaker, power = reg_map.quantity("breaker"), reg_map.quantity("p")
    async with tcp_client(endpoint) as client:
        endpoint.force(5, "breaker", "tripped")
        state = await read(client, 3, 0, 1, 5)
        watts = await read(client, 3, power.register, 2, 5)  # type: ignore[union-attr]
        assert decode(breaker, state.registers, reg_map) == "tripped"  # type: ignore[arg-type]
        assert decode(power, watts.registers, reg_map) == 0  # type: ignore[arg-type]
        endpoint.force(5, "breaker", None)
        state = await read(client, 3, 0, 1, 5)
        assert decode(breaker, state.registers, reg_map) == "closed"  # type: ignore[arg-type]


async def test_bus_level_faults_and_bad_specs(sim_bus: SimulatedBus, sim_tcp) -> None:
    first = await sim_tcp([spec_for(1, "SDM120")])
    second = await sim_tcp([spec_for(1, "SDM630")])
    sim_bus.set_fault(1, Fault("silent"))
    assert first.devices[1].fault == second.devices[1].fault == Fault("silent")
    with pytest.raises(SimError, match="no simulated device at address 7"):
        sim_bus.set_fault(7, None)
    with pytest.raises(SimError, match='unknown model "NOPE"'):
        await sim_tcp([DeviceSpec(1, "NOPE")])
    with pytest.raises(SimError, match="through its pulse concentrator"):
        await sim_tcp([DeviceSpec(1, "GAS METER")])
    with pytest.raises(SimError, match="served twice"):
        await sim_tcp([spec_for(1, "SDM120"), spec_for(1, "SDM630")])


def test_fault_and_device_arguments() -> None:
    assert parse_fault("slow:250") == Fault("slow", 250.0)
    assert parse_fault("CRC") == Fault("crc") and parse_fault("clear") is None
    for bad in ("slow", "slow:x", "loud", "silent:3"):
        with pytest.raises(SimError):
            parse_fault(bad)
    assert parse_device("5=0 146 68") == DeviceSpec(5, "0 146 68")
    generic = parse_device("2=GENERIC:4:0100:2:0.01")
    assert generic == DeviceSpec(2, "GENERIC", GENERIC)
    for bad in ("5", "x=SDM630", "300=SDM630", "5="):
        with pytest.raises(SimError):
            parse_device(bad)
    assert crc16(b"\x01\x03\x00\x00\x00\x01") == 0x0A84  # 01 03 00 00 00 01 84 0A


def test_fixed_clock_is_what_the_fixtures_serve(sim_clock: SimClock) -> None:
    assert sim_clock() == FIXED_NOW and HOST == "127.0.0.1"


async def test_a_closed_gateway_closes_its_clients_connections(sim_tcp) -> None:
    """A stopped gateway is gone for its clients too: they read EOF at once, as when the
    process serving it stops (Python 3.11's Server.close leaves them open and silent)."""
    endpoint = await sim_tcp([spec_for(1, "0 146 68")])
    assert endpoint.host is not None and endpoint.port is not None
    reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
    try:
        await endpoint.close()
        assert await asyncio.wait_for(reader.read(1), 5.0) == b""
    finally:
        writer.close()
