"""A :class:`~ews_tui.services.system_commands.CommandRunner` that records the command lines
instead of running them: the settings service under test never touches the machine's clock
or network. ``fail`` maps a command's first words to the result it gets."""

from __future__ import annotations

from collections.abc import Mapping

from ews_tui.services.system_commands import CommandResult


class RecordingRunner:
    def __init__(self, fail: Mapping[tuple[str, ...], tuple[int, str]] | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail = dict(fail or {})

    async def run(self, *argv: str) -> CommandResult:
        self.calls.append(argv)
        for words, (status, output) in self.fail.items():
            if argv[: len(words)] == words:
                return CommandResult(argv, status, output)
        return CommandResult(argv, 0)
