"""A clock the test sets (services take ``clock`` as a parameter: no wall clock)."""

from __future__ import annotations


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
