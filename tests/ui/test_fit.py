"""Every screen fits 80x24 in every language (issue 16 item 3).

The serial console is 80x24: a label, a table header, a title, a dropdown entry or a footer
key that is cut there ("Sauv…", a header scrolled off the right edge, a word under the next
widget) or that wraps where it should not (a dropdown entry over two lines) cannot be read
on the box's main way in for maintenance.

Each test opens every screen of the menus, and the forms and dialogs they open, in one
language at 80x24 with Textual's Pilot, renders the screen to text (the compositor's own
strips, what the terminal receives) and compares it with the strings the screen's widgets
show. One test per language (xdist spreads them), one app per test: it logs in as each role
in turn (login, consultation, system, server); each screen opens once per language.

No wall-clock waits: after each step the test waits until the app is :func:`ready` (every
message handled, every worker done or waiting for a Hub event, the screen laid out), not for
the process to look idle (Pilot's ``pause``: 20 ms at least a call, up to a second on a busy
machine).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual import events
from textual.content import Content
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, OptionList, Select, Static
from textual.widgets._footer import FooterKey
from textual.widgets._select import SelectCurrent
from textual.widgets._toggle_button import ToggleButton
from textual.worker import Worker, WorkerState

from ews_tui.cli.sim import load_site
from ews_tui.domain.auth import Role
from ews_tui.domain.events import Sample
from ews_tui.domain.installation_doc import to_document
from ews_tui.hub import Hub
from ews_tui.i18n import LANGUAGES, N_, _, use_language
from ews_tui.runtime import Runtime
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.ui.app import EwsApp
from ews_tui.ui.session import Session
from tests.ui.box_fixtures import SnapshotApp, box_runtime
from tests.ui.consumption_fixtures import COSTS

SIZE = (80, 24)
ELLIPSIS = "…"
SHORT_WORDS = 4  # a text of this many words or fewer is a label: it must not wrap
# A dropdown's entry this long fits on one line of a screen-wide dropdown (its border, its
# padding and a scroll bar take 6 cells); a longer one may wrap.
LONGEST = SIZE[0] - 6


# -- the screen as text -----------------------------------------------------------------


def screen_lines(screen: Screen[Any]) -> list[str]:
    """The screen as the terminal shows it: one string of 80 cells a row."""
    lines = []
    for strip in screen._compositor.render_strips():
        cells = "".join(seg.text for seg in strip if not seg.control)
        lines.append(cells.ljust(SIZE[0])[: SIZE[0]])
    return lines


def plain(content: object) -> str:
    if isinstance(content, Content | Text):
        return content.plain
    return str(content)


def words(text: str) -> list[str]:
    return text.split()


def squeeze(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Shown:
    """What the rendered screen holds where each widget is."""

    screen: Screen[Any]
    lines: list[str] = field(default_factory=list)

    def visible(self) -> dict[Widget, tuple[Region, Region]]:
        return self.screen._compositor.visible_widgets

    def text_in(self, region: Region) -> list[str]:
        region = region.intersection(Region(0, 0, *SIZE))
        return [self.lines[y][region.x : region.right] for y in range(region.y, region.bottom)]


# -- the checks -------------------------------------------------------------------------


def _label_of(widget: Widget) -> str | None:
    """The text a labelled widget shows, or None for widgets checked otherwise.

    A dropdown's field shows the chosen entry on one line, ending with "…" when it is
    longer than the field (by design: the device form's model names); its entries are
    checked whole when the dropdown opens."""
    if isinstance(widget.parent, SelectCurrent):
        return None
    if isinstance(widget, Button | ToggleButton):
        return plain(widget.label)
    if isinstance(widget, Static) and not isinstance(widget, Input):
        return plain(widget.render())
    return None


def check_labels(shown: Shown, where: str) -> list[str]:
    """Each visible label, title, button and checkbox shows its whole text; a short one (a
    label, a title) on one line."""
    problems = []
    for widget, (region, clip) in shown.visible().items():
        if isinstance(widget, FooterKey):
            continue
        text = _label_of(widget)
        if not text or not text.strip():
            continue
        if clip.y > region.y or clip.bottom < region.bottom:
            continue  # scrolled partly out of view vertically: what scrolling is for
        area = widget.content_region.intersection(clip)
        rows = shown.text_in(area)
        one_line = any(squeeze(line) in squeeze(row) for row in rows for line in [text])
        lines = [line for line in text.split("\n") if line.strip()]
        if all(any(squeeze(line) in squeeze(row) for row in rows) for line in lines):
            continue
        joined = squeeze(" ".join(rows))
        if squeeze(text) in joined:
            if len(words(text)) <= SHORT_WORDS and "\n" not in text and not one_line:
                problems.append(f"{where}: {text!r} wraps: {rows}")
            continue
        problems.append(f"{where}: {text!r} is cut: {[r.rstrip() for r in rows]}")
    return problems


def check_tables(shown: Shown, where: str) -> list[str]:
    """Every column header of a visible table shows whole on the header rows."""
    problems = []
    for widget, (_region, clip) in shown.visible().items():
        if not isinstance(widget, DataTable) or not widget.show_header:
            continue
        area = widget.content_region.intersection(clip)
        header = shown.text_in(area)[: widget.header_height]
        for column in widget.columns.values():
            lines = [line.strip() for line in plain(column.label).split("\n")]
            if not all(line in row for line, row in zip(lines, header, strict=False)):
                problems.append(f"{where}: table header {lines!r} cut: {header!r}")
    return problems


def check_options(shown: Shown, where: str) -> list[str]:
    """Each entry of a visible list shows on one line (no wrap)."""
    problems = []
    for widget in shown.visible():
        if not isinstance(widget, OptionList) or not widget.size.width:
            continue
        for index, height in widget._heights.items():
            option = widget.get_option_at_index(index)
            prompt = plain(option.prompt)
            if height - option._divider > 1 + prompt.count("\n") and len(prompt) <= LONGEST:
                problems.append(f"{where}: entry {prompt!r} wraps over {height} lines")
    return problems


def check_footer(shown: Shown, where: str) -> list[str]:
    """Each key of the footer shows its whole description, inside the screen."""
    problems = []
    screen = shown.screen
    for key in screen.query(FooterKey):
        region = key.region
        if region.right > SIZE[0] or region.width == 0:
            problems.append(f"{where}: footer key {key.key_display!r} off the screen")
            continue
        row = shown.lines[region.y]
        active = screen.active_bindings.get(key.key)
        if active is None or not active.binding.description:
            continue
        if key.description and key.description != _(active.binding.description):
            problems.append(f"{where}: footer key {key.key_display} {key.description!r} is cut")
        elif key.description and f"{key.key_display} {key.description}" not in row:
            problems.append(f"{where}: footer key {key.description!r} not shown: {row!r}")
    return problems


def _sources(widget: Widget) -> Iterable[str]:
    label = _label_of(widget)
    if label:
        yield label
    if isinstance(widget, Input):
        yield widget.placeholder
        yield widget.value
    if isinstance(widget, DataTable):
        for row in range(widget.row_count):
            yield from (plain(cell) for cell in widget.get_row_at(row))


def check_ellipses(shown: Shown, where: str) -> list[str]:
    """No "…" on screen that the text shown does not hold itself: Textual's mark of a cut."""
    problems = []
    for y, line in enumerate(shown.lines):
        for match in re.finditer(ELLIPSIS, line):
            try:
                widget, _region = shown.screen._compositor.get_widget_at(match.start(), y)
            except Exception:
                continue
            if isinstance(widget.parent, SelectCurrent):
                continue  # the chosen entry in its field: see _label_of
            if not any(ELLIPSIS in text for text in _sources(widget)):
                problems.append(f"{where}: cut with '…' in {type(widget).__name__}: {line!r}")
                break
    return problems


CHECKS: tuple[Callable[[Shown, str], list[str]], ...] = (
    check_labels,
    check_tables,
    check_options,
    check_footer,
    check_ellipses,
)


def fit_problems(screen: Screen[Any], where: str) -> list[str]:
    shown = Shown(screen, screen_lines(screen))
    return [problem for check in CHECKS for problem in check(shown, where)]


async def dropdown_problems(pilot: Pilot[Any], where: str, seen: set[object]) -> list[str]:
    """Open each visible dropdown of the screen: its entries each show on one line. A
    dropdown already opened with the same entries at the same width is not opened again."""
    problems: list[str] = []
    screen = pilot.app.screen
    for select in list(screen.query(Select)):
        if select not in screen._compositor.visible_widgets or select.disabled:
            continue
        prompts = tuple(plain(prompt) for prompt, _value in select._options)
        if (select.size.width, prompts) in seen:
            continue
        seen.add((select.size.width, prompts))
        select.expanded = True
        await ready(pilot)
        shown = Shown(screen, screen_lines(screen))
        problems += check_options(shown, f"{where} dropdown #{select.id}")
        select.expanded = False
        await ready(pilot)
    return problems


# -- the screens ------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One screen to open: by its module name (with parameters), or built by ``build``."""

    name: str
    params: Callable[[Runtime], dict[str, Any]] = lambda _rt: {}
    build: Callable[[EwsApp], Screen[Any]] | None = None
    keys: tuple[str, ...] = ()  # pressed once it is open (another page, another step)
    # pressed after the screen was checked as opened, then checked again: another state of
    # the same screen without opening it twice
    then: tuple[str, ...] = ()
    rows: str = ""  # a list whose every entry is highlighted in turn (the device form)
    ready: str = ""  # a list that must have entries before the keys are pressed


def _local(rt: Runtime) -> Any:
    inst = rt.get(InstallationService).current
    return next(g for g in inst.gateways if g.is_local)


def _first_device(rt: Runtime) -> dict[str, Any]:
    inst = rt.get(InstallationService).current
    return {"device_id": inst.devices_of(_local(rt).id)[0].id}


def _modal(module: str, name: str, *args: Any, **kwargs: Any) -> Callable[[EwsApp], Screen[Any]]:
    def build(app: EwsApp) -> Screen[Any]:
        import importlib

        screen_class = getattr(importlib.import_module(f"ews_tui.ui.screens.{module}"), name)
        built: Screen[Any] = screen_class(*args, **kwargs)
        return built

    return build


def _threshold_form(app: EwsApp) -> Screen[Any]:
    from ews_tui.ui.screens.thresholds import ThresholdForm

    return ThresholdForm(None, app.session.runtime.get(InstallationService).current, set())


def _confirm(app: EwsApp) -> Screen[Any]:
    from ews_tui.ui.screens.confirm import ConfirmScreen

    return ConfirmScreen(_("Acknowledge every alarm the filters show?"), yes=N_("Save"))


def _en50160(app: EwsApp) -> Screen[Any]:
    from ews_tui.ui.screens.en50160 import En50160Screen

    return En50160Screen()


def _help(app: EwsApp) -> Screen[Any]:
    from ews_tui.ui.screens.help import HelpScreen

    return HelpScreen(below=app.screen)


CONSULTATION_VISITS = (
    Visit("home"),
    Visit("help", build=_help),
    Visit("live"),
    Visit("consumption_total", then=("y",)),
    Visit("consumption_partial", then=("g", "g")),
    Visit("consumption_details"),
    Visit("consumption_costs"),
    Visit("alarms"),
    Visit("thresholds"),
    Visit("threshold_form", build=_threshold_form),
    Visit("en50160"),
    Visit("en50160_week", build=_en50160, keys=("enter",), ready="#en50160-weeks"),
)
CONFIGURATION_VISITS = (
    Visit("gateways"),
    Visit("devices", lambda rt: {"gateway_id": _local(rt).id}, rows="#device-list"),
    Visit("device_advanced", _first_device),
    Visit("groups"),
    Visit("groups", lambda _rt: {"page": "circuits"}),
    Visit(
        "group_remove",
        build=_modal("group_remove", "GroupRemoveScreen", "Lighting", active=True, preset=True),
    ),
    Visit("cost_rules"),
    Visit("cost_rules", lambda _rt: {"energy": "gas"}),
    Visit("cost_rule_form", build=_modal("cost_rule_form", "RuleForm", "electricity")),
    Visit("cost_tariff", build=_modal("cost_tariff", "TariffForm", "electricity", 0)),
    Visit("cost_band", build=_modal("cost_band", "BandForm", "electricity", 0, 0)),
    Visit("cost_currency", build=_modal("cost_currency", "CurrencyForm", "gas")),
    Visit("greenup"),
    Visit("coming", lambda _rt: {"title": "Update"}),
    Visit("kiosk"),
)
SERVER_VISITS = (
    Visit("home"),
    Visit("settings_network"),
    Visit("settings_modbus"),
    Visit("settings_time"),
    Visit("settings_language"),
    Visit("settings_csv"),
    Visit("connector"),
    Visit("connector_log"),
    Visit("connector_upload"),
    Visit("settings_smtp"),
    Visit("settings_notifications"),
    Visit("recipient_form", build=_modal("settings_notifications", "RecipientForm", None)),
    Visit("settings_users"),
    Visit("change_pin", build=_modal("change_pin", "ChangePinScreen", Role.SYSTEM, "12345")),
    Visit("backup"),
    Visit("confirm", build=_confirm),
)
# The roles an app of each language logs in as, in turn, and the screens each one opens.
PLAN: tuple[tuple[Role | None, tuple[Visit, ...]], ...] = (
    (None, (Visit("login"),)),
    (Role.CONSULTATION, (Visit("home"),)),
    (Role.SYSTEM, CONSULTATION_VISITS + CONFIGURATION_VISITS),
    (Role.SERVER, SERVER_VISITS),
)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Runtime]:
    """The demo site (gateways with devices of every family) with cost rules."""
    async with box_runtime(tmp_path) as rt:
        await rt.get(InstallationService).import_document(to_document(load_site("demo")))
        await rt.get(ConsumptionService).save_costs(COSTS)
        yield rt


