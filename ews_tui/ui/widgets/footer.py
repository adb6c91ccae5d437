"""The footer of every screen: Textual's, with the keys' descriptions translated.

Bindings carry English msgids (``Binding("a", "add", N_("Add"))``); this footer shows them
in the session's language when it renders, and renders again when the session changes its
language (the app's ``language_changed_signal``).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.compose import compose
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ews_tui.i18n import _, current_language


class EwsFooter(Footer):
    """Use it instead of ``textual.widgets.Footer`` in every screen.

    Textual's footer rebuilds its keys after every change of the bindings (each focus
    move): a form that opens moves the focus dozens of times, and each rebuild restyles the
    keys in the loop every session shares. This one rebuilds once per refresh at most, and
    only when what it shows changed; and it mounts its keys :data:`KEYS_PER_STEP` at a time,
    each batch in a step of the loop of its own (Textual styled a whole bar of keys in one
    step: 50 to 65 ms of the loop each time a screen opened, with five sessions on the
    2-core test machine). The session draws nothing until the bar is whole (Textual's
    batch update, as its own recompose does).
    """

    KEYS_PER_STEP = 4

    _pending = False
    _shown: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self._schedule()

    def on_resize(self) -> None:
        """A new width may fit more of the descriptions, or fewer."""
        if self._bindings_ready and self.is_attached:
            self._schedule()

    def _schedule(self) -> None:
        if not self._pending:
            self._pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        self._pending = False
        if self.is_attached and self._signature() != self._shown:
            await self.recompose()

    async def recompose(self) -> None:
        """Textual's, mounting the keys a few at a time."""
        if self._removed():
            return
        async with self.batch():
            await self.query_children("*").exclude(".-textual-system").remove()
            widgets = [] if self._removed() else list(compose(self))
            for start in range(0, len(widgets), self.KEYS_PER_STEP):
                if self._removed():  # the screen closed meanwhile
                    return
                await self.mount_all(widgets[start : start + self.KEYS_PER_STEP])

    def _removed(self) -> bool:
        return not self.is_attached or self._pruning

    def _signature(self) -> tuple[object, ...]:
        """What the keys show: each shown binding, its state, the width and the language."""
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )
        return (shown, self.app.size.width, current_language())

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._signature()
        widgets = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        for widget in keys:
            widget.description = _(widget.description) if widget.description else ""
            if isinstance(widget.tooltip, str) and widget.tooltip:
                widget.tooltip = _(widget.tooltip)
        left_out = self._fit(keys)
        yield from (w for w in widgets if w not in left_out)

    def _fit(self, keys: list[FooterKey]) -> list[FooterKey]:
        """Make the keys fit the terminal's width without cutting a word ("Sauv…" cannot be
        read): drop the palette key's word, close up the spaces, drop the word of Esc, then
        leave out the screen's own keys from the last one (Help, F1, lists every key of the
        screen; Esc and F1 always show). Returns the keys left out."""
        width = self.app.size.width - 1  # the bar before the docked palette key

        def needed() -> int:
            extra = 2 if self.compact else 3  # the spaces around a key and its description
            return sum(len(k.key_display) + len(k.description) + extra for k in shown)

        shown = list(keys)
        palette = [k for k in keys if k.has_class("-command-palette")]
        if needed() > width and palette:
            palette[0].description = ""  # "^p" is known from every screen
        if needed() > width and not self.compact:
            self.compact = True  # the keys are bound to it
        app_keys = {b.action for b in self.app.BINDINGS if isinstance(b, Binding)}
        back = [k for k in keys if k.key == "escape"]
        if needed() > width and back:
            back[0].description = ""  # Esc goes back on every screen
        screen_keys = [
            k for k in keys if k.action not in app_keys and k not in palette and k not in back
        ]
        left_out = []
        while needed() > width and screen_keys:
            last = screen_keys.pop()
            shown.remove(last)
            left_out.append(last)
        return left_out
