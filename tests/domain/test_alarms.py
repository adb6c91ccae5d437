"""The alarm book and the alarm sources: raise, clear, acknowledge, flapping, thresholds with
delay and hysteresis, breakers, chargers, inputs, "Exclude from alarms", the box's news."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ews_tui.cli.sim import load_site
from ews_tui.domain.alarm_detail import render_detail
from ews_tui.domain.alarm_notices import notices_of
from ews_tui.domain.alarm_sources import (
    GROUPED,
    REGROUP_S,
    STILL_SILENT,
    AlarmSources,
    Threshold,
    ThresholdWatch,
    site_members,
    subject_gone,
)
from ews_tui.domain.alarms import (
    TYPES,
    Acknowledgement,
    Alarm,
    AlarmBook,
    AlarmType,
    Change,
    Clear,
    Raise,
    Severity,
    Subject,
    Transition,
    TransitionKind,
    may_acknowledge,
)
from ews_tui.domain.auth import Role
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.connector import ConnectorFailed, ConnectorRecovered
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    En50160Checked,
    GatewayState,
    GatewayStateChanged,
    LoginFailed,
    MailFailing,
    MailRecovered,
    QueueBehind,
    QueueCaughtUp,
    Sample,
    ServiceFailed,
    ServiceRecovered,
    SourceLocked,
)
from ews_tui.domain.installation import Advanced
from ews_tui.domain.messages import Message

SITE = load_site("demo")
CATALOG = builtin_catalog()
METER = Subject("device", 1, "", 1, "Main meter")
COMM = AlarmType.DEVICE_COMM_ERROR
ACK = Acknowledgement("system", "ssh:alice", 50.0)


def _run(book: AlarmBook, *changes: Change) -> list[tuple[str, int, int]]:
    plan = book.plan(changes)
    book.commit(plan)
    return [(t.kind.value, t.alarm.id, t.alarm.count) for t in plan.transitions]


def test_raise_then_clear_is_one_alarm() -> None:
    book = AlarmBook()
    assert _run(book, Raise(COMM, METER, 10.0, "comm_error")) == [("raised", 1, 1)]
    assert _run(book, Raise(COMM, METER, 11.0)) == []  # already raised
    assert _run(book, Clear(COMM, METER, 20.0)) == [("cleared", 1, 1)]
    alarm = book.alarms()[0]
    assert (alarm.raised_at, alarm.cleared_at, alarm.value) == (10.0, 20.0, "comm_error")
    assert alarm.severity is TYPES[COMM].severity


def test_clear_of_nothing_writes_nothing() -> None:
    plan = AlarmBook().plan([Clear(COMM, METER, 1.0)])
    assert plan.empty and not plan.transitions


def test_flapping_is_one_alarm_with_a_count() -> None:
    book = AlarmBook()
    changes: list[Change] = []
    for second in range(100):
        changes += [Raise(COMM, METER, 2.0 * second), Clear(COMM, METER, 2.0 * second + 1)]
    plan = book.plan(changes)
    assert len(plan.writes) == 1 and plan.writes[0].new
    alarm = plan.writes[0].alarm
    assert alarm.count == 100 and alarm.cleared_at == 199.0 and alarm.raised_at == 0.0
    kinds = [t.kind for t in plan.transitions]
    assert kinds.count(TransitionKind.RAISED) == 1
    assert kinds.count(TransitionKind.REPEATED) == 99


def test_an_acknowledged_alarm_raised_again_is_a_new_one() -> None:
    book = AlarmBook()
    _run(book, Raise(COMM, METER, 10.0), Clear(COMM, METER, 20.0))
    book.acknowledged([replace(book.alarms()[0], ack=ACK)])
    assert len(book) == 0  # cleared and acknowledged: closed
    assert _run(book, Raise(COMM, METER, 60.0)) == [("raised", 2, 1)]


def test_acknowledged_but_active_stays_until_cleared() -> None:
    book = AlarmBook()
    _run(book, Raise(COMM, METER, 10.0))
    book.acknowledged([replace(book.alarms()[0], ack=ACK)])
    assert book.alarms()[0].ack == ACK
    plan = book.plan([Clear(COMM, METER, 70.0)])
    assert not plan.writes[0].new  # an update, which never writes the acknowledgement
    book.commit(plan)
    assert len(book) == 0


def test_a_flap_after_the_window_is_a_new_alarm() -> None:
    book = AlarmBook(flap_window_s=60.0)
    _run(book, Raise(COMM, METER, 0.0), Clear(COMM, METER, 1.0))
    assert _run(book, Raise(COMM, METER, 100.0)) == [("raised", 2, 1)]


def test_momentary_events_count_until_acknowledged() -> None:
    book = AlarmBook()
    door = Subject("device", 8, "in1", 1, "Alarm inputs · Door")
    assert _run(book, Raise(AlarmType.INPUT_CHANGED, door, 1.0, "on")) == [("raised", 1, 1)]
    assert book.alarms()[0].cleared_at == 1.0  # raised and cleared at once
    assert _run(book, Raise(AlarmType.INPUT_CHANGED, door, 2.0, "off")) == [("repeated", 1, 2)]
    assert book.alarms()[0].value == "off"


def test_ids_continue_after_the_stored_ones() -> None:
    book = AlarmBook(next_id=42)
    assert _run(book, Raise(COMM, METER, 1.0)) == [("raised", 42, 1)]


def test_plan_does_not_change_the_book() -> None:
    book = AlarmBook()
    book.plan([Raise(COMM, METER, 1.0)])
    assert len(book) == 0 and book.next_id == 1


def test_forget_before_keeps_active_alarms() -> None:
    book = AlarmBook(flap_window_s=10.0)
    other = Subject("device", 2)
    _run(book, Raise(COMM, METER, 0.0), Raise(COMM, other, 0.0), Clear(COMM, other, 1.0))
    book.forget_before(100.0)
    assert [a.subject.id for a in book.alarms()] == [1]


def test_consultation_cannot_acknowledge() -> None:
    assert not may_acknowledge(Role.CONSULTATION)
    assert may_acknowledge(Role.SYSTEM) and may_acknowledge(Role.SERVER)
    assert not may_acknowledge(None)


def test_severity_reads_without_colour() -> None:
    assert {s.symbol for s in Severity} == {"i", "!", "‼", "×"}
    assert Severity.from_key("major") is Severity.MAJOR and Severity.MAJOR > Severity.WARNING


def test_type_ids_are_stable() -> None:
    # Stored in the database, the CSV and the notification settings: never renamed.
    assert AlarmType.DEVICE_COMM_ERROR.value == "device.comm_error"
    assert AlarmType.EN50160_WEEK_KO.value == "en50160.week_ko"
    assert AlarmType.CONNECTOR_TRANSFER_FAILED.value == "connector.transfer_failed"
    assert set(TYPES) == set(AlarmType)


# -- sources -------------------------------------------------------------------------------


# The demo site where the main meter alone counts in the site's total (the others are
# "Exclude from totals"): a "site" threshold reads the devices the site's total counts.
ONE_MAIN = SITE.with_(
    devices=tuple(
        d if d.id == 1 else replace(d, advanced=replace(d.advanced, exclude_from_totals=True))
        for d in SITE.devices
    )
)


def sources(*thresholds: Threshold, site: object = ONE_MAIN) -> AlarmSources:
    src = AlarmSources(SITE, CATALOG, thresholds)
    src.set_installation(site)  # type: ignore[arg-type]
    return src


def test_device_and_gateway_states() -> None:
    src = sources()
    raised = src.on_event(DeviceStateChanged(1, DeviceState.COMM_ERROR, "timeout"), 1.0)
    assert [type(c).__name__ for c in raised] == ["Clear", "Raise"]
    assert raised[1].type is COMM and raised[1].subject == METER
    assert all(isinstance(c, Clear) for c in src.on_event(DeviceStateChanged(1, "on"), 2.0))
    config = src.on_event(DeviceStateChanged(6, DeviceState.CONFIG_ERROR, "no model"), 3.0)
    assert config[1].type is AlarmType.DEVICE_CONFIG_ERROR
    gateway = src.on_event(GatewayStateChanged(2, GatewayState.COMM_ERROR), 4.0)
    assert isinstance(gateway[0], Raise) and gateway[0].subject.name == "Parking"
    assert isinstance(src.on_event(GatewayStateChanged(2, GatewayState.ON), 5.0)[0], Clear)


def kinds(changes: list[Change]) -> list[tuple[str, AlarmType, int | None]]:
    return [(type(c).__name__, c.type, c.subject.id) for c in changes]


def test_a_dead_gateway_groups_its_devices_communication_errors() -> None:
    """Parking (gateway 2): Charger A (9), B1 (10), B2 (11), the RCD (12)."""
    src = sources()
    # Two devices silent first (a TCP gateway whose RS485 side went quiet), then the gateway.
    assert kinds(src.on_event(DeviceStateChanged(9, DeviceState.COMM_ERROR), 1.0))[1] == (
        "Raise", COMM, 9
    )  # fmt: skip
    src.on_event(DeviceStateChanged(10, DeviceState.COMM_ERROR), 1.0)
    down = src.on_event(GatewayStateChanged(2, GatewayState.COMM_ERROR, "no answer"), 2.0)
    assert kinds(down) == [
        ("Raise", AlarmType.GATEWAY_COMM_ERROR, 2),
        ("Clear", COMM, 9),
        ("Clear", COMM, 10),
    ]
    assert all(c.detail == GROUPED for c in down[1:] if isinstance(c, Clear))
    # The others then: grouped, not raised.
    for device_id in (11, 12):
        changes = src.on_event(DeviceStateChanged(device_id, DeviceState.COMM_ERROR), 2.0)
        assert kinds(changes) == [("Clear", AlarmType.DEVICE_CONFIG_ERROR, device_id)]
    # A device of another gateway is not grouped.
    assert kinds(src.on_event(DeviceStateChanged(1, DeviceState.COMM_ERROR), 2.0))[1] == (
        "Raise", COMM, 1
    )  # fmt: skip
    # Back: the devices that answer are ON; the one still silent REGROUP_S later is raised.
    assert kinds(src.on_event(GatewayStateChanged(2, GatewayState.ON), 10.0)) == [
        ("Clear", AlarmType.GATEWAY_COMM_ERROR, 2)
    ]
    for device_id in (9, 10, 11):
        src.on_event(DeviceStateChanged(device_id, DeviceState.ON), 11.0)
    assert src.tick(10.0 + REGROUP_S - 1) == []
    late = src.tick(10.0 + REGROUP_S)
    assert kinds(late) == [("Raise", COMM, 12)] and late[0].detail == STILL_SILENT
    assert src.tick(10.0 + 2 * REGROUP_S) == []  # once


def test_a_grouped_clear_is_no_mail() -> None:
    subject = Subject("device", 9, "", 2, "Charger A")
    raised = Alarm(1, COMM, Severity.MAJOR, subject, 1.0, 1.0)
    grouped = replace(raised, cleared_at=2.0, detail=GROUPED)
    cleared = replace(raised, cleared_at=2.0, detail="")
    told = notices_of(
        [
            Transition(TransitionKind.RAISED, raised),
            Transition(TransitionKind.CLEARED, grouped),
            Transition(TransitionKind.CLEARED, cleared),
        ]
    )
    assert [n.kind.value for n in told] == ["raised", "cleared"]


def test_breaker_states() -> None:
    src = sources()
    tripped = src.on_event(Sample(4, 1.0, {"breaker": "tripped", "p": 1.0}), 1.0)
    assert [(type(c).__name__, c.type) for c in tripped] == [
        ("Clear", AlarmType.BREAKER_OPEN),
        ("Raise", AlarmType.BREAKER_TRIPPED),
    ]
    closed = src.on_event(Sample(4, 2.0, {"breaker": "closed"}), 2.0)
    assert all(isinstance(c, Clear) for c in closed) and len(closed) == 2


def test_charger_fault() -> None:
    src = sources()
    fault = src.on_event(Sample(9, 1.0, {"charger": "fault"}), 1.0)
    assert [(type(c).__name__, c.type) for c in fault] == [("Raise", AlarmType.CHARGER_FAULT)]
    assert isinstance(src.on_event(Sample(9, 2.0, {"charger": "charging"}), 2.0)[0], Clear)


def test_inputs_changing_named_by_their_labels() -> None:
    src = sources()
    assert src.on_event(Sample(8, 1.0, {"in1": "off", "in2": "off"}), 1.0) == []
    changed = src.on_event(Sample(8, 2.0, {"in1": "on", "in2": "off"}), 2.0)
    assert len(changed) == 1 and isinstance(changed[0], Raise)
    assert changed[0].subject.name == "Alarm inputs · Door"
    assert (changed[0].value, changed[0].detail) == ("on", "off → on")


def test_exclude_from_alarms_mutes_a_device() -> None:
    hvac = SITE.device(4)
    assert hvac is not None
    muted = replace(hvac, advanced=Advanced(exclude_from_alarms=True))
    site = SITE.with_(devices=tuple(muted if d.id == 4 else d for d in SITE.devices))
    src = sources(site=site)
    assert src.on_event(Sample(4, 1.0, {"breaker": "tripped"}), 1.0) == []
    assert src.on_event(DeviceStateChanged(4, DeviceState.COMM_ERROR), 1.0) == []
    assert subject_gone(site, CATALOG, Subject("device", 4))
    # The flag means nothing on a model without the setting (manual §7.16.1.4).
    meter = SITE.device(1)
    assert meter is not None
    site = SITE.with_(
        devices=tuple(
            replace(meter, advanced=Advanced(exclude_from_alarms=True)) if d.id == 1 else d
            for d in SITE.devices
        )
    )
    assert sources(site=site).on_event(DeviceStateChanged(1, DeviceState.COMM_ERROR), 1.0)


def test_box_news() -> None:
    src = sources()
    failed = src.on_event(ServiceFailed("recorder", "OSError: disk full", 5), 1.0)
    assert isinstance(failed[0], Raise) and failed[0].type is AlarmType.SERVICE_FAILED
    assert failed[0].subject.part == "recorder" and failed[0].detail == "OSError: disk full"
    assert isinstance(src.on_event(ServiceRecovered("recorder"), 2.0)[0], Clear)
    assert isinstance(src.on_event(QueueBehind("recorder", 10_001), 3.0)[0], Raise)
    assert isinstance(src.on_event(QueueCaughtUp("recorder"), 4.0)[0], Clear)
    login = src.on_event(LoginFailed("ssh:bob@10.0.0.9", None, "wrong_pin", 3), 5.0)
    assert login[0].type is AlarmType.LOGIN_FAILED
    locked = src.on_event(SourceLocked("ssh:bob@10.0.0.9", 5, blocked=True), 6.0)
    assert isinstance(locked[0], Raise) and locked[0].severity is Severity.CRITICAL


# -- thresholds ----------------------------------------------------------------------------


def power_limit(**more: object) -> Threshold:
    fields: dict[str, object] = {
        "id": 1,
        "name": "Site power",
        "target_kind": "site",
        "target_id": None,
        "quantity": "p",
        "op": ">",
        "limit": 80.0,
        "hysteresis": 5.0,
        "delay_s": 10.0,
    }
    fields.update(more)
    return Threshold(**fields)  # type: ignore[arg-type]


def test_threshold_delay_and_hysteresis() -> None:
    watch = ThresholdWatch(power_limit())
    assert watch.observe(81.0, 0.0) is None  # beyond, for 0 s
    assert watch.observe(79.0, 5.0) is None  # one noisy value: the run starts again
    assert watch.observe(85.0, 6.0) is None
    assert watch.observe(90.0, 15.0) is None
    assert watch.observe(90.0, 16.0) is True  # 10 s beyond
    assert watch.observe(78.0, 17.0) is None  # under the limit but within the hysteresis
    assert watch.observe(74.0, 20.0) is None
    assert watch.observe(None, 25.0) is None  # missing: not known to be back
    assert watch.observe(74.0, 26.0) is None
    assert watch.observe(74.0, 36.0) is False


def test_threshold_below() -> None:
    watch = ThresholdWatch(power_limit(op="<", limit=207.0, hysteresis=3.0, delay_s=0.0))
    assert watch.observe(206.0, 0.0) is True
    assert watch.observe(208.0, 1.0) is None
    assert watch.observe(210.0, 2.0) is False


def test_threshold_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        power_limit(op=">=")
    with pytest.raises(ValueError):
        power_limit(hysteresis=-1.0)


def test_site_threshold_reads_the_devices_the_site_total_counts() -> None:
    src = sources(power_limit(delay_s=0.0))
    raised = src.on_event(Sample(1, 1.0, {"p": 95.0}), 1.0)
    assert [(type(c).__name__, c.type, c.value) for c in raised] == [
        ("Raise", AlarmType.THRESHOLD, "95")
    ]
    assert raised[0].subject.kind == "site" and raised[0].detail == "p > 80"
    assert src.on_event(Sample(5, 1.0, {"p": 500.0}), 1.0) == []  # excluded from totals
    cleared = src.on_event(Sample(1, 2.0, {"p": 10.0}), 2.0)
    assert isinstance(cleared[0], Clear)


def test_the_site_is_what_its_consumption_total_counts() -> None:
    """The demo counts every electricity meter in its total but the machine tools' (behind
    the Workshop meter): the site's power is the sum of those that read a power (not the
    kitchen's pulse meter, not the compressor's generic energy register), not the gateways'
    EQ devices."""
    members = [d.name for d in site_members(SITE, CATALOG, "p")]
    assert members == [
        "Main meter",
        "Lighting feeder",
        "HVAC breaker",
        "Charger A",
        "Charger B1",
        "Charger B2",
        "Parking RCD",
        "Workshop meter",
    ]
    assert [d.name for d in site_members(ONE_MAIN, CATALOG, "p")] == ["Main meter"]
    off = SITE.with_(gateways=tuple(replace(g, enabled=g.id != 2) for g in SITE.gateways))
    assert "Charger A" not in [d.name for d in site_members(off, CATALOG, "p")]
    src = sources(power_limit(delay_s=0.0, limit=100.0), site=SITE)
    for n, device_id in enumerate((1, 2, 4, 9, 10, 11, 12)):
        assert src.on_event(Sample(device_id, 1.0, {"p": 10.0 + n}), 1.0) == []
    assert src.value_of(src.thresholds[0]) is None  # the Workshop meter not heard yet
    raised = src.on_event(Sample(13, 1.0, {"p": 19.0}), 1.0)  # 91 + 19
    assert [(c.type, c.value) for c in raised] == [(AlarmType.THRESHOLD, "110")]
    assert src.on_event(Sample(14, 1.0, {"p": 500.0}), 1.0) == []  # the compressor: no p
    assert src.on_event(Sample(15, 1.0, {"p": 500.0}), 1.0) == []  # excluded from totals


def test_circuit_threshold_adds_its_devices_and_needs_them_all() -> None:
    # "Others" (7): the main meter, Charger A, the Parking RCD and the compressor.
    src = sources(power_limit(target_kind="circuit", target_id=7, limit=10.0, delay_s=0.0))
    assert src.on_event(Sample(1, 1.0, {"p": 6.0}), 1.0) == []
    assert src.on_event(Sample(9, 1.0, {"p": 6.0}), 1.0) == []
    assert src.on_event(Sample(12, 1.0, {"p": 0.0}), 1.0) == []
    raised = src.on_event(Sample(14, 1.0, {"p": 0.5}), 1.0)
    assert raised and raised[0].value == "12.5"
    # A member going silent makes the sum unknown: nothing is cleared on a guess.
    src.on_event(DeviceStateChanged(9, DeviceState.COMM_ERROR), 2.0)
    assert src.value_of(src.thresholds[0]) is None


def test_threshold_delay_runs_out_on_the_tick() -> None:
    src = sources(power_limit())
    assert src.on_event(Sample(1, 0.0, {"p": 95.0}), 0.0) == []
    assert src.tick(5.0) == []
    assert [type(c).__name__ for c in src.tick(10.0)] == ["Raise"]


def test_threshold_edit_starts_afresh_but_keeps_others() -> None:
    first, second = power_limit(delay_s=0.0), power_limit(id=2, name="Other", delay_s=0.0)
    src = sources(first, second)
    src.on_event(Sample(1, 0.0, {"p": 95.0}), 0.0)
    src.set_thresholds([first, replace(second, limit=200.0)])
    assert src.on_event(Sample(1, 1.0, {"p": 10.0}), 1.0)[0].subject.part == "threshold:1"


def test_an_en50160_week_ko_raises_on_its_gateway_and_an_ok_week_clears_it() -> None:
    src = sources()
    monday = 1_795_388_400  # 2026-11-23 00:00 in Paris (2026-W48)
    (ko,) = src.on_event(En50160Checked(3, monday, "ko"), 100.0)
    assert isinstance(ko, Raise) and ko.type is AlarmType.EN50160_WEEK_KO
    assert (ko.subject.kind, ko.subject.id, ko.subject.name, ko.value) == (
        "gateway",
        3,
        "Workshop",
        "2026-W48",
    )
    assert src.on_event(En50160Checked(3, monday, "insufficient"), 101.0) == []
    (ok,) = src.on_event(En50160Checked(3, monday + 7 * 86400, "ok"), 102.0)
    assert isinstance(ok, Clear) and ok.key == ko.key


def test_a_failing_mail_server_is_one_system_alarm_until_it_recovers() -> None:
    src = sources()
    (failing,) = src.on_event(MailFailing("127.0.0.1:25", "connection refused", 3), 10.0)
    assert isinstance(failing, Raise) and failing.type is AlarmType.MAIL_FAILING
    assert failing.subject.kind == "system" and failing.detail == "connection refused"
    (back,) = src.on_event(MailRecovered("127.0.0.1:25"), 20.0)
    assert isinstance(back, Clear) and back.key == failing.key


def test_a_failed_connector_transfer_is_an_alarm_until_one_goes_through() -> None:
    src = sources()
    problem = Message("connection refused on port {port}", {"port": 22})
    (failed,) = src.on_event(ConnectorFailed(problem, 60.0), 10.0)
    assert isinstance(failed, Raise) and failed.type is AlarmType.CONNECTOR_TRANSFER_FAILED
    assert render_detail(failed.detail) == "connection refused on port 22"
    french = {"connection refused on port {port}": "connexion refusée sur le port {port}"}
    shown = render_detail(failed.detail, lambda msgid: french.get(msgid, msgid))
    assert shown == "connexion refusée sur le port 22"  # each reader in its language
    (back,) = src.on_event(ConnectorRecovered(), 20.0)
    assert isinstance(back, Clear) and back.key == failed.key
