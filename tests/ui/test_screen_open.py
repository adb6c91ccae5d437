"""Opening a screen styles its widgets once (issue 16 item 6): Textual styled every widget
as it mounted, then the whole screen again when its breakpoint classes were set, and again
when it first showed, each a single step of the loop every session and poller shares.

The styles a screen shows with are still exactly those a full restyle gives, on every screen
of the menus (and the ones they open), so the saving changes nothing on screen.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual import messages
from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input, OptionList

from ews_tui.cli.sim import load_site
from ews_tui.domain.auth import Role
from ews_tui.domain.edits import device_problems
from ews_tui.domain.installation_doc import to_document
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.ui.app import EwsApp, breakpoint_classes
from ews_tui.ui.session import Session
from ews_tui.ui.widgets import device_form
from tests.ui.box_fixtures import box_runtime

SIZE = (80, 24)
SYSTEM_SCREENS = (
    "home",
    "alarms",
    "en50160",
    "gateways",
    "devices",
    "device_advanced",
    "groups",
    "cost_rules",
    "greenup",
    "help",
    "coming",
)
SERVER_SCREENS = (
    "settings_network",
    "settings_modbus",
    "settings_time",
    "settings_language",
    "settings_csv",
    "connector",
    "settings_smtp",
    "settings_users",
)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Runtime]:
    """The box with the demo site's installation (gateways with devices of every kind)."""
    async with box_runtime(tmp_path) as rt:
        await rt.get(InstallationService).import_document(to_document(load_site("demo")))
        yield rt


class CountingApp(EwsApp):
    """Counts the subtree restyles Textual asks for, by node."""

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.restyled: list[DOMNode] = []

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        self.restyled.append(node)
        super().update_styles(node, animate=animate)


def params_for(rt: Runtime, name: str) -> dict[str, Any]:
    inst = rt.get(InstallationService).current
    local = next(g for g in inst.gateways if g.is_local)
    if name == "devices":
        return {"gateway_id": local.id}
    if name == "device_advanced":
        return {"device_id": inst.devices_of(local.id)[0].id}
    return {}


def styles_of(screen: Screen[Any]) -> dict[DOMNode, dict[str, object]]:
    return {n: dict(n.styles.base._rules) for n in screen.walk_children(with_self=True)}


