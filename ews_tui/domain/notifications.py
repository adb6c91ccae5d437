"""Alarm notifications by e-mail: what is told, to whom, how often, and in which words.

Pure values and rules (no clock, no I/O): the alarm engine turns its raises, clears and
acknowledgements into :class:`Notice` values; :class:`NotificationSettings` says which
recipients get one (per event type: mail or not, and the lowest severity that mails; per
recipient: the event types it gets); :func:`digest_due` is the flood rule (at most one mail
per recipient per interval, what arrives in between goes into the next mail); and
:func:`compose` writes one mail in the recipient's language with times in the site's zone.

The language is an explicit :class:`Wording` (``ews_tui.i18n.translator(code)`` is one): a
mail never touches the language of the session or task that composes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Protocol

from babel.dates import format_datetime

from ews_tui.domain.messages import N_, Message

# The 13 UI languages (the same codes as ews_tui.i18n.LANGUAGES, which the domain cannot import).
LANGUAGE_CODES: Final = (
    "de",
    "en",
    "es",
    "fr",
    "fr_BE",
    "el",
    "it",
    "nl_BE",
    "nl",
    "pl",
    "pt",
    "ru",
    "hu",
)
DEFAULT_DIGEST_MINUTES: Final = 5
#: Events a mail lists at most; a longer digest (a thousand devices flapping) says how many
#: more there were and points to the Alarms screen.
MAX_LISTED: Final = 100
MAX_DIGEST_MINUTES: Final = 24 * 60
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


class Severity(StrEnum):
    """How serious an event is, lowest first (a word as well as a rank: it reads without
    colour)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def label(self) -> str:
        """The msgid of the severity's name."""
        return _SEVERITY_LABELS[self]


_RANKS: Final = MappingProxyType({Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2})
_SEVERITY_LABELS: Final = MappingProxyType(
    {
        Severity.INFO: N_("Information"),
        Severity.WARNING: N_("Warning"),
        Severity.CRITICAL: N_("Critical"),
    }
)


class NoticeKind(StrEnum):
    """What happened to the alarm the notice tells about."""

    RAISED = "raised"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS: Final = MappingProxyType(
    {
        NoticeKind.RAISED: N_("raised"),
        NoticeKind.CLEARED: N_("cleared"),
        NoticeKind.ACKNOWLEDGED: N_("acknowledged"),
    }
)


@dataclass(frozen=True)
class EventType:
    """A kind of event with a stable id (stored, in settings and mails) and its name."""

    id: str
    label: str  # msgid
    severity: Severity  # the severity it is raised with by default


# The event types of issue 13 (the alarm engine raises them; the settings page lists them).
EVENT_TYPES: Final[tuple[EventType, ...]] = (
    EventType("gateway.comm_error", N_("Gateway communication error"), Severity.CRITICAL),
    EventType("device.comm_error", N_("Device communication error"), Severity.WARNING),
    EventType("device.config_error", N_("Configuration error"), Severity.WARNING),
    EventType("breaker.open", N_("Breaker open"), Severity.WARNING),
    EventType("breaker.tripped", N_("Breaker tripped"), Severity.CRITICAL),
    EventType("charger.fault", N_("Charger fault"), Severity.WARNING),
    EventType("input.changed", N_("Input changed"), Severity.INFO),
    EventType("threshold", N_("Threshold crossed"), Severity.WARNING),
    EventType("en50160.week_ko", N_("EN 50160 week not compliant"), Severity.WARNING),
    EventType("connector.transfer_failed", N_("Connector transfer failed"), Severity.CRITICAL),
    EventType("system", N_("System event"), Severity.WARNING),
)
_TYPE_LABELS: Final = MappingProxyType({t.id: t.label for t in EVENT_TYPES})
# The mailer's own trouble (MailFailing) is a system alarm, never a mail about itself.
MAIL_FAILING_TYPE: Final = "system.mail"
MAIL_SYSTEM_TYPES: Final = frozenset({MAIL_FAILING_TYPE})


def event_type_label(type_id: str) -> str:
    """The msgid naming ``type_id``; an id no one named yet reads as itself."""
    return _TYPE_LABELS.get(type_id, type_id)


