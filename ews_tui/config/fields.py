"""The kinds of value a config key can hold: how each is read from TOML and written back.

A :class:`Spec` turns a TOML value into the typed value the program uses (``parse``) and back
(``dump``). ``parse`` raises :class:`Invalid` with a translatable :class:`Message` and nothing
else, whatever the input. The reader (``reader.py``) adds the key path in front of the message.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ews_tui.domain.messages import N_, Message


class Invalid(Exception):
    """A value refused by a spec; carries the reason without the key path."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.message = Message(msgid, params)


@dataclass(frozen=True)
class Context:
    """What parsing and dumping may depend on: the folder of the config file."""

    base_dir: Path


@dataclass(frozen=True)
class Spec:
    """How one key is read (TOML value -> typed value) and written (typed value -> TOML)."""

    parse: Callable[[Any, Context], Any]
    dump: Callable[[Any, Context], Any] = lambda value, _ctx: value


@dataclass(frozen=True)
class Table:
    """A nested table read by the reader with the rules of a section dataclass."""

    cls: type


@dataclass(frozen=True)
class TableList:
    """An array of tables, each read with the rules of ``cls`` (``[[ssh.users]]``)."""

    cls: type


@dataclass(frozen=True)
class RawTable:
    """A table kept as it is, checked elsewhere (``[installation]``)."""


SPEC = "ews_spec"


def show(value: Any) -> str:
    """A short, TOML-like rendering of a value for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_key(key: str, known: Iterable[str]) -> Message:
    close = difflib.get_close_matches(key, list(known), n=1)
    if close:
        return Message(N_("unknown key (did you mean {suggestion}?)"), {"suggestion": close[0]})
    return Message(N_("unknown key"))


def _require_str(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(N_("{value} is not a string"), value=show(value))
    return value


def _require_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(N_("{value} is not an integer"), value=show(value))
    return value


def boolean() -> Spec:
    def parse(value: Any, _ctx: Context) -> bool:
        if not isinstance(value, bool):
            raise Invalid(N_("{value} is not true or false"), value=show(value))
        return value

    return Spec(parse)


def integer(low: int, high: int) -> Spec:
    def parse(value: Any, _ctx: Context) -> int:
        number = _require_int(value)
        if not low <= number <= high:
            raise Invalid(
                N_("{value} is out of range {low}..{high}"), value=number, low=low, high=high
            )
        return number

    return Spec(parse)


def int_choice(
    allowed: tuple[int, ...], msgid: str = N_("{value} is not one of {allowed}")
) -> Spec:
    """An integer from a fixed list; ``msgid`` has ``{value}`` and ``{allowed}``."""

    def parse(value: Any, _ctx: Context) -> int:
        number = _require_int(value)
        if number not in allowed:
            raise Invalid(msgid, value=number, allowed=", ".join(map(str, allowed)))
        return number

    return Spec(parse)


def choice(enum: type[StrEnum], aliases: Mapping[str, str] | None = None) -> Spec:
    """A word from ``enum`` (case-insensitive), or one of its ``aliases``."""
    aliases = aliases or {}

    def parse(value: Any, _ctx: Context) -> StrEnum:
        word = _require_str(value)
        folded = word.lower()
        for member in enum:
            if folded == member.value.lower():
                return member
        if folded in aliases:
            return enum(aliases[folded])
        allowed = ", ".join(m.value for m in enum)
        raise Invalid(N_("{value} is not one of {allowed}"), value=show(word), allowed=allowed)

    return Spec(parse, lambda value, _ctx: str(value.value))


def text(*, required: bool = False, pattern: str = "", refusal: str = "") -> Spec:
    """A string; ``required`` refuses "", a non-empty one must match ``pattern`` or is refused
    with the msgid ``refusal`` (``{value}`` in it)."""

    def parse(value: Any, _ctx: Context) -> str:
        word = _require_str(value)
        if required and not word.strip():
            raise Invalid(N_("must not be empty"))
        if word and pattern and not re.fullmatch(pattern, word):
            raise Invalid(refusal, value=show(word))
        return word

    return Spec(parse)


def word_choice(
    allowed: tuple[str, ...], msgid: str = N_("{value} is not one of {allowed}")
) -> Spec:
    """A string from a fixed list, kept as written (language codes)."""

    def parse(value: Any, _ctx: Context) -> str:
        word = _require_str(value)
        if word not in allowed:
            raise Invalid(msgid, value=show(word), allowed=", ".join(allowed))
        return word

    return Spec(parse)


def _resolve(raw: Path, base_dir: Path) -> Path:
    full = base_dir / raw
    return full if full.is_absolute() else full.absolute()


def _relative_or_absolute(path: Path, base_dir: Path) -> str:
    try:
        inside = path.relative_to(_resolve(Path(), base_dir))
    except ValueError:
        return str(path)
    return inside.as_posix()


def config_path() -> Spec:
    """A path; a relative one resolves against the config file's folder, written back so."""

    def parse(value: Any, ctx: Context) -> Path:
        word = _require_str(value)
        if not word.strip():
            raise Invalid(N_("must not be empty"))
        if "\0" in word:
            raise Invalid(N_("{value} is not a path"), value=show(word))
        return _resolve(Path(word), ctx.base_dir)

    return Spec(parse, lambda path, ctx: _relative_or_absolute(path, ctx.base_dir))


