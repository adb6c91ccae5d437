"""``ews probe`` against the device simulator served by the test's loop: the command runs in
this process (``ews_here``, in a thread: it runs a loop of its own), for what it says and the
status it ends with; no new Python process to start for each probe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ews_tui.domain.installation import GenericRegister
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.sim.server import DeviceSpec, Endpoint, Fault, SimulatedBus, open_pty_pair
from tests.cli.conftest import Run as RunHere
from tests.cli.test_sim import ews_sim, tcp_port


@dataclass
class Run:
    code: int
    out: str
    err: str


Probe = Callable[..., Awaitable[Run]]


@pytest.fixture
def ews(ews_here: RunHere) -> Probe:
    """``await ews("probe", ...)``: the command run in this process, in a thread of its own
    (its loop beside the test's, where the simulator answers)."""

    async def run(*args: str) -> Run:
        done = await asyncio.to_thread(ews_here, *args)
        return Run(done.returncode, done.stdout, done.stderr)

    return run


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


async def test_human_table(ews: Probe, gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "5", "--model", "0 146 68")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert "0 146 68" in lines[0] and "assumed" not in lines[0]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows["v1"][1] == "V" and 200 < float(rows["v1"][0]) < 260
    assert rows["ea_import"][1] == "kWh"


async def test_json_with_a_reference_without_spaces(ews: Probe, gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "5", "--model", "014668", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)  # one object, nothing else on stdout
    assert doc["address"] == 5 and doc["model"] == "0 146 68"
    assert doc["provenance"] == "published"
    q = doc["quantities"]
    assert 200 < q["v1"] < 260 and 49 < q["f"] < 51 and q["ea_import"] >= 0
    assert abs(q["v1"] - gateway.values(5)["v1"]) < 5


async def test_assumed_map_is_said(ews: Probe, gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "9", "--model", "0 590 61")
    assert run.code == 0, run.err
    assert "(unverified register map)" in run.out.splitlines()[0]


async def test_generic_meter_reports_ea_import(ews: Probe, gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "6", "--generic", "3:C65C:2:1", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["provenance"] == "assumed" and list(doc["quantities"]) == ["ea_import"]
    assert isinstance(doc["quantities"]["ea_import"], float)


async def test_silent_device(ews: Probe, gateway: Endpoint) -> None:
    gateway.set_fault(5, Fault("silent"))
    run = await ews(*tcp(gateway), "--address", "5", "--model", "0 146 68", "--json")
    assert run.code == 1 and run.out == ""
    assert "no answer from address 5" in run.err


async def test_unknown_model_and_usage_errors(ews: Probe, gateway: Endpoint) -> None:
    run = await ews(*tcp(gateway), "--address", "5", "--model", "X 99")
    assert run.code == 1 and 'unknown model "X 99"' in run.err
    assert (await ews(*tcp(gateway), "--model", "SDM630")).code == 2  # no --address
    bad = await ews(*tcp(gateway), "--address", "5", "--generic", "3:ZZ:2")
    assert bad.code == 2 and "FC:REGHEX:WORDS:MULT" in bad.err
    both = await ews(*tcp(gateway), "--rtu", "/dev/null", "--address", "5", "--model", "SDM630")
    assert both.code == 2


async def test_rtu_on_a_pty_with_an_alias(ews: Probe) -> None:
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


# ------------------------------------------- every device the UI can configure, against ews sim

USER_MODEL = """
[[maps]]
id = "acme_map"
provenance = "assumed"
quantities = [
  { id = "p", unit = "kW", register = 0x10, type = "s32", scale = 0.001 },
  { id = "ea_import", unit = "kWh", register = 0x20, type = "u32", scale = 0.01 },
]

[[models]]
ref = "ACME-1"
name = "ACME meter"
family = "emdx3_power_meters"
map = "acme_map"
provenance = "assumed"
phases = 3
"""


@pytest.fixture
def box_config(tmp_path: Path) -> Path:
    """A box whose data dir holds one user model file (ACME-1)."""
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    (models / "acme.toml").write_text(USER_MODEL, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    return config


SITE = (
    "--device", "2-1=4 149 18",  # EMS CX3 module 2 on interface 1: unit 12
    "--device", "7=0 046 87",  # a pulse concentrator at 7...
    "--device", "7-2=0 046 73",  # ...a pulse meter on its input 2
    "--device", "9-3=GAS METER@4 120 65",  # a gas meter on input 3 of a concentrator at 9
    "--device", "5-2=0 590 32",  # side 2 of a two-sided charging station at 5
    "--device", "20=ACME-1",  # a user model
)  # fmt: skip


async def test_probe_reaches_every_device_the_ui_configures(ews: Probe, box_config: Path) -> None:
    args = ("--tcp", "127.0.0.1:0", *SITE, "--config", str(box_config))
    async with ews_sim(*args, lines=1) as out:
        bus = ["probe", "--tcp", f"127.0.0.1:{tcp_port(out[0])}", "--timeout", "500", "--json"]

        async def probe(*what: str) -> dict[str, Any]:
            run = await ews(*bus, *what)
            assert run.code == 0, (what, run.err)
            return json.loads(run.out)

        ems = await probe("--address", "2-1", "--model", "4 149 18")
        assert (ems["address"], ems["address_text"]) == (12, "2-1")
        assert 200 < ems["quantities"]["v1"] < 260
        pulse = await probe("--address", "7-2", "--model", "0 046 73",
                            "--concentrator", "0 046 87")  # fmt: skip
        assert (pulse["address"], pulse["address_text"]) == (7, "7-2")
        assert list(pulse["quantities"]) == ["ea_import"] and pulse["quantities"]["ea_import"] > 0
        gas = await probe("--address", "9-3", "--model", "GAS", "--concentrator", "4 120 65")
        assert list(gas["quantities"]) == ["index"] and gas["quantities"]["index"] > 0
        side = await probe("--address", "5-2", "--model", "0 590 32")
        assert side["address_text"] == "5-2" and side["quantities"]["charger"] in (
            "available", "connected", "charging", "fault", "disabled",
        )  # fmt: skip
        user = await probe("--address", "20", "--model", "ACME-1", "--config", str(box_config))
        assert user["model"] == "ACME-1" and user["quantities"]["ea_import"] is not None

        table = await ews(*bus[:-1], "--address", "3-2", "--model", "4 149 18")
        assert table.code == 1  # nothing at unit 23: the user's address, then the unit
        assert "address 3-2 (unit 23) answered exception 11" in table.err
        alone = await ews(*bus, "--address", "7-2", "--model", "0 046 73")
        assert alone.code == 1
        assert "needs the model of its concentrator (--concentrator REF)" in alone.err
        no_side = await ews(*bus, "--address", "5", "--model", "0 590 32")
        assert no_side.code == 1 and "needs its side (1 or 2)" in no_side.err
        unknown = await ews(*bus, "--address", "20", "--model", "ACME-1")
        assert unknown.code == 1 and 'unknown model "ACME-1"' in unknown.err
