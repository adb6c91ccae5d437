"""Why a Modbus read gave no words: typed failures that name the device or the bus.

Every outcome of a read is a value: the register words, or one of these. They live apart
from the transport so the pymodbus client layer (:mod:`ews_tui.modbus.client`) and the transport
that owns them share one vocabulary; :mod:`ews_tui.modbus.transport` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ews_tui.domain.messages import N_, Message

# The names are msgids: a screen translates the ``name`` of EXCEPTION_MESSAGE's parameters.
EXCEPTION_NAMES = {
    1: N_("illegal function"),
    2: N_("illegal data address"),
    3: N_("illegal data value"),
    4: N_("device failure"),
    5: N_("acknowledge"),
    6: N_("device busy"),
    10: N_("gateway path unavailable"),
    11: N_("gateway target failed to respond"),
}
EXCEPTION_MESSAGE = N_("address {address} answered exception {code:02d} ({name})")


@dataclass(frozen=True)
class Failure:
    """Why a read gave no words. ``message`` is translatable; ``str()`` is the English."""

    @property
    def message(self) -> Message:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.message.render()


@dataclass(frozen=True)
class NoAnswer(Failure):
    """The device stayed silent until the timeout."""

    address: int

    @property
    def message(self) -> Message:
        return Message(N_("no answer from address {address}"), {"address": self.address})


@dataclass(frozen=True)
class ExceptionCode(Failure):
    """The device answered a Modbus exception (02: illegal data address, 04: failure...)."""

    address: int
    code: int

    @property
    def message(self) -> Message:
        name = EXCEPTION_NAMES.get(self.code, N_("unknown"))
        return Message(
            EXCEPTION_MESSAGE, {"address": self.address, "code": self.code, "name": name}
        )


@dataclass(frozen=True)
class FrameError(Failure):
    """Bytes came back but not a valid answer (bad CRC, wrong device, garbage)."""

    address: int
    detail: str = ""

    @property
    def message(self) -> Message:
        return Message(
            N_("bad answer from address {address}: {detail}"),
            {"address": self.address, "detail": self.detail or "garbled frame"},
        )


@dataclass(frozen=True)
class Disconnected(Failure):
    """The port or the TCP connection is not open (unplugged adapter, refused, reset)."""

    bus: str
    detail: str = ""

    @property
    def message(self) -> Message:
        return Message(
            N_("{bus}: not connected ({detail})"),
            {"bus": self.bus, "detail": self.detail or "closed"},
        )


ReadResult = tuple[int, ...] | Failure
