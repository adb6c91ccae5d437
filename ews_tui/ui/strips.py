"""Textual's lines without their per-line caches: fewer objects for the collector to walk.

Each :class:`textual.strip.Strip` (one line of a widget or of a frame) makes seven
``FIFOCache`` objects in its constructor, for the lines derived from it (cropped, styled,
filtered, divided at the compositor's cuts, extended, offset). Every derived line is a
``Strip`` with seven caches of its own, and it lives as long as the line it came from. With
ten sessions on the consumption screens (``bench_load.py --only consumption``, quiet
machine), 4,255 of the 6,519 live lines were such derived lines held in other lines' caches,
and the caches themselves were 46,367 of the 268,833 objects the collector tracked outside
the frozen start-up: every full collection walked them, and every line replaced after a
key (a table's new period) sent its caches through the young generations to the old one,
which is what starts CPython's full collections.

Installed, each cache is one shared object that keeps nothing (:data:`KEEP_NOTHING`): a
line derived again is computed again. Measured back to back on the same quiet machine
(ten sessions on consumption keys, 30 s): full collections 10 → 5, their CPU 1.74 s → 0.67 s,
the serve's CPU per key 7.59 → 7.43 ms (the caches' own upkeep cost about what they saved:
our frames redraw only the lines that changed, :mod:`ews_tui.ui.frames`).

The patch replaces the name ``FIFOCache`` in :mod:`textual.strip` only (its one use is
``Strip.__init__``), so it holds for Textual 8.x; a Textual that no longer makes its caches
that way leaves this a no-op, and ``tests/ui/test_strips.py`` says so.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Final

import textual.strip


class KeepNothing:
    """A cache that is always empty: what ``Strip`` stores in it is dropped."""

    __slots__ = ()

    def get(self, key: Hashable, default: object = None) -> object:
        return default

    def __setitem__(self, key: Hashable, value: object) -> None:
        pass

    def __len__(self) -> int:
        return 0

    def clear(self) -> None:
        pass


KEEP_NOTHING: Final = KeepNothing()


def _no_cache(maxsize: int) -> KeepNothing:
    return KEEP_NOTHING


def install() -> None:
    """From now on, new lines share :data:`KEEP_NOTHING` as each of their caches."""
    textual.strip.FIFOCache = _no_cache  # type: ignore[attr-defined,assignment]


def installed() -> bool:
    return textual.strip.FIFOCache is _no_cache  # type: ignore[attr-defined,comparison-overlap]
