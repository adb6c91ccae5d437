"""Random installations either validate or give messages, never another exception."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ews_tui.domain.edits import (
    InstallationError,
    delete_device,
    delete_gateway,
    delete_group,
    new_installation,
    save_device,
    save_gateway,
    save_group,
    set_eq_device,
    set_gateway_enabled,
)
from ews_tui.domain.installation import (
    Advanced,
    Circuit,
    Device,
    Gateway,
    GenericRegister,
    Installation,
    Zone,
)
from ews_tui.domain.rules import OwnServer, RuleContext, Violation, licence_usage, validate

MODELS = [
    "0 146 68",
    "4 120 81",
    "0 046 73",
    "GAS",
    "4 149 20",
    "4 149 30",
    "DPX3 250",
    "0 590 32",
    "0 590 14",
    "0 261 36",
    "GENERIC",
    "",
    "NOPE",
]

devices = st.builds(
    Device,
    id=st.just(0),
    gateway_id=st.integers(0, 3),
    model=st.sampled_from(MODELS),
    address=st.integers(-1, 250),
    name=st.sampled_from(["", "A", "B", "a", "Main"]),
    interface=st.none() | st.integers(0, 30),
    concentrator=st.none() | st.sampled_from(["0 046 87", "4 120 81", "0 146 68"]),
    position=st.none() | st.integers(0, 7),
    side=st.none() | st.integers(0, 3),
    phase=st.none() | st.sampled_from(["L1", "L4"]),
    supply=st.none() | st.sampled_from(["upstream", "downstream", "up"]),
    circuit_id=st.none() | st.integers(1, 12),
    zone_ids=st.lists(st.integers(1, 4), max_size=6).map(tuple),
    generic=st.none()
    | st.builds(
        GenericRegister,
        st.integers(2, 5),
        st.integers(-1, 0x10000),
        st.integers(0, 5),
        st.floats(allow_nan=True),
    ),
    advanced=st.builds(
        Advanced,
        st.booleans(),
        st.booleans(),
        st.lists(
            st.tuples(st.sampled_from(["in1", "out2", "in9"]), st.text(max_size=40)), max_size=2
        ).map(tuple),
    ),
    enabled=st.booleans(),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("device"), devices),
        st.tuples(
            st.just("gateway"),
            st.builds(
                Gateway,
                st.just(0),
                st.sampled_from(["", "G", "g"]),
                st.sampled_from(["10.0.0.1", "10.0.0.999", "", "127.0.0.1"]),
                st.integers(0, 70000),
            ),
        ),
        st.tuples(st.just("zone"), st.builds(Zone, st.just(0), st.sampled_from(["", "Z", "z"]))),
        st.tuples(st.just("circuit"), st.builds(Circuit, st.just(0), st.text(max_size=3))),
        st.tuples(st.just("delete_device"), st.integers(1, 6)),
        st.tuples(st.just("delete_gateway"), st.integers(1, 3)),
        st.tuples(st.just("delete_zone"), st.integers(1, 3)),
        st.tuples(st.just("eq"), st.tuples(st.integers(1, 3), st.integers(1, 6))),
        st.tuples(st.just("off"), st.integers(1, 3)),
    ),
    max_size=25,
)


def apply(inst: Installation, op: tuple, ctx: RuleContext) -> Installation:
    kind, arg = op
    if kind == "device":
        return save_device(inst, arg, ctx)
    if kind == "gateway":
        return save_gateway(inst, arg, ctx)
    if kind in ("zone", "circuit"):
        return save_group(inst, arg, ctx)
    if kind == "delete_device":
        return delete_device(inst, arg, ctx)
    if kind == "delete_gateway":
        return delete_gateway(inst, arg, ctx)
    if kind == "delete_zone":
        return delete_group(inst, "zones", arg, ctx)
    if kind == "eq":
        return set_eq_device(inst, arg[0], arg[1], ctx)
    return set_gateway_enabled(inst, arg, False, ctx)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=operations, licence=st.sampled_from([10, 32]))
def test_random_edits_are_applied_or_refused_with_messages(
    ctx: RuleContext, ops: list, licence: int
) -> None:
    ctx = RuleContext(ctx.catalog, licence)
    inst = new_installation()
    for op in ops:
        try:
            new = apply(inst, op, ctx)
        except InstallationError as refused:
            assert refused.violations
            for violation in refused.violations:
                assert isinstance(violation, Violation)
                assert str(violation).count(": ") >= 1
            continue
        assert validate(new, ctx) == [], "an accepted edit must leave a valid installation"
        assert new.revision == inst.revision + 1
        inst = new
    assert licence_usage(inst, ctx) <= licence


def test_validate_reports_every_violation_of_a_hand_made_installation(ctx: RuleContext) -> None:
    inst = Installation(
        gateways=(Gateway(1, "Local", "10.0.0.1"), Gateway(2, "Local", "10.0.0.2")),
        devices=(Device(1, 5, "0 146 68", 3, name="x"),),
    )
    assert [str(v) for v in validate(inst, ctx)] == [
        "gateways[0].ip: the Local gateway's IP address is fixed at 127.0.0.1",
        "devices[0].gateway: gateway #5 does not exist",
        'gateways[1].name: the name "Local" is already used by another gateway',
    ]


def _gateway_at(ip: str, port: int) -> Installation:
    return Installation(gateways=(Gateway(1, "Local", "127.0.0.1"), Gateway(2, "Roof", ip, port)))


def test_a_gateway_may_not_point_at_the_boxs_own_modbus_server(ctx: RuleContext) -> None:
    every = RuleContext(ctx.catalog, own_server=OwnServer("0.0.0.0", 502, "192.168.1.100"))
    refused = [
        ("127.0.0.1", 502),  # loopback: every local address
        ("127.0.0.2", 502),
        ("192.168.1.100", 502),  # the box's own IP
    ]
    for ip, port in refused:
        violations = validate(_gateway_at(ip, port), every)
        assert [(v.place, v.message.msgid) for v in violations] == [
            (
                "gateways[1].ip",
                "{ip}:{port} is this box's own Modbus TCP server ({listen}): the box would "
                "poll its own bus through itself; its devices go on the Local gateway",
            )
        ], (ip, port)
        assert "0.0.0.0:502" in str(violations[0])
    allowed = [
        ("127.0.0.1", 5020),  # a local bridge such as mbusd
        ("192.168.1.100", 503),  # the same IP on another port
        ("192.168.1.20", 502),  # another box
    ]
    for ip, port in allowed:
        assert validate(_gateway_at(ip, port), every) == [], (ip, port)
    # The server off: nothing is the box's own server.
    assert validate(_gateway_at("127.0.0.1", 502), ctx) == []


def test_a_server_on_one_address_only_takes_that_address(ctx: RuleContext) -> None:
    box_only = RuleContext(
        ctx.catalog, own_server=OwnServer("192.168.1.100", 1502, "192.168.1.100")
    )
    assert validate(_gateway_at("127.0.0.1", 1502), box_only) == []
    assert len(validate(_gateway_at("192.168.1.100", 1502), box_only)) == 1
    loopback = RuleContext(ctx.catalog, own_server=OwnServer("127.0.0.1", 502, "192.168.1.100"))
    assert validate(_gateway_at("192.168.1.100", 502), loopback) == []
    assert len(validate(_gateway_at("127.0.0.1", 502), loopback)) == 1
    ipv6_any = RuleContext(ctx.catalog, own_server=OwnServer("::", 502, "192.168.1.100"))
    assert len(validate(_gateway_at("127.0.0.1", 502), ipv6_any)) == 1


def test_a_register_out_of_range_reads_in_hex(ctx: RuleContext) -> None:
    device = Device(1, 1, "GENERIC", 9, name="g", generic=GenericRegister(3, 0x1F400, 2, 1.0))
    inst = Installation(gateways=(Gateway(1, "Local", "127.0.0.1"),), devices=(device,))
    assert [str(v) for v in validate(inst, ctx)] == [
        "gateways[0].devices[0].generic.register: register 1F400 is not between 0000 and FFFF"
    ]


# -- names cannot drive the terminal (issue 12 item 5) ---------------------------------------

HOSTILE = "\x1b]0;PWNED-TITLE\x07\x1b[2J"


def _refused(edit: Callable[[], Installation]) -> list[str]:
    try:
        edit()
    except InstallationError as refused:
        return [str(v) for v in refused.violations]
    raise AssertionError("the edit was accepted")


def test_a_name_with_control_characters_is_refused_by_every_form(ctx: RuleContext) -> None:
    inst = new_installation()
    inst = save_gateway(inst, Gateway(0, "Roof", "192.168.1.20"), ctx)
    control = "control characters (here \\x1b) are not allowed"
    assert _refused(lambda: save_device(inst, Device(0, 1, "0 146 68", 3, name=HOSTILE), ctx)) == [
        f"gateways[0].devices[0].name: {control}"
    ]
    assert _refused(lambda: save_gateway(inst, Gateway(0, HOSTILE, "192.168.1.21"), ctx)) == [
        f"gateways[2].name: {control}"
    ]
    bell = Gateway(2, "Roof", "192.168.1.20", description="ring\x07")
    assert _refused(lambda: save_gateway(inst, bell, ctx)) == [
        "gateways[1].description: control characters (here \\x07) are not allowed"
    ]
    assert _refused(lambda: save_group(inst, Zone(0, "Floor\x9b2J"), ctx)) == [
        "zones[0].name: control characters (here \\x9b) are not allowed"
    ]
    labels = Advanced(labels=(("in1", "door\x7f"),))
    supervision = Device(0, 1, "0 261 36", 4, name="Sup", advanced=labels)
    assert _refused(lambda: save_device(inst, supervision, ctx)) == [
        "gateways[0].devices[0].advanced.labels.in1: "
        "control characters (here \\x7f) are not allowed"
    ]


def test_names_and_descriptions_have_a_bounded_length(ctx: RuleContext) -> None:
    inst = new_installation()
    long_gateway = Gateway(0, "n" * 65, "192.168.1.20", description="d" * 121)
    assert _refused(lambda: save_gateway(inst, long_gateway, ctx)) == [
        "gateways[1].name: 65 characters: at most 64 are allowed",
        "gateways[1].description: 121 characters: at most 120 are allowed",
    ]
    accepted = save_gateway(inst, Gateway(0, "n" * 64, "192.168.1.20", description="d" * 120), ctx)
    assert validate(accepted, ctx) == []


def test_a_stored_hostile_name_is_quoted_printably_in_other_messages(ctx: RuleContext) -> None:
    """Data stored before the rule: a clash names it without its escapes, and shortened."""
    name = HOSTILE + "x" * 1000
    inst = Installation(
        gateways=(Gateway(1, "Local", "127.0.0.1"),),
        devices=(Device(1, 1, "0 146 68", 3, name=name), Device(2, 1, "0 146 68", 3, name="B")),
    )
    for violation in validate(inst, ctx):
        text = str(violation)
        assert "\x1b" not in text and "\x07" not in text and len(text) < 200, text
