"""AuthService on a real store: PIN then PUK, lockout per source, slowed and limited PUKs,
the first login's new PUK, PIN changes that cannot guess other roles' PINs, the pepper,
the security events, ``reset``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ews_tui.domain.auth import (
    MAX_FAILURES,
    MAX_PUK_FAILURES,
    PIN_IS_DEFAULT,
    PIN_UNCHANGED,
    PINS_DIFFER,
    PUK_IS_DEFAULT,
    Credentials,
    Role,
    ScryptParams,
    hash_secret,
    normalize_puk,
)
from ews_tui.domain.events import LoginFailed, LoginSucceeded, SecurityEvent, SourceLocked
from ews_tui.hub import Hub, Subscription
from ews_tui.services.auth import (
    CODE_REFUSED,
    OLD_CODE_WRONG,
    AuthService,
    LoginStatus,
    PinChangeRefused,
)
from ews_tui.store.db import Database
from ews_tui.store.users_repo import UsersRepo

CHEAP = ScryptParams(n=2**4, r=1, p=1)
SYSTEM_PUK = "00000 8888 00000"
SERVER_PUK = "00000 9999 00000"
GUEST = "ssh:guest@10.0.0.9"
ADMIN = "ssh:admin@10.0.0.2"
CONSOLE = "console:/dev/ttyS0"


class Clock:
    """The service's clock, moved by the test (no sleeping, no wall clock)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def skip(self, seconds: float = 4000.0) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub() -> Hub:
    return Hub()


async def _service(
    db: Database, hub: Hub, clock: Clock, params: ScryptParams = CHEAP
) -> AuthService:
    service = AuthService(UsersRepo(db), hub, params=params, clock=clock)
    await service.start()
    return service


@pytest.fixture
async def auth(db: Database, hub: Hub, clock: Clock) -> AuthService:
    return await _service(db, hub, clock)


def drain(sub: Subscription) -> list[SecurityEvent]:
    events = []
    while len(sub):
        event = sub.get_nowait()
        assert isinstance(event, SecurityEvent)
        events.append(event)
    return events


async def _first_login(auth: AuthService, role: Role, pin: str, puk: str, new_pin: str) -> str:
    """Log ``role`` in with its default codes and replace both; the new (drawn) PUK."""
    result = await auth.login(pin, puk, source=CONSOLE)
    assert result.status is LoginStatus.MUST_CHANGE
    assert result.must_change_pin and result.must_change_puk
    codes = await auth.change_codes(role, pin, source=CONSOLE, new_pin=new_pin, confirm_pin=new_pin)
    assert codes.drawn and codes.puk is not None
    return codes.puk


async def test_default_codes_log_in_but_ask_for_a_new_pin_and_puk(auth: AuthService) -> None:
    first = await auth.login("88888", source=CONSOLE)
    assert (first.status, first.role) == (LoginStatus.PIN_OK, Role.SYSTEM)
    for puk in (SYSTEM_PUK, "00000888800000"):
        result = await auth.login("88888", puk, source=CONSOLE)
        assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.SYSTEM)
        assert result.must_change_pin and result.must_change_puk
    server = await auth.login("99999", SERVER_PUK, source=CONSOLE)
    consultation = await auth.login("77777", "00000 7777 00000", source=CONSOLE)
    assert server.role is Role.SERVER and consultation.role is Role.CONSULTATION


async def test_the_first_login_replaces_the_published_puk(auth: AuthService) -> None:
    """Issue 12 item 1: after the first login the default PUK no longer opens anything."""
    puk = await _first_login(auth, Role.SERVER, "99999", SERVER_PUK, "13579")
    assert normalize_puk(puk) not in (None, "00000999900000")
    assert (await auth.login("13579", SERVER_PUK, source=CONSOLE)).status is LoginStatus.WRONG_PUK
    ok = await auth.login("13579", puk, source=CONSOLE)
    assert (ok.status, ok.role) == (LoginStatus.OK, Role.SERVER)
    # the published PUK cannot unlock the server role any more
    assert (await auth.unlock(None, SERVER_PUK, source=GUEST)).status is LoginStatus.WRONG_PUK


