"""A problem found in a config document, and the error that carries all of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ews_tui.domain.messages import Message, placed


@dataclass(frozen=True)
class Problem:
    """One problem: the place (``rs485.baudrate``, a file name) and a translatable reason."""

    where: str
    message: Message

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        """``where: reason`` with the reason in the language of ``gettext`` (English without)."""
        return placed(self.where, self.message, gettext)

    def __str__(self) -> str:
        return self.render()


class ConfigError(Exception):
    """A config refused; ``problems`` lists every problem, ``str()`` gives one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(map(str, self.problems)))

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        return "\n".join(p.render(gettext) for p in self.problems)