def plain_path(*, required: bool) -> Spec:
    """A path kept as written (resolved later, against the data dir); "" is None if allowed."""

    def parse(value: Any, _ctx: Context) -> Path | None:
        word = _require_str(value)
        if not word.strip():
            if required:
                raise Invalid(N_("must not be empty"))
            return None
        if "\0" in word:
            raise Invalid(N_("{value} is not a path"), value=show(word))
        return Path(word)

    return Spec(parse, lambda path, _ctx: "" if path is None else str(path))


_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def is_host(word: str) -> bool:
    """An IPv4/IPv6 address or a DNS name."""
    try:
        ipaddress.ip_address(word)
    except ValueError:
        labels = word.rstrip(".").split(".")
        if labels[-1].isdigit():  # "1.2.3" is a broken address, not a name
            return False
        return len(word) <= 253 and all(_LABEL.fullmatch(label) for label in labels)
    return True


def host(*, required: bool = False) -> Spec:
    def parse(value: Any, _ctx: Context) -> str:
        word = _require_str(value)
        if not word:
            if required:
                raise Invalid(N_("must not be empty"))
            return word
        if not is_host(word):
            raise Invalid(N_("{value} is not a host name or IP address"), value=show(word))
        return word

    return Spec(parse)


def ipv4(*, required: bool = True) -> Spec:
    """An IPv4 address; "" gives None when not required."""

    def parse(value: Any, _ctx: Context) -> ipaddress.IPv4Address | None:
        word = _require_str(value)
        if not word and not required:
            return None
        try:
            return ipaddress.IPv4Address(word)
        except ValueError:
            raise Invalid(N_("{value} is not an IPv4 address"), value=show(word)) from None

    return Spec(parse, lambda address, _ctx: "" if address is None else str(address))


def address_list(*, most: int) -> Spec:
    """Up to ``most`` distinct IP addresses (IPv4 or IPv6): a TOML list, or one string of them
    separated by commas or spaces (as typed in a form field); written back as a list."""

    def parse(value: Any, _ctx: Context) -> tuple[str, ...]:
        if isinstance(value, str):
            words = [w for w in re.split(r"[,\s]+", value) if w]
        elif isinstance(value, list | tuple):
            words = [_require_str(w).strip() for w in value]
        else:
            raise Invalid(N_("{value} is not a list of IP addresses"), value=show(value))
        addresses: list[str] = []
        for word in words:
            try:
                address = str(ipaddress.ip_address(word))
            except ValueError:
                raise Invalid(N_("{value} is not an IP address"), value=show(word)) from None
            if address in addresses:
                raise Invalid(N_("{value} is listed twice"), value=show(word))
            addresses.append(address)
        if len(addresses) > most:
            raise Invalid(N_("at most {count} addresses"), count=most)
        return tuple(addresses)

    return Spec(parse, lambda addresses, _ctx: list(addresses))


