"""The heap after start: what the box loaded once is not scanned by every collection.

CPython's full (generation 2) collection walks every container object alive: the catalog,
the translations, Textual's classes and stylesheets, every imported module. On this box that
is a stall of 70 to 200 ms of the one loop, from whichever thread allocated last: a
thread that decodes a week of measures triggers it as well as the loop. :func:`settle`,
called once everything is loaded, collects what start-up left, then moves the survivors to
the permanent generation (``gc.freeze``) so later collections skip them.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle() -> int:
    """Collect, then freeze what is alive; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("heap settled: %d objects frozen out of the collector's scans", frozen)
    return frozen
