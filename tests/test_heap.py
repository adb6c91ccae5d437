"""ews_tui.heap: start-up's objects leave the collector's scans; its garbage is freed first."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ews_tui import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a collection frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process keeps collecting everything


def test_settle_collects_then_freezes_what_is_alive(unfrozen: None) -> None:
    kept = [{"a": i} for i in range(1000)]
    garbage = weakref.ref(Node())  # unreachable at once, alive until collected
    assert garbage() is not None
    frozen = heap.settle()
    assert garbage() is None  # collected, not frozen for ever
    assert frozen == gc.get_freeze_count() >= len(kept)
    # A later collection does not walk them: they are in no generation any more.
    assert not any(obj is kept for obj in gc.get_objects())
    gc.unfreeze()
    assert any(obj is kept for obj in gc.get_objects())