# -- readiness ----------------------------------------------------------------------------

READY_LIMIT_S = 60.0  # a step the app has not done by then fails the test (a hang, not a wait)


def _parked(worker: Worker[Any], hub: Hub) -> bool:
    """A worker waiting for the next Hub event (a screen following its news): done with what
    it was asked, as far as the screen shown now goes."""
    task = worker._task
    waiting = task._fut_waiter if task is not None else None  # type: ignore[attr-defined]
    return waiting is not None and any(s._waiter is waiting for s in hub._subscriptions)


def _busy_workers(app: EwsApp) -> list[Worker[Any]]:
    hub = app.session.hub
    return [
        worker
        for worker in app.workers
        if worker.state in (WorkerState.PENDING, WorkerState.RUNNING) and not _parked(worker, hub)
    ]


def _frame_due(screen: Screen[Any]) -> bool:
    return bool(
        screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._recompose_required
        or screen._dirty_widgets
    )


def _queued(app: EwsApp, screen: Screen[Any]) -> bool:
    return any(
        node.message_queue_size or node._pending_message is not None
        for node in (app, *screen.walk_children(with_self=True))
    )


async def ready(pilot: Pilot[Any]) -> None:
    """Until the app has done what it was asked: every message of the app, its screen and
    the screen's widgets handled, every worker done or waiting for a Hub event (a worker
    reading the store or waiting out a rate cap is waited for: its data is on screen after),
    the screen laid out and drawn. Waits on what the app waits on (messages, the futures
    its workers await), never on the clock; the limit only turns a hang into a failure."""
    app = pilot.app
    assert isinstance(app, EwsApp)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_LIMIT_S
    while loop.time() < deadline:
        screen = app.screen
        await pilot._wait_for_screen()
        busy = _busy_workers(app)
        if busy:
            waits = {
                waiting
                for worker in busy
                if worker._task is not None and (waiting := worker._task._fut_waiter) is not None  # type: ignore[attr-defined]
            }
            if len(waits) < len(busy):
                await asyncio.sleep(0)  # a worker about to start or to take its next step
            else:
                await asyncio.wait(waits, timeout=deadline - loop.time())
            continue
        if app.screen is not screen or _queued(app, screen):
            continue
        if _frame_due(screen) or screen._callbacks or app._batch_count:
            screen._on_timer_update()  # laid out and drawn now, as Pilot does; then the
            # callbacks that wait for a frame (the footer's rebuild) run
            continue
        return
    raise AssertionError(f"the app is still busy after {READY_LIMIT_S} s: {_busy_workers(app)}")


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Each key as the terminal sends it, the app ready after each."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else "\r" if key == "enter" else None)
        event.set_sender(pilot.app)
        driver.send_message(event)
        await ready(pilot)


