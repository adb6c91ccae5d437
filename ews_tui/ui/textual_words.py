"""Textual's own words on our screens, in the session's language.

Textual 8 (pinned) writes a few English words of its own on a session's terminal: the
command palette's "No matches found" when a search finds nothing, and the note that Ctrl+C
shows ("Press ctrl+q to quit the app", titled "Do you want to quit?"), and the key an open
dropdown puts in the footer ("Esc Dismiss menu": its description is a msgid of ours, so the
footer's gettext finds it). Everything else
Textual shows comes from us: the keys' descriptions (translated by
:class:`~ews_tui.ui.widgets.footer.EwsFooter`), the palette's placeholder and its hits
(:mod:`ews_tui.ui.palette`). The palette's own bindings ("Exit the command palette"...) show
nowhere: it has no footer, and the Help screen lists ours.
"""

from __future__ import annotations

from typing import Any

from rich.align import Align
from rich.text import Text
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

from ews_tui.i18n import N_, _

NO_MATCHES = N_("No matches found")
QUIT_HINT = N_("Press [b]{key}[/b] to quit")
QUIT_TITLE = N_("Do you want to quit?")
#: Textual's ``SelectOverlay`` binding (escape, "dismiss", "Dismiss menu"), in our catalogs.
DISMISS_MENU = N_("Dismiss menu")


class EwsCommandPalette(CommandPalette):
    """Textual's command palette, saying "No matches found" in the session's language."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual 8's own method with our words; the text is read now, in this session's
        # language (the timer's callback runs later).
        self._stop_no_matches_countdown()
        nothing_found = _(NO_MATCHES)

        def _show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(nothing_found, style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:  # discovery (nothing typed): an empty list says nothing
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, _show_no_matches)


def show_quit_hint(app: App[Any]) -> None:
    """Ctrl+C does not quit (Textual copies with it): say which key quits, as Textual does,
    in the session's language."""
    for active in app.active_bindings.values():
        if active.binding.action in ("quit", "app.quit"):
            key = app.get_key_display(active.binding)
            app.notify(_(QUIT_HINT).format(key=key), title=_(QUIT_TITLE))
            return