class NotificationError(ValueError):
    """A notification setting that cannot be: ``where`` names it, ``message`` says why."""

    def __init__(self, where: str, message: Message) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Notice:
    """One thing to tell: an alarm of ``event_type`` on ``label`` was raised, cleared or
    acknowledged at ``at`` (an aware time), with the value that raised it as text."""

    event_type: str
    severity: Severity
    label: str
    at: datetime
    value: str = ""
    kind: NoticeKind = NoticeKind.RAISED

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "kind", NoticeKind(self.kind))
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"Notice({self.event_type!r}).at: {self.at} is a naive time")
        if not self.event_type:
            raise ValueError("Notice.event_type: empty")


@dataclass(frozen=True)
class EventRule:
    """Per event type: whether it mails, and the lowest severity that does."""

    mail: bool = True
    min_severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_severity", Severity(self.min_severity))

    def mails(self, severity: Severity) -> bool:
        return self.mail and severity.rank >= self.min_severity.rank


@dataclass(frozen=True)
class Recipient:
    """Who gets mails: an address, the language of its mails, the event types it gets
    (empty: every event type that mails)."""

    address: str
    language: str = "en"
    event_types: frozenset[str] = frozenset()

    def gets(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


@dataclass(frozen=True)
class NotificationSettings:
    """The "Notification settings" page: rules per event type (a type without one uses
    ``EventRule()``), the recipients, the digest interval and the site's name for subjects."""

    rules: Mapping[str, EventRule] = field(default_factory=dict)
    recipients: tuple[Recipient, ...] = ()
    digest_minutes: int = DEFAULT_DIGEST_MINUTES
    site_name: str = ""

    def rule(self, event_type: str) -> EventRule:
        return self.rules.get(event_type, EventRule())

    def recipients_for(self, notice: Notice) -> tuple[Recipient, ...]:
        """The recipients that get ``notice`` (none when its type does not mail it)."""
        if not self.rule(notice.event_type).mails(notice.severity):
            return ()
        return tuple(r for r in self.recipients if r.gets(notice.event_type))

    @property
    def digest_seconds(self) -> float:
        return self.digest_minutes * 60.0


def check_settings(settings: NotificationSettings) -> list[NotificationError]:
    """Every problem of ``settings``, each naming its place (empty: all good)."""
    problems: list[NotificationError] = []
    if not 0 <= settings.digest_minutes <= MAX_DIGEST_MINUTES:
        problems.append(
            NotificationError(
                "digest_minutes",
                Message(
                    N_("{value} is out of range 0..{max}"),
                    {"value": settings.digest_minutes, "max": MAX_DIGEST_MINUTES},
                ),
            )
        )
    seen: set[str] = set()
    for n, recipient in enumerate(settings.recipients, 1):
        where = f"recipients[{n}]"
        if not _ADDRESS.fullmatch(recipient.address):
            problems.append(
                NotificationError(
                    f"{where}.address",
                    Message(N_("{value} is not an e-mail address"), {"value": recipient.address}),
                )
            )
        if recipient.address.casefold() in seen:
            problems.append(
                NotificationError(
                    f"{where}.address",
                    Message(N_("{value} is listed twice"), {"value": recipient.address}),
                )
            )
        seen.add(recipient.address.casefold())
        if recipient.language not in LANGUAGE_CODES:
            problems.append(
                NotificationError(
                    f"{where}.language",
                    Message(N_("{value} is not a language"), {"value": recipient.language}),
                )
            )
    if len(settings.site_name) > 80 or any(ord(c) < 32 for c in settings.site_name):
        problems.append(
            NotificationError(
                "site_name", Message(N_("at most 80 characters, no control characters"))
            )
        )
    return problems


def is_address(text: str) -> bool:
    """Whether ``text`` looks like one e-mail address (``name@host.domain``)."""
    return _ADDRESS.fullmatch(text) is not None


# -- the flood rule --------------------------------------------------------------------------


def digest_due(last_sent: float | None, interval_s: float, now: float) -> float:
    """When a recipient's next mail may leave (Unix seconds): at once if it never got one,
    else ``interval_s`` after the last one. Notices arriving before then wait and leave
    together, as one digest."""
    if last_sent is None or last_sent > now:  # never mailed, or the clock went back
        return now
    return last_sent + interval_s


# -- the mail ---------------------------------------------------------------------------------


class Wording(Protocol):
    """One language's gettext, as ``ews_tui.i18n.Translator`` provides it."""

    @property
    def code(self) -> str: ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True)
