"""What the mail outbox is told of an alarm's transition (pure).

The alarm engine's types are finer than the notification settings' event types: the box's
own (``system.*``) and security (``security.*``) alarms mail as "System event"; the others
keep their id. Four alarm severities map to the mails' three: major mails as critical, so a
recipient who asked for critical alarms only still hears of a silent device. A repeated
alarm (a flap) is told as raised again. A device's communication error cleared as grouped
under its gateway's alarm is not told (one alarm, one mail line, for a dead gateway).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ews_tui.domain.alarm_sources import GROUPED
from ews_tui.domain.alarms import Severity as AlarmSeverity
from ews_tui.domain.alarms import Transition, TransitionKind
from ews_tui.domain.notifications import (
    EVENT_TYPES,
    MAIL_SYSTEM_TYPES,
    Notice,
    NoticeKind,
    Severity,
)

# The mailer's own trouble keeps its id: the outbox never queues a mail about it.
_MAIL_TYPES = frozenset(t.id for t in EVENT_TYPES) | MAIL_SYSTEM_TYPES
_SEVERITIES = {
    AlarmSeverity.INFO: Severity.INFO,
    AlarmSeverity.WARNING: Severity.WARNING,
    AlarmSeverity.MAJOR: Severity.CRITICAL,
    AlarmSeverity.CRITICAL: Severity.CRITICAL,
}
_KINDS = {
    TransitionKind.RAISED: NoticeKind.RAISED,
    TransitionKind.REPEATED: NoticeKind.RAISED,
    TransitionKind.CLEARED: NoticeKind.CLEARED,
    TransitionKind.ACKNOWLEDGED: NoticeKind.ACKNOWLEDGED,
}


def mail_event_type(alarm_type: str) -> str:
    """The notification settings' event type of an alarm type."""
    return alarm_type if alarm_type in _MAIL_TYPES else "system"


def notice_of(transition: Transition) -> Notice:
    alarm = transition.alarm
    if transition.kind is TransitionKind.CLEARED and alarm.cleared_at is not None:
        at = alarm.cleared_at
    elif transition.kind is TransitionKind.ACKNOWLEDGED and alarm.ack is not None:
        at = alarm.ack.at
    else:
        at = alarm.last_at
    return Notice(
        mail_event_type(alarm.type.value),
        _SEVERITIES[alarm.severity],
        alarm.subject.name,
        datetime.fromtimestamp(at, UTC),
        alarm.value,
        _KINDS[transition.kind],
    )


def notices_of(transitions: Iterable[Transition]) -> list[Notice]:
    """The notices of ``transitions``; a device's communication error cleared because its
    gateway's alarm took it in is no news (the gateway's alarm is)."""
    return [notice_of(t) for t in transitions if not _grouped(t)]


def _grouped(transition: Transition) -> bool:
    return transition.kind is TransitionKind.CLEARED and transition.alarm.detail == GROUPED
