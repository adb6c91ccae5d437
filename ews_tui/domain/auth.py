"""PINs and PUKs of the box's three roles (manual §7.7.1 and §7.16), as pure values.

The manual asks a PIN, then a PUK, at each login; the PIN says who logs in. Defaults:

=====================  =====  ===================
role                   PIN    PUK
=====================  =====  ===================
server configuration   99999  00000 9999 00000
system configuration   88888  00000 8888 00000
consultation (ours)    77777  00000 7777 00000
=====================  =====  ===================

A PIN is 5 digits, a PUK 14 digits (spaces are ignored). A default PIN must be changed
before going on. As a PIN names its role, a wrong PIN cannot be charged to one role: the
box counts failed logins in a row (a wrong PIN, or a right PIN with a wrong PUK) and after
:data:`MAX_FAILURES` it refuses every PIN until a PUK is given; the role of that PUK must
then set a new PIN (a SIM card's PIN/PUK, shared by the box's sessions).

Secrets are kept as scrypt hashes with a salt per entry (:class:`HashedSecret`); this module
hashes but never draws the salt (the caller passes random bytes) and never logs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ews_tui.domain.messages import N_, Message

PIN_LENGTH: Final = 5
PUK_LENGTH: Final = 14
MAX_FAILURES: Final = 5
SALT_BYTES: Final = 16


class Role(StrEnum):
    """Who is logged in (manual §7.7.1 and §7.16); the box's only role type."""

    SERVER = "server"  # server configuration: PIN 99999, PUK 00000 9999 00000
    SYSTEM = "system"  # system configuration: PIN 88888, PUK 00000 8888 00000
    CONSULTATION = "consultation"  # read only: PIN 77777, PUK 00000 7777 00000


@dataclass(frozen=True)
class DefaultCodes:
    pin: str
    puk: str


DEFAULT_CODES: Final[Mapping[Role, DefaultCodes]] = MappingProxyType(
    {
        Role.SERVER: DefaultCodes("99999", "00000 9999 00000"),
        Role.SYSTEM: DefaultCodes("88888", "00000 8888 00000"),
        Role.CONSULTATION: DefaultCodes("77777", "00000 7777 00000"),
    }
)
DEFAULT_PINS: Final = frozenset(codes.pin for codes in DEFAULT_CODES.values())

PIN_FORMAT = N_("The PIN is 5 digits.")
PUK_FORMAT = N_("The PUK is 14 digits (spaces allowed).")
PINS_DIFFER = N_("The two new PINs differ.")
PIN_IS_DEFAULT = N_("Choose a PIN other than the default PINs.")
PIN_UNCHANGED = N_("The new PIN must differ from the old one.")
PIN_TAKEN = N_("This PIN is used by another role: choose another one.")


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: n=2**14, r=8 costs ~16 MiB and some tens of milliseconds per hash."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    length: int = 32


DEFAULT_SCRYPT: Final = ScryptParams()


@dataclass(frozen=True)
class HashedSecret:
    """A PIN or PUK as ``scrypt$n$r$p$salt$hash`` (hex): the cost travels with the hash."""

    params: ScryptParams
    salt: bytes
    digest: bytes

    def encode(self) -> str:
        p = self.params
        return f"scrypt${p.n}${p.r}${p.p}${self.salt.hex()}${self.digest.hex()}"

    @classmethod
    def decode(cls, text: str) -> HashedSecret:
        kind, n, r, p, salt, digest = text.split("$")
        if kind != "scrypt":
            raise ValueError(f"unknown secret hash kind {kind!r}")
        raw = bytes.fromhex(digest)
        params = ScryptParams(int(n), int(r), int(p), len(raw))
        return cls(params, bytes.fromhex(salt), raw)

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` (already normalised) is the hashed one; CPU-heavy."""
        other = _scrypt(secret, self.salt, self.params)
        return hmac.compare_digest(other, self.digest)


def hash_secret(secret: str, salt: bytes, params: ScryptParams = DEFAULT_SCRYPT) -> HashedSecret:
    """The hash of a normalised PIN or PUK with ``salt`` (random bytes from the caller)."""
    return HashedSecret(params, salt, _scrypt(secret, salt, params))


def _scrypt(secret: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        secret.encode(),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=256 * params.n * params.r + 1024 * 1024,
        dklen=params.length,
    )


def normalize_pin(text: str) -> str | None:
    """The PIN typed (surrounding blanks ignored), or None when it is not 5 digits."""
    pin = text.strip()
    return pin if len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit() else None


def normalize_puk(text: str) -> str | None:
    """The 14 digits of a PUK typed with or without spaces, or None when it is not one."""
    puk = "".join(text.split())
    return puk if len(puk) == PUK_LENGTH and puk.isascii() and puk.isdigit() else None


def new_pin_problem(new: str, confirm: str, *, old: str | None = None) -> Message | None:
    """Why ``new`` (typed twice) cannot be a role's new PIN, or None when it can.

    Whether another role already uses it needs the stored hashes: the service checks that.
    """
    pin = normalize_pin(new)
    if pin is None:
        return Message(PIN_FORMAT)
    if pin != confirm.strip():
        return Message(PINS_DIFFER)
    if pin in DEFAULT_PINS:
        return Message(PIN_IS_DEFAULT)
    if old is not None and pin == old.strip():
        return Message(PIN_UNCHANGED)
    return None


@dataclass(frozen=True)
class Credentials:
    """One role's stored codes; ``must_change`` until the role sets its own PIN."""

    role: Role
    pin: HashedSecret
    puk: HashedSecret
    must_change: bool = True


@dataclass(frozen=True)
class AuthState:
    """Every role's credentials and the box's count of failed logins in a row."""

    credentials: Mapping[Role, Credentials]
    failures: int = 0

    @property
    def locked(self) -> bool:
        return self.failures >= MAX_FAILURES

    @property
    def attempts_left(self) -> int:
        return max(0, MAX_FAILURES - self.failures)

    def after_failure(self) -> AuthState:
        return replace(self, failures=self.failures + 1)

    def after_success(self) -> AuthState:
        return replace(self, failures=0)

    def with_credentials(self, cred: Credentials) -> AuthState:
        return replace(self, credentials={**self.credentials, cred.role: cred})


def role_of_pin(state: AuthState, pin: str) -> Role | None:
    """The role whose PIN is ``pin`` (normalised); tries every role, CPU-heavy."""
    return _first(state.credentials.values(), lambda c: c.pin.matches(pin))


def role_of_puk(state: AuthState, puk: str) -> Role | None:
    """The role whose PUK is ``puk`` (normalised); CPU-heavy."""
    return _first(state.credentials.values(), lambda c: c.puk.matches(puk))


def _first(creds: Iterable[Credentials], test: Callable[[Credentials], bool]) -> Role | None:
    # Every hash is computed even after a match, so timing does not tell which role matched.
    found = [c.role for c in creds if test(c)]
    return found[0] if found else None
