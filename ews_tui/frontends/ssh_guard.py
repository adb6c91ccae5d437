"""What slows down password guessing over SSH, as plain values (the clock is a parameter).

- :data:`MAX_AUTH_TRIES` failed passwords on one connection end it (OpenSSH's
  ``MaxAuthTries``).
- :class:`SourcePenalty`: each failed password from an address makes the next answers to that
  address wait longer (``base`` seconds after the first failure, doubling up to ``cap``), and
  the answers are spaced by that delay whatever the number of connections: parallel
  connections from one address do not guess faster than one. An address is forgotten
  ``forget_after`` seconds after its last failure; at most ``max_sources`` are remembered.
- ``ssh.max_startups`` (in the front end): connections that have not logged in yet beyond it
  are closed at once (OpenSSH's ``MaxStartups``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAX_AUTH_TRIES: Final = 6


@dataclass
class _Source:
    failures: int
    last_failure: float
    next_answer: float


class SourcePenalty:
    """Failed logins per source address and the wait they impose on its next answers."""

    def __init__(
        self,
        *,
        base: float = 0.5,
        cap: float = 8.0,
        forget_after: float = 900.0,
        max_sources: int = 4096,
    ) -> None:
        self.base = base
        self.cap = cap
        self.forget_after = forget_after
        self.max_sources = max_sources
        self._sources: dict[str, _Source] = {}

    def step(self, failures: int) -> float:
        """The spacing of answers to an address after ``failures`` failed logins."""
        if failures <= 0:
            return 0.0
        return float(min(self.base * 2 ** min(failures - 1, 30), self.cap))

    def failures(self, address: str, now: float) -> int:
        source = self._current(address, now)
        return source.failures if source is not None else 0

    def wait(self, address: str, now: float) -> float:
        """Seconds the next answer to ``address`` waits (0 when it has no failures); books
        that answer's slot, so that concurrent attempts queue one step apart."""
        source = self._current(address, now)
        if source is None:
            return 0.0
        answer = max(now, source.next_answer) + self.step(source.failures)
        source.next_answer = answer
        return answer - now

    def failed(self, address: str, now: float) -> int:
        """Count one failed login of ``address``; its failures so far."""
        source = self._current(address, now)
        if source is None:
            if len(self._sources) >= self.max_sources:
                oldest = min(self._sources, key=lambda a: self._sources[a].last_failure)
                del self._sources[oldest]
            source = self._sources[address] = _Source(0, now, now)
        source.failures += 1
        source.last_failure = now
        return source.failures

    def _current(self, address: str, now: float) -> _Source | None:
        source = self._sources.get(address)
        if source is not None and now - source.last_failure > self.forget_after:
            del self._sources[address]
            return None
        return source
