"""The roles' PIN/PUK hashes and the failed logins per source in the database (migrations 2
and 4), and the box's pepper in its own file beside it.

Only hashes are stored (see :mod:`ews_tui.domain.auth`); nothing here sees a PIN in clear.
The pepper (``<data_dir>/pin.pepper``, 32 random bytes, mode 0600) is not in the database, so
a copy of the database alone does not let anyone try PINs offline.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from ews_tui.domain.auth import (
    PEPPER_BYTES,
    AuthState,
    Credentials,
    HashedSecret,
    Role,
    SourceFailures,
)
from ews_tui.store.db import Database

log = logging.getLogger(__name__)

PEPPER_FILE = "pin.pepper"


class PepperError(Exception):
    """The pepper file cannot be read or made (its path and why)."""


class UsersRepo:
    """Load and save :class:`AuthState`: one row per role, one row per failing source."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def pepper_path(self) -> Path:
        return self._db.path.parent / PEPPER_FILE

    def pepper(self) -> tuple[bytes, bool]:
        """The box's pepper, made (0600 whatever the umask, owned by the data dir's owner) when
        missing; and whether it was made now. Blocking file I/O: call it in a thread.
        Raises PepperError."""
        path = self.pepper_path
        try:
            return read_pepper(path), False
        except FileNotFoundError:
            pass
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by another process just now
            return read_pepper(path), False
        except OSError as error:
            raise PepperError(f"{path}: cannot create: {error.strerror}") from None
        try:
            os.fchmod(fd, 0o600)
            if os.geteuid() == 0:  # made by `ews auth reset`: the box's user must read it
                owner = path.parent.stat()
                os.fchown(fd, owner.st_uid, owner.st_gid)
            pepper = os.urandom(PEPPER_BYTES)
            os.write(fd, pepper)
            os.fsync(fd)
        finally:
            os.close(fd)
        log.info("%s: new pepper for the PIN and PUK hashes", path)
        return pepper, True

    async def load(self) -> AuthState:
        """The stored state; roles never stored are missing from ``credentials``."""
        async with self._db.snapshot() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT role, pin_hash, puk_hash, must_change, puk_replaced FROM auth_roles"
                )
            )
            sources = list(
                await conn.execute_fetchall(
                    "SELECT source, failures, last_failure FROM auth_source_failures"
                )
            )
        creds = {}
        for role, pin_hash, puk_hash, must_change, puk_replaced in rows:
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
                bool(puk_replaced),
            )
        failures = {str(s): SourceFailures(int(n), float(t)) for s, n, t in sources}
        return AuthState(creds, failures)

    async def save(
        self, state: AuthState, *changed: Credentials, sources: Iterable[str] = ()
    ) -> None:
        """The ``sources``' failure counts and the ``changed`` roles' rows, in one transaction."""
        async with self._db.transaction() as conn:
            for source in sources:
                failures = state.of(source)
                if failures.count:
                    await conn.execute(_SAVE_SOURCE, (source, failures.count, failures.last))
                else:
                    await conn.execute(
                        "DELETE FROM auth_source_failures WHERE source = ?", (source,)
                    )
            await conn.executemany(
                _SAVE_ROLE,
                [
                    (
                        c.role.value,
                        c.pin.encode(),
                        c.puk.encode(),
                        int(c.must_change),
                        int(c.puk_replaced),
                    )
                    for c in changed
                ],
            )

    async def clear_failures(self) -> int:
        """Forget every source's failures (``ews auth reset``); how many sources had some."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM auth_source_failures")
            return int(cursor.rowcount)


def read_pepper(path: Path) -> bytes:
    """The pepper in ``path``; FileNotFoundError when missing, PepperError when unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise PepperError(f"{path}: cannot read: {error.strerror}") from None
    if len(data) != PEPPER_BYTES:
        raise PepperError(f"{path}: {len(data)} bytes, not {PEPPER_BYTES}: not a pepper file")
    return data


_SAVE_SOURCE = (
    "INSERT INTO auth_source_failures (source, failures, last_failure) VALUES (?, ?, ?)"
    " ON CONFLICT (source) DO UPDATE SET failures = excluded.failures,"
    " last_failure = excluded.last_failure"
)
_SAVE_ROLE = (
    "INSERT INTO auth_roles (role, pin_hash, puk_hash, must_change, puk_replaced)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (role) DO UPDATE SET pin_hash = excluded.pin_hash,"
    " puk_hash = excluded.puk_hash, must_change = excluded.must_change,"
    " puk_replaced = excluded.puk_replaced"
)