async def visit(pilot: Pilot[Any], item: Visit, where: str, seen: set[object]) -> list[str]:
    app = pilot.app
    assert isinstance(app, EwsApp)
    below = app.screen
    if item.name not in ("home", "login"):
        if item.build is not None:
            screen = item.build(app)
            app.call_later(app.push_screen, screen)
        else:
            app.call_later(app.open_screen, item.name, **item.params(app.session.runtime))
        await ready(pilot)
        assert app.screen is not below, f"{where}: did not open"
    if item.ready:
        entries = app.screen.query_one(item.ready, OptionList)
        assert entries.option_count, f"{where}: {item.ready} is empty once the screen is ready"
    opened = app.screen
    if item.keys:
        await press(pilot, *item.keys)
    assert not item.ready or app.screen is not opened, f"{where}: the entry did not open"
    problems = fit_problems(app.screen, where)
    problems += await dropdown_problems(pilot, where, seen)
    if item.then:
        before = screen_lines(app.screen)
        await press(pilot, *item.then)
        after = f"{where}{''.join(item.then)}"
        assert screen_lines(app.screen) != before, f"{after}: the keys changed nothing"
        problems += fit_problems(app.screen, after)
        problems += await dropdown_problems(pilot, after, seen)
    if item.rows:
        problems += await every_row_problems(pilot, item.rows, where, seen)
    while app.screen is not below:
        app.call_later(app.pop_screen)
        await ready(pilot)
    return problems


