"""SubprocessRunner: real child processes; every ending is a result with a reason to show."""

from __future__ import annotations

import sys

from ews_tui.services.system_commands import (
    NOT_STARTED,
    TIMED_OUT,
    SubprocessRunner,
)


async def test_success() -> None:
    result = await SubprocessRunner().run(sys.executable, "-c", "print('done')")
    assert result.ok and result.output == "done"


async def test_a_refusal_carries_the_commands_own_words() -> None:
    script = "import sys; sys.stderr.write('Failed to connect to bus\\n'); sys.exit(1)"
    result = await SubprocessRunner().run(sys.executable, "-c", script)
    assert not result.ok
    assert str(result.reason) == "exit status 1: Failed to connect to bus"
    assert result.command.endswith("sys.exit(1)'")


async def test_a_silent_refusal_gives_its_status() -> None:
    result = await SubprocessRunner().run(sys.executable, "-c", "raise SystemExit(3)")
    assert str(result.reason) == "exit status 3"


async def test_a_program_not_installed() -> None:
    result = await SubprocessRunner().run("ews-no-such-program", "reload")
    assert result.returncode == NOT_STARTED
    assert str(result.reason) == "ews-no-such-program is not installed"


async def test_a_hung_command_is_killed() -> None:
    runner = SubprocessRunner(timeout_s=0.2)
    script = "import sys, time; sys.stdin.read(); time.sleep(60)"
    result = await runner.run(sys.executable, "-c", script)
    assert result.returncode == TIMED_OUT
    assert str(result.reason) == "no answer within 0.2 s"


async def test_long_output_is_cut_for_the_page() -> None:
    script = "import sys; sys.stderr.write('x' * 5000); sys.exit(1)"
    result = await SubprocessRunner().run(sys.executable, "-c", script)
    assert len(result.output) == 400 and result.output.endswith("…")
