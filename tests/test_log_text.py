"""Log lines escape control characters and stay bounded, tracebacks included."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from ews_tui import log_text

HOSTILE = "\x1b]0;PWNED-TITLE\x07\x1b[2J\x9b"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    before = logging.getLogRecordFactory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("ews_tui.test_log_text")
    logger.addHandler(handler)
    logger.propagate = False
    log_text.install()
    try:
        yield stream
    finally:
        logging.setLogRecordFactory(before)
        logger.removeHandler(handler)
        logger.propagate = True


def test_a_hostile_name_is_logged_escaped_on_one_line(lines: io.StringIO) -> None:
    logging.getLogger("ews_tui.test_log_text").warning("device %s\nFAKE line", HOSTILE)
    assert lines.getvalue() == (
        "WARNING ews_tui.test_log_text: device "
        "\\x1b]0;PWNED-TITLE\\x07\\x1b[2J\\x9b\\x0aFAKE line\n"
    )


def test_a_traceback_keeps_its_lines_but_not_the_escapes(lines: io.StringIO) -> None:
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logging.getLogger("ews_tui.test_log_text").exception("failed")
    text = lines.getvalue()
    assert "Traceback (most recent call last):" in text.splitlines()[1]
    assert "ValueError: \\x1b]0;PWNED-TITLE" in text
    assert not any(c in text for c in "\x1b\x07\x9b")


def test_a_huge_message_is_bounded(lines: io.StringIO) -> None:
    logging.getLogger("ews_tui.test_log_text").warning("%s", "x" * 10_000_000)
    assert len(lines.getvalue()) < log_text.MAX_MESSAGE + 100
