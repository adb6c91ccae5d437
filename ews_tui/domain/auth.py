"""PINs and PUKs of the box's three roles (manual §7.7.1 and §7.16), as pure values.

The manual asks a PIN, then a PUK, at each login; the PIN says who logs in. Defaults:

=====================  =====  ===================
role                   PIN    PUK
=====================  =====  ===================
server configuration   99999  00000 9999 00000
system configuration   88888  00000 8888 00000
consultation (ours)    77777  00000 7777 00000
=====================  =====  ===================

A PIN is 5 digits, a PUK 14 digits (spaces are ignored). The defaults are published (README,
manual), so at a role's first login both are replaced: a new PIN, and a new PUK drawn at
random (shown once) or chosen (``Credentials.puk_replaced``).

Failed attempts are counted per *source* (``ssh:alice@10.0.0.5``, ``console:/dev/ttyS0``,
``kiosk:/dev/tty1``), so one user cannot lock out another (:class:`SourceFailures`). From one
source: after :data:`MAX_FAILURES` failures its PIN entry is locked until a PUK is given;
every failure from the third on makes the next attempt wait (:func:`retry_delay`); after
:data:`MAX_PUK_FAILURES` more failures (wrong PUKs) the source is blocked until
``ews auth reset`` on the box.

Secrets are kept as scrypt hashes with a salt per entry (:class:`HashedSecret`), optionally
keyed by the box's *pepper* (a secret kept in a separate 0600 file, not in the database):
``scrypt(HMAC-SHA256(pepper, code), salt)``. This module hashes but never draws the salt or
the pepper (the caller passes random bytes) and never logs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ews_tui.domain.messages import N_, Message

PIN_LENGTH: Final = 5
PUK_LENGTH: Final = 14
MAX_FAILURES: Final = 5  # failures from one source before its PIN entry is locked
MAX_PUK_FAILURES: Final = 10  # further failures (wrong PUKs) before the source is blocked
SLOW_AFTER: Final = 2  # failures without a wait; then 2, 4, 8 ... seconds
MAX_DELAY: Final = 3600.0
SALT_BYTES: Final = 16
PEPPER_BYTES: Final = 32


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
DEFAULT_PUKS: Final = frozenset("".join(codes.puk.split()) for codes in DEFAULT_CODES.values())

PIN_FORMAT = N_("The PIN is 5 digits.")
PUK_FORMAT = N_("The PUK is 14 digits (spaces allowed).")
PINS_DIFFER = N_("The two new PINs differ.")
PUKS_DIFFER = N_("The two new PUKs differ.")
PIN_IS_DEFAULT = N_("Choose a PIN other than the default PINs.")
PUK_IS_DEFAULT = N_("Choose a PUK other than the default PUKs.")
PIN_UNCHANGED = N_("The new PIN must differ from the old one.")


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: n=2**14, r=8 costs ~16 MiB and some tens of milliseconds per hash."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    length: int = 32


DEFAULT_SCRYPT: Final = ScryptParams()

_PLAIN = "scrypt"  # hashes made before the pepper: still accepted, rehashed at next login
_PEPPERED = "scrypt-pepper"


@dataclass(frozen=True)
class HashedSecret:
    """A PIN or PUK as ``scrypt-pepper$n$r$p$salt$hash`` (hex): the cost travels with the
    hash. ``scrypt$...`` (no pepper) is a hash made before the pepper existed."""

    params: ScryptParams
    salt: bytes
    digest: bytes
    peppered: bool = True

    def encode(self) -> str:
        p = self.params
        kind = _PEPPERED if self.peppered else _PLAIN
        return f"{kind}${p.n}${p.r}${p.p}${self.salt.hex()}${self.digest.hex()}"

    @classmethod
    def decode(cls, text: str) -> HashedSecret:
        kind, n, r, p, salt, digest = text.split("$")
        if kind not in (_PLAIN, _PEPPERED):
            raise ValueError(f"unknown secret hash kind {kind!r}")
        raw = bytes.fromhex(digest)
        params = ScryptParams(int(n), int(r), int(p), len(raw))
        return cls(params, bytes.fromhex(salt), raw, kind == _PEPPERED)

    def matches(self, secret: str, pepper: bytes | None = None) -> bool:
        """Whether ``secret`` (already normalised) is the hashed one; CPU-heavy.

        A peppered hash needs the ``pepper`` (ValueError without it)."""
        if self.peppered and pepper is None:
            raise ValueError("a peppered hash needs the pepper")
        other = _scrypt(secret, self.salt, self.params, pepper if self.peppered else None)
        return hmac.compare_digest(other, self.digest)


def hash_secret(
    secret: str,
    salt: bytes,
    params: ScryptParams = DEFAULT_SCRYPT,
    *,
    pepper: bytes | None = None,
) -> HashedSecret:
    """The hash of a normalised secret with ``salt`` (random bytes), keyed by ``pepper``
    when given (the PINs and PUKs always are)."""
    digest = _scrypt(secret, salt, params, pepper)
    return HashedSecret(params, salt, digest, peppered=pepper is not None)


def _scrypt(secret: str, salt: bytes, params: ScryptParams, pepper: bytes | None) -> bytes:
    password = secret.encode()
    if pepper is not None:
        password = hmac.new(pepper, password, hashlib.sha256).digest()
    return hashlib.scrypt(
        password,
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


def format_puk(puk: str) -> str:
    """The 14 digits grouped as the defaults are printed: ``12345 6789 01234``."""
    return f"{puk[:5]} {puk[5:9]} {puk[9:]}"


def puk_from_number(number: int) -> str:
    """A PUK's 14 digits from a random number in [0, 10**14) (drawn by the caller)."""
    if not 0 <= number < 10**PUK_LENGTH:
        raise ValueError(f"a PUK number is in [0, 10**{PUK_LENGTH}): {number}")
    return f"{number:0{PUK_LENGTH}d}"


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


