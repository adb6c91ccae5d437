"""The home screen's status line: services failed or restarting, queues behind or dropping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from ews_tui.domain.alarms import AlarmChanged
from ews_tui.domain.events import EventDropped, Sample, TaskFailed
from ews_tui.hub import SubscriptionStats
from ews_tui.i18n import use_language
from ews_tui.runtime import Runtime
from ews_tui.supervision import Health, RestartPolicy, ServiceHealth
from ews_tui.ui.screens.en50160 import En50160Screen
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.session import Role
from ews_tui.ui.system_status import StatusLine, status_line
from tests.services.test_supervised_services import Flaky
from tests.ui.shell_fixtures import make_shell_app, shell_runtime

SIZE = (80, 24)
RUNNING = ServiceHealth("live", Health.RUNNING)
FAILED = ServiceHealth("recorder", Health.FAILED, "KeyError: 'p'", 5)
RESTARTING = ServiceHealth("polling", Health.RESTARTING, "OSError: gone", 1)
UI_QUEUE = SubscriptionStats("live-screen", 1024, 5000, 1024, False)
BEHIND = SubscriptionStats("recorder", 12345, 0, None, True, 10_000, True)
DROPPED = SubscriptionStats("csv-events", 0, 1, None, True, 10_000, False)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Numbers and words in English, whatever language an earlier test left set."""
    with use_language("en"):
        yield


def test_all_is_well_when_nothing_is_wrong_even_if_a_screen_drops() -> None:
    assert status_line((RUNNING,), (UI_QUEUE,)) == StatusLine("All services running", False)


def test_the_worst_problem_first_and_the_others_counted() -> None:
    line = status_line((RUNNING, RESTARTING, FAILED), (BEHIND, DROPPED))
    assert line == StatusLine("recorder failed: KeyError: 'p' (+3 more problems)", True)
    assert status_line((RESTARTING,), ()).text == "polling restarting after OSError: gone"
    assert status_line((), (BEHIND,)).text == "recorder falling behind: 12,345 events queued"
    assert status_line((), (DROPPED,)).text == "csv-events dropped 1 event"
    assert status_line((), (BEHIND, DROPPED)).text.endswith("(+1 more problem)")


def test_the_status_line_speaks_french() -> None:
    with use_language("fr"):
        assert status_line((), ()).text == "Tous les services fonctionnent"
        text = status_line((FAILED,), (BEHIND,)).text
    assert text == "recorder en échec : KeyError: 'p' (+1 autre problème)"


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with shell_runtime(tmp_path) as runtime:
        yield runtime


def status_of(app: object) -> str:
    return str(app.screen.query_one("#home-status", Static).render())  # type: ignore[attr-defined]


async def test_home_shows_a_service_that_failed(rt: Runtime) -> None:
    rt.supervisor.policy = RestartPolicy(backoff_start_s=0.0, fail_after=2)
    failures = rt.hub.subscribe(TaskFailed, EventDropped, name="test")
    app = make_shell_app(rt, "home", role=Role.CONSULTATION)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HomeScreen)
        assert status_of(app) == "All services running"
        assert not app.screen.query_one("#home-status").has_class("-problem")
        # Unreadable values: live and the recorder both crash on it twice, then drop it.
        rt.hub.publish(Sample(1, 0.0, Flaky({"p": 1.0}, fails=100)))
        for _ in range(6):  # two crashes and a drop each (both lossless: drops are shown)
            await failures.get()
        app.screen.render_status()  # what its one-second timer calls
        await pilot.pause()
        assert status_of(app) == "live failed: KeyError: 'flaky' (+3 more problems)"
        assert app.screen.query_one("#home-status").has_class("-problem")
    failures.close()


async def test_home_shows_a_queue_falling_behind_when_it_shows_again(rt: Runtime) -> None:
    slow = rt.hub.subscribe(Sample, lossless=True, name="slow-reader", high_water=2)
    alarms = rt.hub.subscribe(AlarmChanged, lossless=True, name="test-alarms")
    app = make_shell_app(rt, "home", role=Role.CONSULTATION)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "down", "down", "enter")  # EN 50160
        await pilot.pause()
        assert isinstance(app.screen, En50160Screen)
        for n in range(3):
            rt.hub.publish(Sample(1, float(n), {"p": 1.0}))
        # The queue behind is an alarm too: wait for it, so that the line is the same
        # whether Home shows again before or after the alarm engine's turn.
        await asyncio.wait_for(alarms.get(), 10.0)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert status_of(app) == (
            "slow-reader falling behind: 3 events queued · 1 alarm to acknowledge"
        )
    alarms.close()
    slow.close()
