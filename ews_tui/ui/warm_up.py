"""What the first UI sessions would pay in the shared loop, paid once when the box starts.

- **Every screen module imported** (``ews_tui.ui.screens.*``), in a thread: the app imports
  a screen by name when it first opens (:meth:`EwsApp.screen_class`), so the first session
  to open each screen paid its import in one step of the loop every poller shares: 3.6 s
  for the whole set on the loaded 2-core test machine (alarms 1.2 s, connector 0.9 s,
  devices 0.2 s).
- **The start's objects frozen out of the garbage collector's walks** (:func:`gc.freeze`):
  modules, the device catalog, babel's locale data, the translations and the parsed CSS
  live as long as the process, yet every full collection walked them all again (about 90 k
  objects, 60 ms of the loop on the test machine), at the moments sessions create widgets
  fastest: while they open screens. Objects created later are collected as before.

``ews serve`` calls :func:`warm_up` once the runtime has started, before the front ends.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil

from ews_tui import heap
from ews_tui.ui import screens

log = logging.getLogger(__name__)


def import_screens() -> list[str]:
    """Import every module of ``ews_tui.ui.screens``; their names."""
    names = [info.name for info in pkgutil.iter_modules(screens.__path__)]
    for name in names:
        importlib.import_module(f"{screens.__name__}.{name}")
    return names


async def warm_up() -> None:
    """Import the screens (in a thread: the pollers run meanwhile), then settle the heap
    (:func:`ews_tui.heap.settle`; ``ews serve`` settles it again once its front ends run)."""
    names = await asyncio.to_thread(import_screens)
    frozen = heap.settle()
    log.info("UI warmed up: %d screen modules imported, %d objects frozen", len(names), frozen)
