"""What ``scripts/bench_poll.py`` measures its wire minimum from: the bytes and frames the
simulator counts at its side of the line (RTU and TCP), turned into line time at the
configured settings; and the per-device block baseline's reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from types import ModuleType

import pytest
from pymodbus.exceptions import ModbusIOException

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.sim.server import DeviceSpec, Endpoint
from tests.scripts.bench_scripts import bench_script
from tests.sim.fixtures import rtu_client, tcp_client

EMDX3 = "0 146 68"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return bench_script("bench_poll")


async def test_rtu_port_counts_every_byte_and_frame_each_way(
    sim_rtu: Callable[..., Awaitable[tuple[Endpoint, str]]],
) -> None:
    endpoint, path = await sim_rtu([DeviceSpec(7, EMDX3)])
    async with rtu_client(path) as client:
        for count in (2, 10):
            result = await client.read_holding_registers(0xC552, count=count, device_id=7)
            assert not result.isError()
    # Requests: address, fc, start, count, CRC = 8 bytes; answers: 5 + 2 per register.
    assert asdict(endpoint.wire) == {
        "bytes_in": 2 * 8,
        "bytes_out": (5 + 2 * 2) + (5 + 2 * 10),
        "frames_in": 2,
        "frames_out": 2,
    }


async def test_rtu_port_counts_an_exception_answer_and_a_silent_unit(
    sim_rtu: Callable[..., Awaitable[tuple[Endpoint, str]]],
) -> None:
    endpoint, path = await sim_rtu([DeviceSpec(7, EMDX3)])
    async with rtu_client(path, timeout=0.2) as client:
        refused = await client.read_holding_registers(0xC600, count=2, device_id=7)
        assert refused.isError()  # exception 02: address, fc | 0x80, code, CRC = 5 bytes
        with pytest.raises(ModbusIOException):  # nobody at 9: nothing answers
            await client.read_holding_registers(0xC552, count=2, device_id=9)
    assert asdict(endpoint.wire) == {
        "bytes_in": 16,
        "bytes_out": 5,
        "frames_in": 2,
        "frames_out": 1,
    }


async def test_tcp_endpoint_counts_mbap_bytes_and_frames(
    sim_tcp: Callable[..., Awaitable[Endpoint]],
) -> None:
    endpoint = await sim_tcp([DeviceSpec(3, EMDX3)])
    async with tcp_client(endpoint) as client:
        result = await client.read_holding_registers(0xC552, count=4, device_id=3)
        assert not result.isError()
    # MBAP header 7 bytes + PDU: request 5, answer 2 + 2 per register.
    assert asdict(endpoint.wire) == {
        "bytes_in": 12,
        "bytes_out": 7 + 2 + 8,
        "frames_in": 1,
        "frames_out": 1,
    }


def test_line_time_counts_start_data_parity_stop_bits_and_a_silence_per_frame(
    bench: ModuleType,
) -> None:
    assert bench.Line(19200, "E", 1).bits_per_char == 11
    assert bench.Line(19200, "N", 1).bits_per_char == 10
    assert bench.Line(9600, "O", 2).bits_per_char == 12
    line = bench.Line(19200, "E", 1)
    wire = {"bytes_in": 8, "bytes_out": 9, "frames_in": 1, "frames_out": 1}
    assert line.seconds(wire) == pytest.approx((17 + 2 * 3.5) * 11 / 19200)
    # Above 19200 baud the silence is a fixed 1.75 ms (Modbus over serial line, 2.5.1.1).
    fast = bench.Line(115200, "N", 1)
    assert fast.seconds(wire) == pytest.approx(17 * 10 / 115200 + 2 * 0.00175)


def test_block_baseline_reads_each_map_span_in_as_few_reads_as_its_limit_allows(
    bench: ModuleType,
) -> None:
    catalog = builtin_catalog()
    for reg_map in catalog.maps.values():
        reads = bench.block_reads(reg_map)
        limit = min(125, reg_map.max_registers)
        for fc, start, count in reads:
            assert 1 <= count <= limit
            last = start + count - 1
            assert not any(
                f == fc and lo <= last and start <= hi for f, lo, hi in reg_map.unreadable
            ), (reg_map.id, fc, start, count)
        for q in reg_map.quantities:  # every quantity inside one read
            assert any(
                fc == q.fc and start <= q.register and q.register + q.words <= start + count
                for fc, start, count in reads
            ), (reg_map.id, q.id)
    emdx3 = catalog.maps["emdx3_common"]  # three blocks between its two unreadable gaps
    assert [(fc, hex(s), n) for fc, s, n in bench.block_reads(emdx3)] == [
        (3, "0xc552", 36),
        (3, "0xc65c", 8),
        (3, "0xc950", 10),
    ]
    sdm630 = catalog.maps["eastron_sdm630"]  # Eastron: at most 80 registers a read
    assert all(n <= 80 for _, _, n in bench.block_reads(sdm630))
