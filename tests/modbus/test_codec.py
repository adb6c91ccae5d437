"""The register codec: raw round trips for every type and order, scale, sentinels, states."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ews_tui.domain.catalog import Quantity, RegisterMap, builtin_catalog
from ews_tui.modbus.codec import (
    BlockDecoder,
    CodecError,
    decode,
    decode_raw,
    encode,
    encode_raw,
)

ORDERS = [(w, b) for w in ("high_first", "low_first") for b in ("big", "little")]
INT_RANGES = {
    "u16": (0, 2**16 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "u32": (0, 2**32 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "u64": (0, 2**64 - 1),
    "s64": (-(2**63), 2**63 - 1),
}
WORDS = {"u16": 1, "s16": 1, "u32": 2, "s32": 2, "u64": 4, "s64": 4, "float32": 2, "float64": 4}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("rtype", sorted(INT_RANGES))
@given(data=st.data())
def test_integer_round_trip(rtype: str, order: tuple[str, str], data: st.DataObject) -> None:
    low, high = INT_RANGES[rtype]
    value = data.draw(st.integers(low, high))
    words = encode_raw(rtype, value, *order)
    assert len(words) == WORDS[rtype]
    assert all(0 <= w <= 0xFFFF for w in words)
    assert decode_raw(rtype, words, *order) == value


@pytest.mark.parametrize("order", ORDERS)
@given(value=st.floats(width=32, allow_nan=False))
def test_float32_round_trip(order: tuple[str, str], value: float) -> None:
    assert decode_raw("float32", encode_raw("float32", value, *order), *order) == value


@pytest.mark.parametrize("order", ORDERS)
@given(value=st.floats(allow_nan=False))
def test_float64_round_trip(order: tuple[str, str], value: float) -> None:
    assert decode_raw("float64", encode_raw("float64", value, *order), *order) == value


@pytest.mark.parametrize("rtype", sorted(WORDS))
@given(data=st.data())
def test_words_round_trip(rtype: str, data: st.DataObject) -> None:
    """Any register content decodes and encodes back to the same words (NaN aside)."""
    words = data.draw(
        st.lists(st.integers(0, 0xFFFF), min_size=WORDS[rtype], max_size=WORDS[rtype])
    )
    for order in ORDERS:
        raw = decode_raw(rtype, words, *order)
        if isinstance(raw, float) and math.isnan(raw):
            continue
        assert encode_raw(rtype, raw, *order) == words


def test_known_vectors() -> None:
    assert encode_raw("u32", 23012) == [0x0000, 0x59E4]
    assert encode_raw("u32", 23012, "low_first") == [0x59E4, 0x0000]
    assert encode_raw("u32", 23012, "high_first", "little") == [0x0000, 0xE459]
    assert encode_raw("u32", 23012, "low_first", "little") == [0xE459, 0x0000]
    assert decode_raw("s16", [0xFFFF]) == -1
    assert decode_raw("s32", [0xFFFF, 0xFFFE]) == -2
    assert decode_raw("s32", [0xFFFE, 0xFFFF], "low_first") == -2
    assert decode_raw("float32", [0x4366, 0x1EB8]) == pytest.approx(230.12, abs=1e-4)
    assert decode_raw("float32", [0x1EB8, 0x4366], "low_first") == pytest.approx(230.12, abs=1e-4)
    assert decode_raw("u64", [0, 0, 1, 2]) == 0x0000_0000_0001_0002
    assert decode_raw("u64", [1, 2, 0, 0], "low_first") == 0x0000_0000_0002_0001
    assert decode_raw("float64", list(struct.unpack(">4H", struct.pack(">d", 1.5)))) == 1.5


def test_emdx3_voltage_vector() -> None:
    """230.12 V at 0xC558, u32 x0.01, high word first, as the EMDX3 0 146 68 table says."""
    catalog = builtin_catalog()
    reg_map = catalog.maps["emdx3_common"]
    v1 = reg_map.quantity("v1")
    assert v1 is not None and v1.register == 0xC558
    assert encode(v1, 230.12, reg_map) == [0x0000, 0x59E4]
    assert decode(v1, [0x0000, 0x59E4], reg_map) == pytest.approx(230.12)


def test_wrong_word_count_and_values_are_refused() -> None:
    with pytest.raises(CodecError, match="u32 needs 2 registers, got 1"):
        decode_raw("u32", [1])
    with pytest.raises(CodecError, match="16-bit"):
        decode_raw("u16", [0x10000])
    with pytest.raises(CodecError, match="does not fit"):
        encode_raw("u16", 70000)
    with pytest.raises(CodecError, match="does not fit"):
        encode_raw("s16", -40000)
    with pytest.raises(CodecError, match="integers"):
        encode_raw("u32", 1.5)
    with pytest.raises(CodecError, match="unknown register type"):
        encode_raw("u8", 1)
    with pytest.raises(CodecError, match="word order"):
        decode_raw("u32", [0, 1], "middle")


PLAIN_MAP = RegisterMap(id="t", provenance="assumed")
SWAPPED_MAP = RegisterMap(
    id="t2", provenance="assumed", word_order="low_first", byte_order="little"
)


@pytest.mark.parametrize("reg_map", [PLAIN_MAP, SWAPPED_MAP])
def test_sentinels_decode_as_missing(reg_map: RegisterMap) -> None:
    u32 = Quantity("i1", "A", 0, "u32", scale=0.001, missing=(0xFFFFFFFF,))
    s32 = Quantity("p", "kW", 0, "s32", scale=0.01, missing=(0x7FFFFFFF, 0x80000000))
    u16 = Quantity("thd_v1", "%", 0, "u16", scale=0.1, missing=(0xFFFF,))
    assert (
        decode(u32, encode_raw("u32", 0xFFFFFFFF, reg_map.word_order, reg_map.byte_order), reg_map)
        is None
    )
    assert (
        decode(s32, encode_raw("s32", 0x7FFFFFFF, reg_map.word_order, reg_map.byte_order), reg_map)
        is None
    )
    assert (
        decode(s32, encode_raw("s32", -(2**31), reg_map.word_order, reg_map.byte_order), reg_map)
        is None
    )
    assert (
        decode(u16, encode_raw("u16", 0xFFFF, reg_map.word_order, reg_map.byte_order), reg_map)
        is None
    )
    # None encodes as the first sentinel, which decodes back as missing.
    for q in (u32, s32, u16):
        assert decode(q, encode(q, None, reg_map), reg_map) is None
    # A value next to the sentinel is a number.
    assert decode(
        u32, encode_raw("u32", 0xFFFFFFFE, reg_map.word_order, reg_map.byte_order), reg_map
    ) == pytest.approx(4294967.294)


def test_nan_and_inf_floats_decode_as_missing() -> None:
    q = Quantity("v1", "V", 0, "float32", fc=4)
    nan = list(struct.unpack(">2H", struct.pack(">f", math.nan)))
    inf = list(struct.unpack(">2H", struct.pack(">f", math.inf)))
    assert decode(q, nan, PLAIN_MAP) is None
    assert decode(q, inf, PLAIN_MAP) is None
    assert decode(q, encode(q, None, PLAIN_MAP), PLAIN_MAP) is None


def test_missing_without_sentinel_cannot_be_encoded() -> None:
    q = Quantity("v1", "V", 0, "u32", scale=0.01)
    with pytest.raises(CodecError, match="v1: no 'missing' sentinel"):
        encode(q, None, PLAIN_MAP)


def test_states_decode_to_ids_and_back() -> None:
    q = Quantity(
        "breaker", "", 0, "u16", states={0: "open", 1: "closed", 2: "tripped"}, missing=(0xFFFF,)
    )
    assert decode(q, [1], PLAIN_MAP) == "closed"
    assert decode(q, [2], PLAIN_MAP) == "tripped"
    assert decode(q, [7], PLAIN_MAP) is None  # unknown raw value: not a state
    assert decode(q, [0xFFFF], PLAIN_MAP) is None
    assert encode(q, "tripped", PLAIN_MAP) == [2]
    with pytest.raises(CodecError, match="unknown state 'melted'"):
        encode(q, "melted", PLAIN_MAP)


@given(value=st.floats(min_value=-21474836.0, max_value=21474836.0))
def test_scaled_round_trip_within_one_step(value: float) -> None:
    q = Quantity("p", "kW", 0, "s32", scale=0.01, missing=(0x7FFFFFFF,))
    for reg_map in (PLAIN_MAP, SWAPPED_MAP):
        decoded = decode(q, encode(q, value, reg_map), reg_map)
        assert isinstance(decoded, float)
        assert abs(decoded - value) <= 0.005 + 1e-9


def test_every_catalog_quantity_round_trips() -> None:
    """What the simulator encodes for each catalog quantity is what the poller decodes."""
    catalog = builtin_catalog()
    for reg_map in catalog.maps.values():
        for q in reg_map.quantities:
            value: float | str = next(iter(q.states.values())) if q.states else 12.5
            words = encode(q, value, reg_map)
            assert len(words) == q.words, (reg_map.id, q.id)
            decoded = decode(q, words, reg_map)
            if q.states:
                assert decoded == value, (reg_map.id, q.id)
            else:
                assert decoded == pytest.approx(value, abs=abs(q.scale)), (reg_map.id, q.id)


# ------------------------------------------------------------------------------ blocks


@st.composite
def block_reads(draw: st.DrawFn) -> tuple[RegisterMap, list[Quantity], int, list[int]]:
    """A map in any order, quantities of any type (overlapping or not) at any offset in one
    read, and the read's words; some quantities get the words they hold as a sentinel."""
    word_order, byte_order = draw(st.sampled_from(ORDERS))
    start = draw(st.integers(0, 0xFF00))
    layout = draw(st.lists(st.tuples(st.sampled_from(sorted(WORDS)), st.integers(0, 24)),
                           min_size=1, max_size=8))  # fmt: skip
    count = max(offset + WORDS[rtype] for rtype, offset in layout)
    words = draw(st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count))
    quantities = []
    for index, (rtype, offset) in enumerate(layout):
        own = words[offset : offset + WORDS[rtype]]
        raw = decode_raw(rtype, own, word_order, byte_order)
        sentinel = rtype in INT_RANGES and draw(st.booleans())
        states = {int(raw): "on", 0: "off"} if rtype == "u16" and draw(st.booleans()) else {}
        quantities.append(Quantity(
            f"q{index}", "", start + offset, rtype,  # type: ignore[arg-type]
            scale=draw(st.sampled_from([1.0, 0.1, 0.001, 10.0])),
            missing=(int(raw),) if sentinel else (), states=states,
        ))  # fmt: skip
    reg_map = RegisterMap("t", "assumed", word_order, byte_order, quantities=tuple(quantities))
    return reg_map, quantities, start, words


