"""Fixtures shared by every test. Real parts (simulators, ptys, sshd) start and stop here."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# The simulator fixtures are imported as tests.sim.fixtures, from any working folder
# (a copy of this file elsewhere, as tests/test_conftest.py makes, goes without them).
_ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]
if (_ROOT / "tests" / "sim" / "fixtures.py").is_file():
    sys.path.insert(0, str(_ROOT))
    pytest_plugins.append("tests.sim.fixtures")


@pytest.fixture
async def _leftover_task_check() -> AsyncIterator[None]:
    """Runs in the test's own loop; after the test and its other fixtures, fail on live tasks."""
    yield
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    if leftovers:
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        names = ", ".join(sorted(t.get_name() for t in leftovers))
        pytest.fail(f"test left {len(leftovers)} task(s) running: {names}", pytrace=False)


@pytest.fixture(autouse=True)
def _no_leftover_tasks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail an async test that leaves tasks running behind it (pymodbus' own rule).

    A sync fixture cannot see the loop of an async test, so for coroutine tests this asks
    for the async ``_leftover_task_check``: it shares the test's function-scoped loop, and
    being set up before the test's other fixtures it is torn down after them, while the
    loop is still open. Sync tests get no loop at all.
    """
    test = getattr(request.node, "function", None)
    marker = request.node.get_closest_marker("asyncio")
    loop_scope = marker.kwargs.get("loop_scope", "function") if marker else "function"
    if inspect.iscoroutinefunction(test) and loop_scope == "function":
        request.getfixturevalue("_leftover_task_check")
    yield


@pytest.fixture(autouse=True)
def _english_until_told() -> Iterator[None]:
    """Each test starts in English with a language selection of its own: a test that left a
    language set (or switched one in place with change_language) no longer leaks it into the
    next test of the same worker (a screen opened from the test's task read "Zustand")."""
    from ews_tui.i18n import use_language

    with use_language("en"):
        yield
