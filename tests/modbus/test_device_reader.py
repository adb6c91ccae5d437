"""One device's register map, plans and decoded reads (against an in-memory register image)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ews_tui.domain.catalog import Quantity, RegisterMap, builtin_catalog
from ews_tui.domain.installation import Device, GenericRegister
from ews_tui.modbus.codec import encode
from ews_tui.modbus.device_reader import (
    DeviceMapError,
    DeviceReader,
    DeviceTarget,
    device_map,
    device_target,
)
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.transport import ExceptionCode, NoAnswer, ReadResult

CATALOG = builtin_catalog()
EMDX3 = CATALOG.maps["emdx3_common"]


class Image:
    """A device's registers: reads covering a register it lacks get exception 02."""

    def __init__(self, reg_map: RegisterMap, values: dict[str, float | str | None]) -> None:
        self.words: dict[tuple[int, int], int] = {}
        self.reads: list[tuple[int, int, int]] = []
        for q in reg_map.quantities:
            if q.id in values:
                for i, word in enumerate(encode(q, values[q.id], reg_map)):
                    self.words[(q.fc, q.register + i)] = word

    async def read(self, fc: int, address: int, start: int, count: int) -> ReadResult:
        self.reads.append((fc, start, count))
        try:
            return tuple(self.words[(fc, r)] for r in range(start, start + count))
        except KeyError:
            return ExceptionCode(address, 2)


def _target(reg_map: RegisterMap) -> DeviceTarget:
    return DeviceTarget(1, 5, reg_map, "test", reg_map.provenance)


def _fill_gaps(image: Image, reg_map: RegisterMap) -> None:
    """Make the registers between quantities readable (a device that allows merging)."""
    for fc in {q.fc for q in reg_map.quantities}:
        regs = [r for f, r in image.words if f == fc]
        for r in range(min(regs), max(regs) + 1):
            image.words.setdefault((fc, r), 0)


async def test_reads_and_decodes_every_quantity() -> None:
    values = {"v1": 230.12, "i1": 12.345, "p": -3.5, "ea_import": 1234.0, "pf": 0.95}
    image = Image(EMDX3, dict.fromkeys((q.id for q in EMDX3.quantities), 0.0) | values)
    _fill_gaps(image, EMDX3)
    reader = DeviceReader(_target(EMDX3), BusParams.rtu())
    out = await reader.read(image.read)
    assert not isinstance(out, ExceptionCode)
    assert set(out) == {q.id for q in EMDX3.quantities}
    for qid, value in values.items():
        assert out[qid] == pytest.approx(value, abs=1e-3)
    assert len(image.reads) == len(reader.plan(("fast", "slow")).reads) < len(EMDX3.quantities)


async def test_fast_and_slow_plans() -> None:
    reader = DeviceReader(_target(EMDX3), BusParams.rtu())
    slow = {q.id for q in EMDX3.quantities if q.poll == "slow"}
    assert slow and set(reader.plan(("fast",)).wanted).isdisjoint(slow)
    assert set(reader.plan(("slow",)).wanted) == slow
    assert set(reader.plan(("fast", "slow")).wanted) == {q.id for q in EMDX3.quantities}


async def test_exception_02_on_a_merged_read_splits_it_and_reads_all() -> None:
    # a device without the registers between v1 and i1 that the map says nothing about
    reg_map = RegisterMap(
        "holes",
        "assumed",
        quantities=(
            Quantity("v1", "V", 0x10, "u32", 0.01),
            Quantity("i1", "A", 0x14, "u32", 0.001),
        ),
    )
    image = Image(reg_map, {"v1": 231.5, "i1": 4.2})
    reader = DeviceReader(_target(reg_map), BusParams.rtu())
    assert len(reader.plan(("fast",)).reads) == 1  # the planner merges over 0x12..0x13
    out = await reader.read(image.read, ("fast",))
    assert out == {"v1": pytest.approx(231.5), "i1": pytest.approx(4.2)}
    assert image.reads == [(3, 0x10, 6), (3, 0x10, 2), (3, 0x14, 2)]
    assert reader.state.learned == {3: frozenset({0x12, 0x13})}
    image.reads.clear()
    await reader.read(image.read, ("fast",))  # remembered: no more refused read
    assert image.reads == [(3, 0x10, 2), (3, 0x14, 2)]