async def test_a_chosen_puk_follows_the_same_rules(auth: AuthService) -> None:
    await auth.login("88888", SYSTEM_PUK, source=CONSOLE)
    for puk, confirm, field, msgid in (
        (SERVER_PUK, SERVER_PUK, "puk", PUK_IS_DEFAULT),
        ("12345 6789 01234", "12345 6789 01235", "puk-confirm", None),
    ):
        with pytest.raises(PinChangeRefused) as refused:
            await auth.change_codes(
                Role.SYSTEM,
                "88888",
                source=CONSOLE,
                new_pin="24680",
                confirm_pin="24680",
                new_puk=puk,
                confirm_puk=confirm,
            )
        assert refused.value.field == field
        assert msgid is None or refused.value.message.msgid == msgid
    codes = await auth.change_codes(
        Role.SYSTEM,
        "88888",
        source=CONSOLE,
        new_pin="24680",
        confirm_pin="24680",
        new_puk="12345678901234",
        confirm_puk="12345 6789 01234",
    )
    assert (codes.puk, codes.drawn) == ("12345 6789 01234", False)
    ok = await auth.login("24680", "12345 6789 01234", source=CONSOLE)
    assert ok.status is LoginStatus.OK


async def test_a_pin_already_changed_still_asks_for_a_new_puk(auth: AuthService) -> None:
    """A box upgraded with its PINs changed but the default PUKs: only the PUK is asked."""
    await auth.change_pin(Role.SYSTEM, "88888", "24680", source=CONSOLE)
    result = await auth.login("24680", SYSTEM_PUK, source=CONSOLE)
    assert result.status is LoginStatus.MUST_CHANGE
    assert (result.must_change_pin, result.must_change_puk) == (False, True)
    codes = await auth.change_codes(Role.SYSTEM, "24680", source=CONSOLE)
    assert codes.drawn and codes.puk is not None
    assert (await auth.login("24680", codes.puk, source=CONSOLE)).status is LoginStatus.OK


async def test_lockout_counts_per_source(
    auth: AuthService, db: Database, hub: Hub, clock: Clock
) -> None:
    """Issue 12 item 1: five wrong PINs from a guest lock the guest, not the administrator."""
    admin_puk = await _first_login(auth, Role.SERVER, "99999", SERVER_PUK, "13579")
    for _ in range(MAX_FAILURES):
        clock.skip()  # past each wait
        result = await auth.login("11111", source=GUEST)
    assert result.status is LoginStatus.LOCKED
    clock.skip()
    assert (await auth.login("13579", admin_puk, source=GUEST)).status is LoginStatus.LOCKED
    assert (await auth.refusal(GUEST)) is not None
    assert (await auth.refusal(ADMIN)) is None
    ok = await auth.login("13579", admin_puk, source=ADMIN)
    assert (ok.status, ok.role) == (LoginStatus.OK, Role.SERVER)

    restarted = await _service(db, hub, clock)  # the lock is stored
    refusal = await restarted.refusal(GUEST)
    assert refusal is not None and refusal.status is LoginStatus.LOCKED
    assert (await restarted.login("13579", admin_puk, source=CONSOLE)).status is LoginStatus.OK


