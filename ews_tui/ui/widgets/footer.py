"""The footer of every screen: Textual's, with the keys' descriptions translated.

Bindings carry English msgids (``Binding("a", "add", N_("Add"))``); this footer shows them
in the session's language when it renders, and renders again when the session changes its
language (the app's ``language_changed_signal``).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ews_tui.i18n import _


class EwsFooter(Footer):
    """Use it instead of ``textual.widgets.Footer`` in every screen."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = _(widget.description) if widget.description else ""
                if isinstance(widget.tooltip, str) and widget.tooltip:
                    widget.tooltip = _(widget.tooltip)
            yield widget

    def on_mount(self) -> None:
        # Textual also runs Footer.on_mount (handlers of every class in the MRO run).
        signal = getattr(self.app, "language_changed_signal", None)
        if signal is not None:
            signal.subscribe(self, self._language_changed)

    def _language_changed(self, _code: str) -> None:
        if self.is_attached:
            self.call_after_refresh(self.recompose)
