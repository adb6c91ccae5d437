"""The blob of an ``open_slots`` row: a slot's exact accumulators, saved while it is open.

Per quantity ``(id u16, count u32, sum f64, min f64, max f64)``, 30 bytes: doubles, not the
half floats of ``measures``, so that a slot folded in two runs (a crash or a restart in
between) ends with the same count, mean, min and max as one run would give.
"""

from __future__ import annotations

import struct

from ews_tui.domain.aggregation import OpenSlot

_ITEM = struct.Struct("<HIddd")


def encode_partial(slot: OpenSlot, ids: dict[str, int]) -> bytes:
    """The blob of ``slot``'s quantities (``ids``: quantity name -> id, every name in it)."""
    out = bytearray()
    for name, (count, total, lo, hi) in slot.acc.items():
        out += _ITEM.pack(ids[name], int(count), total, lo, hi)
    return bytes(out)


def decode_partial(
    device_id: int, slot: int, index: float | None, blob: bytes, names: dict[int, str]
) -> OpenSlot:
    """The open slot a row holds (``names``: quantity id -> name)."""
    acc: dict[str, list[float]] = {}
    for qid, count, total, lo, hi in _ITEM.iter_unpack(blob):
        acc[names.get(qid, f"q{qid}")] = [count, total, lo, hi]
    return OpenSlot(device_id, slot, acc, index)
