"""PIN/PUK values: formats, new-PIN and new-PUK rules, hashes with the pepper, the failure
count per source and its delays."""

from __future__ import annotations

import pytest

from ews_tui.domain.auth import (
    DEFAULT_CODES,
    MAX_DELAY,
    MAX_FAILURES,
    MAX_PUK_FAILURES,
    PIN_FORMAT,
    PIN_IS_DEFAULT,
    PIN_UNCHANGED,
    PINS_DIFFER,
    PUK_FORMAT,
    PUK_IS_DEFAULT,
    PUKS_DIFFER,
    AuthState,
    Credentials,
    HashedSecret,
    Role,
    ScryptParams,
    format_puk,
    hash_secret,
    new_pin_problem,
    new_puk_problem,
    normalize_pin,
    normalize_puk,
    puk_from_number,
    retry_delay,
    role_of_pin,
    role_of_puk,
)

CHEAP = ScryptParams(n=2**4, r=1, p=1)


def test_manual_defaults() -> None:
    assert DEFAULT_CODES[Role.SERVER].pin == "99999"
    assert DEFAULT_CODES[Role.SERVER].puk == "00000 9999 00000"
    assert DEFAULT_CODES[Role.SYSTEM].pin == "88888"
    assert DEFAULT_CODES[Role.SYSTEM].puk == "00000 8888 00000"
    assert DEFAULT_CODES[Role.CONSULTATION].pin == "77777"
    assert all(normalize_puk(c.puk) is not None for c in DEFAULT_CODES.values())


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12345", "12345"),
        (" 12345 ", "12345"),
        ("1234", None),
        ("123456", None),
        ("12a45", None),
        ("１２３４５", None),
        ("", None),
    ],
)
def test_normalize_pin(typed: str, expected: str | None) -> None:
    assert normalize_pin(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("00000 8888 00000", "00000888800000"),
        ("00000888800000", "00000888800000"),
        (" 0000 0888 8000 00 ", "00000888800000"),
        ("0000088880000", None),
        ("000008888000000", None),
        ("00000 8888 0000x", None),
    ],
)
def test_normalize_puk_with_or_without_spaces(typed: str, expected: str | None) -> None:
    assert normalize_puk(typed) == expected


@pytest.mark.parametrize(
    ("new", "confirm", "old", "msgid"),
    [
        ("1234", "1234", None, PIN_FORMAT),
        ("24680", "24681", None, PINS_DIFFER),
        ("88888", "88888", None, PIN_IS_DEFAULT),
        ("77777", "77777", None, PIN_IS_DEFAULT),
        ("24680", "24680", "24680", PIN_UNCHANGED),
    ],
)
def test_new_pin_problems(new: str, confirm: str, old: str | None, msgid: str) -> None:
    problem = new_pin_problem(new, confirm, old=old)
    assert problem is not None and problem.msgid == msgid


def test_a_good_new_pin() -> None:
    assert new_pin_problem("24680", "24680", old="88888") is None


PEPPER = b"p" * 32


def test_hash_is_salted_peppered_and_round_trips() -> None:
    one = hash_secret("24680", b"a" * 16, CHEAP, pepper=PEPPER)
    two = hash_secret("24680", b"b" * 16, CHEAP, pepper=PEPPER)
    assert one.digest != two.digest
    text = one.encode()
    assert "24680" not in text and text.startswith("scrypt-pepper$16$1$1$")
    back = HashedSecret.decode(text)
    assert back == one and back.peppered
    assert back.matches("24680", PEPPER) and not back.matches("24681", PEPPER)


def test_a_peppered_hash_is_useless_without_the_pepper() -> None:
    """A stolen database alone does not let anyone try the 100,000 PINs offline."""
    hashed = hash_secret("24680", b"a" * 16, CHEAP, pepper=PEPPER)
    assert not hashed.matches("24680", b"q" * 32)
    with pytest.raises(ValueError, match="pepper"):
        hashed.matches("24680")


def test_a_hash_made_before_the_pepper_still_matches() -> None:
    old = HashedSecret.decode(hash_secret("24680", b"a" * 16, CHEAP).encode())
    assert old.encode().startswith("scrypt$") and not old.peppered
    assert old.matches("24680", PEPPER) and old.matches("24680")


def test_decode_refuses_another_kind() -> None:
    with pytest.raises(ValueError, match="bcrypt"):
        HashedSecret.decode("bcrypt$1$1$1$00$00")


@pytest.mark.parametrize(
    ("new", "confirm", "msgid"),
    [
        ("1234", "1234", PUK_FORMAT),
        ("12345 6789 01234", "12345678901235", PUKS_DIFFER),
        ("00000 9999 00000", "00000999900000", PUK_IS_DEFAULT),
        ("00000 7777 00000", "00000 7777 00000", PUK_IS_DEFAULT),
    ],
)
def test_new_puk_problems(new: str, confirm: str, msgid: str) -> None:
    problem = new_puk_problem(new, confirm)
    assert problem is not None and problem.msgid == msgid


def test_a_good_new_puk_and_its_groups() -> None:
    assert new_puk_problem("12345 6789 01234", "12345678901234") is None
    assert format_puk(puk_from_number(42)) == "00000 0000 00042"
    with pytest.raises(ValueError):
        puk_from_number(10**14)


def _state() -> AuthState:
    creds = {
        role: Credentials(
            role,
            hash_secret(codes.pin, role.value.encode(), CHEAP, pepper=PEPPER),
            hash_secret(normalize_puk(codes.puk) or "", role.value.encode(), CHEAP, pepper=PEPPER),
        )
        for role, codes in DEFAULT_CODES.items()
    }
    return AuthState(creds)


def test_the_pin_names_the_role_and_the_puk_too() -> None:
    state = _state()
    assert role_of_pin(state, "88888", PEPPER) is Role.SYSTEM
    assert role_of_pin(state, "12345", PEPPER) is None
    assert role_of_puk(state, "00000999900000", PEPPER) is Role.SERVER
    assert role_of_puk(state, "00000000000000", PEPPER) is None


def test_failures_count_per_source_lock_then_block() -> None:
    state = _state()
    ssh, console = "ssh:guest@10.0.0.9", "console:/dev/ttyS0"
    for count in range(1, MAX_FAILURES):
        state = state.after_failure(ssh, now=100.0 * count)
        assert not state.of(ssh).locked and state.of(ssh).attempts_left == MAX_FAILURES - count
    state = state.after_failure(ssh, now=1000.0)
    assert state.of(ssh).locked and state.of(ssh).attempts_left == MAX_PUK_FAILURES
    assert not state.of(console).locked and state.of(console).count == 0  # another source
    for _ in range(MAX_PUK_FAILURES):
        assert not state.of(ssh).blocked
        state = state.after_failure(ssh, now=2000.0)
    assert state.of(ssh).blocked and state.of(ssh).attempts_left == 0
    assert state.after_success(ssh).of(ssh).count == 0
    assert ssh not in state.after_success(ssh).failures


def test_failures_from_the_third_on_make_the_source_wait() -> None:
    assert retry_delay(1) == retry_delay(2) == 0
    assert [retry_delay(n) for n in (3, 4, 5, 6)] == [2, 4, 8, 16]
    assert retry_delay(100) == MAX_DELAY
    state = _state().after_failure("kiosk", 10.0).after_failure("kiosk", 11.0)
    assert state.of("kiosk").wait(11.0) == 0
    state = state.after_failure("kiosk", 12.0)
    assert state.of("kiosk").wait(12.5) == 1.5 and state.of("kiosk").wait(14.0) == 0
