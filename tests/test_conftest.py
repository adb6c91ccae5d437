"""The shared fixtures of tests/conftest.py do their job: proven on a throwaway test run."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

LEAKY_TESTS = """
import asyncio
import contextlib

import pytest


async def test_leaks_a_task():
    asyncio.get_running_loop().create_task(asyncio.sleep(3600), name="forgotten-sleeper")


async def test_cleans_up():
    task = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
async def owned_task():
    task = asyncio.get_running_loop().create_task(asyncio.sleep(3600), name="fixture-owned")
    yield task
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_fixture_cleans_up_its_task(owned_task):
    assert not owned_task.done()


def test_sync_test_gets_no_loop():
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    asyncio.run(asyncio.sleep(0))
"""


# Plugins the throwaway run does not need; leaving them out keeps it well under a second.
QUIET = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:textual-snapshot",
    "-p",
    "no:syrupy",
    "-p",
    "no:hypothesispytest",
)


def test_a_leaking_async_test_fails_naming_the_task_and_clean_ones_pass(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_leaky=LEAKY_TESTS)

    run = pytester.runpytest_subprocess(*QUIET, "-rA")

    run.assert_outcomes(passed=4, errors=1)
    run.stdout.fnmatch_lines(["*ERROR at teardown of test_leaks_a_task*"])
    run.stdout.fnmatch_lines(["*test left 1 task(s) running: forgotten-sleeper*"])
    for clean in (
        "test_cleans_up",
        "test_fixture_cleans_up_its_task",
        "test_sync_test_gets_no_loop",
    ):
        run.stdout.fnmatch_lines([f"PASSED test_leaky.py::{clean}"])
