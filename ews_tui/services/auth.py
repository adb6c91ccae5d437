"""The login service: PIN then PUK, lockout per source, PIN and PUK changes (manual §7.7.1).

Every UI session asks this one service with its *source* (``Session.origin``: the SSH user
and address, the console's or the kiosk's tty). Failures are counted per source and stored,
so one user cannot lock out another and a restart does not reset a lockout. Every attempt
reads the stored state first, so ``ews auth reset`` works on a running box. Every failed and
successful login is logged with its source and published on the Hub as a
:class:`~ews_tui.domain.events.SecurityEvent` (for the alarms).

scrypt is CPU-heavy: every hash runs in a worker thread (``asyncio.to_thread``), under a
lock so two sessions never race on a counter. Codes are never logged.

    result = await auth.login("88888", source=origin)            # PIN only: who is it?
    result = await auth.login("88888", "00000 8888 00000", source=origin)
    if result.status is LoginStatus.MUST_CHANGE:  # default codes, or just unlocked
        codes = await auth.change_codes(result.role, "88888", source=origin, new_pin="24680")
        codes.puk                                   # the new PUK, drawn at random: show once
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from ews_tui.domain.auth import (
    DEFAULT_CODES,
    DEFAULT_SCRYPT,
    MAX_FAILURES,
    PIN_FORMAT,
    PIN_LENGTH,
    PIN_UNCHANGED,
    PINS_DIFFER,
    PUK_LENGTH,
    PUKS_DIFFER,
    SALT_BYTES,
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
    role_of_pin,
    role_of_puk,
)
from ews_tui.domain.events import LoginFailed, LoginSucceeded, SourceLocked
from ews_tui.domain.messages import N_, Message
from ews_tui.hub import Hub
from ews_tui.store.users_repo import UsersRepo

log = logging.getLogger(__name__)

OLD_CODE_WRONG = N_("This is neither the current PIN nor the PUK.")
LOCKED_MESSAGE = N_("Too many failed logins: enter a PUK to unlock.")
BLOCKED_MESSAGE = N_(
    "Too many failed attempts from here: logins are refused until the administrator runs "
    "'ews auth reset' on the box."
)
TOO_SOON_MESSAGE = N_("Too many failed attempts: wait {seconds} s before trying again.")
CODE_REFUSED = N_("This code cannot be used: choose another one. Attempts left: {left}.")


class LoginStatus(StrEnum):
    PIN_OK = "pin_ok"  # the PIN names a role: now ask its PUK
    OK = "ok"  # logged in
    MUST_CHANGE = "must_change"  # codes right, but the role must set new codes first
    WRONG_PIN = "wrong_pin"
    WRONG_PUK = "wrong_puk"
    INVALID_PIN = "invalid_pin"  # not 5 digits: not counted as a failure
    INVALID_PUK = "invalid_puk"  # not 14 digits: not counted as a failure
    LOCKED = "locked"  # too many failures from this source: a PUK must be given (unlock)
    BLOCKED = "blocked"  # too many wrong PUKs from this source: only `ews auth reset`
    TOO_SOON = "too_soon"  # the source must wait ``wait`` seconds: not counted


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    role: Role | None = None
    attempts_left: int = MAX_FAILURES
    wait: float = 0.0  # TOO_SOON: seconds to wait
    must_change_pin: bool = False  # MUST_CHANGE: the PIN is to be replaced
    must_change_puk: bool = False  # MUST_CHANGE: the (published) PUK is to be replaced


@dataclass(frozen=True)
class NewCodes:
    """What :meth:`AuthService.change_codes` set: the PUK (grouped), and whether it was drawn
    at random (then it must be shown once to be written down)."""

    puk: str | None
    drawn: bool


class PinChangeRefused(Exception):
    """A code change refused; ``field`` is "old", "new", "confirm", "puk" or "puk-confirm"
    (where to show it)."""

    def __init__(self, message: Message, field: str) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}")


class AuthService:
    name = "auth"

    def __init__(
        self,
        repo: UsersRepo,
        hub: Hub,
        *,
        params: ScryptParams = DEFAULT_SCRYPT,
        salt: Callable[[], bytes] = lambda: os.urandom(SALT_BYTES),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo = repo
        self._hub = hub
        self._params = params
        self._salt = salt
        self._clock = clock
        self._lock = asyncio.Lock()
        self._state: AuthState | None = None
        self._pepper = b""

    @property
    def state(self) -> AuthState:
        """The state as last read or written (every attempt reads it again first)."""
        if self._state is None:
            raise RuntimeError("the auth service is not started")
        return self._state

    async def start(self) -> None:
        """Load the pepper and the codes; a role never stored gets its default PIN and PUK."""
        self._pepper, made = await asyncio.to_thread(self._repo.pepper)
        state = await self._repo.load()
        if made and any(c.pin.peppered for c in state.credentials.values()):
            log.error(
                "%s was missing: a new pepper was made, and the stored PINs no longer match; "
                "run 'ews auth reset --role ROLE' on the box",
                self._repo.pepper_path,
            )
        missing = [role for role in Role if role not in state.credentials]
        if missing:
            made_creds = await asyncio.to_thread(self._defaults, missing)
            state = state_with(state, *made_creds)
            await self._repo.save(state, *made_creds)
            log.info("default PIN and PUK set for %s", ", ".join(r.value for r in missing))
        self._state = state

    async def stop(self) -> None:
        return None

    async def refusal(self, source: str) -> LoginResult | None:
        """What ``source`` gets before typing anything: LOCKED, BLOCKED, TOO_SOON, or None."""
        async with self._lock:
            return self._gate(await self._load(), source, locked_ok=False)

    async def login(self, pin: str, puk: str | None = None, *, source: str) -> LoginResult:
        """Check ``pin`` (and ``puk`` when given) from ``source``; failures counted, stored."""
        async with self._lock:
            state = await self._load()
            gate = self._gate(state, source, locked_ok=False)
            if gate is not None:
                return gate
            left = state.of(source).attempts_left
            clean_pin = normalize_pin(pin)
            if clean_pin is None:
                return LoginResult(LoginStatus.INVALID_PIN, attempts_left=left)
            role = await asyncio.to_thread(role_of_pin, state, clean_pin, self._pepper)
            if role is None:
                return await self._failed(state, source, LoginStatus.WRONG_PIN, None)
            if puk is None:
                return LoginResult(LoginStatus.PIN_OK, role, left)
            clean_puk = normalize_puk(puk)
            if clean_puk is None:
                return LoginResult(LoginStatus.INVALID_PUK, role, left)
            cred = state.credentials[role]
            if not await asyncio.to_thread(cred.puk.matches, clean_puk, self._pepper):
                return await self._failed(state, source, LoginStatus.WRONG_PUK, role)
            rehashed = await asyncio.to_thread(self._rehash, cred, clean_pin, clean_puk)
            changed = () if rehashed is None else (rehashed,)
            await self._store(state_with(state, *changed).after_success(source), source, *changed)
            self._succeeded(source, role, "login")
            if cred.must_change or not cred.puk_replaced:
                return _must_change(role, cred)
            return LoginResult(LoginStatus.OK, role)

    async def unlock(self, role: Role | None, puk: str, *, source: str) -> LoginResult:
        """Clear ``source``'s lockout with a PUK (of ``role``, or of any role when None).

        The PUK's role must then set a new PIN: MUST_CHANGE, with the role. A wrong PUK is
        counted and slowed like a wrong PIN; too many block the source (see the domain).
        """
        clean = normalize_puk(puk)
        async with self._lock:
            state = await self._load()
            gate = self._gate(state, source, locked_ok=True)
            if gate is not None:
                return gate
            if clean is None:
                return LoginResult(LoginStatus.INVALID_PUK, role, state.of(source).attempts_left)
            if role is None:
                found = await asyncio.to_thread(role_of_puk, state, clean, self._pepper)
            else:
                cred = state.credentials[role]
                ok = await asyncio.to_thread(cred.puk.matches, clean, self._pepper)
                found = role if ok else None
            if found is None:
                return await self._failed(state, source, LoginStatus.WRONG_PUK, role)
            cred = state.credentials[found]
            rehashed = await asyncio.to_thread(self._rehash, cred, None, clean)
            cred = replace(rehashed or cred, must_change=True)
            await self._store(state_with(state, cred).after_success(source), source, cred)
            self._succeeded(source, found, "unlock")
            return _must_change(found, cred)

    async def change_codes(
        self,
        role: Role,
        old: str,
        *,
        source: str,
        new_pin: str | None = None,
        confirm_pin: str | None = None,
        new_puk: str | None = None,
        confirm_puk: str | None = None,
    ) -> NewCodes:
        """The first login's change: a new PIN (when ``new_pin``) and a new PUK, chosen
        (``new_puk`` typed twice) or drawn at random (``new_puk`` empty or None).

        ``old`` is the role's current PIN or PUK. Raises PinChangeRefused (nothing changed);
        a wrong ``old`` and a code another role uses count as failed logins of ``source``.
        """
        async with self._lock:
            state, cred = await self._checked_old(role, old, source)
            if new_pin is None and cred.must_change:
                raise PinChangeRefused(Message(PIN_FORMAT), "new")
            if new_pin is not None:
                cred = await self._new_pin(state, cred, source, new_pin, confirm_pin)
            drawn = not (new_puk or "").strip()
            if drawn:
                puk = puk_from_number(secrets.randbelow(10**PUK_LENGTH))
            else:
                puk = await self._chosen_puk(state, role, source, new_puk or "", confirm_puk)
            hashed = await asyncio.to_thread(self._hash, puk)
            cred = replace(cred, puk=hashed, puk_replaced=True)
            await self._store(state_with(state, cred).after_success(source), source, cred)
            log.info("new %sPUK set for %s from %r", "PIN and " if new_pin else "", role, source)
            return NewCodes(format_puk(puk), drawn)

    async def change_pin(
        self, role: Role, old: str, new: str, confirm: str | None = None, *, source: str
    ) -> None:
        """Give ``role`` the PIN ``new``; ``old`` is its current PIN or its PUK.

        Raises PinChangeRefused (nothing changed). A wrong ``old``, or a PIN another role
        uses, counts as a failed login of ``source``.
        """
        async with self._lock:
            state, cred = await self._checked_old(role, old, source)
            cred = await self._new_pin(state, cred, source, new, confirm)
            await self._store(state_with(state, cred).after_success(source), source, cred)
            log.info("new PIN set for %s from %r", role.value, source)

    async def set_pin(
        self, role: Role, new: str, confirm: str | None = None, *, source: str
    ) -> None:
        """Give ``role`` the PIN ``new`` without its old code (the server configuration
        role managing the others). Raises PinChangeRefused; a PIN another role uses counts
        as a failed login of ``source``."""
        async with self._lock:
            state = await self._load()
            self._refuse_if_gated(state, source)
            cred = await self._new_pin(state, state.credentials[role], source, new, confirm)
            await self._store(state_with(state, cred), source, cred)
            log.info("new PIN set for %s from %r", role.value, source)

    async def reset(self, role: Role) -> tuple[str, str]:
        """Recovery on the box (``ews auth reset``, root): ``role`` gets a new random PIN and
        PUK, both to be replaced at its next login, and every source's failures are
        forgotten. Returns the PIN and the (grouped) PUK, to be shown to the operator."""
        async with self._lock:
            state = await self._load()
            while True:
                pin = f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"
                if new_pin_problem(pin, pin) is not None:
                    continue
                owner = await asyncio.to_thread(role_of_pin, state, pin, self._pepper)
                if owner is None or owner is role:
                    break
            puk = puk_from_number(secrets.randbelow(10**PUK_LENGTH))
            pin_hash, puk_hash = await asyncio.to_thread(lambda: (self._hash(pin), self._hash(puk)))
            cred = Credentials(role, pin_hash, puk_hash, must_change=True, puk_replaced=False)
            await self._repo.save(state, cred)
            cleared = await self._repo.clear_failures()
            self._state = state_with(await self._repo.load(), cred)
            log.warning(
                "%s: PIN and PUK reset on the box; failures of %d source(s) cleared",
                role.value,
                cleared,
            )
            return pin, format_puk(puk)

    # -- the steps ---------------------------------------------------------------------------

    async def _checked_old(
        self, role: Role, old: str, source: str
    ) -> tuple[AuthState, Credentials]:
        state = await self._load()
        self._refuse_if_gated(state, source)
        cred = state.credentials[role]
        if not await asyncio.to_thread(_knows, cred, old, self._pepper):
            result = await self._failed(
                state, source, LoginStatus.WRONG_PIN, role, "wrong_old_code"
            )
            raise PinChangeRefused(_refused_message(result, OLD_CODE_WRONG), "old")
        return state, cred

    async def _new_pin(
        self, state: AuthState, cred: Credentials, source: str, new: str, confirm: str | None
    ) -> Credentials:
        problem = new_pin_problem(new, new if confirm is None else confirm)
        if problem is not None:
            field = "confirm" if problem.msgid == PINS_DIFFER else "new"
            raise PinChangeRefused(problem, field)
        pin = new.strip()
        owner = await asyncio.to_thread(role_of_pin, state, pin, self._pepper)
        if owner is cred.role:
            raise PinChangeRefused(Message(PIN_UNCHANGED), "new")
        if owner is not None:
            # Counted like a failed login: a refused change must not be a free PIN oracle.
            result = await self._failed(state, source, LoginStatus.WRONG_PIN, None, "pin_taken")
            raise PinChangeRefused(_refused_message(result, CODE_REFUSED), "new")
        hashed = await asyncio.to_thread(self._hash, pin)
        return replace(cred, pin=hashed, must_change=False)

    async def _chosen_puk(
        self, state: AuthState, role: Role, source: str, new: str, confirm: str | None
    ) -> str:
        problem = new_puk_problem(new, new if confirm is None else confirm)
        if problem is not None:
            field = "puk-confirm" if problem.msgid == PUKS_DIFFER else "puk"
            raise PinChangeRefused(problem, field)
        puk = normalize_puk(new) or ""
        owner = await asyncio.to_thread(role_of_puk, state, puk, self._pepper)
        if owner is not None and owner is not role:
            result = await self._failed(state, source, LoginStatus.WRONG_PUK, None, "puk_taken")
            raise PinChangeRefused(_refused_message(result, CODE_REFUSED), "puk")
        return puk

    def _gate(self, state: AuthState, source: str, *, locked_ok: bool) -> LoginResult | None:
        failures = state.of(source)
        if failures.blocked:
            return LoginResult(LoginStatus.BLOCKED, attempts_left=0)
        wait = failures.wait(self._clock())
        left = failures.attempts_left
        if failures.locked and not locked_ok:
            return LoginResult(LoginStatus.LOCKED, attempts_left=left, wait=wait)
        if wait > 0:
            return LoginResult(LoginStatus.TOO_SOON, attempts_left=left, wait=wait)
        return None

    def _refuse_if_gated(self, state: AuthState, source: str) -> None:
        gate = self._gate(state, source, locked_ok=False)
        if gate is not None:
            raise PinChangeRefused(_refused_message(gate, LOCKED_MESSAGE), "old")

    async def _failed(
        self,
        state: AuthState,
        source: str,
        status: LoginStatus,
        role: Role | None,
        reason: str | None = None,
    ) -> LoginResult:
        was_locked = state.of(source).locked
        state = state.after_failure(source, self._clock())
        await self._store(state, source)
        failures = state.of(source)
        why = reason or status.value
        log.warning("failed login from %r: %s (%d in a row)", source, why, failures.count)
        self._hub.publish(LoginFailed(source, role.value if role else None, why, failures.count))
        if failures.blocked:
            log.warning("logins from %r blocked until 'ews auth reset'", source)
            self._hub.publish(SourceLocked(source, failures.count, blocked=True))
            return LoginResult(LoginStatus.BLOCKED, role, 0)
        if failures.locked and not was_locked:
            log.warning("PIN entry locked for %r", source)
            self._hub.publish(SourceLocked(source, failures.count))
            wait = failures.wait(self._clock())
            return LoginResult(LoginStatus.LOCKED, role, failures.attempts_left, wait=wait)
        return LoginResult(status, role, failures.attempts_left, wait=failures.wait(self._clock()))

    def _succeeded(self, source: str, role: Role, how: str) -> None:
        log.info("%s from %r as %s", how, source, role.value)
        self._hub.publish(LoginSucceeded(source, role.value))

    async def _load(self) -> AuthState:
        self._state = await self._repo.load()
        return self._state

    async def _store(self, state: AuthState, source: str, *changed: Credentials) -> None:
        await self._repo.save(state, *changed, sources=(source,))
        self._state = state

    def _hash(self, secret: str) -> HashedSecret:
        return hash_secret(secret, self._salt(), self._params, pepper=self._pepper)

    def _rehash(self, cred: Credentials, pin: str | None, puk: str | None) -> Credentials | None:
        """``cred`` with its hashes made before the pepper remade with it (the codes are known
        after a good login), or None when there is nothing to remake."""
        new = cred
        if pin is not None and not cred.pin.peppered:
            new = replace(new, pin=self._hash(pin))
        if puk is not None and not cred.puk.peppered:
            new = replace(new, puk=self._hash(puk))
        return None if new is cred else new

    def _defaults(self, roles: list[Role]) -> list[Credentials]:
        return [default_credentials(role, self._hash) for role in roles]


def default_credentials(role: Role, hashing: Callable[[str], HashedSecret]) -> Credentials:
    """``role`` with its published default PIN and PUK, both to be replaced at first login."""
    codes = DEFAULT_CODES[role]
    pin = hashing(codes.pin)
    puk = hashing(normalize_puk(codes.puk) or "")
    return Credentials(role, pin, puk, must_change=True, puk_replaced=False)


def state_with(state: AuthState, *creds: Credentials) -> AuthState:
    for cred in creds:
        state = state.with_credentials(cred)
    return state


def _must_change(role: Role, cred: Credentials) -> LoginResult:
    return LoginResult(
        LoginStatus.MUST_CHANGE,
        role,
        must_change_pin=cred.must_change,
        must_change_puk=not cred.puk_replaced,
    )


def _refused_message(result: LoginResult, otherwise: str) -> Message:
    if result.status is LoginStatus.BLOCKED:
        return Message(BLOCKED_MESSAGE)
    if result.status is LoginStatus.TOO_SOON or (
        result.status is LoginStatus.LOCKED and result.wait > 0 and otherwise == LOCKED_MESSAGE
    ):
        return Message(TOO_SOON_MESSAGE, {"seconds": max(1, round(result.wait))})
    if result.status is LoginStatus.LOCKED:
        return Message(LOCKED_MESSAGE)
    if otherwise == CODE_REFUSED:
        return Message(CODE_REFUSED, {"left": result.attempts_left})
    return Message(otherwise)


def _knows(cred: Credentials, old: str, pepper: bytes) -> bool:
    """Whether ``old`` is the role's PIN or its PUK (CPU-heavy: run in a thread)."""
    pin = normalize_pin(old)
    if pin is not None and cred.pin.matches(pin, pepper):
        return True
    puk = normalize_puk(old)
    return puk is not None and cred.puk.matches(puk, pepper)
