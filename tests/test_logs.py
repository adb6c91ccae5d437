"""The log-repeat filter on a real handler: a flood of one line becomes two lines."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from ews_tui.logs import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup() -> Iterator[tuple[logging.Logger, io.StringIO, Clock, RepeatFilter]]:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    clock = Clock()
    repeats = RepeatFilter(handler, window_s=10.0, clock=clock, passed=1)
    handler.addFilter(repeats)
    logger = logging.getLogger("ews_tui.test_repeats")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, lines, clock, repeats
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_a_flood_of_one_line_is_written_once_then_counted(setup) -> None:
    logger, lines, clock, _repeats = setup
    for n in range(6413):
        clock.now = n * 0.001  # 6,413 reconnects in 6.4 s, each with its own port
        logger.warning("bus %s: connection lost; reconnect in %.1f s", f"10.0.0.{n % 250}", 0.2)
    logger.info("another line")  # other lines still pass
    assert lines.getvalue().splitlines() == [
        "WARNING ews_tui.test_repeats: bus 10.0.0.0: connection lost; reconnect in 0.2 s",
        "INFO ews_tui.test_repeats: another line",
    ]
    clock.now = 10.0  # the window is over: the next line of any kind tells the count
    logger.info("later")
    assert lines.getvalue().splitlines()[2:] == [
        "WARNING ews_tui.test_repeats: bus %s: connection lost; reconnect in %.1f s"
        " … repeated 6,412 times",
        "INFO ews_tui.test_repeats: later",
    ]


def test_after_the_window_the_line_passes_again_and_flush_tells_the_rest(setup) -> None:
    logger, lines, clock, repeats = setup
    logger.error("socket.accept() out of system resource")
    logger.error("socket.accept() out of system resource")
    clock.now = 11.0
    logger.error("socket.accept() out of system resource")  # a new window
    logger.error("socket.accept() out of system resource")
    logger.warning("socket.accept() out of system resource")  # another level: its own line
    repeats.flush()
    assert lines.getvalue().splitlines() == [
        "ERROR ews_tui.test_repeats: socket.accept() out of system resource",
        "ERROR ews_tui.test_repeats: socket.accept() out of system resource … repeated 1 times",
        "ERROR ews_tui.test_repeats: socket.accept() out of system resource",
        "WARNING ews_tui.test_repeats: socket.accept() out of system resource",
        "ERROR ews_tui.test_repeats: socket.accept() out of system resource … repeated 1 times",
    ]


def test_configure_installs_it_on_its_handler() -> None:
    from ews_tui import logs

    root = logging.getLogger()
    before = list(root.handlers)
    logs.configure()
    try:
        [added] = [h for h in root.handlers if h not in before]
        assert any(isinstance(f, RepeatFilter) for f in added.filters)
    finally:
        logs._drop("ews-stderr")


def test_a_short_list_of_one_template_is_written_whole(setup) -> None:
    """The default filter lets the first lines of a template pass: ews serve's list of the
    files others may read is one template with a file each, and must be read whole."""
    _logger, lines, clock, _repeats = setup
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logging.Formatter("%(message)s"))
    allowing = RepeatFilter(handler, window_s=10.0, clock=clock)
    handler.addFilter(allowing)
    listing = logging.getLogger("ews_tui.test_listing")
    listing.propagate = False
    listing.addHandler(handler)
    try:
        before = len(lines.getvalue().splitlines())
        for name in ("ews.sqlite", "config.toml", "logs/ews.log"):
            listing.warning("%s is mode 0644: others may read it", name)
        for n in range(100):
            listing.warning("%s is mode 0644: others may read it", f"f{n}")
        allowing.flush()
        written = lines.getvalue().splitlines()[before:]
        assert written[:3] == [
            "ews.sqlite is mode 0644: others may read it",
            "config.toml is mode 0644: others may read it",
            "logs/ews.log is mode 0644: others may read it",
        ]
        assert len(written) == 11  # ten lines, then the count of the others
        assert written[-1] == "%s is mode 0644: others may read it … repeated 93 times"
    finally:
        listing.removeHandler(handler)
