"""AuthService on a real store: PIN then PUK, lockout, unlock, PIN changes, persistence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ews_tui.domain.auth import (
    MAX_FAILURES,
    PIN_IS_DEFAULT,
    PIN_TAKEN,
    PIN_UNCHANGED,
    PINS_DIFFER,
    Role,
    ScryptParams,
)
from ews_tui.services.auth import (
    OLD_CODE_WRONG,
    AuthService,
    LoginStatus,
    PinChangeRefused,
)
from ews_tui.store.db import Database, open_database
from ews_tui.store.users_repo import UsersRepo

CHEAP = ScryptParams(n=2**4, r=1, p=1)
SYSTEM_PUK = "00000 8888 00000"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "ews.sqlite")
    yield database
    await database.close()


async def _service(db: Database, params: ScryptParams = CHEAP) -> AuthService:
    service = AuthService(UsersRepo(db), params=params)
    await service.start()
    return service


async def test_default_codes_log_in_but_ask_for_a_new_pin(db: Database) -> None:
    auth = await _service(db)
    first = await auth.login("88888")
    assert (first.status, first.role) == (LoginStatus.PIN_OK, Role.SYSTEM)
    for puk in (SYSTEM_PUK, "00000888800000"):
        result = await auth.login("88888", puk)
        assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.SYSTEM)
    server = await auth.login("99999", "00000 9999 00000")
    consultation = await auth.login("77777", "00000 7777 00000")
    assert server.role is Role.SERVER and consultation.role is Role.CONSULTATION


async def test_wrong_and_malformed_codes(db: Database) -> None:
    auth = await _service(db)
    assert (await auth.login("1234")).status is LoginStatus.INVALID_PIN
    assert (await auth.login("88888", "123")).status is LoginStatus.INVALID_PUK
    assert auth.state.failures == 0  # malformed entries are not counted
    wrong = await auth.login("12345")
    assert (wrong.status, wrong.attempts_left) == (LoginStatus.WRONG_PIN, MAX_FAILURES - 1)
    wrong_puk = await auth.login("88888", "00000 9999 00000")  # the server role's PUK
    assert (wrong_puk.status, wrong_puk.role) == (LoginStatus.WRONG_PUK, Role.SYSTEM)
    assert wrong_puk.attempts_left == MAX_FAILURES - 2
    await auth.login("88888", SYSTEM_PUK)
    assert auth.state.failures == 0  # a good login clears the count


async def test_five_failures_lock_until_a_puk_then_the_pin_must_change(db: Database) -> None:
    auth = await _service(db)
    results = await asyncio.gather(*(auth.login("11111") for _ in range(MAX_FAILURES)))
    assert results[-1].status is LoginStatus.LOCKED and auth.locked
    assert (await auth.login("88888", SYSTEM_PUK)).status is LoginStatus.LOCKED

    restarted = await _service(db)  # the lock is stored
    assert restarted.locked
    assert (await restarted.unlock(None, "12345 12345 1234")).status is LoginStatus.WRONG_PUK
    unlocked = await restarted.unlock(None, SYSTEM_PUK)
    assert (unlocked.status, unlocked.role) == (LoginStatus.MUST_CHANGE, Role.SYSTEM)
    assert not restarted.locked
    again = await restarted.login("88888", SYSTEM_PUK)
    assert again.status is LoginStatus.MUST_CHANGE  # still must change

    await restarted.change_pin(Role.SYSTEM, SYSTEM_PUK, "24680", "24680")  # the PUK as old
    ok = await restarted.login("24680", SYSTEM_PUK)
    assert (ok.status, ok.role) == (LoginStatus.OK, Role.SYSTEM)
    assert (await restarted.login("88888")).status is LoginStatus.WRONG_PIN


async def test_unlock_with_a_role_checks_that_role_only(db: Database) -> None:
    auth = await _service(db)
    assert (await auth.unlock(Role.SERVER, SYSTEM_PUK)).status is LoginStatus.WRONG_PUK
    result = await auth.unlock(Role.SYSTEM, SYSTEM_PUK)
    assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.SYSTEM)


@pytest.mark.parametrize(
    ("new", "confirm", "msgid", "field"),
    [
        ("99999", "99999", PIN_IS_DEFAULT, "new"),
        ("24680", "24681", PINS_DIFFER, "confirm"),
        ("13579", "13579", PIN_TAKEN, "new"),  # the server role's PIN now
        ("11223", "11223", PIN_UNCHANGED, "new"),  # the system role's own PIN now
    ],
)
async def test_pin_change_refusals(
    db: Database, new: str, confirm: str, msgid: str, field: str
) -> None:
    auth = await _service(db)
    await auth.change_pin(Role.SERVER, "99999", "13579")
    await auth.change_pin(Role.SYSTEM, "88888", "11223")
    with pytest.raises(PinChangeRefused) as refused:
        await auth.change_pin(Role.SYSTEM, "11223", new, confirm)
    assert (refused.value.message.msgid, refused.value.field) == (msgid, field)
    assert (await auth.login("11223", SYSTEM_PUK)).status is LoginStatus.OK


async def test_a_wrong_old_code_counts_as_a_failure(db: Database) -> None:
    auth = await _service(db)
    with pytest.raises(PinChangeRefused) as refused:
        await auth.change_pin(Role.SYSTEM, "99999", "24680")
    assert refused.value.message.msgid == OLD_CODE_WRONG and refused.value.field == "old"
    assert auth.state.failures == 1


async def test_set_pin_needs_no_old_code(db: Database) -> None:
    auth = await _service(db)
    await auth.set_pin(Role.CONSULTATION, "31415")
    result = await auth.login("31415", "00000 7777 00000")
    assert (result.status, result.role) == (LoginStatus.OK, Role.CONSULTATION)


async def test_codes_are_stored_as_salted_scrypt_hashes(db: Database) -> None:
    auth = await _service(db, ScryptParams())  # the real cost, once
    await auth.change_pin(Role.SYSTEM, "88888", "24680")
    rows = await db.fetchall("SELECT role, pin_hash, puk_hash, must_change FROM auth_roles")
    assert {r[0] for r in rows} == {"server", "system", "consultation"}
    for _role, pin_hash, puk_hash, _must in rows:
        for text in (pin_hash, puk_hash):
            assert text.startswith("scrypt$16384$8$1$")
            assert not any(code in text for code in ("24680", "88888", "99999", "77777"))
    salts = [r[1].split("$")[4] for r in rows] + [r[2].split("$")[4] for r in rows]
    assert len(set(salts)) == len(salts)  # one salt per entry
    assert {r[0]: r[3] for r in rows}["system"] == 0
