"""The login service: PIN then PUK, lockout after five failures, PIN changes (manual §7.7.1).

Every UI session asks this one service, so the failure count is the box's, not a session's,
and it is stored (a restart does not reset a lockout). scrypt is CPU-heavy: every hash runs
in a worker thread (``asyncio.to_thread``), under a lock so two sessions never race on the
counter. Codes are never logged.

    result = await auth.login("88888")                # PIN only: who is it?
    result = await auth.login("88888", "00000 8888 00000")
    if result.status is LoginStatus.MUST_CHANGE:      # default PIN, or just unlocked
        await auth.change_pin(result.role, "88888", "24680")
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from ews_tui.domain.auth import (
    DEFAULT_CODES,
    DEFAULT_SCRYPT,
    MAX_FAILURES,
    PIN_TAKEN,
    PIN_UNCHANGED,
    PINS_DIFFER,
    SALT_BYTES,
    AuthState,
    Credentials,
    Role,
    ScryptParams,
    hash_secret,
    new_pin_problem,
    normalize_pin,
    normalize_puk,
    role_of_pin,
    role_of_puk,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.store.users_repo import UsersRepo

log = logging.getLogger(__name__)

OLD_CODE_WRONG = N_("This is neither the current PIN nor the PUK.")
LOCKED_MESSAGE = N_("Too many failed logins: enter a PUK to unlock.")


class LoginStatus(StrEnum):
    PIN_OK = "pin_ok"  # the PIN names a role: now ask its PUK
    OK = "ok"  # logged in
    MUST_CHANGE = "must_change"  # codes right, but the role must set a new PIN first
    WRONG_PIN = "wrong_pin"
    WRONG_PUK = "wrong_puk"
    INVALID_PIN = "invalid_pin"  # not 5 digits: not counted as a failure
    INVALID_PUK = "invalid_puk"  # not 14 digits: not counted as a failure
    LOCKED = "locked"  # too many failures: a PUK must be given (see unlock)


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    role: Role | None = None
    attempts_left: int = MAX_FAILURES


class PinChangeRefused(Exception):
    """A PIN change refused; ``field`` is "old", "new" or "confirm" (where to show it)."""

    def __init__(self, message: Message, field: str) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}")


class AuthService:
    name = "auth"

    def __init__(
        self,
        repo: UsersRepo,
        *,
        params: ScryptParams = DEFAULT_SCRYPT,
        salt: Callable[[], bytes] = lambda: os.urandom(SALT_BYTES),
    ) -> None:
        self._repo = repo
        self._params = params
        self._salt = salt
        self._lock = asyncio.Lock()
        self._state: AuthState | None = None

    @property
    def state(self) -> AuthState:
        if self._state is None:
            raise RuntimeError("the auth service is not started")
        return self._state

    @property
    def locked(self) -> bool:
        """Whether PINs are refused until a PUK is given."""
        return self.state.locked

    async def start(self) -> None:
        """Load the codes; a role never stored gets its default PIN and PUK."""
        state = await self._repo.load()
        missing = [role for role in Role if role not in state.credentials]
        if missing:
            made = await asyncio.to_thread(self._defaults, missing)
            state = AuthState({**state.credentials, **{c.role: c for c in made}}, state.failures)
            await self._repo.save(state, *made)
            log.info("default PIN and PUK set for %s", ", ".join(r.value for r in missing))
        self._state = state

    async def stop(self) -> None:
        return None

    async def login(self, pin: str, puk: str | None = None) -> LoginResult:
        """Check ``pin`` (and ``puk`` when given). Failures are counted and stored."""
        async with self._lock:
            state = self.state
            if state.locked:
                return LoginResult(LoginStatus.LOCKED, attempts_left=0)
            clean_pin = normalize_pin(pin)
            if clean_pin is None:
                return LoginResult(LoginStatus.INVALID_PIN, attempts_left=state.attempts_left)
            role = await asyncio.to_thread(role_of_pin, state, clean_pin)
            if role is None:
                return await self._failed(LoginStatus.WRONG_PIN, None)
            if puk is None:
                return LoginResult(LoginStatus.PIN_OK, role, state.attempts_left)
            clean_puk = normalize_puk(puk)
            if clean_puk is None:
                return LoginResult(LoginStatus.INVALID_PUK, role, state.attempts_left)
            cred = state.credentials[role]
            if not await asyncio.to_thread(cred.puk.matches, clean_puk):
                return await self._failed(LoginStatus.WRONG_PUK, role)
            await self._store(state.after_success())
            log.info("login as %s", role.value)
            status = LoginStatus.MUST_CHANGE if cred.must_change else LoginStatus.OK
            return LoginResult(status, role)

    async def unlock(self, role: Role | None, puk: str) -> LoginResult:
        """Clear a lockout with a PUK (of ``role``, or of any role when None).

        The PUK's role must then set a new PIN: MUST_CHANGE, with the role. A wrong PUK is
        not counted (14 digits cannot be guessed in a lifetime of tries).
        """
        clean = normalize_puk(puk)
        if clean is None:
            return LoginResult(LoginStatus.INVALID_PUK, role, 0)
        async with self._lock:
            state = self.state
            if role is None:
                found = await asyncio.to_thread(role_of_puk, state, clean)
            else:
                ok = await asyncio.to_thread(state.credentials[role].puk.matches, clean)
                found = role if ok else None
            if found is None:
                return LoginResult(LoginStatus.WRONG_PUK, role, state.attempts_left)
            cred = replace(state.credentials[found], must_change=True)
            await self._store(state.after_success().with_credentials(cred), cred)
            log.info("PIN entry unlocked by the PUK of %s", found.value)
            return LoginResult(LoginStatus.MUST_CHANGE, found)

    async def change_pin(self, role: Role, old: str, new: str, confirm: str | None = None) -> None:
        """Give ``role`` the PIN ``new``; ``old`` is its current PIN or its PUK.

        Raises PinChangeRefused (nothing changed). A wrong ``old`` counts as a failed login.
        """
        async with self._lock:
            state = self.state
            if state.locked:
                raise PinChangeRefused(Message(LOCKED_MESSAGE), "old")
            cred = state.credentials[role]
            if not await asyncio.to_thread(_knows, cred, old):
                await self._store(state.after_failure())
                raise PinChangeRefused(Message(OLD_CODE_WRONG), "old")
            await self._set_pin(state.after_success(), role, new, confirm)

    async def set_pin(self, role: Role, new: str, confirm: str | None = None) -> None:
        """Give ``role`` the PIN ``new`` without its old code (the server configuration
        role managing the others). Raises PinChangeRefused."""
        async with self._lock:
            await self._set_pin(self.state, role, new, confirm)

    async def _set_pin(self, state: AuthState, role: Role, new: str, confirm: str | None) -> None:
        problem = new_pin_problem(new, new if confirm is None else confirm)
        if problem is not None:
            field = "confirm" if problem.msgid == PINS_DIFFER else "new"
            raise PinChangeRefused(problem, field)
        pin = new.strip()
        owner = await asyncio.to_thread(role_of_pin, state, pin)
        if owner is not None:
            message = PIN_UNCHANGED if owner is role else PIN_TAKEN
            raise PinChangeRefused(Message(message), "new")
        hashed = await asyncio.to_thread(hash_secret, pin, self._salt(), self._params)
        cred = replace(state.credentials[role], pin=hashed, must_change=False)
        await self._store(state.with_credentials(cred), cred)
        log.info("new PIN set for %s", role.value)

    async def _failed(self, status: LoginStatus, role: Role | None) -> LoginResult:
        state = self.state.after_failure()
        await self._store(state)
        log.warning("failed login (%d in a row)", state.failures)
        if state.locked:
            return LoginResult(LoginStatus.LOCKED, role, 0)
        return LoginResult(status, role, state.attempts_left)

    async def _store(self, state: AuthState, *changed: Credentials) -> None:
        await self._repo.save(state, *changed)
        self._state = state

    def _defaults(self, roles: list[Role]) -> list[Credentials]:
        made = []
        for role in roles:
            codes = DEFAULT_CODES[role]
            pin = hash_secret(codes.pin, self._salt(), self._params)
            puk = hash_secret(normalize_puk(codes.puk) or "", self._salt(), self._params)
            made.append(Credentials(role, pin, puk, must_change=True))
        return made


def _knows(cred: Credentials, old: str) -> bool:
    """Whether ``old`` is the role's PIN or its PUK (CPU-heavy: run in a thread)."""
    pin = normalize_pin(old)
    if pin is not None and cred.pin.matches(pin):
        return True
    puk = normalize_puk(old)
    return puk is not None and cred.puk.matches(puk)