async def test_five_failures_lock_until_a_puk_then_the_pin_must_change(
    auth: AuthService, clock: Clock
) -> None:
    results = await asyncio.gather(*(auth.login("11111", source=GUEST) for _ in range(3)))
    assert [r.status for r in results] == [LoginStatus.WRONG_PIN] * 2 + [LoginStatus.WRONG_PIN]
    too_soon = await auth.login("11111", source=GUEST)  # the third failure makes it wait
    assert too_soon.status is LoginStatus.TOO_SOON and too_soon.wait == 2
    for _ in range(MAX_FAILURES - 3):
        clock.skip()
        last = await auth.login("11111", source=GUEST)
    assert last.status is LoginStatus.LOCKED
    clock.skip()
    assert (await auth.login("88888", SYSTEM_PUK, source=GUEST)).status is LoginStatus.LOCKED
    unlocked = await auth.unlock(None, SYSTEM_PUK, source=GUEST)
    assert (unlocked.status, unlocked.role) == (LoginStatus.MUST_CHANGE, Role.SYSTEM)
    assert await auth.refusal(GUEST) is None
    await auth.change_pin(Role.SYSTEM, SYSTEM_PUK, "24680", "24680", source=GUEST)  # PUK as old
    assert (await auth.login("88888", source=GUEST)).status is LoginStatus.WRONG_PIN


async def test_puk_attempts_are_slowed_and_limited(
    auth: AuthService, hub: Hub, clock: Clock
) -> None:
    """Issue 12 item 1: wrong PUKs wait longer each time, and then the source is blocked."""
    sub = hub.subscribe(SecurityEvent, maxsize=1000)
    for _ in range(MAX_FAILURES):
        clock.skip()
        await auth.login("11111", source=GUEST)
    waits = []
    for left in range(MAX_PUK_FAILURES - 1, -1, -1):
        clock.skip()
        result = await auth.unlock(None, "12345 12345 1234", source=GUEST)
        if left:
            assert (result.status, result.attempts_left) == (LoginStatus.WRONG_PUK, left)
            waits.append(result.wait)
            early = await auth.unlock(None, SYSTEM_PUK, source=GUEST)  # even the right one
            assert early.status is LoginStatus.TOO_SOON
    assert result.status is LoginStatus.BLOCKED
    assert waits == sorted(waits) and waits[0] >= 16 and waits[-1] == 3600
    clock.skip(10**6)
    assert (await auth.unlock(None, SYSTEM_PUK, source=GUEST)).status is LoginStatus.BLOCKED
    assert (await auth.login("88888", SYSTEM_PUK, source=ADMIN)).status is LoginStatus.MUST_CHANGE
    events = drain(sub)
    locks = [e for e in events if isinstance(e, SourceLocked)]
    assert [(e.source, e.blocked) for e in locks] == [(GUEST, False), (GUEST, True)]


async def test_every_login_is_logged_with_its_source_and_published(
    auth: AuthService, hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    sub = hub.subscribe(SecurityEvent, maxsize=100)
    caplog.set_level("INFO", logger="ews_tui.services.auth")
    await auth.login("12345", source=GUEST)
    await auth.login("88888", "00000 9999 00000", source=CONSOLE)
    await auth.login("88888", SYSTEM_PUK, source=CONSOLE)
    assert drain(sub) == [
        LoginFailed(GUEST, None, "wrong_pin", 1),
        LoginFailed(CONSOLE, "system", "wrong_puk", 1),
        LoginSucceeded(CONSOLE, "system"),
    ]
    text = caplog.text
    assert "'ssh:guest@10.0.0.9': wrong_pin (1 in a row)" in text
    assert "login from 'console:/dev/ttyS0' as system" in text
    assert "88888" not in text and "8888" not in text


async def test_wrong_and_malformed_codes(auth: AuthService) -> None:
    assert (await auth.login("1234", source=GUEST)).status is LoginStatus.INVALID_PIN
    assert (await auth.login("88888", "123", source=GUEST)).status is LoginStatus.INVALID_PUK
    assert auth.state.of(GUEST).count == 0  # malformed entries are not counted
    wrong = await auth.login("12345", source=GUEST)
    assert (wrong.status, wrong.attempts_left) == (LoginStatus.WRONG_PIN, MAX_FAILURES - 1)
    wrong_puk = await auth.login("88888", SERVER_PUK, source=GUEST)  # the server role's PUK
    assert (wrong_puk.status, wrong_puk.role) == (LoginStatus.WRONG_PUK, Role.SYSTEM)
    assert wrong_puk.attempts_left == MAX_FAILURES - 2
    await auth.login("88888", SYSTEM_PUK, source=GUEST)
    assert auth.state.of(GUEST).count == 0  # a good login clears the count


async def test_unlock_with_a_role_checks_that_role_only(auth: AuthService) -> None:
    assert (
        await auth.unlock(Role.SERVER, SYSTEM_PUK, source=GUEST)
    ).status is LoginStatus.WRONG_PUK
    result = await auth.unlock(Role.SYSTEM, SYSTEM_PUK, source=GUEST)
    assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.SYSTEM)


