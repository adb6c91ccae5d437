"""The footer of every screen: Textual's, with the keys' descriptions translated.

Bindings carry English msgids (``Binding("a", "add", N_("Add"))``); this footer shows them
in the session's language when it renders, and renders again when the session changes its
language (the app's ``language_changed_signal``).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ews_tui.i18n import _, current_language


class EwsFooter(Footer):
    """Use it instead of ``textual.widgets.Footer`` in every screen.

    Textual's footer rebuilds its keys after every change of the bindings (each focus
    move): a form that opens moves the focus dozens of times, and each rebuild restyles the
    keys in the loop every session shares. This one rebuilds once per refresh at most, and
    only when what it shows changed.
    """

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
        self._fit(keys)
        yield from widgets

    def _fit(self, keys: list[FooterKey]) -> None:
        """Drop the palette key's word, then shorten the longest descriptions ("Sauvegarder"
        -> "Sauvegar…") until every key fits the terminal's width: a key that does not show
        cannot be learnt."""
        width = self.app.size.width - 1  # the bar before the docked palette key
        extra = 2 if self.compact else 3  # the spaces around a key and its description

        def needed() -> int:
            return sum(len(k.key_display) + len(k.description) + extra for k in keys)

        # The palette's "^p" is known from every screen: its word goes first.
        palette = [k for k in keys if k.has_class("-command-palette")]
        if needed() > width and palette:
            palette[0].description = ""
        while needed() > width:
            longest = max(keys, key=lambda k: len(k.description), default=None)
            if longest is None or len(longest.description) <= 4:
                return
            longest.description = longest.description.removesuffix("…")[:-1] + "…"
