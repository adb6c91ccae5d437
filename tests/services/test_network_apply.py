"""The network backend: the .network file written atomically (with DNS), then networkctl
reload and reconfigure through the runner; "applied" only when both succeed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ews_tui.config import ConfigError, default_config, save_config
from ews_tui.hub import Hub
from ews_tui.services.network_apply import NetworkState, networkd_text
from ews_tui.services.settings import SettingsService
from tests.services.command_fixtures import RecordingRunner

RELOAD = ("networkctl", "reload")
RECONFIGURE = ("networkctl", "reconfigure", "eth0")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path / "data"), path)
    return path


async def _networkd(config_path: Path, runner: RecordingRunner) -> SettingsService:
    service = SettingsService(config_path, Hub(), runner=runner)
    folder = config_path.parent / "networkd"
    await service.apply(
        {"network.backend": "systemd-networkd", "network.networkd_dir": str(folder)}
    )
    runner.calls.clear()
    return service


async def test_backend_none_runs_nothing(config_path: Path) -> None:
    runner = RecordingRunner()
    service = SettingsService(config_path, Hub(), runner=runner)
    await service.apply({"network.ip": "192.168.1.50", "network.dns": "9.9.9.9"})
    assert runner.calls == []
    assert service.network_status().state is NetworkState.STORED_ONLY


async def test_written_reloaded_reconfigured_then_applied(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _networkd(config_path, runner)
    await service.apply({"network.ip": "192.168.1.20", "network.dns": "192.168.1.1, 2001:db8::53"})
    status = service.network_status()
    assert status.state is NetworkState.APPLIED and status.error is None
    assert runner.calls == [RELOAD, RECONFIGURE]
    assert status.file is not None
    text = status.file.read_text()
    assert text == networkd_text(service.config.network)
    assert text.endswith(
        "Address=192.168.1.20/24\nGateway=192.168.1.1\nDNS=192.168.1.1\nDNS=2001:db8::53\n"
    )
    assert status.file.stat().st_mode & 0o777 == 0o644  # systemd-networkd must read it
    assert [p.name for p in status.file.parent.iterdir()] == ["10-ews-eth0.network"]


@pytest.mark.parametrize("failing", [RELOAD, RECONFIGURE])
async def test_a_failed_command_is_not_applied_and_says_why(
    config_path: Path, failing: tuple[str, ...]
) -> None:
    runner = RecordingRunner({failing: (1, "Failed to connect to bus: No such file or directory")})
    service = await _networkd(config_path, runner)
    await service.apply({"network.ip": "192.168.1.20"})
    status = service.network_status()
    assert status.state is NetworkState.FAILED and not status.applied
    assert status.step == " ".join(failing)
    assert str(status.error) == "exit status 1: Failed to connect to bus: No such file or directory"
    assert runner.calls[-1] == failing  # nothing after the failure
    assert service.config.network.ip.exploded == "192.168.1.20"  # saved all the same
    runner.fail.clear()
    again = await service.reapply_network()  # F6 on the page
    assert again.applied and service.network_status() is again
    assert runner.calls[-2:] == [RELOAD, RECONFIGURE]


async def test_an_unwritable_folder_runs_nothing(config_path: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    runner = RecordingRunner()
    service = SettingsService(config_path, Hub(), runner=runner)
    await service.apply(
        {"network.backend": "systemd-networkd", "network.networkd_dir": str(blocker / "net")}
    )
    status = service.network_status()
    assert status.state is NetworkState.FAILED
    assert status.step == str(blocker / "net" / "10-ews-eth0.network")
    assert str(status.error).startswith("cannot write it: ")
    assert runner.calls == []


async def test_a_renamed_interface_leaves_no_old_unit(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _networkd(config_path, runner)
    await service.apply({"network.interface": "enp1s0"})
    folder = config_path.parent / "networkd"
    assert [p.name for p in folder.iterdir()] == ["10-ews-enp1s0.network"]
    assert runner.calls == [RELOAD, ("networkctl", "reconfigure", "enp1s0")]


async def test_status_before_any_save_compares_the_file(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _networkd(config_path, runner)
    restarted = SettingsService(config_path, Hub(), runner=runner)
    assert restarted.network_status().state is NetworkState.WRITTEN  # as saved, not re-applied
    assert service.network_status().file is not None
    service.network_status().file.write_text("[Match]\nName=eth0\n")  # changed by hand
    assert restarted.network_status().state is NetworkState.PENDING


async def test_bad_dns_is_refused_and_nothing_runs(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _networkd(config_path, runner)
    with pytest.raises(ConfigError) as refused:
        await service.apply({"network.dns": "192.168.1.1, dns.example"})
    assert [str(p) for p in refused.value.problems] == [
        'network.dns: "dns.example" is not an IP address'
    ]
    assert runner.calls == []
