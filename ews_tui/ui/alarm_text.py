"""Alarms in words for a screen: severity with its symbol, state, times in the site's zone.

Every function translates in the session's language (``_``); none raises on a value.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton

from ews_tui.domain.alarm_detail import render_detail
from ews_tui.domain.alarms import TYPES, Alarm, AlarmType, Severity
from ews_tui.i18n import N_, _, babel_locale

STATES: tuple[tuple[str | None, str], ...] = (
    (None, N_("all")),
    ("active", N_("active")),
    ("unacknowledged", N_("not acknowledged")),
    ("cleared", N_("cleared")),
)


def severity_text(severity: Severity) -> str:
    """``‼ major``: a symbol and a word, readable without colour."""
    return f"{severity.symbol} {_(severity.word)}"


def type_text(kind: AlarmType) -> str:
    return _(TYPES[kind].label)


def state_text(alarm: Alarm) -> str:
    """``active``, ``active ✓`` (acknowledged), ``cleared``, ``cleared ✓``."""
    word = _("active") if alarm.active else _("cleared")
    return f"{word} ✓" if alarm.acknowledged else word


def when_text(ts: float | None, tz: ZoneInfo, *, long: bool = False) -> str:
    """A time of the alarm in the site's zone: ``01/03 14:22`` (``long``: with the year
    and seconds); ``—`` when there is none."""
    if ts is None:
        return "—"
    try:
        moment = datetime.fromtimestamp(ts, tz)
    except (OverflowError, OSError, ValueError):
        return "—"
    locale = babel_locale()
    if long:
        return str(format_datetime(moment, "medium", locale=locale))
    day = format_skeleton("MMdd", moment, locale=locale)
    return f"{day} {format_skeleton('Hm', moment, locale=locale)}"


def detail_text(alarm: Alarm, tz: ZoneInfo) -> str:
    """Everything known of one alarm, on one or two lines."""
    parts = [
        f"{severity_text(alarm.severity)} · {type_text(alarm.type)} · {alarm.subject.name}",
        _("raised {when}").format(when=when_text(alarm.raised_at, tz, long=True)),
    ]
    if alarm.count > 1:
        parts.append(
            _("{count} times, last {when}").format(
                count=alarm.count, when=when_text(alarm.last_at, tz, long=True)
            )
        )
    if alarm.cleared_at is not None:
        parts.append(_("cleared {when}").format(when=when_text(alarm.cleared_at, tz, long=True)))
    if alarm.ack is not None:
        parts.append(
            _("acknowledged {when} by {role} ({session})").format(
                when=when_text(alarm.ack.at, tz, long=True),
                role=alarm.ack.role,
                session=alarm.ack.session,
            )
        )
    if alarm.value:
        parts.append(_("value {value}").format(value=alarm.value))
    if alarm.detail:
        parts.append(render_detail(alarm.detail, _))
    if alarm.type is AlarmType.GATEWAY_COMM_ERROR and alarm.active:
        parts.append(_("its devices' communication errors are grouped under this alarm"))
    return " · ".join(parts)
