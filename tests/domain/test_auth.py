"""PIN/PUK values: formats, new-PIN rules, hashes, the failure count."""

from __future__ import annotations

import pytest

from ews_tui.domain.auth import (
    DEFAULT_CODES,
    MAX_FAILURES,
    PIN_FORMAT,
    PIN_IS_DEFAULT,
    PIN_UNCHANGED,
    PINS_DIFFER,
    AuthState,
    Credentials,
    HashedSecret,
    Role,
    ScryptParams,
    hash_secret,
    new_pin_problem,
    normalize_pin,
    normalize_puk,
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


def test_hash_is_salted_and_round_trips() -> None:
    one = hash_secret("24680", b"a" * 16, CHEAP)
    two = hash_secret("24680", b"b" * 16, CHEAP)
    assert one.digest != two.digest
    text = one.encode()
    assert "24680" not in text and text.startswith("scrypt$16$1$1$")
    back = HashedSecret.decode(text)
    assert back == one
    assert back.matches("24680") and not back.matches("24681")


def test_decode_refuses_another_kind() -> None:
    with pytest.raises(ValueError, match="bcrypt"):
        HashedSecret.decode("bcrypt$1$1$1$00$00")


def _state(failures: int = 0) -> AuthState:
    creds = {
        role: Credentials(
            role,
            hash_secret(codes.pin, role.value.encode(), CHEAP),
            hash_secret(normalize_puk(codes.puk) or "", role.value.encode(), CHEAP),
        )
        for role, codes in DEFAULT_CODES.items()
    }
    return AuthState(creds, failures)


def test_the_pin_names_the_role_and_the_puk_too() -> None:
    state = _state()
    assert role_of_pin(state, "88888") is Role.SYSTEM
    assert role_of_pin(state, "12345") is None
    assert role_of_puk(state, "00000999900000") is Role.SERVER
    assert role_of_puk(state, "00000000000000") is None


def test_locked_after_max_failures_and_reset_by_success() -> None:
    state = _state()
    for count in range(1, MAX_FAILURES):
        state = state.after_failure()
        assert not state.locked and state.attempts_left == MAX_FAILURES - count
    state = state.after_failure()
    assert state.locked and state.attempts_left == 0
    assert not state.after_success().locked
