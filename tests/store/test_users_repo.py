"""The auth tables: hashes only, the failure count, both kept across a reopen."""

from __future__ import annotations

from pathlib import Path

from ews_tui.domain.auth import Credentials, Role, ScryptParams, hash_secret
from ews_tui.store.db import open_database
from ews_tui.store.migrations import current_version
from ews_tui.store.users_repo import UsersRepo

CHEAP = ScryptParams(n=2**4, r=1, p=1)


def _cred(role: Role, pin: str, must_change: bool = True) -> Credentials:
    return Credentials(
        role,
        hash_secret(pin, b"salt-" + role.value.encode(), CHEAP),
        hash_secret("00000123400000", b"puk-" + role.value.encode(), CHEAP),
        must_change,
    )


async def test_a_new_database_has_no_roles_and_no_failures(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "ews.sqlite")
    try:
        assert await current_version(db) >= 2
        state = await UsersRepo(db).load()
        assert state.credentials == {} and state.failures == 0
    finally:
        await db.close()


async def test_saved_state_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    db = await open_database(path)
    repo = UsersRepo(db)
    state = await repo.load()
    system = _cred(Role.SYSTEM, "24680")
    state = state.with_credentials(system).after_failure().after_failure()
    await repo.save(state, system)
    changed = _cred(Role.SYSTEM, "13579", must_change=False)
    await repo.save(state.with_credentials(changed), changed)
    rows = await db.fetchall("SELECT role, pin_hash, puk_hash FROM auth_roles")
    await db.close()

    assert [r[0] for r in rows] == ["system"]
    assert all("13579" not in r[1] and r[1].startswith("scrypt$") for r in rows)
    db = await open_database(path)
    try:
        back = await UsersRepo(db).load()
    finally:
        await db.close()
    assert back.failures == 2
    assert back.credentials == {Role.SYSTEM: changed}
    assert back.credentials[Role.SYSTEM].pin.matches("13579")