async def test_a_quantity_the_device_lacks_is_missing_not_an_error() -> None:
    reg_map = RegisterMap(
        "lacks",
        "assumed",
        quantities=(Quantity("v1", "V", 0x10, "u32", 0.01), Quantity("f", "Hz", 0x12, "u32", 0.01)),
    )
    image = Image(reg_map, {"v1": 229.0})  # no frequency register
    reader = DeviceReader(_target(reg_map), BusParams.rtu())
    assert await reader.read(image.read) == {"v1": pytest.approx(229.0), "f": None}
    only_f = replace(reg_map, quantities=reg_map.quantities[1:])
    reader = DeviceReader(_target(only_f), BusParams.rtu())
    assert await reader.read(image.read) == ExceptionCode(5, 2)  # nothing at all: an error


async def test_a_failure_is_returned_as_is() -> None:
    async def silent(fc: int, address: int, start: int, count: int) -> ReadResult:
        return NoAnswer(address)

    reader = DeviceReader(_target(EMDX3), BusParams.rtu())
    assert await reader.read(silent) == NoAnswer(5)


async def test_sentinel_reads_as_missing() -> None:
    image = Image(EMDX3, dict.fromkeys((q.id for q in EMDX3.quantities), None))
    _fill_gaps(image, EMDX3)
    out = await DeviceReader(_target(EMDX3), BusParams.rtu()).read(image.read)
    assert not isinstance(out, ExceptionCode)
    assert out["v1"] is None


async def test_a_word_out_of_range_spoils_only_its_quantity(caplog) -> None:
    image = Image(EMDX3, dict.fromkeys((q.id for q in EMDX3.quantities), 1.0))
    _fill_gaps(image, EMDX3)
    v1 = EMDX3.quantity("v1")
    assert v1 is not None
    image.words[(3, v1.register + 1)] = 0x10000  # not a 16-bit word (a buggy read function)
    out = await DeviceReader(_target(EMDX3), BusParams.rtu()).read(image.read)
    assert not isinstance(out, ExceptionCode)
    assert out["v1"] is None
    assert out["v2"] == pytest.approx(1.0) and out["ea_import"] == pytest.approx(1.0)
    assert "v1: register value 65536 is not a 16-bit word" in caplog.text


def test_device_maps() -> None:
    meter = Device(1, 1, "0 146 68", 5)
    model, reg_map = device_map(meter, CATALOG)
    assert model is not None and model.ref == "0 146 68" and reg_map is EMDX3

    generic = Device(2, 1, "GENERIC", 6, generic=GenericRegister(4, 0x0156, 2, 0.1))
    target = device_target(generic, CATALOG)
    (q,) = target.reg_map.quantities
    assert (q.id, q.unit, q.fc, q.register, q.type, q.scale) == (
        "ea_import", "kWh", 4, 0x0156, "u32", 0.1,
    )  # fmt: skip
    assert target.provenance == "assumed"

    pulse = Device(3, 1, "0 046 70", 8, concentrator="4 120 65", position=3)
    (q,) = device_target(pulse, CATALOG).reg_map.quantities
    assert (q.id, q.unit, q.register) == ("ea_import", "kWh", 0x1004)
    gas = Device(4, 1, "GAS METER", 8, concentrator="4 120 65", position=2)
    (q,) = device_target(gas, CATALOG).reg_map.quantities
    assert (q.id, q.unit, q.register) == ("index", "m3", 0x1002)

    side1 = device_target(Device(5, 1, "0 590 32", 9, side=1), CATALOG).reg_map
    side2 = device_target(Device(6, 1, "0 590 32", 9, side=2), CATALOG).reg_map
    assert side2.quantity("p").register == side1.quantity("p").register + 0x100

    with pytest.raises(DeviceMapError, match='unknown model "NOPE"'):
        device_target(Device(7, 1, "NOPE", 3), CATALOG)
    with pytest.raises(DeviceMapError, match="4 120 65"):
        device_target(Device(8, 1, "0 046 70", 8, concentrator="4 120 65", position=12), CATALOG)
