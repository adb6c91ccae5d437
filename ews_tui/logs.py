"""Where log lines go: never onto a terminal that carries a UI.

``configure`` (the ``ews`` command, at start) sends lines to stderr: right for a plain
command, and for ``ews serve`` under systemd, whose stderr is the journal. A command that
draws a UI on its terminal (``ews demo``, ``ews tui``, ``ews serve`` with its kiosk or
console on the terminal it runs on) calls ``log_to_data_dir`` before the UI starts: from
then on the lines go to ``<data_dir>/logs/ews.log`` (rotated: ``MAX_BYTES`` a file,
``BACKUPS`` old files kept), and to stderr only when stderr is the journal or carries no
UI. Textual swaps ``sys.stderr`` while an app runs; the handlers hold their own streams.
The ``logs`` folder is made 0700 and each log file 0600, whatever the umask.

Every handler carries a :class:`RepeatFilter`: the same line (same logger, level and
message template) repeated within ``REPEAT_WINDOW_S`` is written once, then one
"… repeated N times" line when the window ends, so a peer that fails fast cannot fill
the disk or the journal.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ews_tui import log_text
from ews_tui.file_modes import make_private_dir, open_private_append

LOG_FILE = Path("logs") / "ews.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)
REPEAT_WINDOW_S = 10.0
REPEAT_PASSED = 10  # lines of one template written in a window before they are counted

_STDERR = "ews-stderr"
_FILE = "ews-file"


def configure(verbosity: int = 0) -> None:
    """Lines at WARNING (INFO with ``-v``, DEBUG with ``-vv``) to this process's stderr."""
    log_text.install()  # names stored before the rule cannot drive a terminal or journal
    root = logging.getLogger()
    root.setLevel(LEVELS[min(max(verbosity, 0), len(LEVELS) - 1)])
    _drop(_STDERR)
    handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    handler.set_name(_STDERR)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RepeatFilter(handler))
    root.addHandler(handler)


def stderr_is_journal() -> bool:
    """Whether stderr is systemd's journal: ``JOURNAL_STREAM`` names its device and inode."""
    device, _sep, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        stat = os.fstat(2)
    except OSError:
        return False
    return (stat.st_dev, stat.st_ino) == (int(device), int(inode))


def stderr_is_on(ttys: Iterable[str]) -> bool:
    """Whether stderr is one of these terminals (``ews serve`` started on the tty its
    kiosk or serial console draws on). False for none."""
    try:
        if not os.isatty(2):
            return False
        mine = os.fstat(2).st_rdev
    except OSError:
        return False
    for tty in ttys:
        try:
            if os.stat(tty).st_rdev == mine:
                return True
        except OSError:
            continue
    return False


def log_to_data_dir(data_dir: Path, *, ui_on_terminal: bool) -> Path:
    """From now on, log to ``<data_dir>/logs/ews.log``; the file's path.

    ``ui_on_terminal``: a UI is (about to be) drawn on this process's terminal, so stderr
    stops taking lines unless it is the journal. A file that cannot be opened is said on
    stderr now, before any UI (the lines are then dropped rather than drawn over it).
    """
    path = data_dir / LOG_FILE
    root = logging.getLogger()
    _drop(_FILE)
    try:
        make_private_dir(path.parent)
        handler = _PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as error:
        print(f"ews: log file {path}: {error.strerror or error}", file=sys.__stderr__)
    else:
        handler.set_name(_FILE)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RepeatFilter(handler))
        root.addHandler(handler)
    if ui_on_terminal and not stderr_is_journal():
        _drop(_STDERR)
    return path


_Key = tuple[str, int, str]


@dataclass
class _Burst:
    started: float
    last: logging.LogRecord
    repeats: int = 0
    passed: int = 1


class RepeatFilter(logging.Filter):
    """Collapses repeats of one line on one handler: the first ``passed`` lines of a
    template (logger, level, message before its values) pass, so a short list such as the
    files others may read is written whole; the others within ``window_s`` are counted,
    and their count is written as one "<template> … repeated N times" line once the window
    is over (at the next line the handler gets, or at :meth:`flush`). One filter per
    handler: it emits on it."""

    def __init__(
        self,
        handler: logging.Handler,
        window_s: float = REPEAT_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        passed: int = REPEAT_PASSED,
    ) -> None:
        super().__init__()
        self._handler = handler
        self._window_s = window_s
        self._passed = passed
        self._clock = clock
        self._bursts: dict[_Key, _Burst] = {}
        self._lock = threading.RLock()
        self._emitting = False

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            if self._emitting:
                return True  # our own summary line
            now = self._clock()
            key = (record.name, record.levelno, str(record.msg))
            self._report_over(now)
            burst = self._bursts.get(key)
            if burst is not None and burst.passed < self._passed:
                burst.passed += 1
                return True
            if burst is not None:
                burst.repeats += 1
                burst.last = record
                return False
            self._bursts[key] = _Burst(now, record)
            return True

    def flush(self) -> None:
        """Write the pending counts now (at shutdown)."""
        with self._lock:
            self._report_over(float("inf"))

    def _report_over(self, now: float) -> None:
        over = [k for k, b in self._bursts.items() if now - b.started >= self._window_s]
        for key in over:
            burst = self._bursts.pop(key)
            if burst.repeats:
                self._emit_summary(burst)

    def _emit_summary(self, burst: _Burst) -> None:
        last = burst.last
        summary = logging.getLogRecordFactory()(
            last.name,
            last.levelno,
            last.pathname,
            last.lineno,
            "%s … repeated %s times",
            (str(last.msg), f"{burst.repeats:,}"),
            None,
        )
        self._emitting = True
        try:
            self._handler.handle(summary)
        finally:
            self._emitting = False


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose files (the first one and each after a rollover) are 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = open_private_append(Path(self.baseFilename))
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def _drop(name: str) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.name == name:
            root.removeHandler(handler)
            for kept in handler.filters:
                if isinstance(kept, RepeatFilter):
                    kept.flush()
            handler.close()
