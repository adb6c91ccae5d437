"""The home screen: the menus of the manual that the session's role may open.

Under the menu, a status line tells how the box's services and queues are doing
(:mod:`ews_tui.ui.system_status`), read from the runtime's supervisor and ``Hub.stats()``
every second and whenever the screen shows again, and how many alarms wait for an
acknowledgement.

The title line holds the session's language (manual §7.11.2): choosing one there changes
this session's texts at once (the menu, the status line, the footer) and nothing else: the
box's default language (Server configuration > Language) and other sessions keep theirs.

Logging out is Ctrl+D, the key that ends a shell session: no letter, so a word typed while
the Home screen has the keys (a search meant for another screen) cannot end the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from ews_tui.i18n import LANGUAGES, N_, _
from ews_tui.services.alarms import AlarmEngine
from ews_tui.ui.menu import ROLE_NAMES, MenuEntry, sections_for
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.system_status import status_line
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.steady_static import SteadyStatic

STATUS_REFRESH_S = 1.0

if TYPE_CHECKING:
    from ews_tui.ui.app import EwsApp


class HomeScreen(EwsScreen[None]):
    CSS_PATH = "../styles/home.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open", N_("Open entry")),
        Binding("ctrl+d", "logout", N_("Log out")),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="home-header", classes="screen-title"):
            yield Static(id="title")
            yield Label(id="language-label")
            yield Select(
                [(name, code) for code, name in LANGUAGES.items()],
                value=self.session.language,
                allow_blank=False,
                compact=True,
                id="language",
            )
        yield OptionList(id="menu")
        yield SteadyStatic(id="home-status")
        yield EwsFooter()

    def on_mount(self) -> None:
        self._entries: dict[str, MenuEntry] = {}
        self.render_menu()
        self.app.language_changed_signal.subscribe(self, lambda _code: self._render_all())
        self.render_status()
        self.set_interval(STATUS_REFRESH_S, self.render_status)

    def on_screen_resume(self) -> None:
        self.render_status()

    @property
    def app_(self) -> EwsApp:
        return self.app

    def _render_all(self) -> None:
        self.render_menu()
        self.render_status()

    def render_status(self) -> None:
        """The status line from the supervisor's read model and the Hub's queue figures."""
        if not self.is_current:  # under another screen: drawn again when it shows
            return
        runtime = self.app_.session.runtime
        try:
            alarms: int | None = self.app_.session.service(AlarmEngine).counts.unacknowledged
        except LookupError:
            alarms = None
        line = status_line(runtime.supervisor.health(), runtime.hub.stats(), alarms)
        status = self.query_one("#home-status", SteadyStatic)
        status.show(line.text)  # once a second: the screen is laid out only on a change
        status.set_class(line.problem, "-problem")

    def render_menu(self) -> None:
        role = self.app_.session.role
        self.query_one("#language-label", Label).update(_("Language"))
        title = _("Home")
        if role is not None:
            title = f"{title} · {_(ROLE_NAMES[role])}"
        self.query_one("#title", Static).update(title)
        menu = self.query_one("#menu", OptionList)
        highlighted = menu.highlighted
        menu.clear_options()
        self._entries.clear()
        options: list[Option | None] = []  # added at once: each add measures the list again
        for index, section in enumerate(sections_for(role)):
            if index:
                options.append(None)
            heading = Text(_(section.label).upper(), style="bold")
            options.append(Option(heading, id=f"section:{section.key}", disabled=True))
            for entry in section.entries:
                label = _(entry.label)
                if entry.screen is None:
                    label = _("{label} (coming)").format(label=label)
                options.append(Option(Text(f"  {label}"), id=entry.key))
                self._entries[entry.key] = entry
        menu.add_options(options)
        menu.highlighted = highlighted if highlighted is not None else 1
        menu.focus()

    @on(OptionList.OptionSelected, "#menu")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        entry = self._entries.get(event.option.id or "")
        if entry is not None:
            self.app_.open_entry(entry)

    @on(Select.Changed, "#language")
    def _language_chosen(self, event: Select.Changed) -> None:
        code = event.value
        if isinstance(code, str) and code != self.session.language:
            self.app.change_language(code)  # this session only; the menu follows its signal

    def action_open(self) -> None:
        self.query_one("#menu", OptionList).action_select()

    def action_logout(self) -> None:
        self.app_.logout()


SCREEN = HomeScreen
