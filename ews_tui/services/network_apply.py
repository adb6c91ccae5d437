"""The box's own address really applied (manual §7.5, §7.7.1): ``network.backend``.

``none``: the address stays in ``config.toml`` (the page says "stored only").
``systemd-networkd``: ``<networkd_dir>/10-ews-<interface>.network`` is written atomically
(with the DNS servers, so that the Connector's server and the NTP server may be names), any
other ``10-ews-*.network`` of ours is removed (the interface was renamed), then
``networkctl reload`` and ``networkctl reconfigure <interface>`` run through the
:class:`~ews_tui.services.system_commands.CommandRunner`. The result is "applied" only after
both succeed; otherwise it names the step that failed and why.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ews_tui.atomic_file import write_atomically
from ews_tui.config import NetworkBackend, NetworkSettings
from ews_tui.domain.messages import N_, Message
from ews_tui.services.system_commands import CommandRunner

log = logging.getLogger(__name__)

FILE_PREFIX = "10-ews-"


class NetworkState(StrEnum):
    STORED_ONLY = "stored-only"  # backend none
    PENDING = "pending"  # the file is not (or no longer) what the settings say
    WRITTEN = "written"  # the file matches, written before this run: not known as applied
    APPLIED = "applied"  # written, reloaded and reconfigured by this run
    FAILED = "failed"


@dataclass(frozen=True)
class NetworkResult:
    """What the network backend did with the saved address, and where it stopped if it
    failed (``step``: the file or the command line; ``error``: why)."""

    backend: NetworkBackend
    state: NetworkState
    file: Path | None = None
    step: str = ""
    error: Message | None = None

    @property
    def applied(self) -> bool:
        return self.state is NetworkState.APPLIED


def networkd_file(net: NetworkSettings) -> Path:
    return net.networkd_dir / f"{FILE_PREFIX}{net.interface}.network"


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
    lines.extend(f"DNS={server}" for server in net.dns)
    return "\n".join(lines) + "\n"


def network_status(net: NetworkSettings) -> NetworkResult:
    """What the backend's file says before this run applied anything (blocking: small read)."""
    if net.backend is NetworkBackend.NONE:
        return NetworkResult(net.backend, NetworkState.STORED_ONLY)
    target = networkd_file(net)
    try:
        current = target.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return NetworkResult(net.backend, NetworkState.PENDING, target)
    state = NetworkState.WRITTEN if current == networkd_text(net) else NetworkState.PENDING
    return NetworkResult(net.backend, state, target)


def _write_unit(net: NetworkSettings) -> Path:
    """Write the unit atomically and drop our units of other interfaces (OSError if not)."""
    target = networkd_file(net)
    target.parent.mkdir(parents=True, exist_ok=True)
    # systemd-networkd runs as its own user: the file must be readable by others.
    write_atomically(target, networkd_text(net).encode("utf-8"), new_mode=0o644)
    for stale in target.parent.glob(f"{FILE_PREFIX}*.network"):
        if stale != target:
            stale.unlink()
            log.info("removed %s (the interface is now %s)", stale, net.interface)
    return target


async def apply_network(net: NetworkSettings, runner: CommandRunner) -> NetworkResult:
    """Hand the saved address to the backend: write the file, reload, reconfigure."""
    if net.backend is NetworkBackend.NONE:
        return NetworkResult(net.backend, NetworkState.STORED_ONLY)
    target = networkd_file(net)
    try:
        await asyncio.to_thread(_write_unit, net)
    except OSError as error:
        log.error("cannot write %s: %s", target, error)
        reason = Message(N_("cannot write it: {error}"), {"error": error.strerror or str(error)})
        return NetworkResult(net.backend, NetworkState.FAILED, target, str(target), reason)
    log.info("wrote the network settings of %s to %s", net.interface, target)
    for argv in (("networkctl", "reload"), ("networkctl", "reconfigure", net.interface)):
        result = await runner.run(*argv)
        if not result.ok:
            return NetworkResult(
                net.backend, NetworkState.FAILED, target, result.command, result.reason
            )
    return NetworkResult(net.backend, NetworkState.APPLIED, target)


__all__ = [
    "NetworkResult",
    "NetworkState",
    "apply_network",
    "network_status",
    "networkd_file",
    "networkd_text",
]
