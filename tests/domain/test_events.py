"""Events are frozen values; states are checked at construction, samples are not."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    Event,
    GatewayState,
    GatewayStateChanged,
    InstallationChanged,
    Progress,
    Sample,
    SettingsChanged,
    TaskFailed,
)

EVERY_EVENT = [
    Sample(3, 1_700_000_000.0, {"P": 1200.5, "model": "EMDX3", "U1": None}),
    DeviceStateChanged(3, DeviceState.COMM_ERROR, "no answer in 300 ms"),
    GatewayStateChanged(1, GatewayState.OFF, "switched off"),
    InstallationChanged(7),
    SettingsChanged("rs485"),
    Progress("export", 3, 10, "2024-05"),
    TaskFailed("poller:Local", "OSError: gone"),
]


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: type(e).__name__)
def test_every_event_is_a_frozen_slotted_event(event: Event) -> None:
    assert isinstance(event, Event)
    assert not hasattr(event, "__dict__")
    field = dataclasses.fields(event)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(event, field, 0)


def test_events_compare_by_value() -> None:
    assert InstallationChanged(7) == InstallationChanged(7)
    assert InstallationChanged(7) != InstallationChanged(8)
    assert SettingsChanged("smtp") != InstallationChanged(7)


def test_missing_quantity_is_none_not_a_stale_number() -> None:
    sample = Sample(1, 0.0, {"P": None})
    assert sample.values["P"] is None


@pytest.mark.parametrize("state", ["on", "off", "comm_error", "config_error"])
def test_device_state_accepts_the_manual_states_as_strings(state: str) -> None:
    event = DeviceStateChanged(5, state, "")  # type: ignore[arg-type]
    assert event.state is DeviceState(state)
    assert event.state == state


def test_gateway_has_no_config_error_state() -> None:
    with pytest.raises(ValueError, match="config_error"):
        GatewayStateChanged(1, "config_error")  # type: ignore[arg-type]


def test_unknown_device_state_is_refused() -> None:
    with pytest.raises(ValueError, match="tripped"):
        DeviceStateChanged(1, "tripped")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("done", "total", "fraction", "finished"),
    [
        (0, None, None, False),
        (0, 4, 0.0, False),
        (2, 4, 0.5, False),
        (4, 4, 1.0, True),
        (0, 0, 1.0, True),
        (5, 4, 1.0, True),
    ],
)
def test_progress_fraction(
    done: int, total: int | None, fraction: float | None, finished: bool
) -> None:
    progress = Progress("en50160", done, total)
    assert progress.fraction == fraction
    assert progress.finished is finished


@pytest.mark.parametrize(("done", "total"), [(-1, None), (0, -3)])
def test_negative_progress_is_refused_naming_the_job(done: int, total: int | None) -> None:
    with pytest.raises(ValueError, match="connector"):
        Progress("connector", done, total)


def test_events_module_does_not_import_asyncio() -> None:
    code = "import sys, ews_tui.domain.events; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
