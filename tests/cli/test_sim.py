"""``ews sim`` run the way a user runs it: a subprocess that serves until SIGTERM. What it
refuses, and the status it ends with then, is checked in this process (``ews_here``)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

from ews_tui.cli.errors import UserError
from ews_tui.cli.sim import load_site, site_quality
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.installation_doc import from_document
from ews_tui.domain.rules import RuleContext
from ews_tui.modbus.codec import decode
from tests.cli.conftest import Run

# `ews`, as its console script runs it.
RUNNER = "import sys, ews_tui.cli as cli; sys.exit(cli.main(sys.argv[1:]))"
ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}
CATALOG = builtin_catalog()


@asynccontextmanager
async def ews_sim(*args: str, lines: int) -> AsyncIterator[list[str]]:
    """``ews sim ARGS`` running; yields its first ``lines`` stderr lines; SIGTERM at the end."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUNNER, "sim", *args, stderr=asyncio.subprocess.PIPE, env=ENV
    )
    assert proc.stderr is not None
    try:
        seen = []
        while len(seen) < lines:
            line = await asyncio.wait_for(proc.stderr.readline(), 15.0)
            assert line, f"ews sim stopped: {b''.join(map(str.encode, seen))!r}"
            seen.append(line.decode().rstrip())
        yield seen
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10.0) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def tcp_port(line: str) -> int:
    match = re.search(r"tcp 127\.0\.0\.1:(\d+)", line)
    assert match, line
    return int(match[1])


async def test_serves_devices_over_tcp_and_stops_on_sigterm() -> None:
    args = ("--tcp", "127.0.0.1:0", "--device", "1=SDM630", "--device", "2=0 146 68")
    async with ews_sim(*args, "--fault", "2=exception", lines=1) as out:
        assert "1=SDM630, 2=0 146 68" in out[0]
        client = AsyncModbusTcpClient("127.0.0.1", port=tcp_port(out[0]), timeout=2, retries=0)
        await client.connect()
        try:
            volts = await client.read_input_registers(0, count=2, device_id=1)
            faulty = await client.read_holding_registers(0xC558, count=2, device_id=2)
        finally:
            client.close()
    reg_map = CATALOG.maps["eastron_sdm630"]
    assert 220 < decode(reg_map.quantity("v1"), volts.registers, reg_map) < 240  # type: ignore[arg-type, operator]
    assert faulty.isError() and faulty.exception_code == 4


