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
  fastest: while they open screens.
- **The box's collection thresholds** (:func:`ews_tui.heap.tune`): wider young generations,
  so what a key or a screen drops within a second or two never reaches the old one.
- **The heap policy** (:class:`ews_tui.heap.GcPolicy`, off in ``ews serve``) installed and
  its task supervised by the runtime: no automatic full collection; one when the loop is
  quiet, or past a memory cap (issues 11 and 16: five sessions opening every screen stalled
  the loop 190 to 380 ms at each full collection CPython ran itself).
- **The collector watched** (:class:`ews_tui.heap.GcWatch`): its collections and pauses
  per generation in the box's log.

``ews serve`` calls :func:`warm_up` once the runtime has started, before the front ends.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil

from ews_tui import heap
from ews_tui.runtime import Runtime
from ews_tui.ui import screens

log = logging.getLogger(__name__)


def import_screens() -> list[str]:
    """Import every module of ``ews_tui.ui.screens``; their names."""
    names = [info.name for info in pkgutil.iter_modules(screens.__path__)]
    for name in names:
        importlib.import_module(f"{screens.__name__}.{name}")
    return names


async def warm_up(runtime: Runtime) -> None:
    """Import the screens (in a thread: the pollers run meanwhile), settle the heap
    (:func:`ews_tui.heap.settle`; ``ews serve`` settles it again once its front ends run)
    and start the heap policy if it is on (a task of ``runtime``, stopped with it)."""
    names = await asyncio.to_thread(import_screens)
    heap.tune()
    frozen = heap.settle()
    heap.WATCH.install()  # the collections from now on, in the box's log
    watch = runtime.supervise("heap-watch", heap.WATCH.run).task
    if watch is not None:  # stopped with the runtime, even before its first turn
        watch.add_done_callback(lambda _task: heap.WATCH.uninstall())
    if heap.POLICY.enabled:  # benchmarks switch it off to compare
        heap.POLICY.install()  # from now on, not only once its task has had its first turn
        task = runtime.supervise("heap", heap.POLICY.run).task
        if task is not None:  # stopped with the runtime, even before its first turn
            task.add_done_callback(lambda _task: heap.POLICY.uninstall())
    log.info("UI warmed up: %d screen modules imported, %d objects frozen", len(names), frozen)
