"""The roles' PIN/PUK hashes and the failed-login count in the database (migration 2).

Only hashes are stored (see :mod:`ews_tui.domain.auth`); nothing here sees a PIN in clear.
"""

from __future__ import annotations

import logging

from ews_tui.domain.auth import AuthState, Credentials, HashedSecret, Role
from ews_tui.store.db import Database

log = logging.getLogger(__name__)


class UsersRepo:
    """Load and save :class:`AuthState`: one row per role plus one failure counter."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> AuthState:
        """The stored state; roles never stored are missing from ``credentials``."""
        async with self._db.snapshot() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT role, pin_hash, puk_hash, must_change FROM auth_roles"
                )
            )
            counter = list(await conn.execute_fetchall("SELECT failures FROM auth_failures"))
        creds = {}
        for role, pin_hash, puk_hash, must_change in rows:
            try:
                known = Role(role)
            except ValueError:
                log.warning("%s: auth_roles: unknown role %r ignored", self._db.path, role)
                continue
            creds[known] = Credentials(
                known,
                HashedSecret.decode(pin_hash),
                HashedSecret.decode(puk_hash),
                bool(must_change),
            )
        failures = int(counter[0][0]) if counter else 0
        return AuthState(creds, failures)

    async def save(self, state: AuthState, *changed: Credentials) -> None:
        """The failure count and the ``changed`` roles' rows, in one transaction."""
        async with self._db.transaction() as conn:
            await conn.execute(_SAVE_FAILURES, (state.failures,))
            await conn.executemany(
                _SAVE_ROLE,
                [
                    (c.role.value, c.pin.encode(), c.puk.encode(), int(c.must_change))
                    for c in changed
                ],
            )


_SAVE_FAILURES = (
    "INSERT INTO auth_failures (id, failures) VALUES (1, ?)"
    " ON CONFLICT (id) DO UPDATE SET failures = excluded.failures"
)
_SAVE_ROLE = (
    "INSERT INTO auth_roles (role, pin_hash, puk_hash, must_change) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (role) DO UPDATE SET pin_hash = excluded.pin_hash,"
    " puk_hash = excluded.puk_hash, must_change = excluded.must_change"
)