@pytest.mark.parametrize(
    ("new", "confirm", "msgid", "field"),
    [
        ("99999", "99999", PIN_IS_DEFAULT, "new"),
        ("24680", "24681", PINS_DIFFER, "confirm"),
        ("13579", "13579", CODE_REFUSED, "new"),  # the server role's PIN now
        ("11223", "11223", PIN_UNCHANGED, "new"),  # the system role's own PIN now
    ],
)
async def test_pin_change_refusals(
    auth: AuthService, new: str, confirm: str, msgid: str, field: str
) -> None:
    await auth.change_pin(Role.SERVER, "99999", "13579", source=CONSOLE)
    await auth.change_pin(Role.SYSTEM, "88888", "11223", source=CONSOLE)
    with pytest.raises(PinChangeRefused) as refused:
        await auth.change_pin(Role.SYSTEM, "11223", new, confirm, source=CONSOLE)
    assert (refused.value.message.msgid, refused.value.field) == (msgid, field)
    assert "role" not in refused.value.message.render()
    assert (await auth.login("11223", SYSTEM_PUK, source=CONSOLE)).role is Role.SYSTEM


async def test_pin_changes_cannot_guess_other_roles_pins(
    auth: AuthService, hub: Hub, clock: Clock
) -> None:
    """Issue 12 item 2: a change refused for another role's PIN counts like a failed login,
    so five guesses lock the source (as five wrong PINs at the login would)."""
    sub = hub.subscribe(SecurityEvent, maxsize=100)
    await auth.change_pin(Role.SERVER, "99999", "13579", source=CONSOLE)
    await auth.change_pin(Role.CONSULTATION, "77777", "11223", source=GUEST)
    guesses = ["13578", "13579", "13580", "13581", "13582"]
    refusals = []
    for guess in guesses:
        clock.skip()
        try:
            await auth.change_pin(Role.CONSULTATION, "11223", guess, source=GUEST)
        except PinChangeRefused as refused:
            refusals.append(refused.message.msgid)
            continue
        await auth.change_pin(Role.CONSULTATION, guess, "11223", source=GUEST)  # put it back
    assert refusals == [CODE_REFUSED]  # the hit on the server's PIN, counted
    assert auth.state.of(GUEST).count == 0  # ... then cleared by the next good change
    for _ in range(MAX_FAILURES):
        clock.skip()
        with pytest.raises(PinChangeRefused):
            await auth.change_pin(Role.CONSULTATION, "11223", "13579", source=GUEST)
    clock.skip()
    assert (await auth.login("11223", source=GUEST)).status is LoginStatus.LOCKED
    with pytest.raises(PinChangeRefused):
        await auth.change_pin(Role.CONSULTATION, "11223", "24680", source=GUEST)
    failed = [e for e in drain(sub) if isinstance(e, LoginFailed)]
    assert [e.reason for e in failed] == ["pin_taken"] * (1 + MAX_FAILURES)
    assert (await auth.login("13579", SERVER_PUK, source=CONSOLE)).role is Role.SERVER