def new_puk_problem(new: str, confirm: str) -> Message | None:
    """Why ``new`` (typed twice) cannot be a role's chosen PUK, or None when it can."""
    puk = normalize_puk(new)
    if puk is None:
        return Message(PUK_FORMAT)
    if puk != normalize_puk(confirm):
        return Message(PUKS_DIFFER)
    if puk in DEFAULT_PUKS:
        return Message(PUK_IS_DEFAULT)
    return None


@dataclass(frozen=True)
class Credentials:
    """One role's stored codes; ``must_change`` until the role sets its own PIN,
    ``puk_replaced`` once its published default PUK was replaced."""

    role: Role
    pin: HashedSecret
    puk: HashedSecret
    must_change: bool = True
    puk_replaced: bool = False


def retry_delay(failures: int) -> float:
    """Seconds a source waits after its ``failures``-th failure in a row before trying again."""
    if failures <= SLOW_AFTER:
        return 0.0
    return min(MAX_DELAY, 2.0 ** (failures - SLOW_AFTER))


@dataclass(frozen=True)
class SourceFailures:
    """One source's failed attempts in a row and when the last one happened (Unix s)."""

    count: int = 0
    last: float = 0.0

    @property
    def locked(self) -> bool:
        """PINs refused from this source until one of its PUKs is right."""
        return self.count >= MAX_FAILURES

    @property
    def blocked(self) -> bool:
        """Everything refused from this source until ``ews auth reset`` on the box."""
        return self.count >= MAX_FAILURES + MAX_PUK_FAILURES

    @property
    def attempts_left(self) -> int:
        """Before the lock (PINs), or once locked, before the block (PUKs)."""
        if self.locked:
            return max(0, MAX_FAILURES + MAX_PUK_FAILURES - self.count)
        return MAX_FAILURES - self.count

    def wait(self, now: float) -> float:
        """Seconds before this source may try again (0: now)."""
        return max(0.0, self.last + retry_delay(self.count) - now)

    def after_failure(self, now: float) -> SourceFailures:
        return SourceFailures(self.count + 1, now)


NO_FAILURES: Final = SourceFailures()


@dataclass(frozen=True)
class AuthState:
    """Every role's credentials and each source's failed attempts in a row."""

    credentials: Mapping[Role, Credentials]
    failures: Mapping[str, SourceFailures] = field(default_factory=dict)

    def of(self, source: str) -> SourceFailures:
        return self.failures.get(source, NO_FAILURES)

    def after_failure(self, source: str, now: float) -> AuthState:
        return self._with(source, self.of(source).after_failure(now))

    def after_success(self, source: str) -> AuthState:
        return self._with(source, NO_FAILURES)

    def _with(self, source: str, failures: SourceFailures) -> AuthState:
        others = {s: f for s, f in self.failures.items() if s != source}
        if failures.count:
            others[source] = failures
        return replace(self, failures=MappingProxyType(others))

    def with_credentials(self, cred: Credentials) -> AuthState:
        return replace(self, credentials={**self.credentials, cred.role: cred})


def role_of_pin(state: AuthState, pin: str, pepper: bytes) -> Role | None:
    """The role whose PIN is ``pin`` (normalised); tries every role, CPU-heavy."""
    return _first(state.credentials.values(), lambda c: c.pin.matches(pin, pepper))


def role_of_puk(state: AuthState, puk: str, pepper: bytes) -> Role | None:
    """The role whose PUK is ``puk`` (normalised); CPU-heavy."""
    return _first(state.credentials.values(), lambda c: c.puk.matches(puk, pepper))


def _first(creds: Iterable[Credentials], test: Callable[[Credentials], bool]) -> Role | None:
    # Every hash is computed even after a match, so timing does not tell which role matched.
    found = [c.role for c in creds if test(c)]
    return found[0] if found else None
