"""Register codec: Modbus words <-> numbers, per the model's word and byte order.

Pure functions, no I/O. ``decode_raw``/``encode_raw`` work on raw integers and floats;
``decode``/``encode`` apply a catalog :class:`Quantity`'s scale, its "not available"
sentinels and its states. A sentinel (or a NaN float) decodes as ``None`` — never as a
huge number — so a value the device does not have shows as missing.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from ews_tui.domain.catalog import REGISTER_WORDS, Quantity, RegisterMap

# struct format (big endian) of each register type, on its bytes in high-word-first order.
_FORMATS: dict[str, str] = {
    "u16": ">H",
    "s16": ">h",
    "u32": ">I",
    "s32": ">i",
    "u64": ">Q",
    "s64": ">q",
    "float32": ">f",
    "float64": ">d",
}
_SIGNED = {"s16", "s32", "s64"}
_FLOATS = {"float32", "float64"}


class CodecError(ValueError):
    """Words or a value that do not fit the register type."""


def _swap_bytes(word: int) -> int:
    return ((word & 0xFF) << 8) | (word >> 8)


def _check(rtype: str, word_order: str, byte_order: str) -> None:
    if rtype not in _FORMATS:
        raise CodecError(f"unknown register type {rtype!r}")
    if word_order not in ("high_first", "low_first"):
        raise CodecError(f"unknown word order {word_order!r}")
    if byte_order not in ("big", "little"):
        raise CodecError(f"unknown byte order {byte_order!r}")


def _to_canonical(words: Sequence[int], word_order: str, byte_order: str) -> list[int]:
    """Words as sent by the device -> words high first, each big endian."""
    out = [_swap_bytes(w) if byte_order == "little" else w for w in words]
    return out[::-1] if word_order == "low_first" else out


def _from_canonical(words: list[int], word_order: str, byte_order: str) -> list[int]:
    out = words[::-1] if word_order == "low_first" else list(words)
    return [_swap_bytes(w) for w in out] if byte_order == "little" else out


def decode_raw(
    rtype: str,
    words: Sequence[int],
    word_order: str = "high_first",
    byte_order: str = "big",
) -> int | float:
    """The raw value held by ``words`` (an int, or a float for float32/float64)."""
    _check(rtype, word_order, byte_order)
    count = REGISTER_WORDS[rtype]
    if len(words) != count:
        raise CodecError(f"{rtype} needs {count} registers, got {len(words)}")
    for word in words:
        if not 0 <= word <= 0xFFFF:
            raise CodecError(f"register value {word!r} is not a 16-bit word")
    canonical = _to_canonical(words, word_order, byte_order)
    data = b"".join(w.to_bytes(2, "big") for w in canonical)
    return struct.unpack(_FORMATS[rtype], data)[0]


def encode_raw(
    rtype: str,
    value: int | float,
    word_order: str = "high_first",
    byte_order: str = "big",
) -> list[int]:
    """The registers a device sends for the raw ``value`` (inverse of :func:`decode_raw`)."""
    _check(rtype, word_order, byte_order)
    if rtype not in _FLOATS and isinstance(value, float):
        if not value.is_integer():
            raise CodecError(f"{rtype} holds integers, got {value!r}")
        value = int(value)
    try:
        data = struct.pack(_FORMATS[rtype], value)
    except (struct.error, OverflowError) as exc:
        raise CodecError(f"{value!r} does not fit in {rtype}") from exc
    canonical = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return _from_canonical(canonical, word_order, byte_order)


def _unsigned(rtype: str, raw: int) -> int:
    """The unsigned bit pattern of a raw integer, to compare with sentinels."""
    bits = 16 * REGISTER_WORDS[rtype]
    return raw & ((1 << bits) - 1)


def _is_missing(q: Quantity, raw: int | float) -> bool:
    if isinstance(raw, float):
        return math.isnan(raw) or (math.isinf(raw))
    if not q.missing:
        return False
    pattern = _unsigned(q.type, raw)
    return any(pattern == _unsigned(q.type, m) or raw == m for m in q.missing)


def decode(q: Quantity, words: Sequence[int], reg_map: RegisterMap) -> float | str | None:
    """The quantity's value in its unit, its state id, or None when not available."""
    raw = decode_raw(q.type, words, reg_map.word_order, reg_map.byte_order)
    if _is_missing(q, raw):
        return None
    if q.states:
        return q.states.get(int(raw))
    return raw * q.scale


def encode(q: Quantity, value: float | str | None, reg_map: RegisterMap) -> list[int]:
    """The registers holding ``value`` for ``q`` (None -> the first sentinel, or NaN)."""
    order = (reg_map.word_order, reg_map.byte_order)
    if value is None:
        if q.missing:
            return encode_raw(q.type, _signed_sentinel(q.type, q.missing[0]), *order)
        if q.type in _FLOATS:
            return encode_raw(q.type, math.nan, *order)
        raise CodecError(f"{q.id}: no 'missing' sentinel to encode a missing value")
    if q.states:
        for raw, state in q.states.items():
            if state == value:
                return encode_raw(q.type, raw, *order)
        raise CodecError(f"{q.id}: unknown state {value!r}")
    if isinstance(value, str):
        raise CodecError(f"{q.id}: expected a number, got {value!r}")
    raw: int | float = value / q.scale
    if q.type not in _FLOATS:
        raw = round(raw)
    return encode_raw(q.type, raw, *order)


def _signed_sentinel(rtype: str, sentinel: int) -> int:
    """A sentinel written as an unsigned pattern (0x8000...) as the type's signed value."""
    if rtype in _SIGNED:
        bits = 16 * REGISTER_WORDS[rtype]
        if sentinel >= 1 << (bits - 1):
            return sentinel - (1 << bits)
    return sentinel
