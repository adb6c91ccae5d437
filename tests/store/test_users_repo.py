"""The auth tables: hashes only, the failures per source, both kept across a reopen; the
pepper file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ews_tui.domain.auth import Credentials, Role, ScryptParams, hash_secret
from ews_tui.store.db import open_database
from ews_tui.store.migrations import current_version
from ews_tui.store.users_repo import PEPPER_FILE, PepperError, UsersRepo

CHEAP = ScryptParams(n=2**4, r=1, p=1)


def _cred(role: Role, pin: str, must_change: bool = True) -> Credentials:
    return Credentials(
        role,
        hash_secret(pin, b"salt-" + role.value.encode(), CHEAP, pepper=PEPPER),
        hash_secret("00000123400000", b"puk-" + role.value.encode(), CHEAP, pepper=PEPPER),
        must_change,
        puk_replaced=not must_change,
    )


PEPPER = b"p" * 32


async def test_a_new_database_has_no_roles_and_no_failures(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "ews.sqlite")
    try:
        assert await current_version(db) >= 2
        state = await UsersRepo(db).load()
        assert state.credentials == {} and dict(state.failures) == {}
    finally:
        await db.close()


async def test_saved_state_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    db = await open_database(path)
    repo = UsersRepo(db)
    state = await repo.load()
    system = _cred(Role.SYSTEM, "24680")
    ssh = "ssh:guest@10.0.0.9"
    state = state.with_credentials(system).after_failure(ssh, 5.0).after_failure(ssh, 7.5)
    state = state.after_failure("console:/dev/ttyS0", 9.0)
    await repo.save(state, system, sources=[ssh, "console:/dev/ttyS0"])
    changed = _cred(Role.SYSTEM, "13579", must_change=False)
    await repo.save(
        state.with_credentials(changed).after_success("console:/dev/ttyS0"),
        changed,
        sources=["console:/dev/ttyS0"],
    )
    rows = await db.fetchall("SELECT role, pin_hash, puk_hash FROM auth_roles")
    await db.close()

    assert [r[0] for r in rows] == ["system"]
    assert all("13579" not in r[1] and r[1].startswith("scrypt-pepper$") for r in rows)
    db = await open_database(path)
    try:
        back = await UsersRepo(db).load()
    finally:
        await db.close()
    assert {s: (f.count, f.last) for s, f in back.failures.items()} == {ssh: (2, 7.5)}
    assert back.credentials == {Role.SYSTEM: changed}
    assert back.credentials[Role.SYSTEM].pin.matches("13579", PEPPER)
    assert back.credentials[Role.SYSTEM].puk_replaced


async def test_the_pepper_is_made_once_0600_whatever_the_umask(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "ews.sqlite")
    before = os.umask(0o002)
    try:
        repo = UsersRepo(db)
        pepper, made = repo.pepper()
        again, made_again = repo.pepper()
    finally:
        os.umask(before)
        await db.close()
    path = tmp_path / PEPPER_FILE
    assert made and not made_again and pepper == again and len(pepper) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pepper not in (tmp_path / "ews.sqlite").read_bytes()


async def test_a_damaged_pepper_file_is_refused_not_replaced(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "ews.sqlite")
    (tmp_path / PEPPER_FILE).write_bytes(b"short")
    try:
        with pytest.raises(PepperError, match="not a pepper file"):
            UsersRepo(db).pepper()
    finally:
        await db.close()
    assert (tmp_path / PEPPER_FILE).read_bytes() == b"short"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root makes a file for another user")
async def test_a_pepper_made_by_root_belongs_to_the_data_dirs_owner(tmp_path: Path) -> None:
    """``ews auth reset`` runs as root: a pepper it makes must stay readable by the box."""
    data = tmp_path / "data"
    db = await open_database(data / "ews.sqlite")
    os.chown(data, 65534, 65534)
    try:
        UsersRepo(db).pepper()
    finally:
        await db.close()
    info = (data / PEPPER_FILE).stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o600)