async def every_row_problems(
    pilot: Pilot[Any], selector: str, where: str, seen: set[object]
) -> list[str]:
    """Each entry of the list highlighted in turn: the device form of every device of the
    local bus (each family composes its own fields)."""
    problems: list[str] = []
    entries = pilot.app.screen.query_one(selector, OptionList)
    for row in range(1, entries.option_count):
        entries.highlighted = row
        await ready(pilot)
        problems += fit_problems(pilot.app.screen, f"{where} row {row}")
        problems += await dropdown_problems(pilot, f"{where} row {row}", seen)
    return problems


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_every_screen_fits_80x24(site: Runtime, language: str) -> None:
    from tests.ui.test_en50160 import a_checked_ko_week

    await a_checked_ko_week(site)  # a week to open
    problems: list[str] = []
    seen: set[object] = set()  # the dropdowns opened: once per language, whichever role
    with use_language(language):  # the forms built here, and the texts compared
        app = EwsApp(Session(site, role=None, language=language), start_screen="login")
        async with app.run_test(size=SIZE) as pilot:
            for role, visits in PLAN:
                if role is not None:
                    app.call_later(app.login_as, role)
                await ready(pilot)
                assert app.session.role is role
                for item in visits:
                    where = f"[{language}] {item.name}{''.join(item.keys)}"
                    problems += await visit(pilot, item, where, seen)
            assert app.crash is None
    assert not problems, "\n".join(problems)


