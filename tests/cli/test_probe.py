"""``ews probe`` in a subprocess, against the device simulator served by the test's loop."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from ews_tui.domain.installation import GenericRegister
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.modbus.sim_server import DeviceSpec, Endpoint, Fault, SimulatedBus, open_pty_pair

# ``ews`` with the probe command, whether or not the command table lists it yet.
EWS = (
    "import sys; from ews_tui import cli; from ews_tui.cli import probe; "
    "cli.COMMANDS = tuple(dict.fromkeys((*cli.COMMANDS, probe))); sys.exit(cli.main())"
)


@dataclass
class Run:
    code: int
    out: str
    err: str


async def ews(*args: str) -> Run:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", EWS, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


@pytest.fixture
async def gateway() -> AsyncIterator[Endpoint]:
    async with SimulatedBus() as sim:
        devices = [
            DeviceSpec(5, "0 146 68"),
            DeviceSpec(6, "GENERIC", GenericRegister(3, 0xC65C, 2, 1.0)),
            DeviceSpec(9, "0 590 61"),
        ]
        yield await sim.serve_tcp("127.0.0.1", 0, devices)


def tcp(endpoint: Endpoint) -> list[str]:
    return ["probe", "--tcp", f"127.0.0.1:{endpoint.port}", "--timeout", "300"]


async def test_human_table(gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "5", "--model", "0 146 68")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert "0 146 68" in lines[0] and "assumed" not in lines[0]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows["v1"][1] == "V" and 200 < float(rows["v1"][0]) < 260
    assert rows["ea_import"][1] == "kWh"


async def test_json_with_a_reference_without_spaces(gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "5", "--model", "014668", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)  # one object, nothing else on stdout
    assert doc["address"] == 5 and doc["model"] == "0 146 68"
    assert doc["provenance"] == "published"
    q = doc["quantities"]
    assert 200 < q["v1"] < 260 and 49 < q["f"] < 51 and q["ea_import"] >= 0
    assert abs(q["v1"] - gateway.values(5)["v1"]) < 5


async def test_assumed_map_is_said(gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "9", "--model", "0 590 61")
    assert run.code == 0, run.err
    assert "(assumed register map)" in run.out.splitlines()[0]


async def test_generic_meter_reports_ea_import(gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "6", "--generic", "3:C65C:2:1", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["provenance"] == "assumed" and list(doc["quantities"]) == ["ea_import"]
    assert isinstance(doc["quantities"]["ea_import"], float)


async def test_silent_device(gateway: Endpoint) -> None:
    gateway.set_fault(5, Fault("silent"))
    run = await ews(*tcp(gateway), "--address", "5", "--model", "0 146 68", "--json")
    assert run.code == 1 and run.out == ""
    assert "no answer from address 5" in run.err


async def test_unknown_model_and_usage_errors(gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "5", "--model", "X 99")
    assert run.code == 1 and 'unknown model "X 99"' in run.err
    assert (await ews(*tcp(gateway), "--model", "SDM630")).code == 2  # no --address
    bad = await ews(*tcp(gateway), "--address", "5", "--generic", "3:ZZ:2")
    assert bad.code == 2 and "FC:REGHEX:WORDS:MULT" in bad.err
    both = await ews(*tcp(gateway), "--rtu", "/dev/null", "--address", "5", "--model", "SDM630")
    assert both.code == 2


async def test_rtu_on_a_pty_with_an_alias() -> None:
    pair = open_pty_pair()
    try:
        async with SimulatedBus() as sim:
            await sim.serve_rtu(pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")])
            run = await ews("probe", "--rtu", pair.path, "--parity", "E", "--address", "7",
                            "--model", "Eastron SDM630", "--json")  # fmt: skip
    finally:
        pair.close()
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["model"] == "SDM630" and 200 < doc["quantities"]["v1"] < 260
