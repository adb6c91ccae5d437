"""ews_tui.passes: the box's loop knows how long its pass has run, and the UI's message loops
give way to a later pass, first come first served, once it has run for its budget."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from textual.app import App
from textual.message import Message

from ews_tui import passes
from ews_tui.ui.frames import ShortSteps

SPIN_S = 0.003  # a message's work, in CPU: two fit in a pass's budget, a third does not


def spin(seconds: float) -> None:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def test_a_pass_begins_when_select_returns() -> None:
    async def main() -> tuple[bool, bool, float, float]:
        mine = passes.current()
        assert mine is not None
        await asyncio.sleep(0)  # a fresh pass
        fresh = passes.over_budget() is not None
        spin(passes.PASS_BUDGET_S * 1.5)
        late, age = passes.over_budget() is mine, mine.age()
        await asyncio.sleep(0)
        return fresh, late, age, mine.age()

    fresh, late, age, next_age = passes.run(main())
    assert not fresh
    assert late and age >= passes.PASS_BUDGET_S * 1.5
    assert next_age < age  # the next pass's clock started again


async def test_outside_the_box_loop_there_are_no_passes() -> None:
    assert passes.current() is None  # pytest's loop
    spin(passes.PASS_BUDGET_S * 1.5)
    assert passes.over_budget() is None


def test_those_giving_way_go_one_pass_each_in_the_order_they_came() -> None:
    async def main() -> list[tuple[str, float]]:
        mine = passes.current()
        assert mine is not None
        resumed: list[tuple[str, float]] = []

        async def waiter(name: str) -> None:
            await mine.give_way()
            resumed.append((name, mine.began))

        await asyncio.gather(*(waiter(n) for n in "abcd"))
        return resumed

    resumed = passes.run(main())
    assert [name for name, _ in resumed] == list("abcd")
    began = [at for _, at in resumed]
    assert began == sorted(began) and len(set(began)) == 4  # each in a pass of its own


def test_a_waiter_cancelled_in_the_queue_holds_no_one_up() -> None:
    """A session that ends while its message loop waits for a pass (its task cancelled):
    the next in the queue is let go in its place, and the queue empties."""

    async def main() -> tuple[list[str], bool, int]:
        mine = passes.current()
        assert mine is not None
        resumed: list[str] = []

        async def waiter(name: str) -> None:
            await mine.give_way()
            resumed.append(name)

        first = asyncio.create_task(waiter("ended"))
        second = asyncio.create_task(waiter("next"))
        await asyncio.sleep(0)  # both queued
        first.cancel()
        await asyncio.wait_for(second, 1.0)
        cancelled = first.cancelled()
        return resumed, cancelled, len(mine._waiting)

    resumed, cancelled, left = passes.run(main())
    assert resumed == ["next"] and cancelled
    assert left == 0


class Work(Message):
    """A message whose handling costs ``SPIN_S`` of CPU."""


class BusyApp(ShortSteps, App[None]):
    """An app whose message loop is the product's (EwsApp's base): each Work message spins."""

    def __init__(self) -> None:
        super().__init__()
        self.handled: list[float] = []  # the pass each Work message was handled in

    def on_work(self, _message: Work) -> None:
        spin(SPIN_S)
        mine = passes.current()
        self.handled.append(mine.began if mine is not None else 0.0)


async def handled_per_pass(count: int) -> tuple[Counter[float], int]:
    app = BusyApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        for _ in range(count):
            app.post_message(Work())
        while len(app.handled) < count:
            await pilot.pause()
    mine = passes.current()
    return Counter(app.handled), mine.gave_way if mine is not None else 0


def test_a_message_loop_gives_way_once_the_pass_has_run_its_budget() -> None:
    per_pass, gave_way = passes.run(handled_per_pass(20))
    assert sum(per_pass.values()) == 20  # nothing dropped
    # Two messages' work fits in the budget, the next gives way: never three in a pass.
    assert max(per_pass.values()) <= 2
    assert gave_way >= 20 // 2 - 1
