"""The home screen's status line: how the box's services and queues are doing, in one line.

The worst news first: a failed service, then one that runs but cannot do its job (the
recorder while the store refuses writes), then one restarting, then a lossless queue falling
behind or one that dropped events; ``All services running`` when there is none. The other
problems are counted after it. A bounded (UI) queue that drops is normal and not reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_decimal

from ews_tui.hub import SubscriptionStats
from ews_tui.i18n import _, babel_locale, ngettext
from ews_tui.supervision import Health, ServiceHealth


@dataclass(frozen=True)
class StatusLine:
    text: str
    problem: bool


def _number(n: int) -> str:
    return format_decimal(n, locale=babel_locale())


def problems(health: tuple[ServiceHealth, ...], stats: tuple[SubscriptionStats, ...]) -> list[str]:
    """Every problem in words, the worst first."""
    failed = [
        _("{service} failed: {reason}").format(service=h.name, reason=h.reason)
        for h in health
        if h.state is Health.FAILED
    ]
    degraded = [
        _("{service}: {problem}").format(service=h.name, problem=h.problem.render(_))
        for h in health
        if h.state is Health.DEGRADED and h.problem is not None
    ]
    restarting = [
        _("{service} restarting after {reason}").format(service=h.name, reason=h.reason)
        for h in health
        if h.state is Health.RESTARTING
    ]
    behind = [
        _("{queue} falling behind: {count} events queued").format(
            queue=s.name, count=_number(s.queued)
        )
        for s in stats
        if s.behind
    ]
    dropped = [
        ngettext(
            "{queue} dropped {count} event", "{queue} dropped {count} events", s.dropped
        ).format(queue=s.name, count=_number(s.dropped))
        for s in stats
        if s.lossless and s.dropped
    ]
    return failed + degraded + restarting + behind + dropped


def alarms_text(unacknowledged: int) -> str:
    """The home status line's alarm count: active alarms not acknowledged yet."""
    return ngettext(
        "{count} alarm to acknowledge", "{count} alarms to acknowledge", unacknowledged
    ).format(count=_number(unacknowledged))


def status_line(
    health: tuple[ServiceHealth, ...],
    stats: tuple[SubscriptionStats, ...],
    alarms: int | None = None,
) -> StatusLine:
    """``alarms``: active alarms not acknowledged, told after the rest when there are some."""
    found = problems(health, stats)
    tail = " · " + alarms_text(alarms) if alarms else ""
    if not found:
        return StatusLine(_("All services running") + tail, problem=False)
    text = found[0]
    if len(found) > 1:
        more = len(found) - 1
        text = ngettext("{text} (+{count} more problem)", "{text} (+{count} more problems)", more)
        text = text.format(text=found[0], count=_number(more))
    return StatusLine(text + tail, problem=True)