class MailText:
    subject: str
    body: str


def _worst(notices: Sequence[Notice]) -> Severity:
    return max((n.severity for n in notices), key=lambda s: s.rank)


def notice_line(notice: Notice, words: Wording, zone: tzinfo) -> str:
    """``2026-12-03 18:04:05 CET  Critical  Breaker tripped (raised): TD1 Q3 — 80.4 kW``."""
    when = format_datetime(notice.at.astimezone(zone), "yyyy-MM-dd HH:mm:ss zzz", locale=words.code)
    what = words.gettext(event_type_label(notice.event_type))
    line = words.gettext("{time}  {severity}  {event} ({kind}): {object}").format(
        time=when,
        severity=words.gettext(notice.severity.label),
        event=what,
        kind=words.gettext(notice.kind.label),
        object=notice.label,
    )
    return f"{line} — {notice.value}" if notice.value else line


def compose(
    notices: Sequence[Notice],
    site: str,
    words: Wording,
    zone: tzinfo,
    *,
    test: bool = False,
    total: int | None = None,
    worst: Severity | None = None,
) -> MailText:
    """One mail telling ``notices`` (oldest first): the subject names the site, the worst
    severity and the first event; the body lists every event with its time in ``zone``.

    ``total``: how many events the mail stands for when ``notices`` are only the first of
    them (a long digest), with ``worst`` the worst severity of them all: the body then says
    how many more there were."""
    if test:
        subject = words.gettext("[{site}] Test mail").format(site=site)
        body = words.gettext(
            "This is a test mail from the energy server {site}. "
            "Alarm notifications will arrive like this one."
        ).format(site=site)
        return MailText(subject, body + "\n")
    if not notices:
        raise ValueError("compose: no notice to tell")
    ordered = sorted(notices, key=lambda n: n.at)
    count = max(total or 0, len(ordered))
    first = ordered[0]
    event = words.gettext(event_type_label(first.event_type))
    severity = _worst(ordered)
    if worst is not None and worst.rank > severity.rank:
        severity = worst
    subject = words.gettext("[{site}] {severity}: {event} on {object}").format(
        site=site,
        severity=words.gettext(severity.label),
        event=event,
        object=first.label,
    )
    more = count - 1
    if more:
        subject += " " + words.ngettext("(+{n} other event)", "(+{n} other events)", more).format(
            n=more
        )
    head = words.ngettext(
        "{n} event on the energy server {site}:",
        "{n} events on the energy server {site}:",
        count,
    ).format(n=count, site=site)
    lines = [head, "", *(notice_line(n, words, zone) for n in ordered)]
    unlisted = count - len(ordered)
    if unlisted:
        lines.append(
            words.ngettext(
                "... and {n} more event: see the Alarms screen.",
                "... and {n} more events: see the Alarms screen.",
                unlisted,
            ).format(n=unlisted)
        )
    lines.append("")
    lines.append(
        words.gettext("Times are in the time zone of the site ({zone}).").format(zone=zone)
    )
    return MailText(_one_line(subject), "\n".join(lines) + "\n")


def _one_line(text: str) -> str:
    """A subject is one header line: no CR, LF or other control character survives."""
    return "".join(c if ord(c) >= 32 else " " for c in text)


def group_by_recipient(
    pending: Iterable[tuple[str, Notice]],
) -> dict[str, list[Notice]]:
    """``(address, notice)`` pairs gathered per address, in arrival order."""
    grouped: dict[str, list[Notice]] = {}
    for address, notice in pending:
        grouped.setdefault(address, []).append(notice)
    return grouped
