"""What a UI session knows about itself and how it reaches the box's services.

The App never talks Modbus or SQL: it asks these services (owned by the Runtime) and
listens to Hub events. Every session (SSH, serial console, kiosk, ``ews demo``) builds one
:class:`Session` and one :class:`~ews_tui.ui.app.EwsApp`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ews_tui.domain.auth import Role

if TYPE_CHECKING:
    from ews_tui.hub import Hub
    from ews_tui.runtime import Runtime

T = TypeVar("T")


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

    def service(self, kind: type[T]) -> T:
        """The runtime's one service of class ``kind`` (e.g. InstallationService), typed as
        ``kind``, so a call to a method the service lacks is a type error, not a ``hasattr``
        at run time. ``LookupError`` when the runtime has none (or several)."""
        return self.runtime.get(kind)
