"""The Textual App of one UI session. Screens live one per module in ``ui/screens/``.

A screen is opened by name: ``app.open_screen("gateways")`` imports
``ews_tui.ui.screens.gateways`` and pushes its ``SCREEN`` class. No registry to edit when
a screen is added; the home menu (:mod:`ews_tui.ui.menu`) lists names. A menu screen whose
module is not there yet opens the "coming" screen instead; a role never opens a menu screen
outside its sections.

An unexpected exception in any screen, widget or worker of the app ends this session only:
it is logged with the session's origin (never printed on a terminal: one may carry another
session) and kept in :attr:`EwsApp.crash`; the app exits with return code 1, and the front end
says so to the user (SSH: one line and exit status 1; ``ews tui``: a line on stderr and exit
status 1). The box, its pollers and the other sessions go on.

Construction touches no global state: the session's language is set when the app starts
running, in the app's own task (``on_load``), so every task of this app (and only of this
app) reads it; several apps in one loop each keep their language. The stack is always
``[default, login]`` before login and ``[default, home, ...]`` after.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, Provider
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.css.types import CSSLocation
from textual.dom import DOMNode
from textual.screen import Screen
from textual.signal import Signal
from textual.widget import AwaitMount

from ews_tui import heap
from ews_tui.domain.auth import Role
from ews_tui.i18n import N_, _, change_language, set_language
from ews_tui.ui import cycles, input_keys
from ews_tui.ui.frames import ShortSteps
from ews_tui.ui.menu import MenuEntry, entry_for_screen, may_open
from ews_tui.ui.palette import ScreensProvider
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.session import Session
from ews_tui.ui.textual_words import EwsCommandPalette, show_quit_hint
from ews_tui.ui.widgets.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmall

log = logging.getLogger(__name__)
input_keys.install()  # keys into a field in the order typed (see the module)
STYLES = Path(__file__).parent / "styles"
SCREENS_PACKAGE = "ews_tui.ui.screens"
ANSI_THEME = "ansi-dark"


class SharedStylesheet(Stylesheet):
    """A stylesheet whose parsed rules are shared by every session of the process.

    Textual parses CSS per App: each session parsed app.tcss, every widget's default CSS
    and each screen's file again when it first showed, 50-120 ms of the one loop a screen.
    The rules of one CSS text under one set of theme variables are the same for every
    session (Textual only reads them once parsed), so they are parsed once per process.
    """

    _parsed: ClassVar[dict[tuple[object, ...], list[RuleSet]]] = {}
    parses = 0  # CSS texts parsed by this process (the rest came from the shared cache)

    def _parse_rules(
        self,
        css: str,
        read_from: CSSLocation,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        variables = tuple(sorted(self._variables.items()))
        key = (css, read_from, is_default_rules, tie_breaker, scope, variables)
        rules = self._parsed.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            SharedStylesheet.parses += 1
            self._parsed[key] = rules
        return rules

    def _process_component_classes(self, node: DOMNode) -> None:
        """Textual's, then the virtual nodes of the component styles it replaced retired
        (their cycles broken: :mod:`ews_tui.ui.cycles`)."""
        before = cycles.held_styles(node)
        super()._process_component_classes(node)
        if before:
            cycles.retire(cycles.replaced(before, node))

    def reparse(self) -> None:
        """Textual's ``reparse`` (a fresh stylesheet, so an error leaves this one as it
        was), with a shared stylesheet."""
        fresh = SharedStylesheet(variables=self._variables)
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            fresh.add_source(
                css,
                read_from=read_from,
                is_default_css=is_defaults,
                tie_breaker=tie_breaker,
                scope=scope,
            )
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self.source = fresh.source
        self._require_parse = False


LEAVE_QUESTION = N_("Leave without saving? What you typed here will be lost.")


class UnsavedInput:
    """A screen holding a form: Esc (the app's Back) asks before leaving it while
    :meth:`unsaved_input` says the form holds input that is not saved."""

    def unsaved_input(self) -> bool:
        raise NotImplementedError


class EwsApp(ShortSteps, App[None]):
    """One session's UI: given the runtime (through the session) and the session's facts.
    Its message loop keeps its steps short (:class:`~ews_tui.ui.frames.ShortSteps`)."""

    TITLE = "ews-tui"
    CSS_PATH = STYLES / "app.tcss"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {ScreensProvider}
    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [  # noqa: RUF012 (as App declares it)
        (0, "-too-narrow"),
        (MIN_WIDTH, "-wide-enough"),
    ]
    VERTICAL_BREAKPOINTS: list[tuple[int, str]] | None = [  # noqa: RUF012 (as App declares it)
        (0, "-too-short"),
        (MIN_HEIGHT, "-tall-enough"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back")),
        Binding("f1", "help", N_("Help"), key_display="F1"),
        Binding("question_mark", "help", N_("Help"), show=False),
        Binding("ctrl+p", "command_palette", N_("Commands"), show=False, priority=True),
        Binding("ctrl+q", "quit", N_("Quit"), show=False, priority=True),
    ]

    def __init__(self, session: Session, *, start_screen: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.crash: Exception | None = None  # the unexpected error that ended this session
        self._start_screen = start_screen
        self.language_changed_signal: Signal[str] = Signal(self, "language-changed")
        self.theme = ANSI_THEME if wants_ansi(session) else _theme_of(session)
        self.stylesheet = SharedStylesheet(variables=self.get_css_variables())

    # -- life cycle -------------------------------------------------------------------------

    def on_load(self) -> None:
        # The app's own task: every widget, timer and worker task copies this context.
        set_language(self.session.language)

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, _add_too_small)
        self.screen_change_signal.subscribe(self, _screen_changed)
        _add_too_small(self.screen)
        start = self._start_screen
        if self.session.role is None or start in (None, "login"):
            self.session.role = None  # on the login screen nobody is logged in
            self.open_screen("login")
            return
        self.open_screen("home")
        if start != "home":
            self.open_screen(start)

    # -- unexpected errors ------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Textual's hook for an exception nothing caught (Textual 8, pinned): log it, keep
        it, and let Textual end this app (return code 1; ``run_test`` re-raises it)."""
        if self.crash is None:
            self.crash = error
            log.error(
                "session %s ended by an unexpected error",
                self.session.origin,
                exc_info=(type(error), error, error.__traceback__),
            )
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        """Textual prints the traceback on the process's stderr at exit: the log has it."""
        self._exit_renderables.clear()

    # -- screens ----------------------------------------------------------------------------

    def screen_class(self, name: str) -> type[Screen[Any]] | None:
        """The ``SCREEN`` of module ``ews_tui.ui.screens.<name>``; None if there is none."""
        module_name = f"{SCREENS_PACKAGE}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            log.info("screen %s is not there yet: showing 'coming'", name)
            return None
        screen: type[Screen[Any]] = module.SCREEN
        return screen

    def open_screen(self, name: str, **params: Any) -> None:
        """Push the screen called ``name`` (module ``ews_tui.ui.screens.<name>``)."""
        if not may_open(self.session.role, name):
            log.warning("role %s may not open %s", self.session.role, name)
            self.notify(_("Your role cannot open this screen."), severity="error")
            return
        try:
            screen_class = self.screen_class(name)
        except Exception:
            log.exception("screen %s failed to load", name)
            self.notify(_("This screen failed to load: see the log."), severity="error")
            screen_class = None
        if screen_class is None:
            entry = entry_for_screen(name)
            self.open_screen("coming", title=entry.label if entry else name)
            return
        self.push_screen(screen_class(**params))

    def open_entry(self, entry: MenuEntry) -> None:
        """Open a home menu entry (its screen, or "coming")."""
        if entry.screen is None:
            self.open_screen("coming", title=entry.label)
        else:
            self.open_screen(entry.screen)

    def login_as(self, role: Role) -> None:
        """The session is now ``role``: show its home."""
        log.info("session %s logged in as %s", self.session.origin, role.value)
        self.session.role = role
        self._restart_with("home")

    def logout(self) -> None:
        log.info("session %s logged out", self.session.origin)
        self.session.role = None
        self._restart_with("login")

    def go_home(self) -> None:
        if self.session.role is not None:
            self._restart_with("home")

    def _get_screen(self, screen: Screen[Any] | str) -> tuple[Screen[Any], AwaitMount]:
        """Textual's (Textual 8, pinned), with a new screen given its breakpoint classes
        before it is styled: Textual sets them on the screen's first Resize, after every
        widget of the screen was styled, and a class change on the screen styles the whole
        screen again (Devices: 230 style applications in one step of the loop)."""
        found = self.get_screen(screen)
        if not found.is_running:
            found.update_classes(breakpoint_classes(found, self), update=False)
        return super()._get_screen(found)

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Textual's, except for a widget not in the DOM yet: Textual styles each widget as
        it mounts, so a restyle asked before that is work done twice, in the loop every
        session shares (``compact=True`` given to an Input, Select or OptionList restyles it
        as it is built: 36 times when Devices opens, a third of its style work)."""
        if node is not self and not node.is_attached:
            return
        super().update_styles(node, animate=animate)

    def _restart_with(self, name: str) -> None:
        screen_class = self.screen_class(name)
        assert screen_class is not None, name
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen_class())
        else:
            self.push_screen(screen_class())

    # -- language ---------------------------------------------------------------------------

    def change_language(self, code: str) -> None:
        """Switch this session (all its tasks) to ``code``; other sessions keep theirs."""
        change_language(code)
        self.session.language = code
        self.language_changed_signal.publish(code)
        self.refresh_bindings()

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return len(self.screen_stack) > 2
        return True

    # App.action_back is a coroutine; ours stays a plain method (Textual runs either) so
    # subclasses such as KioskApp call it without awaiting.
    def action_back(self) -> None:  # type: ignore[override]
        if len(self.screen_stack) <= 2:
            return
        screen = self.screen
        if not screen.is_mounted:
            # Esc before the screen just opened had its turn to mount (Enter and Esc in one
            # read, or a busy loop): popped now, its on_mount would find its widgets gone
            # and the NoMatches would end the session. Back once it has mounted.
            screen.call_later(self._back_from, screen)
            return
        if isinstance(screen, UnsavedInput) and screen.unsaved_input():
            self._ask_to_leave(screen)
            return
        self.pop_screen()

    def _ask_to_leave(self, screen: Screen[Any]) -> None:
        """Leave ``screen`` and its unsaved input only on a "yes" (``y``); Esc, ``n`` or
        Enter on the focused "Stay" keep it as it was."""

        def answered(leave: bool | None) -> None:
            if leave:
                self._back_from(screen)

        question = ConfirmScreen(_(LEAVE_QUESTION), yes=N_("Leave"), no=N_("Stay"))
        self.push_screen(question, answered)

    def _back_from(self, screen: Screen[Any]) -> None:
        if self.screen is screen and len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        if type(self.screen).__module__ != f"{SCREENS_PACKAGE}.help":
            self.open_screen("help", below=self.screen)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self.app):
            self.push_screen(
                EwsCommandPalette(placeholder=_("Search for a screen…"), id="--command-palette")
            )

    def action_help_quit(self) -> None:
        show_quit_hint(self)  # Textual's Ctrl+C note, in the session's language


def breakpoint_classes(screen: Screen[Any], app: App[Any]) -> dict[str, bool]:
    """The breakpoint classes Textual gives ``screen`` in ``app`` at the app's size (the
    screen's ``HORIZONTAL_BREAKPOINTS`` / ``VERTICAL_BREAKPOINTS``, else the app's): True
    for the one of each list that applies, False for the others."""
    size = app.size
    horizontal = (
        app.HORIZONTAL_BREAKPOINTS
        if screen.HORIZONTAL_BREAKPOINTS is None
        else screen.HORIZONTAL_BREAKPOINTS
    ) or []
    vertical = (
        app.VERTICAL_BREAKPOINTS
        if screen.VERTICAL_BREAKPOINTS is None
        else screen.VERTICAL_BREAKPOINTS
    ) or []
    classes = {name: False for _threshold, name in horizontal + vertical}
    for dimension, points in ((size.width, horizontal), (size.height, vertical)):
        for threshold, name in sorted(points, reverse=True):
            if dimension >= threshold:
                classes[name] = True
                break
    return classes


def wants_ansi(session: Session) -> bool:
    """The 16-colour theme: a 16-colour terminal (Linux VT, serial), NO_COLOR, or config."""
    env = session.extra.get("env", os.environ)
    return session.colors == 16 or "NO_COLOR" in env or _configured_theme(session) == "ansi"


def _configured_theme(session: Session) -> str:
    return str(session.runtime.config.ui.theme)


def _theme_of(session: Session) -> str:
    return "textual-light" if _configured_theme(session) == "light" else "textual-dark"


def _screen_changed(_screen: Screen[Any]) -> None:
    """A screen opened or closed: garbage being made, no time for a full collection."""
    heap.POLICY.activity()


def _add_too_small(screen: Screen[Any]) -> None:
    """Give ``screen`` its "please enlarge" notice (shown by app.tcss below 80x24).

    A screen already gone (opened and closed before this runs: Enter then Esc typed
    together) is left alone: mounting into it would end the session on a ``MountError``.
    """
    if not screen.is_attached:
        return
    if not screen.query(TooSmall):
        screen.mount(TooSmall(classes="too-small"))