@given(case=block_reads())
def test_block_decoder_gives_what_decode_gives(case) -> None:
    reg_map, quantities, start, words = case
    block = BlockDecoder(quantities, start, len(words), reg_map)(words)
    for q in quantities:
        offset = q.register - start
        assert block[q.id] == decode(q, words[offset : offset + q.words], reg_map), q


def test_block_decoder_of_an_emdx3_read() -> None:
    reg_map = builtin_catalog().maps["emdx3_common"]
    v1, pf = reg_map.quantity("v1"), reg_map.quantity("pf")
    assert v1 is not None and pf is not None
    start = v1.register
    words = [0] * (pf.register + 2 - start)
    words[0:2] = encode(v1, 230.12, reg_map)
    words[pf.register - start :] = encode(pf, None, reg_map)
    out = BlockDecoder([v1, pf], start, len(words), reg_map)(words)
    assert out == {"v1": pytest.approx(230.12), "pf": None}


def test_block_decoder_refuses_what_does_not_fit() -> None:
    q = Quantity("v1", "V", 10, "u32")
    decoder = BlockDecoder([q], 10, 2, PLAIN_MAP)
    with pytest.raises(CodecError, match="needs 2 registers, got 1"):
        decoder([1])
    with pytest.raises(CodecError, match="16-bit"):
        decoder([1, 0x10000])
    with pytest.raises(CodecError, match="outside the read"):
        BlockDecoder([q], 11, 2, PLAIN_MAP)
