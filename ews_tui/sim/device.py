"""One simulated device as a Modbus slave: its register image and its answers to a PDU.

The values come from :mod:`ews_tui.sim.values` and are encoded with the codec per the
model's register map. A read must lie inside the map's span for its function code and must
not touch a span the map marks unreadable (else exception 02); a function code the map does
not use gets exception 01. No I/O here: the transports live in :mod:`sim_server`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ews_tui.domain.catalog import (
    REGISTER_WORDS,
    Catalog,
    Model,
    Quantity,
    RegisterMap,
    generic_map,
)
from ews_tui.domain.errors import CatalogError
from ews_tui.domain.installation import GenericRegister
from ews_tui.i18n import _
from ews_tui.modbus.codec import CodecError, encode
from ews_tui.sim.values import SimDevice, Value, device_values

ILLEGAL_FUNCTION = 0x01
ILLEGAL_ADDRESS = 0x02
ILLEGAL_VALUE = 0x03
DEVICE_FAILURE = 0x04
GATEWAY_NO_RESPONSE = 0x0B
FAULT_KINDS = ("silent", "crc", "exception", "slow")


class SimError(ValueError):
    """A device or a fault the simulator cannot serve; the message is for the user."""


@dataclass(frozen=True)
class Fault:
    """A fault injected on one address: ``silent``, ``crc``, ``exception`` or ``slow``."""

    kind: str
    ms: float = 0.0

    def __str__(self) -> str:
        return f"slow:{self.ms:g}" if self.kind == "slow" else self.kind


def parse_fault(text: str) -> Fault | None:
    """``silent`` / ``crc`` / ``exception`` / ``slow:MS`` -> a Fault; ``clear`` -> None."""
    word, _sep, arg = text.strip().lower().partition(":")
    if word == "clear" and not arg:
        return None
    if word == "slow":
        try:
            ms = float(arg)
        except ValueError:
            raise SimError(
                _('"{value}": slow needs a delay in ms, as slow:200').format(value=text)
            ) from None
        if not 0 <= ms <= 600_000:
            raise SimError(
                _('"{value}": the delay must be between 0 and 600000 ms').format(value=text)
            )
        return Fault("slow", ms)
    if word in FAULT_KINDS and not arg:
        return Fault(word)
    raise SimError(
        _('"{value}" is not a fault (silent, crc, exception, slow:MS or clear)').format(value=text)
    )


@dataclass(frozen=True)
class DeviceSpec:
    """A device to serve: its address, its catalog model, and what the model leaves open."""

    address: int
    model: str
    generic: GenericRegister | None = None  # the generic Modbus meter's register
    # Concentrators: the energy counted on each input position ("electricity", "gas", "water").
    inputs: tuple[tuple[int, str], ...] = ()
    quality: str = "normal"  # the supply's power-quality scenario (sim.values.QUALITIES)


_GENERIC = re.compile(r"generic(?::(\d+):([0-9a-f]{1,4}):(\d+):([-+0-9.e]+))?", re.IGNORECASE)


def parse_device(text: str) -> DeviceSpec:
    """``ADDR=REF`` (``5=0 146 68``) or ``ADDR=GENERIC[:FC:REGHEX:WORDS:MULT]``."""
    address_text, sep, ref = text.partition("=")
    if not sep or not ref.strip():
        raise SimError(_('"{value}" is not ADDR=REF (as 5=0 146 68)').format(value=text))
    try:
        address = int(address_text)
    except ValueError:
        raise SimError(_('"{value}" is not a Modbus address').format(value=address_text)) from None
    if not 1 <= address <= 247:
        raise SimError(_("Modbus address {value} is not between 1 and 247").format(value=address))
    ref = ref.strip()
    match = _GENERIC.fullmatch(ref)
    if match and match[1]:
        try:
            generic = GenericRegister(
                int(match[1]), int(match[2], 16), int(match[3]), float(match[4])
            )
        except ValueError:
            raise SimError(
                _('"{value}" is not GENERIC:FC:REGHEX:WORDS:MULT').format(value=ref)
            ) from None
        return DeviceSpec(address, "GENERIC", generic)
    return DeviceSpec(address, ref)


@dataclass
class _Block:
    """The registers of one function code: the span ``first..first+len(words)-1``."""

    first: int
    words: list[int]
    unreadable: list[tuple[int, int]]

    def readable(self, start: int, count: int) -> bool:
        last = start + count - 1
        if start < self.first or last >= self.first + len(self.words):
            return False
        return not any(start <= b and a <= last for a, b in self.unreadable)


def resolve_map(spec: DeviceSpec, catalog: Catalog) -> tuple[Model, RegisterMap]:
    """The model and register map of ``spec``; SimError when it cannot be served."""
    model = catalog.find(spec.model)
    if model is None:
        raise SimError(_('unknown model "{model}"').format(model=spec.model))
    if model.generic:
        g = spec.generic or GenericRegister()
        try:
            return model, generic_map(g.fc, g.register, g.words, g.multiplier)
        except CatalogError as error:
            raise SimError(
                _("address {address}: {error}").format(address=spec.address, error=error.render(_))
            ) from None
    reg_map = catalog.register_map(model)
    if reg_map is None:
        raise SimError(
            _('model "{model}" has no Modbus map: serve it through its pulse concentrator').format(
                model=model.ref
            )
        )
    return model, reg_map


@dataclass
class ServedDevice:
    """A device on an endpoint: its image (refreshed every ``tick`` s), fault and overrides."""

    spec: DeviceSpec
    model: Model
    reg_map: RegisterMap
    key: str
    seed: int = 0
    utc_offset_s: float = 0.0
    tick: float = 0.5
    fault: Fault | None = None
    forced: dict[str, Value] = field(default_factory=dict)
    outages: list[tuple[float, float | None]] = field(default_factory=list)
    _blocks: dict[int, _Block] = field(default_factory=dict)
    _image_at: float | None = None

    def __post_init__(self) -> None:
        self.maps = [self.reg_map.for_side(s) for s in range(1, self.model.sides + 1)]
        for reg_map in self.maps:
            for q in reg_map.quantities:
                self._span(q.fc, q.register, q.register + q.words - 1)
        for reg_map in self.maps:
            for fc, a, b in reg_map.unreadable:
                if fc in self._blocks:
                    self._blocks[fc].unreadable.append((a, b))
        self.max_registers = min(125, self.reg_map.max_registers)
        self._encoders = [
            [(q, fast_encoder(q, reg_map)) for q in reg_map.quantities] for reg_map in self.maps
        ]

    def _span(self, fc: int, first: int, last: int) -> None:
        block = self._blocks.get(fc)
        if block is None:
            self._blocks[fc] = _Block(first, [0] * (last - first + 1), [])
            return
        lo, hi = min(block.first, first), max(block.first + len(block.words) - 1, last)
        words = [0] * (hi - lo + 1)
        words[block.first - lo : block.first - lo + len(block.words)] = block.words
        block.first, block.words = lo, words

    @property
    def function_codes(self) -> frozenset[int]:
        return frozenset(self._blocks)

    def values(self, now: float, side: int = 1) -> dict[str, Value]:
        """The simulated values of ``side`` at ``now`` (what the registers hold)."""
        inputs = dict(self.spec.inputs)
        device = SimDevice(
            key=self.key,
            model=self.model,
            side=side,
            inputs=tuple(
                inputs.get(n, "electricity") for n in range(1, self.model.pulse_inputs + 1)
            ),
            quality=self.spec.quality,
        )
        return device_values(
            device,
            now,
            self.seed,
            utc_offset_s=self.utc_offset_s,
            forced=self.forced,
            outages=self.outages,
        )

    def refresh(self, now: float) -> None:
        at = self._image_at
        if at is not None and at <= now < at + self.tick:
            return
        for side, encoders in enumerate(self._encoders, start=1):
            values = self.values(now, side)
            for q, encoder in encoders:
                block = self._blocks[q.fc]
                offset = q.register - block.first
                block.words[offset : offset + q.words] = encoder(values.get(q.id))
        self._image_at = now

    def force(self, qid: str, value: Value, now: float) -> None:
        """Impose a value or state (None releases it); a breaker forced off stops its energy."""
        if qid == "breaker":
            open_outage = bool(self.outages) and self.outages[-1][1] is None
            off = value is not None and value != "closed"
            if off and not open_outage:
                self.outages.append((now, None))
            elif not off and open_outage:
                self.outages[-1] = (self.outages[-1][0], now)
        if value is None:
            self.forced.pop(qid, None)
        else:
            self.forced[qid] = value
        self._image_at = None

    def answer(self, pdu: bytes, now: float) -> bytes:
        """The response PDU to a request PDU (a normal answer or an exception)."""
        fc = pdu[0] if pdu else 0
        if self.fault is not None and self.fault.kind == "exception":
            return exception_pdu(fc, DEVICE_FAILURE)
        block = self._blocks.get(fc)
        if block is None:
            return exception_pdu(fc, ILLEGAL_FUNCTION)
        if len(pdu) != 5:
            return exception_pdu(fc, ILLEGAL_VALUE)
        start, count = struct.unpack(">HH", pdu[1:5])
        if not 1 <= count <= self.max_registers:
            return exception_pdu(fc, ILLEGAL_VALUE)
        if not block.readable(start, count):
            return exception_pdu(fc, ILLEGAL_ADDRESS)
        self.refresh(now)
        offset = start - block.first
        words = block.words[offset : offset + count]
        return struct.pack(f">BB{count}H", fc, 2 * count, *words)


_FORMATS: dict[str, tuple[str, int | None, int | None]] = {
    "u16": ("H", 0, 0xFFFF),
    "s16": ("h", -0x8000, 0x7FFF),
    "u32": ("I", 0, 0xFFFFFFFF),
    "s32": ("i", -0x80000000, 0x7FFFFFFF),
    "u64": ("Q", 0, 0xFFFFFFFFFFFFFFFF),
    "s64": ("q", -0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
    "float32": ("f", None, None),
    "float64": ("d", None, None),
}


def fast_encoder(q: Quantity, reg_map: RegisterMap) -> Callable[[Value], list[int]]:
    """``encode_value`` for ``q``, with its struct formats prepared once (for every read).

    Numbers in range take the quick path; states, missing values, little-endian words and
    overflows go through the codec itself.
    """
    fmt, low, high = _FORMATS[q.type]
    if q.states or reg_map.byte_order != "big":
        return lambda value: encode_value(q, value, reg_map)
    pack = struct.Struct(">" + fmt).pack
    unpack = struct.Struct(f">{q.words}H").unpack
    reverse = reg_map.word_order == "low_first"
    scale = q.scale

    def encoder(value: Value) -> list[int]:
        if value is None or isinstance(value, str):
            return encode_value(q, value, reg_map)
        raw: float = value / scale
        if low is not None and high is not None:
            raw = round(raw)
            if not low <= raw <= high:
                return encode_value(q, value, reg_map)
        words = list(unpack(pack(raw)))
        return words[::-1] if reverse else words

    return encoder


def exception_pdu(fc: int, code: int) -> bytes:
    return bytes(((fc | 0x80) & 0xFF, code))


def encode_value(q: Quantity, value: Value, reg_map: RegisterMap) -> list[int]:
    """The words of ``value``; a counter past its register's range wraps as a meter does."""
    try:
        return encode(q, value, reg_map)
    except CodecError:
        if isinstance(value, float) and q.type.startswith("u") and value >= 0:
            modulus = 1 << (16 * REGISTER_WORDS[q.type])
            return encode(q, (round(value / q.scale) % modulus) * q.scale, reg_map)
        return [0] * q.words