async def test_a_wrong_old_code_counts_as_a_failure(auth: AuthService) -> None:
    with pytest.raises(PinChangeRefused) as refused:
        await auth.change_pin(Role.SYSTEM, "99999", "24680", source=GUEST)
    assert refused.value.message.msgid == OLD_CODE_WRONG and refused.value.field == "old"
    assert auth.state.of(GUEST).count == 1


async def test_set_pin_needs_no_old_code(auth: AuthService) -> None:
    await auth.set_pin(Role.CONSULTATION, "31415", source=CONSOLE)
    result = await auth.login("31415", "00000 7777 00000", source=CONSOLE)
    assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.CONSULTATION)
    assert (result.must_change_pin, result.must_change_puk) == (False, True)


async def test_codes_are_stored_as_salted_peppered_scrypt_hashes(
    db: Database, hub: Hub, clock: Clock
) -> None:
    auth = await _service(db, hub, clock, ScryptParams())  # the real cost, once
    await auth.change_pin(Role.SYSTEM, "88888", "24680", source=CONSOLE)
    rows = await db.fetchall("SELECT role, pin_hash, puk_hash, must_change FROM auth_roles")
    assert {r[0] for r in rows} == {"server", "system", "consultation"}
    for _role, pin_hash, puk_hash, _must in rows:
        for text in (pin_hash, puk_hash):
            assert text.startswith("scrypt-pepper$16384$8$1$")
            assert not any(code in text for code in ("24680", "88888", "99999", "77777"))
    salts = [r[1].split("$")[4] for r in rows] + [r[2].split("$")[4] for r in rows]
    assert len(set(salts)) == len(salts)  # one salt per entry
    assert {r[0]: r[3] for r in rows}["system"] == 0


async def test_hashes_from_before_the_pepper_work_and_are_rehashed_at_login(
    db: Database, hub: Hub, clock: Clock, tmp_path: Path
) -> None:
    """Issue 12 item 4: an upgraded box's codes (no pepper) still log in, and the first good
    login remakes them with the pepper; the database alone then no longer matches."""
    old = Credentials(
        Role.SYSTEM,
        hash_secret("24680", b"s" * 16, CHEAP),
        hash_secret("12345678901234", b"t" * 16, CHEAP),
        must_change=False,
        puk_replaced=True,
    )
    repo = UsersRepo(db)
    await repo.save(await repo.load(), old)
    auth = await _service(db, hub, clock)
    pepper = (tmp_path / "pin.pepper").read_bytes()
    assert (await auth.login("24680", "12345 6789 01234", source=CONSOLE)).status is LoginStatus.OK
    rows = await db.fetchall("SELECT pin_hash, puk_hash FROM auth_roles WHERE role = 'system'")
    pin_hash, puk_hash = rows[0]
    assert pin_hash.startswith("scrypt-pepper$") and puk_hash.startswith("scrypt-pepper$")
    stored = (await repo.load()).credentials[Role.SYSTEM]
    assert stored.pin.matches("24680", pepper) and not stored.pin.matches("24680", b"x" * 32)
    assert (await auth.login("24680", "12345 6789 01234", source=CONSOLE)).status is LoginStatus.OK


async def test_reset_gives_new_codes_and_lifts_every_lockout(
    auth: AuthService, clock: Clock
) -> None:
    puk = await _first_login(auth, Role.SERVER, "99999", SERVER_PUK, "13579")
    for _ in range(MAX_FAILURES + MAX_PUK_FAILURES):
        clock.skip()
        await auth.unlock(None, "12345 12345 1234", source=GUEST)
    assert (await auth.refusal(GUEST)) is not None
    pin, new_puk = await auth.reset(Role.SERVER)
    assert await auth.refusal(GUEST) is None
    assert (await auth.login("13579", puk, source=CONSOLE)).status is LoginStatus.WRONG_PIN
    result = await auth.login(pin, new_puk, source=CONSOLE)
    assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.SERVER)
    assert result.must_change_pin and result.must_change_puk
