"""What a UI session knows about itself and how it reaches the box's services.

The App never talks Modbus or SQL: it asks these services (owned by the Runtime) and
listens to Hub events. Every session (SSH, serial console, kiosk, ``ews demo``) builds one
:class:`Session` and one :class:`~ews_tui.ui.app.EwsApp`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ews_tui.hub import Hub
    from ews_tui.runtime import Runtime


class Role(StrEnum):
    """Who is logged in (manual §7.7.1 and §7.16)."""

    SERVER = "server"  # server configuration: PIN 99999, PUK 00000 9999 00000
    SYSTEM = "system"  # system configuration: PIN 88888, PUK 00000 8888 00000
    CONSULTATION = "consultation"  # read only


@dataclass
class Session:
    """One user session: its language, role, terminal facts, and the runtime it talks to."""

    runtime: Runtime
    language: str = "en"
    role: Role | None = None  # None until logged in
    kiosk: bool = False
    colors: int | str = 256  # 16 / 256 / "truecolor"
    origin: str = "local"  # "ssh:alice@10.0.0.5", "console:/dev/ttyS0", ...
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hub(self) -> Hub:
        return self.runtime.hub

    def service(self, kind: type[Any]) -> Any:
        """The runtime's service of that type (e.g. InstallationService)."""
        return self.runtime.get(kind)
