"""Keys typed into a text field are applied in the order they were typed.

Textual 8 (pinned) applies a printable key in the focused ``Input``'s own ``_on_key``, but an
editing key it binds (Backspace, Delete, ←, →, Home, End...) only once the Key event has
bubbled up to the App, which then runs the field's binding. Two keys that arrive together
(a serial console at 115,200 bit/s delivers a burst in one read; SSH too) are then applied
out of order: Backspace then "3" inserts the 3 and deletes it, ← then "5" puts the 5 at the
wrong place. The PIN field lost digits that way.

:func:`install` makes ``Input`` run its own binding for such a key at once, in its
``_on_key``, before the next key is handled. The binding that runs is the one Textual would
have run (the focused widget's bindings come first in the chain); a binding whose action
declines (``SkipAction``: ↑ in a field that cannot scroll) leaves the key to bubble as
before, so the screen's own binding for it still runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from textual import events
from textual.widgets import Input

_textual_on_key: Final[Callable[[Input, events.Key], Awaitable[None]]] = Input._on_key


async def _on_key_in_order(self: Input, event: events.Key) -> None:
    for binding in self._bindings.key_to_bindings.get(event.key, ()):
        if binding.priority:
            continue  # the App ran the priority bindings before the key came here
        if await self.app.run_action(binding.action, self):
            event.stop()
            event.prevent_default()
            return
        break  # declined: bubbles on, as in Textual
    await _textual_on_key(self, event)


def install() -> None:
    """Apply the in-order key handling to every ``Input`` (idempotent)."""
    Input._on_key = _on_key_in_order  # type: ignore[method-assign]