async def test_serves_the_demo_site_on_a_pty_and_two_gateways() -> None:
    args = ("--site", "demo", "--rtu", "pty", "--tcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0")
    async with ews_sim(*args, "--wire-time", lines=4) as out:
        assert [line.split(":")[1].split()[1] for line in out[:3]] == ["rtu", "tcp", "tcp"]
        assert "4 120 65" in out[0] and "0 590 32" in out[1] and "SDM630" in out[2]
        path = out[3].rsplit(" ", 1)[1]
        client = AsyncModbusSerialClient(path, baudrate=19200, timeout=2, retries=0)
        await client.connect()
        try:
            gas = await client.read_holding_registers(0x1002, count=2, device_id=5)
        finally:
            client.close()
        tcp = AsyncModbusTcpClient("127.0.0.1", port=tcp_port(out[1]), timeout=2, retries=0)
        await tcp.connect()
        try:
            charger = await tcp.read_holding_registers(0x0100, count=1, device_id=2)  # side 2
        finally:
            tcp.close()
    index = CATALOG.maps["pulse_concentrator_8"].quantities[1]
    assert decode(index, gas.registers, CATALOG.maps["pulse_concentrator_8"]) > 1000  # type: ignore[operator]
    assert not charger.isError() and charger.registers[0] in range(5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "1=SDM630"], "nothing to serve on"),
        (["--tcp", "127.0.0.1:0"], "no device"),
        (["--tcp", "localhost", "--device", "1=SDM630"], '--tcp "localhost" is not HOST:PORT'),
        (["--tcp", "127.0.0.1:0", "--device", "1"], "is not ADDR=REF"),
        (["--tcp", "127.0.0.1:0", "--device", "1=SDM630", "--fault", "1=loud"], '"loud"'),
        (["--rtu", "pty", "--parity", "X", "--device", "1=SDM630"], '--parity "X"'),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    ews_here: Run, args: list[str], message: str
) -> None:
    result = ews_here("sim", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_model_is_a_user_error(ews_here: Run) -> None:
    result = ews_here("sim", "--tcp", "127.0.0.1:0", "--device", "3=X")
    assert result.returncode == 1
    assert result.stderr.strip() == 'ews: unknown model "X"'


def test_the_demo_site_keeps_every_rule() -> None:
    text = (resources.files("ews_tui") / "data" / "sites" / "demo.toml").read_text("utf-8")
    doc = tomllib.loads(text)
    assert doc.pop("simulation") == {"quality": {"Machine tools": "harmonics"}}  # the sim's
    inst, violations = from_document(doc, RuleContext(builtin_catalog()))
    assert violations == []
    assert load_site("demo") == inst
    assert len(inst.gateways) == 3 and len(inst.devices_of(1)) >= 6
    assert [g.port for g in inst.gateways[1:]] == [15021, 15022]
    assert inst.gateways[0].eq_device_id is not None and inst.gateways[2].eq_device_id is not None
    families = {CATALOG.find(d.model).family for d in inst.devices}  # type: ignore[union-attr]
    assert {
        "emdx3_power_meters",
        "emscx3_measure",
        "dpx3",
        "pulse_meters",
        "gas_meters",
        "water_meters",
        "io_devices",
        "greenup_premium",
        "greenup",
        "dx3",
        "emdx3_energy_meters",
        "other",
    } <= families
    assert load_site("demo") == inst


def test_a_missing_site_is_a_user_error() -> None:
    with pytest.raises(UserError, match="site nowhere"):
        load_site("nowhere")


async def test_devices_at_the_addresses_of_the_device_form() -> None:
    """2-1: EMS CX3 module 2 on interface 1 is unit 12; 7-2 a pulse meter on input 2 of the
    concentrator at 7; 5-2 side 2 of the charger at 5 (one unit answers for both sides)."""
    args = ("--tcp", "127.0.0.1:0", "--device", "2-1=4 149 18", "--device", "7=0 046 87",
            "--device", "7-2=GAS", "--device", "5-2=0 590 32")  # fmt: skip
    async with ews_sim(*args, lines=1) as out:
        assert "5=0 590 32, 7=0 046 87, 12=4 149 18" in out[0]
        client = AsyncModbusTcpClient("127.0.0.1", port=tcp_port(out[0]), timeout=2, retries=0)
        await client.connect()
        try:
            ems = await client.read_holding_registers(0, count=2, device_id=12)
            gas = await client.read_holding_registers(0x1002, count=2, device_id=7)
            side2 = await client.read_holding_registers(0x0100, count=1, device_id=5)
        finally:
            client.close()
    assert not ems.isError() and not gas.isError() and not side2.isError()
    concentrator = CATALOG.maps["pulse_concentrator_10"]
    assert decode(concentrator.quantities[1], gas.registers, concentrator) > 0  # type: ignore[operator]


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("7-2=0 046 73", "a pulse meter needs its concentrator"),
        ("2-30=4 149 18", "EMS CX3 interface address 30 is not between 1 and"),
        ("3-2=SDM630", "model SDM630 takes a plain Modbus address"),
        ("7-12=0 046 73@0 046 87", "position 12 is not between 1 and 10"),
    ],
)
def test_a_device_the_form_would_refuse_is_a_user_error(
    ews_here: Run, device: str, message: str
) -> None:
    result = ews_here("sim", "--tcp", "127.0.0.1:0", "--device", device)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_quality_scenarios_are_checked(ews_here: Run) -> None:
    bad = ews_here("sim", "--tcp", "127.0.0.1:0", "--device", "1=0 146 68", "--quality", "1=noisy")
    assert bad.returncode == 2
    assert '--quality "1=noisy": the scenario is one of normal, sag, harmonics' in bad.stderr
    assert site_quality("demo") == {"Machine tools": "harmonics"}
