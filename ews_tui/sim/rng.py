"""Deterministic randomness for the simulator: hashes of integers, no state, no clock.

The same integers always give the same draw, so a value can be recomputed for any instant
without replaying what came before. Python's tuple hash of integers does not depend on
PYTHONHASHSEED (only str and bytes hashes do); a splitmix64 finaliser spreads its bits.
"""

from __future__ import annotations

import zlib

_MASK = 0xFFFFFFFFFFFFFFFF


def mix(*parts: int) -> int:
    """A 64-bit hash of integers."""
    x = (hash(parts) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 31)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 29)


def unit(*parts: int) -> float:
    """A draw in [0, 1) for the given integers."""
    return (mix(*parts) >> 11) / float(1 << 53)


def noise(*parts: int) -> float:
    """A draw in [-1, 1) for the given integers."""
    return 2.0 * unit(*parts) - 1.0


def text_id(*texts: str) -> int:
    """A stable integer for names (a device key, a side)."""
    return zlib.crc32("/".join(texts).encode())
