"""The command palette (Ctrl+P): the screens the session's role may open, translated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ews_tui.i18n import _
from ews_tui.ui.menu import sections_for

if TYPE_CHECKING:
    from ews_tui.ui.app import EwsApp

Command = tuple[str, Callable[[], object], str]


class ScreensProvider(Provider):
    """One command per menu entry of the role, plus home, help, log out and quit."""

    def _commands(self) -> Iterator[Command]:
        app = cast("EwsApp", self.app)
        role = app.session.role
        if role is not None:
            yield _("Home"), app.go_home, _("The menus of your role")
            for section in sections_for(role):
                for entry in section.entries:
                    yield _(entry.label), partial(app.open_entry, entry), _(section.label)
            yield _("Log out"), app.logout, _("Back to the login screen")
        yield _("Help"), app.action_help, _("Keys and menus")
        yield _("Quit"), app.action_quit, _("End this session")

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