async def test_opening_devices_does_not_restyle_the_whole_screen(site: Runtime) -> None:
    app = CountingApp(Session(site, role=Role.SYSTEM), start_screen="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.restyled.clear()
        app.open_screen("devices", **params_for(site, "devices"))
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "DevicesScreen"
        # Before: twice (the breakpoint classes, then the first ScreenResume), 145 widgets each.
        assert screen not in app.restyled
        assert screen.has_class("-wide-enough", "-tall-enough")


@pytest.mark.parametrize(
    ("role", "name"),
    [(Role.SYSTEM, n) for n in SYSTEM_SCREENS]
    + [(Role.SERVER, n) for n in SERVER_SCREENS]
    + [(None, "login")],
)
async def test_a_screen_opens_with_the_styles_a_full_restyle_gives(
    site: Runtime, role: Role | None, name: str
) -> None:
    start = "login" if role is None else "home"
    app = EwsApp(Session(site, role=role), start_screen=start)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if name not in ("login", "home"):
            app.open_screen(name, **params_for(site, name))
            await pilot.pause()
        screen = app.screen
        shown = styles_of(screen)
        app.update_styles(screen, animate=False)
        assert styles_of(screen) == shown


@pytest.mark.parametrize(("width", "height"), [(80, 24), (60, 24), (80, 20), (40, 10)])
async def test_breakpoint_classes_are_textuals(site: Runtime, width: int, height: int) -> None:
    app = App[None]()
    app.HORIZONTAL_BREAKPOINTS = EwsApp.HORIZONTAL_BREAKPOINTS
    app.VERTICAL_BREAKPOINTS = EwsApp.VERTICAL_BREAKPOINTS
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause()
        expected = {
            name: app.screen.has_class(name)
            for _t, name in (app.HORIZONTAL_BREAKPOINTS or []) + (app.VERTICAL_BREAKPOINTS or [])
        }
        assert breakpoint_classes(app.screen, app) == expected
        assert sum(expected.values()) == 2


async def test_a_widget_is_styled_when_it_mounts_not_as_it_is_built(site: Runtime) -> None:
    app = EwsApp(Session(site, role=Role.SYSTEM), start_screen="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        built: list[Input] = []
        # Built in the app's context, as a screen's compose does: compact=True sets a class.
        app.call_later(lambda: built.append(Input(compact=True)))
        await pilot.pause()
        field = built[0]
        assert field.has_class("-textual-compact")
        assert not field.styles.base._rules  # not styled yet: nothing to restyle
        await app.screen.mount(field)
        await pilot.pause()
        assert field.styles.base._rules and field.outer_size.height == 1  # compact: no border


async def test_the_device_form_checks_a_loaded_device_once(
    site: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a device into the form sets each field, and each sends a Changed: the form
    checked the whole device (and looked its error labels up again) for every one of them."""
    calls: list[object] = []

    def counted(*args: Any) -> Any:
        calls.append(args[1])
        return device_problems(*args)

    monkeypatch.setattr(device_form, "device_problems", counted)
    app = EwsApp(Session(site, role=Role.SYSTEM), start_screen="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_screen("devices", **params_for(site, "devices"))
        for _ in range(5):
            await pilot.pause()
        assert 1 <= len(calls) <= 2, len(calls)
        form = app.screen.query_one(device_form.DeviceForm)
        calls.clear()
        form.query_one("#f-name", Input).value = "Renamed"
        for _ in range(3):
            await pilot.pause()
        assert len(calls) == 1  # a real change is checked


@pytest.mark.parametrize("name", ["live", "consumption_total", "devices", "en50160"])
async def test_esc_before_a_screen_has_mounted_goes_back_once_it_has(
    site: Runtime, name: str
) -> None:
    """Esc typed before the screen just opened finished mounting (Enter and Esc in one read,
    or a loaded box): the screen's on_mount found its widgets gone and the NoMatches ended
    the session (seen in bench_sessions with five sessions navigating)."""
    app = EwsApp(Session(site, role=Role.SYSTEM), start_screen="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        home = app.screen
        app.open_screen(name, **params_for(site, name))
        opened = app.screen
        assert not opened.is_mounted
        app.action_back()  # what Esc runs, before the screen had a turn to mount
        for _ in range(10):
            await pilot.pause()
        assert app.crash is None and app.is_running
        assert app.screen is home and opened not in app.screen_stack


class LayoutCountingApp(EwsApp):
    """Counts the whole layouts (compositor reflows) of each screen until its first frame
    sent (not one asked for in a batch update: Textual drops it)."""

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.reflows: dict[Screen[Any], int] = {}
        self.first_frame: dict[Screen[Any], int] = {}

    def _get_screen(self, screen: Screen[Any] | str) -> Any:
        found, awaited = super()._get_screen(screen)
        if found not in self.reflows:
            self.reflows[found] = 0
            reflow = found._compositor.reflow

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.reflows[found] += 1
                return reflow(*args, **kwargs)

            found._compositor.reflow = counted  # type: ignore[method-assign]
        return found, awaited

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        if renderable is not None and not self._batch_count and screen in self.reflows:
            self.first_frame.setdefault(screen, self.reflows[screen])
        super()._display(screen, renderable)


@pytest.mark.parametrize(
    ("role", "name"),
    [(Role.SERVER, "settings_smtp"), (Role.SYSTEM, "devices"), (Role.SYSTEM, "gateways")],
)
async def test_a_whole_layout_answers_the_layout_asked_before_it(
    site: Runtime, role: Role, name: str
) -> None:
    """Textual laid a screen out as it first showed, yet the request its widgets' mounting
    had made stayed pending: the next frame laid the whole screen out again with nothing
    changed (Settings SMTP: 4 to 7 whole layouts before its first frame, seen with
    bench_sessions --profile-opens)."""
    app = LayoutCountingApp(Session(site, role=role), start_screen="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_screen(name, **params_for(site, name))
        for _ in range(10):
            await pilot.pause()
        screen = app.screen
        assert app.first_frame.get(screen, 0) >= 1
        screen.refresh(layout=True)  # as mounting its widgets asks
        assert screen._layout_required
        screen._refresh_layout()  # as its first ScreenResume lays it out
        assert not screen._layout_required  # the next frame has no layout to do again
        before = app.reflows[screen]
        screen._on_timer_update()  # that frame
        assert app.reflows[screen] == before


@contextlib.asynccontextmanager
async def gateways_open(site: Runtime) -> AsyncIterator[tuple[Any, LayoutCountingApp]]:
    """Gateways opened from Home in an app that counts its layouts: the pilot and the app."""
    app = LayoutCountingApp(Session(site, role=Role.SYSTEM), start_screen="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_screen("gateways")
        for _ in range(10):
            await pilot.pause()
        yield pilot, app


async def test_a_resize_to_the_size_laid_out_lays_out_nothing_a_new_size_does(
    site: Runtime,
) -> None:
    async with gateways_open(site) as (pilot, app):
        screen = app.screen
        before = app.reflows[screen]
        screen._screen_resized(screen.size)  # the Resize its own first layout sends it
        assert app.reflows[screen] == before
        assert not screen._layout_required  # and no layout is left pending for nothing
        await pilot.resize_terminal(100, 30)
        for _ in range(5):
            await pilot.pause()
        assert app.reflows[screen] > before
        assert screen.size == (100, 30)
        assert screen.query_one("#gateways-body").region.width == 100


class AttachedCountingApp(CountingApp):
    """Counts the restyles of widgets in the DOM (one of a widget being built is skipped)."""

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        if node.is_attached:
            self.restyled.append(node)
        EwsApp.update_styles(self, node, animate=animate)


@pytest.mark.parametrize(
    ("name", "first_focus"), [("devices", "#device-search"), ("groups", "ContentTabs")]
)
async def test_a_list_screen_opens_with_its_list_focused_and_nothing_else_first(
    site: Runtime, name: str, first_focus: str
) -> None:
    """Textual's default focus went to the first focusable widget (Devices' search field,
    Groups' tabs), then on_mount moved it to the list: both widgets restyled twice."""
    app = AttachedCountingApp(Session(site, role=Role.SYSTEM), start_screen="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.restyled.clear()
        app.open_screen(name, **params_for(site, name))
        for _ in range(5):
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen.focused, OptionList)
        skipped = screen.query_one(first_focus)
        assert skipped not in app.restyled


async def test_a_layout_asked_before_a_whole_layout_is_answered_by_it(site: Runtime) -> None:
    """The widgets of a screen that opens ask for a layout as their children mount, and
    their requests reach the screen after it was laid out as it first showed: Textual laid
    the whole screen out again for them (Settings SMTP, Devices: 8 to 16 ms each time)."""
    async with gateways_open(site) as (pilot, app):
        screen = app.screen
        row = screen.query_one("#gateway-form")
        asked_before = messages.Layout(row)
        screen._refresh_layout()  # a whole layout, after the request was made
        before = app.reflows[screen]
        screen.post_message(asked_before)
        for _ in range(3):
            await pilot.pause()
        assert not screen._layout_required and app.reflows[screen] == before
        screen.post_message(messages.Layout(row))  # a request made since: laid out
        for _ in range(3):
            await pilot.pause()
        assert app.reflows[screen] == before + 1
