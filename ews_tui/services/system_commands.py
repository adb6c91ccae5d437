"""The one way the box runs a system command (``timedatectl``, ``networkctl``, ``systemctl``).

Applying the date, time and network settings means asking systemd; every such call goes
through a :class:`CommandRunner`, so that tests hand the settings service a runner that
records the command lines instead of changing the machine they run on. Production uses
:class:`SubprocessRunner`: the program is started without a shell, with no standard input,
and waited for at most ``timeout_s`` (then killed). Whatever happens (not installed, refused,
killed, timed out) comes back as a :class:`CommandResult` with a translatable reason: a
failure is for the page to show, never an exception or a log line only.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from dataclasses import dataclass
from typing import Protocol

from ews_tui.domain.messages import N_, Message

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 30.0
NOT_STARTED = 127  # the shell's status for "command not found"
TIMED_OUT = -1
_OUTPUT_CHARS = 400  # what a page shows of a failed command's output


@dataclass(frozen=True)
class CommandResult:
    """How one command ended: its exit status and what it said (stderr, else stdout)."""

    argv: tuple[str, ...]
    returncode: int
    output: str = ""
    timeout_s: float = COMMAND_TIMEOUT_S

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def command(self) -> str:
        """The command line as a user would type it."""
        return shlex.join(self.argv)

    @property
    def reason(self) -> Message:
        """Why it failed, to show under the setting (the command's own words when it said
        any)."""
        if self.returncode == TIMED_OUT:
            return Message(N_("no answer within {seconds} s"), {"seconds": self.timeout_s})
        if self.returncode == NOT_STARTED and not self.output:
            return Message(N_("{program} is not installed"), {"program": self.argv[0]})
        if self.output:
            return Message(
                N_("exit status {code}: {output}"), {"code": self.returncode, "output": self.output}
            )
        return Message(N_("exit status {code}"), {"code": self.returncode})


class CommandRunner(Protocol):
    """Runs one system command to its end (tests give a recording one)."""

    async def run(self, *argv: str) -> CommandResult: ...


def _said(stdout: bytes, stderr: bytes) -> str:
    text = (stderr or stdout).decode("utf-8", "replace").strip()
    return text if len(text) <= _OUTPUT_CHARS else text[: _OUTPUT_CHARS - 1] + "…"


class SubprocessRunner:
    """Runs commands as child processes of the box, without a shell."""

    def __init__(self, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    async def run(self, *argv: str) -> CommandResult:
        line = shlex.join(argv)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError:
            log.error("cannot run %s: not installed", line)
            return CommandResult(argv, NOT_STARTED, timeout_s=self.timeout_s)
        except OSError as error:
            log.error("cannot run %s: %s", line, error)
            return CommandResult(argv, NOT_STARTED, error.strerror or str(error), self.timeout_s)
        try:
            async with asyncio.timeout(self.timeout_s):
                stdout, stderr = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            log.error("%s: no answer within %s s, killed", line, self.timeout_s)
            return CommandResult(argv, TIMED_OUT, timeout_s=self.timeout_s)
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
        status = process.returncode if process.returncode is not None else TIMED_OUT
        result = CommandResult(argv, status, _said(stdout, stderr), self.timeout_s)
        if result.ok:
            log.info("ran %s", line)
        else:
            log.error("%s failed: exit status %s: %s", line, status, result.output)
        return result


__all__ = ["CommandResult", "CommandRunner", "SubprocessRunner"]
