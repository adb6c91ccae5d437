"""Register codec: Modbus words <-> numbers, per the model's word and byte order.

Pure functions, no I/O. ``decode_raw``/``encode_raw`` work on raw integers and floats;
``decode``/``encode`` apply a catalog :class:`Quantity`'s scale, its "not available"
sentinels and its states. A sentinel (or a NaN float) decodes as ``None`` — never as a
huge number — so a value the device does not have shows as missing.

:class:`BlockDecoder` is ``decode`` for every quantity of one read at once, prepared once
per read: the poller decodes each answer with two ``struct`` calls and a short loop.
"""

from __future__ import annotations

import math
import operator
import struct
from collections.abc import Callable, Sequence

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
    value: int | float = struct.unpack(_FORMATS[rtype], data)[0]
    return value


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
    return _finish(q, decode_raw(q.type, words, reg_map.word_order, reg_map.byte_order))


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
        for code, state in q.states.items():
            if state == value:
                return encode_raw(q.type, code, *order)
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


# ------------------------------------------------------------------------------ blocks

_INFINITIES = (math.inf, -math.inf)


def _missing_raws(q: Quantity) -> frozenset[int]:
    """Every raw value ``decode`` reads as missing for the integer quantity ``q``: each
    sentinel as written, and as the type's value of the same bit pattern."""
    out = set(q.missing)
    bits = 16 * REGISTER_WORDS[q.type]
    for sentinel in q.missing:
        pattern = _unsigned(q.type, sentinel)
        signed = q.type in _SIGNED and pattern >= 1 << (bits - 1)
        out.add(pattern - (1 << bits) if signed else pattern)
    return frozenset(out)


class BlockDecoder:
    """Decodes the quantities of one read (``count`` registers from ``start``) in one go.

    ``decoder(words)`` gives ``{qid: decode(q, q's words, reg_map)}`` for every quantity,
    with the same values; words that do not fit (a short read, not 16-bit) raise
    :class:`CodecError`, and the caller decodes quantity by quantity to name the culprit.
    Plain numbers (integers without states, the bulk of a meter) take a one-line path;
    floats and states go through :func:`decode`'s rules one by one.
    """

    def __init__(
        self, quantities: Sequence[Quantity], start: int, count: int, reg_map: RegisterMap
    ) -> None:
        _check("u16", reg_map.word_order, reg_map.byte_order)
        self.count = count
        indices: list[int] = []
        formats = []
        plain: list[tuple[int, str, frozenset[int], float]] = []
        other: list[tuple[int, Quantity]] = []
        for position, q in enumerate(quantities):
            _check(q.type, reg_map.word_order, reg_map.byte_order)
            offset = q.register - start
            if offset < 0 or offset + q.words > count:
                raise CodecError(f"{q.id} is outside the read {start:#06x}+{count}")
            own = list(range(offset, offset + q.words))
            indices += own[::-1] if reg_map.word_order == "low_first" else own
            formats.append(_FORMATS[q.type][1])
            if q.type in _FLOATS or q.states:
                other.append((position, q))
            else:
                plain.append((position, q.id, _missing_raws(q), q.scale))
        self._plain = tuple((qid, gone, scale) for _, qid, gone, scale in plain)
        self._plain_raws = _picker([position for position, *_ in plain])
        self._other = tuple(other)
        # Only plain numbers (a meter's usual read): when no raw value is any of their
        # sentinels, the values are the raws times the scales, zipped in C.
        self._only_plain = not other
        self._ids = tuple(qid for _, qid, _, _ in plain)
        self._scales = tuple(scale for _, _, _, scale in plain)
        self._any_gone = frozenset().union(*(gone for _, _, gone, _ in plain))
        # canonical words (high first) as big-endian bytes: a little-endian device's words
        # are byte-swapped, which packing them little-endian does
        order = "<" if reg_map.byte_order == "little" else ">"
        if indices == sorted(set(indices)):
            # every word once, in the read's order (high word first): pack the whole read
            # and skip the registers between quantities as pad bytes
            self._take: Callable[[Sequence[int]], Sequence[int]] = _same
            self._pack = struct.Struct(f"{order}{count}H").pack
            self._unpack = struct.Struct(">" + _padded(indices, formats, count)).unpack
        else:
            self._take = _picker(indices)
            self._pack = struct.Struct(f"{order}{len(indices)}H").pack
            self._unpack = struct.Struct(">" + "".join(formats)).unpack

    def __call__(self, words: Sequence[int]) -> dict[str, float | str | None]:
        out: dict[str, float | str | None] = {}
        self.decode_into(out, words)
        return out

    def decode_into(self, out: dict[str, float | str | None], words: Sequence[int]) -> None:
        """``out.update(self(words))``, without a dict in between on the usual path; ``out``
        is left as it was when the words do not fit (:class:`CodecError`)."""
        if len(words) != self.count:
            raise CodecError(f"the read needs {self.count} registers, got {len(words)}")
        try:
            raws = self._unpack(self._pack(*self._take(words)))
        except struct.error as exc:
            raise CodecError(f"register values are not 16-bit words: {exc}") from None
        if self._only_plain and self._any_gone.isdisjoint(raws):
            out.update(zip(self._ids, map(operator.mul, raws, self._scales), strict=True))
            return
        values: dict[str, float | str | None] = {
            qid: None if raw in gone else raw * scale
            for (qid, gone, scale), raw in zip(self._plain, self._plain_raws(raws), strict=True)
        }
        for position, q in self._other:
            values[q.id] = _finish(q, raws[position])
        out.update(values)


def _padded(indices: list[int], formats: list[str], count: int) -> str:
    """The struct format of the quantities (``formats``, one per quantity, over ``indices``
    in order) within the whole read of ``count`` words: pad bytes where no quantity is."""
    out: list[str] = []
    at = 0  # the next word
    words = iter(indices)
    for fmt in formats:
        first = next(words)
        for _ in range(struct.calcsize(fmt) // 2 - 1):
            next(words)
        if first > at:
            out.append(f"{2 * (first - at)}x")
        out.append(fmt)
        at = first + struct.calcsize(fmt) // 2
    if count > at:
        out.append(f"{2 * (count - at)}x")
    return "".join(out)


def _finish(q: Quantity, raw: int | float) -> float | str | None:
    """``decode`` after the raw value: missing, state, or scaled number."""
    if _is_missing(q, raw):
        return None
    if q.states:
        return q.states.get(int(raw))
    return raw * q.scale


def _same(words: Sequence[int]) -> Sequence[int]:
    return words


def _picker(indices: list[int]) -> Callable[[Sequence[int]], tuple[int, ...]]:
    """``words -> tuple(words[i] for i in indices)``, in C when it can."""
    if not indices:
        return lambda words: ()
    if len(indices) == 1:
        index = indices[0]
        return lambda words: (words[index],)
    return operator.itemgetter(*indices)
