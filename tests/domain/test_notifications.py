"""Notices, notification settings, the digest rule and the mail text (pure: no clock, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ews_tui.domain.notifications import (
    EventRule,
    Notice,
    NoticeKind,
    NotificationSettings,
    Recipient,
    Severity,
    check_settings,
    compose,
    digest_due,
)
from ews_tui.i18n import current_language, set_language, translator

AT = datetime(2026, 7, 1, 12, 0, 5, tzinfo=UTC)  # 14:00:05 in Paris (summer time)


def notice(event: str = "breaker.tripped", severity: Severity = Severity.CRITICAL, **more: object):  # type: ignore[no-untyped-def]
    return Notice(event, severity, more.pop("label", "TD1 Q3"), more.pop("at", AT), **more)  # type: ignore[arg-type]


def test_a_notice_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        Notice("threshold", Severity.WARNING, "Site", datetime(2026, 7, 1, 12))
    assert notice(severity="info").severity is Severity.INFO  # type: ignore[arg-type]


def test_rules_and_recipients_decide_who_gets_a_notice() -> None:
    marie = Recipient("marie@site.test", "fr")
    bob = Recipient("bob@site.test", "en", frozenset({"breaker.tripped"}))
    settings = NotificationSettings(
        rules={
            "input.changed": EventRule(mail=False),
            "threshold": EventRule(min_severity=Severity.CRITICAL),
        },
        recipients=(marie, bob),
    )
    assert settings.recipients_for(notice()) == (marie, bob)
    assert settings.recipients_for(notice("device.comm_error", Severity.WARNING)) == (marie,)
    assert settings.recipients_for(notice("input.changed", Severity.CRITICAL)) == ()
    assert settings.recipients_for(notice("threshold", Severity.WARNING)) == ()
    assert settings.recipients_for(notice("threshold", Severity.CRITICAL)) == (marie,)
    # a type without a rule mails from Warning up
    assert settings.recipients_for(notice("device.comm_error", Severity.INFO)) == ()


def test_the_digest_rule_one_mail_per_interval() -> None:
    assert digest_due(None, 300, 1000.0) == 1000.0  # never mailed: at once
    assert digest_due(900.0, 300, 1000.0) == 1200.0  # the next one 5 minutes after
    assert digest_due(600.0, 300, 1000.0) == 900.0  # long ago: due already
    assert digest_due(2000.0, 300, 1000.0) == 1000.0  # the clock went back: not stuck


def test_check_settings_names_each_place() -> None:
    settings = NotificationSettings(
        recipients=(
            Recipient("marie@site.test", "fr"),
            Recipient("MARIE@site.test", "xx"),
            Recipient("nobody", "en"),
        ),
        digest_minutes=-1,
    )
    assert [(p.where, str(p.message)) for p in check_settings(settings)] == [
        ("digest_minutes", "-1 is out of range 0..1440"),
        ("recipients[2].address", "MARIE@site.test is listed twice"),
        ("recipients[2].language", "xx is not a language"),
        ("recipients[3].address", "nobody is not an e-mail address"),
    ]


def test_the_mail_in_the_recipients_language_and_the_sites_zone() -> None:
    later = notice("device.comm_error", Severity.WARNING, label="Meter 5", at=AT.replace(minute=3))
    cleared = notice(kind=NoticeKind.CLEARED, at=AT.replace(minute=4), value="0 A")
    paris = ZoneInfo("Europe/Paris")
    set_language("en")  # the session composing the mail keeps its language
    text = compose([cleared, later, notice()], "Usine Nord", translator("fr"), paris)
    assert current_language() == "en"
    assert text.subject == (
        "[Usine Nord] Critique : Disjoncteur déclenché sur TD1 Q3 (+2 autres événements)"
    )
    lines = text.body.splitlines()
    assert lines[0] == "3 événements sur le serveur énergie Usine Nord :"
    assert lines[2].startswith("2026-07-01 14:00:05 ")
    assert "Disjoncteur déclenché (apparue) : TD1 Q3" in lines[2]
    assert lines[4].endswith("(disparue) : TD1 Q3 — 0 A")
    english = compose([notice()], "Usine Nord", translator("en"), paris)
    assert english.subject == "[Usine Nord] Critical: Breaker tripped on TD1 Q3"


def test_a_subject_stays_one_line() -> None:
    text = compose([notice(label="TD1\r\nBcc: x@evil.test")], "Site", translator("en"), UTC)
    assert "\n" not in text.subject and "\r" not in text.subject
