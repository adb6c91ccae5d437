"""The stored failed logins of a session source, set by a test (no waiting, no wall clock).

The auth service reads the stored state at every attempt, so writing it through a second
connection to the box's database is what a restart, or time passing, would show it.
"""

from __future__ import annotations

from dataclasses import replace

from ews_tui.domain.auth import SourceFailures
from ews_tui.runtime import Runtime
from ews_tui.store.db import open_database
from ews_tui.store.users_repo import UsersRepo


async def set_failures(rt: Runtime, source: str, count: int | None = None) -> None:
    """``source`` has ``count`` failures in a row (its current count when None), the last one
    long ago: as if the user had waited out every delay."""
    db = await open_database(rt.config.data_dir / "ews.sqlite")
    try:
        repo = UsersRepo(db)
        state = await repo.load()
        count = state.of(source).count if count is None else count
        failures = {**state.failures, source: SourceFailures(count, 0.0)}
        await repo.save(replace(state, failures=failures), sources=[source])
    finally:
        await db.close()