# -- snapshots of the longest screens in the longest languages ----------------------------
# en and fr are snapped by each screen's own tests (the same scenes); these add German,
# Greek and Russian at 80x24.
LONG_LANGUAGES = ("de", "el", "ru")


@pytest.mark.parametrize("language", LONG_LANGUAGES)
def test_snapshot_partial(snap_compare: Any, tmp_path: Path, language: str) -> None:
    from tests.ui.consumption_fixtures import seed_site
    from tests.ui.test_consumption_total import loaded, open_total

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_total(pilot, "consumption_partial")
        await pilot.press("w")
        await loaded(pilot)

    app = SnapshotApp(tmp_path, "home", language=language, prepare=seed_site)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("language", LONG_LANGUAGES)
def test_snapshot_live(snap_compare: Any, tmp_path: Path, language: str) -> None:
    from tests.ui import test_live

    async def prepare(rt: Runtime) -> None:
        await test_live._devices(rt)
        await test_live._publish_before_opening(rt, Sample(1, 0.0, test_live.VALUES))

    async def run_before(pilot: Pilot[Any]) -> None:
        await test_live._until(pilot, lambda: test_live._table(pilot).value_of("v1") != "—")
        pilot.app.screen.query_one("#live-search", Input).cursor_blink = False
        await pilot.pause()

    app = SnapshotApp(tmp_path, "live", language=language, prepare=prepare)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("language", LONG_LANGUAGES)
def test_snapshot_device_form(snap_compare: Any, tmp_path: Path, language: str) -> None:
    from tests.ui.test_devices import _charger_form

    app = SnapshotApp(tmp_path, "gateways", language=language)
    assert snap_compare(app, terminal_size=SIZE, run_before=_charger_form)


@pytest.mark.parametrize("language", LONG_LANGUAGES)
def test_snapshot_alarms(snap_compare: Any, tmp_path: Path, language: str) -> None:
    from tests.ui.test_alarms import raise_alarms, settle

    app = SnapshotApp(tmp_path, "alarms", language=language, prepare=raise_alarms)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