def netmask() -> Spec:
    def parse(value: Any, _ctx: Context) -> ipaddress.IPv4Address:
        word = _require_str(value)
        try:
            mask = ipaddress.IPv4Address(word)
        except ValueError:
            mask = None
        bits = int(mask) if mask is not None else -1
        inverted = ~bits & 0xFFFFFFFF
        if mask is None or inverted & (inverted + 1):
            raise Invalid(N_("{value} is not a netmask (e.g. 255.255.255.0)"), value=show(word))
        return mask

    return Spec(parse, lambda mask, _ctx: str(mask))


def timezone() -> Spec:
    def parse(value: Any, _ctx: Context) -> str:
        word = _require_str(value)
        try:
            zoneinfo.ZoneInfo(word)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise Invalid(
                N_("{value} is not a time zone (e.g. Europe/Paris)"), value=show(word)
            ) from None
        return word

    return Spec(parse)


def endpoint(parse_endpoint: Callable[[str], Any]) -> Spec:
    """``HOST:PORT`` parsed by ``parse_endpoint`` (which raises ValueError), written with str()."""

    def parse(value: Any, _ctx: Context) -> Any:
        word = _require_str(value)
        try:
            return parse_endpoint(word)
        except ValueError:
            raise Invalid(N_("{value} is not HOST:PORT"), value=show(word)) from None

    return Spec(parse, lambda hp, _ctx: str(hp))


def colors(allowed: tuple[int | str, ...]) -> Spec:
    """16, 256 or "truecolor": a mix of integers and one word."""

    def parse(value: Any, _ctx: Context) -> int | str:
        if isinstance(value, int | str) and not isinstance(value, bool) and value in allowed:
            return value
        listed = ", ".join(show(a) for a in allowed)
        raise Invalid(N_("{value} is not one of {allowed}"), value=show(value), allowed=listed)

    return Spec(parse)


# scrypt costs a login may ask for: the default is N=2**14, r=8, p=1 (16 MiB, tens of ms).
SCRYPT_MAX_N = 2**20
SCRYPT_MAX_R = 32
SCRYPT_MAX_P = 16
SCRYPT_MAX_MEMORY = 64 * 1024 * 1024  # 128 * N * r bytes
SCRYPT_MAX_WORK = 2**22  # N * r * p: 32 times the default
_SCRYPT = re.compile(
    r"scrypt\$(\d{1,10})\$(\d{1,4})\$(\d{1,4})"  # N, r, p
    r"\$(?:[0-9a-f]{2}){8,64}\$(?:[0-9a-f]{2}){16,64}"  # salt, hash (hex)
)
SCRYPT_FORMAT = N_(
    "{value} is not a scrypt$N$r$p$SALT$HASH text (make one with: ews ssh hash-password)"
)
SCRYPT_COST = N_(
    "scrypt cost N={n}, r={r}, p={p} is refused: N a power of 2 from 2 to {max_n}, r 1..{max_r}, "
    "p 1..{max_p}, at most {max_mib} MiB (128·N·r) and N·r·p at most {max_work}"
)


def scrypt_hash_problem(word: str) -> Invalid | None:
    """Why ``word`` is not a password hash a login can check in bounded time and memory."""
    found = _SCRYPT.fullmatch(word)
    if found is None:
        return Invalid(SCRYPT_FORMAT, value=show(word))
    n, r, p = (int(found.group(i)) for i in (1, 2, 3))
    power_of_two = n >= 2 and n & (n - 1) == 0
    if not (
        power_of_two
        and n <= SCRYPT_MAX_N
        and 1 <= r <= SCRYPT_MAX_R
        and 1 <= p <= SCRYPT_MAX_P
        and 128 * n * r <= SCRYPT_MAX_MEMORY
        and n * r * p <= SCRYPT_MAX_WORK
    ):
        return Invalid(
            SCRYPT_COST,
            n=n,
            r=r,
            p=p,
            max_n=SCRYPT_MAX_N,
            max_r=SCRYPT_MAX_R,
            max_p=SCRYPT_MAX_P,
            max_mib=SCRYPT_MAX_MEMORY // (1024 * 1024),
            max_work=SCRYPT_MAX_WORK,
        )
    return None


def scrypt_hash() -> Spec:
    """A ``password_scrypt`` text (``ews ssh hash-password``), its cost bounded."""

    def parse(value: Any, _ctx: Context) -> str:
        word = _require_str(value)
        problem = scrypt_hash_problem(word)
        if problem is not None:
            raise problem
        return word

    return Spec(parse)
