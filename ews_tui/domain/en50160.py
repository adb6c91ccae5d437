"""The weekly EN 50160 check of an EQ device: the limits as data, the verdict per criterion.

Pure: the week's 10-minute intervals in, a :class:`WeekResult` out. The limits come from
``ews_tui/data/en50160.toml`` (:func:`builtin_limits`), which names the edition.

How a week is judged, as the power meters with an EN 50160 option do (Schneider PM8000,
Janitza UMG, Satec):

- The week runs from Monday 00:00 to Monday 00:00 in the box's time zone: 1,008 ten-minute
  intervals, 1,002 or 1,014 in a week where daylight saving time starts or ends
  (:func:`week_slots`).
- An interval is *flagged* and left out, as IEC 61000-4-30 flags intervals, when the device
  did not answer in it or the supply was interrupted (a voltage below 5 % of Un).
- Per criterion: N, the valid intervals; N1, those outside the band that must hold for the
  criterion's share of the week (95 %, 99.5 % for the frequency); N2, those outside the band
  that must always hold. Passed when N1/N ≤ 1 − share and N2 = 0. With fewer valid intervals
  than ``min_valid_share`` of the week (90 %), "insufficient data", never passed. A criterion
  none of whose quantities the device gives is "not assessed".
- The week is KO when any assessed criterion failed; OK only when the voltage and the
  frequency were assessed and every assessed criterion passed; otherwise "insufficient data".

What a polling box cannot see is listed as not assessed whatever the device
(:data:`NOT_SEEN`): signalling voltages, dips, swells, interruptions shorter than a poll period
and rapid voltage changes need the waveform or half-cycle RMS values.
"""

from __future__ import annotations

import math
import operator
import tomllib
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction
from importlib import resources
from itertools import compress, repeat
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ews_tui.domain.errors import DomainError
from ews_tui.domain.messages import N_
from ews_tui.domain.periods import SLOT_SECONDS, local_midnight

PHASE_VOLTAGES = ("v1", "v2", "v3")
LINE_VOLTAGES = ("u12", "u23", "u31")
UNBALANCE = "unbalance"  # computed per interval from the line voltages (IEC 61000-4-30)

# Phenomena of EN 50160 that a box polling every few seconds cannot see.
NOT_SEEN: tuple[str, ...] = (
    N_("Mains signalling voltages"),
    N_("Voltage dips"),
    N_("Voltage swells"),
    N_("Interruptions shorter than a poll period"),
    N_("Rapid voltage changes"),
)
YEARLY_NOTE = N_("yearly in EN 50160, applied to the week")


class LimitsError(DomainError):
    """The limits file is not as this module reads it."""


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INSUFFICIENT = "insufficient"  # too few valid intervals: never passed
    NOT_ASSESSED = "not_assessed"  # the device gives none of the criterion's quantities


class WeekVerdict(StrEnum):
    OK = "ok"
    KO = "ko"
    INSUFFICIENT = "insufficient"


@dataclass(frozen=True)
class Criterion:
    """One line of the check: a quantity (per phase), its bands and the share of the week."""

    id: str
    label: str  # an English msgid (translated where shown)
    quantity: str  # "{v}" stands for the supply's voltages; see :meth:`quantities`
    unit: str
    share: float  # of the valid intervals inside ``band`` (0.95; 0.995 for the frequency)
    statistic: Literal["mean", "extremes"] = "mean"
    # Relative to the nominal value (fractions), or ``limit``: an upper bound in ``unit``.
    band: tuple[float, float] | None = None
    always: tuple[float, float] | None = None
    limit: float | None = None
    relative_to: Literal["voltage", "frequency", ""] = ""
    yearly: bool = False  # the standard asks it over a year; applied to the week

    def quantities(self, three_wire: bool) -> tuple[str, ...]:
        """The quantity ids this criterion reads on a four- or three-wire supply."""
        if "{v}" not in self.quantity:
            return (self.quantity,)
        voltages = LINE_VOLTAGES if three_wire else PHASE_VOLTAGES
        return tuple(self.quantity.replace("{v}", v) for v in voltages)


@dataclass(frozen=True)
class Nominal:
    """The EQ device's settings: nominal voltage and frequency, and the kind of supply."""

    phase_voltage: float = 230.0
    line_voltage: float = 400.0
    frequency: float = 50.0
    three_wire: bool = False  # judged on the line voltages against ``line_voltage``

    @property
    def voltage(self) -> float:
        return self.line_voltage if self.three_wire else self.phase_voltage


@dataclass(frozen=True)
class Limits:
    edition: str
    criteria: tuple[Criterion, ...]
    min_valid_share: float = 0.90
    interruption_below: float = 0.05  # of the nominal voltage
    nominal: Nominal = field(default_factory=Nominal)

    def needed(self, three_wire: bool | None = None) -> frozenset[str]:
        """Every quantity id a check reads: the criteria's on either kind of supply (on the
        one ``three_wire`` says, when given), and the voltages that flag interruptions and
        give the unbalance."""
        wires = (False, True) if three_wire is None else (three_wire,)
        ids = {q for c in self.criteria for wire in wires for q in c.quantities(wire)}
        return frozenset(ids | set(PHASE_VOLTAGES) | set(LINE_VOLTAGES))

    def criterion(self, cid: str) -> Criterion:
        return next(c for c in self.criteria if c.id == cid)


@dataclass(frozen=True)
class Interval:
    """What the EQ device gave in one 10-minute slot: each quantity's mean, lowest and
    highest reading. A slot with no :class:`Interval` is one where it did not answer."""

    slot: int
    mean: Mapping[str, float]
    low: Mapping[str, float] = field(default_factory=dict)
    high: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    verdict: Verdict
    n: int = 0  # valid intervals
    n1: int = 0  # outside the band that must hold for ``share`` of them
    n2: int = 0  # outside the band that must always hold
    worst: float | None = None  # the value furthest out (from the nominal, or the highest)
    worst_slot: int | None = None
    valid_share: float = 0.0  # N over the week's intervals
    reference: float = 0.0  # the nominal value a relative band is a fraction of

    def bounds(self) -> tuple[float | None, float | None]:
        """The band that must hold for ``share`` of the week, in the unit (None: open)."""
        return _bounds(self.criterion, self.reference)

    def always_bounds(self) -> tuple[float | None, float | None]:
        """The band that must always hold, in the unit ((None, None): none)."""
        return _always(self.criterion, self.reference)


@dataclass(frozen=True)
class WeekResult:
    start: int  # epoch seconds of Monday 00:00, local
    end: int
    intervals: int  # ten-minute intervals in the week: 1,008, or 1,002 / 1,014 (DST)
    flagged: int  # of them, left out: no answer, or the supply interrupted
    criteria: tuple[CriterionResult, ...]
    verdict: WeekVerdict
    edition: str
    not_seen: tuple[str, ...] = NOT_SEEN

    def result(self, cid: str) -> CriterionResult:
        return next(r for r in self.criteria if r.criterion.id == cid)


# ------------------------------------------------------------------------------ the limits


def builtin_limits() -> Limits:
    """The limits shipped with the box (``ews_tui/data/en50160.toml``)."""
    text = (resources.files("ews_tui") / "data" / "en50160.toml").read_text(encoding="utf-8")
    return parse_limits(tomllib.loads(text))


def parse_limits(doc: Mapping[str, Any]) -> Limits:
    """Limits from the TOML document (LimitsError naming what is wrong)."""
    try:
        table = doc.get("nominal", {})
        nominal = Nominal(
            phase_voltage=float(table.get("phase_voltage", 230.0)),
            line_voltage=float(table.get("line_voltage", 400.0)),
            frequency=float(table.get("frequency", 50.0)),
        )
        criteria = [_criterion(row) for row in doc["criteria"]]
        harmonics = doc.get("harmonics")
        if harmonics is not None:
            for order, limit in sorted(harmonics["limits"].items(), key=lambda kv: int(kv[0])):
                criteria.append(
                    Criterion(
                        id=f"h{int(order)}",
                        label=N_("Harmonic {order}"),
                        quantity=str(harmonics["quantity"]).replace("{n}", str(int(order))),
                        unit="%",
                        share=float(harmonics["share"]),
                        limit=float(limit),
                    )
                )
        limits = Limits(
            edition=str(doc["edition"]),
            criteria=tuple(criteria),
            min_valid_share=float(doc.get("min_valid_share", 0.90)),
            interruption_below=float(doc.get("interruption_below", 0.05)),
            nominal=nominal,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LimitsError(f"EN 50160 limits: {type(exc).__name__}: {exc}") from None
    for c in limits.criteria:
        if not 0.0 < c.share <= 1.0 or (c.band is None) == (c.limit is None):
            raise LimitsError(f"EN 50160 limits: criterion {c.id}: a share and a band or limit")
    if {"voltage", "frequency"} - {c.id for c in limits.criteria}:
        raise LimitsError("EN 50160 limits: the voltage and frequency criteria are needed")
    return limits


def _criterion(row: Mapping[str, Any]) -> Criterion:
    cid = str(row["id"])
    relative: Literal["voltage", "frequency", ""] = ""
    if row.get("band") is not None:
        relative = "frequency" if cid == "frequency" else "voltage"
    statistic = str(row.get("statistic", "mean"))
    if statistic not in ("mean", "extremes"):
        raise ValueError(f"criterion {cid}: statistic {statistic!r}")
    return Criterion(
        id=cid,
        label=str(row["label"]),
        quantity=str(row["quantity"]),
        unit=str(row.get("unit", "")),
        share=float(row["share"]),
        statistic="extremes" if statistic == "extremes" else "mean",
        band=_pair(row.get("band")),
        always=_pair(row.get("always")),
        limit=float(row["limit"]) if row.get("limit") is not None else None,
        relative_to=relative,
        yearly=bool(row.get("yearly", False)),
    )


def _pair(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"a band is two fractions [low, high], not {value!r}")
    return float(value[0]), float(value[1])


# ------------------------------------------------------------------------------ the week


def week_slots(monday: date, tz: ZoneInfo) -> range:
    """The 10-minute slots (UTC grid) of the week starting local Monday ``monday`` 00:00:
    1,008, or 1,002 / 1,014 when the clocks change in it."""
    if monday.isoweekday() != 1:
        raise ValueError(f"{monday} is not a Monday")
    start = local_midnight(monday, tz)
    end = local_midnight(date.fromordinal(monday.toordinal() + 7), tz)
    return range(-(-start // SLOT_SECONDS), -(-end // SLOT_SECONDS))


def voltage_unbalance(u12: float, u23: float, u31: float) -> float | None:
    """The negative-sequence voltage unbalance u2, in %, from the three line-voltage
    magnitudes (IEC 61000-4-30, 5.7.2): u2 = √((1 − √(3 − 6β)) / (1 + √(3 − 6β))) with
    β = (U12⁴ + U23⁴ + U31⁴) / (U12² + U23² + U31²)². None when there is no voltage."""
    squares = u12 * u12 + u23 * u23 + u31 * u31
    if not squares > 0:
        return None
    beta = (u12**4 + u23**4 + u31**4) / (squares * squares)
    root = math.sqrt(max(0.0, 3.0 - 6.0 * beta))  # three lengths that make no triangle: 0
    # Three equal voltages give β = 1/3, root = 1, u2 = 0; rounded, root can pass 1 by an ulp.
    return 100.0 * math.sqrt(max(0.0, (1.0 - root) / (1.0 + root)))


def unbalance_of(mean: Mapping[str, float]) -> float | None:
    """The voltage unbalance of one interval's means; None without the three line voltages."""
    if any(u not in mean for u in LINE_VOLTAGES):
        return None
    return voltage_unbalance(*(mean[u] for u in LINE_VOLTAGES))


def with_unbalance(interval: Interval) -> Interval:
    """The interval with its voltage unbalance (from the line voltages' means) added."""
    if UNBALANCE in interval.mean:
        return interval
    u2 = unbalance_of(interval.mean)
    if u2 is None:
        return interval
    return Interval(interval.slot, {**interval.mean, UNBALANCE: u2}, interval.low, interval.high)


def judge_week(
    limits: Limits,
    slots: range,
    intervals: Iterable[Interval],
    nominal: Nominal | None = None,
    gives: Collection[str] | None = None,
) -> WeekResult:
    """The week of ``slots`` judged from the EQ device's ``intervals`` (others ignored).

    ``gives``: the quantity ids the EQ device's register map reads; a criterion reading none
    of them is "not assessed" (None: judged from what the intervals hold)."""
    nominal = nominal or limits.nominal
    by_slot = {i.slot: with_unbalance(i) for i in intervals if i.slot in slots}
    supply = LINE_VOLTAGES if nominal.three_wire else PHASE_VOLTAGES
    floor = limits.interruption_below * nominal.voltage
    valid: list[Interval] = []
    for slot in slots:
        interval = by_slot.get(slot)
        if interval is None:
            continue
        mean, low = interval.mean, interval.low
        if all(mean.get(v, math.inf) >= floor and low.get(v, math.inf) >= floor for v in supply):
            valid.append(interval)
    if gives is None:
        given = {q for i in by_slot.values() for q in i.mean}
    else:
        given = set(gives) | ({UNBALANCE} if set(LINE_VOLTAGES) <= set(gives) else set())
    results = tuple(_judge(c, limits, nominal, valid, len(slots), given) for c in limits.criteria)
    return WeekResult(
        start=slots.start * SLOT_SECONDS,
        end=slots.stop * SLOT_SECONDS,
        intervals=len(slots),
        flagged=len(slots) - len(valid),
        criteria=results,
        verdict=_week_verdict(results),
        edition=limits.edition,
    )


#: One quantity's values over a device's slots, aligned with :attr:`Columns.slots`; None
#: where the device did not give it in that slot.
Column = Sequence[float | None]


@dataclass(frozen=True)
class Columns:
    """A device's intervals column-wise, as the store reads a week without an object per
    interval: ``slots`` ascending, and per quantity its means, lowest and highest readings
    aligned with them (None where the slot lacked it). :func:`judge_columns` judges them as
    :func:`judge_week` judges :meth:`intervals`."""

    slots: Sequence[int]
    mean: Mapping[str, Column]
    low: Mapping[str, Column] = field(default_factory=dict)
    high: Mapping[str, Column] = field(default_factory=dict)

    def intervals(self) -> list[Interval]:
        """The same values as one :class:`Interval` a slot (what :func:`judge_week` reads)."""
        out: list[Interval] = []
        for k, slot in enumerate(self.slots):
            out.append(
                Interval(
                    slot,
                    {q: v for q, col in self.mean.items() if (v := col[k]) is not None},
                    {q: v for q, col in self.low.items() if (v := col[k]) is not None},
                    {q: v for q, col in self.high.items() if (v := col[k]) is not None},
                )
            )
        return out

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> Columns:
        """Intervals column-wise (by slot; of two for one slot, the last, as judge_week)."""
        by_slot = {i.slot: i for i in intervals}
        slots = sorted(by_slot)
        rows = [by_slot[s] for s in slots]

        def columns(part: Callable[[Interval], Mapping[str, float]]) -> dict[str, Column]:
            names = sorted({q for i in rows for q in part(i)})
            return {q: [part(i).get(q) for i in rows] for q in names}

        return cls(
            slots,
            columns(lambda i: i.mean),
            columns(lambda i: i.low),
            columns(lambda i: i.high),
        )


def judge_columns(
    limits: Limits,
    slots: range,
    columns: Columns,
    nominal: Nominal | None = None,
    gives: Collection[str] | None = None,
) -> WeekResult:
    """:func:`judge_week` of ``columns``: the same result, with a pass over each column in C
    (``map``, ``compress``, ``min``/``max``) instead of Python code per interval, for the
    criteria whose values are all there and finite (the usual week); the others are judged
    interval by interval, as :func:`judge_week` does."""
    nominal = nominal or limits.nominal
    have = columns.slots
    if not all(map(operator.lt, have, have[1:])):  # not ascending: as rows
        return judge_week(limits, slots, columns.intervals(), nominal, gives)
    first, end = bisect_left(have, slots.start), bisect_left(have, slots.stop)
    if (first, end) != (0, len(have)):
        have = have[first:end]
        columns = Columns(
            have,
            {q: col[first:end] for q, col in columns.mean.items()},
            {q: col[first:end] for q, col in columns.low.items()},
            {q: col[first:end] for q, col in columns.high.items()},
        )
    mean: dict[str, Column] = dict(columns.mean)
    u12, u23, u31 = (mean.get(u) for u in LINE_VOLTAGES)
    if u12 is not None and u23 is not None and u31 is not None:
        mean[UNBALANCE] = _unbalance_column(mean.get(UNBALANCE), u12, u23, u31)
    # The valid intervals: answered, the supply not interrupted (a voltage not given counts
    # as not below the floor, as in judge_week).
    supply = LINE_VOLTAGES if nominal.three_wire else PHASE_VOLTAGES
    floor = limits.interruption_below * nominal.voltage
    mask: list[bool] | None = None
    for part in (mean, columns.low):
        for v in supply:
            col = part.get(v)
            if col is None:
                continue
            ok = _not_below(col, floor)
            mask = ok if mask is None else list(map(operator.and_, mask, ok))
    picked: Callable[[Column], Column]
    if mask is None or all(mask):
        valid_slots: Sequence[int] = have
        picked = _same
    else:
        valid_slots = list(compress(have, mask))
        kept = mask
        picked = lambda col: list(compress(col, kept))  # noqa: E731
    valid = Columns(
        valid_slots,
        {q: picked(col) for q, col in mean.items()},
        {q: picked(col) for q, col in columns.low.items()},
        {q: picked(col) for q, col in columns.high.items()},
    )
    if gives is None:
        given = {q for q, col in mean.items() if any(v is not None for v in col)}
    else:
        given = set(gives) | ({UNBALANCE} if set(LINE_VOLTAGES) <= set(gives) else set())
    total = len(slots)
    results = tuple(
        _judge_columns(c, limits, nominal, valid, total, given) for c in limits.criteria
    )
    return WeekResult(
        start=slots.start * SLOT_SECONDS,
        end=slots.stop * SLOT_SECONDS,
        intervals=total,
        flagged=total - len(valid_slots),
        criteria=results,
        verdict=_week_verdict(results),
        edition=limits.edition,
    )


def _same(col: Column) -> Column:
    return col


def _unbalance_column(given: Column | None, u12: Column, u23: Column, u31: Column) -> Column:
    """Each interval's unbalance: the one given, else from its three line voltages."""
    if given is None and None not in u12 and None not in u23 and None not in u31:
        return _unbalances(u12, u23, u31)  # type: ignore[arg-type]
    out: list[float | None] = []
    for k, (a, b, c) in enumerate(zip(u12, u23, u31, strict=True)):
        known = given[k] if given is not None else None
        if known is None and a is not None and b is not None and c is not None:
            known = voltage_unbalance(a, b, c)
        out.append(known)
    return out


def _unbalances(u12: Sequence[float], u23: Sequence[float], u31: Sequence[float]) -> Column:
    """:func:`voltage_unbalance` of each interval, the same operations in the same order,
    one column at a time."""
    mul, add = operator.mul, operator.add
    squares = list(map(add, map(add, map(mul, u12, u12), map(mul, u23, u23)), map(mul, u31, u31)))
    if not all(map((0.0).__lt__, squares)):  # an interval without voltage: each alone
        return list(map(voltage_unbalance, u12, u23, u31))
    four = repeat(4)
    quartics = map(add, map(add, map(pow, u12, four), map(pow, u23, four)), map(pow, u31, four))
    beta = map(operator.truediv, quartics, map(mul, squares, squares))
    spread = map(operator.sub, repeat(3.0), map(mul, repeat(6.0), beta))
    root = list(map(math.sqrt, map(max, repeat(0.0), spread)))
    ratio = map(operator.truediv, map(operator.sub, repeat(1.0), root), map(add, repeat(1.0), root))
    return list(map(mul, repeat(100.0), map(math.sqrt, map(max, repeat(0.0), ratio))))


def _not_below(col: Column, floor: float) -> list[bool]:
    if None not in col:
        return list(map(floor.__le__, col))  # type: ignore[arg-type]
    return [v is None or v >= floor for v in col]


def _judge_columns(
    c: Criterion,
    limits: Limits,
    nominal: Nominal,
    valid: Columns,
    total: int,
    given: Collection[str],
) -> CriterionResult:
    ids = c.quantities(nominal.three_wire)
    reference = _nominal_of(c, nominal)
    if not any(q in given for q in ids):
        return CriterionResult(c, Verdict.NOT_ASSESSED, reference=reference)
    values = _value_columns(c, ids, valid)
    if values is None:  # a value missing or not finite somewhere: interval by interval
        return _tally(c, limits, reference, _rows(c, ids, valid), total)
    if not values or not valid.slots:
        return _result(c, limits, reference, total, 0, 0, 0, None, None)
    if len(values) == 1:
        least = most = values[0]
    else:
        least, most = list(map(min, *values)), list(map(max, *values))
    low, high = _bounds(c, reference)
    always_low, always_high = _always(c, reference)
    n1 = _outside(least, most, low, high)
    n2 = _outside(least, most, always_low, always_high)
    if c.limit is None:
        far = list(map(abs, map(reference.__rsub__, most)))
        near = list(map(abs, map(reference.__rsub__, least)))
        distance = list(map(max, far, near))
        k = distance.index(max(distance))  # the first of the farthest
        if far[k] == near[k]:
            worst = next(v for col in values if (v := col[k]) in (least[k], most[k]))
        else:
            worst = most[k] if far[k] > near[k] else least[k]
    else:
        k = most.index(max(most))
        worst = most[k]
    return _result(c, limits, reference, total, len(least), n1, n2, worst, valid.slots[k])


def _outside(
    least: Sequence[float], most: Sequence[float], low: float | None, high: float | None
) -> int:
    """How many intervals have their least value below ``low`` or their most above ``high``."""
    below = map(low.__gt__, least) if low is not None else None
    above = map(high.__lt__, most) if high is not None else None
    if below is not None and above is not None:
        return sum(map(operator.or_, below, above))
    if below is not None:
        return sum(below)
    return sum(above) if above is not None else 0


def _value_columns(c: Criterion, ids: Sequence[str], valid: Columns) -> list[list[float]] | None:
    """The criterion's value columns, in each interval's order of values, when every
    interval has each of them, finite; None when it is not so."""
    out: list[Column] = []
    if c.statistic == "extremes":
        for q in ids:
            a, b = valid.low.get(q), valid.high.get(q)
            if a is not None:
                out.append(a)
            if b is not None:
                out.append(b)
            if a is None and b is None and (m := valid.mean.get(q)) is not None:
                out.append(m)
    else:
        out = [col for q in ids if (col := valid.mean.get(q)) is not None]
    for col in out:
        if None in col or not math.isfinite(sum(col)):  # type: ignore[arg-type]
            return None
    return out  # type: ignore[return-value]


def _rows(c: Criterion, ids: Sequence[str], valid: Columns) -> Iterator[tuple[int, list[float]]]:
    """Each valid interval's values as :func:`_judge` lists them."""
    mean, low, high = valid.mean, valid.low, valid.high
    none: Column = [None] * len(valid.slots)
    for k, slot in enumerate(valid.slots):
        values: list[float] = []
        for q in ids:
            m = mean.get(q, none)[k]
            if c.statistic == "extremes":
                a, b = low.get(q, none)[k], high.get(q, none)[k]
                if a is not None:
                    values.append(a)
                if b is not None:
                    values.append(b)
                if a is None and b is None and m is not None:
                    values.append(m)
            elif m is not None:
                values.append(m)
        yield slot, values


def _bounds(c: Criterion, nominal_value: float) -> tuple[float | None, float | None]:
    if c.limit is not None:
        return None, c.limit
    assert c.band is not None
    return nominal_value * (1 + c.band[0]), nominal_value * (1 + c.band[1])


def _nominal_of(c: Criterion, nominal: Nominal) -> float:
    if c.relative_to == "frequency":
        return nominal.frequency
    if c.relative_to == "voltage":
        return nominal.voltage
    return 0.0


def _always(c: Criterion, reference: float) -> tuple[float | None, float | None]:
    if c.always is None:
        return None, None
    return reference * (1 + c.always[0]), reference * (1 + c.always[1])


def _judge(
    c: Criterion,
    limits: Limits,
    nominal: Nominal,
    valid: Sequence[Interval],
    total: int,
    given: Collection[str],
) -> CriterionResult:
    ids = c.quantities(nominal.three_wire)
    reference = _nominal_of(c, nominal)
    if not any(q in given for q in ids):
        return CriterionResult(c, Verdict.NOT_ASSESSED, reference=reference)
    rows: Iterable[tuple[int, list[float]]]
    if c.statistic == "extremes":
        rows = [(i.slot, _extremes(ids, i)) for i in valid]
    else:  # each phase's mean, inline: a week is a thousand intervals per criterion
        rows = [(i.slot, [m[q] for q in ids if q in m]) for i in valid for m in (i.mean,)]
    return _tally(c, limits, reference, rows, total)


def _tally(
    c: Criterion,
    limits: Limits,
    reference: float,
    rows: Iterable[tuple[int, list[float]]],
    total: int,
) -> CriterionResult:
    """The criterion's result from each valid interval's values (slot, values in order)."""
    low, high = _bounds(c, reference)
    always_low, always_high = _always(c, reference)
    n = n1 = n2 = 0
    worst: float | None = None
    worst_slot: int | None = None
    worst_distance = -math.inf
    for slot, values in rows:
        if not math.isfinite(sum(values)):  # one NaN or infinity makes the sum so
            values = [v for v in values if math.isfinite(v)]
        if not values:
            continue
        n += 1
        least, most = min(values), max(values)
        n1 += (low is not None and least < low) or (high is not None and most > high)
        n2 += (always_low is not None and least < always_low) or (
            always_high is not None and most > always_high
        )
        # The interval's worst value: the one farthest from the reference (the highest,
        # against an upper limit); on a tie, the first in the interval's order.
        if c.limit is None:
            far, near = abs(most - reference), abs(least - reference)
            if far == near:
                candidate = next(v for v in values if v in (least, most))
            else:
                candidate = most if far > near else least
            distance = max(far, near)
        else:
            candidate, distance = most, most
        if distance > worst_distance:
            worst, worst_slot, worst_distance = candidate, slot, distance
    return _result(c, limits, reference, total, n, n1, n2, worst, worst_slot)


def _result(
    c: Criterion,
    limits: Limits,
    reference: float,
    total: int,
    n: int,
    n1: int,
    n2: int,
    worst: float | None,
    worst_slot: int | None,
) -> CriterionResult:
    share = n / total if total else 0.0
    if n == 0 or share < limits.min_valid_share:
        verdict = Verdict.INSUFFICIENT
    elif n2 == 0 and Fraction(n1, n) <= 1 - Fraction(str(c.share)):
        verdict = Verdict.PASSED
    else:
        verdict = Verdict.FAILED
    return CriterionResult(c, verdict, n, n1, n2, worst, worst_slot, share, reference)


def _extremes(ids: Sequence[str], interval: Interval) -> list[float]:
    """Each phase's lowest and highest reading in one interval (its mean when the device
    gave neither); empty when it gave none of them (the interval does not count)."""
    mean, low, high = interval.mean, interval.low, interval.high
    values: list[float] = []
    for q in ids:
        a, b = low.get(q), high.get(q)
        if a is not None:
            values.append(a)
        if b is not None:
            values.append(b)
        if a is None and b is None and q in mean:
            values.append(mean[q])
    return values


def _week_verdict(results: Sequence[CriterionResult]) -> WeekVerdict:
    if any(r.verdict is Verdict.FAILED for r in results):
        return WeekVerdict.KO
    needed = [r for r in results if r.criterion.id in ("voltage", "frequency")]
    if needed and all(r.verdict is Verdict.PASSED for r in needed):
        return WeekVerdict.OK
    return WeekVerdict.INSUFFICIENT


# ------------------------------------------------------------------------------ the record


@dataclass(frozen=True)
class CriterionLine:
    """One criterion of a judged week as it is stored and shown (screen, CSV, JSON)."""

    id: str
    label: str  # English msgid
    unit: str
    verdict: Verdict
    n: int
    n1: int
    n2: int
    share: float  # of the valid intervals that must lie in [low, high]
    low: float | None
    high: float | None
    always_low: float | None
    always_high: float | None
    worst: float | None
    worst_at: int | None  # epoch seconds of the interval's start
    valid_share: float
    yearly: bool = False


@dataclass(frozen=True)
class WeekReport:
    """A judged week of one gateway's EQ device, as stored: what every view shows."""

    gateway_id: int
    device_id: int
    start: int
    end: int
    intervals: int
    flagged: int
    verdict: WeekVerdict
    edition: str
    criteria: tuple[CriterionLine, ...]
    not_seen: tuple[str, ...] = NOT_SEEN

    @classmethod
    def of(cls, result: WeekResult, gateway_id: int, device_id: int) -> WeekReport:
        lines = []
        for r in result.criteria:
            low, high = r.bounds()
            always_low, always_high = r.always_bounds()
            worst_at = None if r.worst_slot is None else r.worst_slot * SLOT_SECONDS
            c = r.criterion
            lines.append(
                CriterionLine(
                    c.id, c.label, c.unit, r.verdict, r.n, r.n1, r.n2, c.share, low, high,
                    always_low, always_high, r.worst, worst_at, r.valid_share, c.yearly,
                )
            )  # fmt: skip
        return cls(
            gateway_id,
            device_id,
            result.start,
            result.end,
            result.intervals,
            result.flagged,
            result.verdict,
            result.edition,
            tuple(lines),
            result.not_seen,
        )

    def line(self, cid: str) -> CriterionLine | None:
        return next((c for c in self.criteria if c.id == cid), None)

    def document(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``ews en50160 --json`` prints and the store keeps)."""
        return {
            "gateway_id": self.gateway_id,
            "device_id": self.device_id,
            "start": self.start,
            "end": self.end,
            "intervals": self.intervals,
            "flagged": self.flagged,
            "verdict": self.verdict.value,
            "edition": self.edition,
            "criteria": [{**c.__dict__, "verdict": c.verdict.value} for c in self.criteria],
            "not_seen": list(self.not_seen),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> WeekReport:
        lines = tuple(
            CriterionLine(**{**c, "verdict": Verdict(c["verdict"])}) for c in doc["criteria"]
        )
        return cls(
            int(doc["gateway_id"]),
            int(doc["device_id"]),
            int(doc["start"]),
            int(doc["end"]),
            int(doc["intervals"]),
            int(doc["flagged"]),
            WeekVerdict(doc["verdict"]),
            str(doc["edition"]),
            lines,
            tuple(doc.get("not_seen", NOT_SEEN)),
        )


def week_label(start: int, tz: ZoneInfo) -> str:
    """``2026-W48``: the ISO week of the local Monday ``start`` begins."""
    year, week, _day = datetime.fromtimestamp(start, tz).date().isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> date:
    """The Monday of ISO week ``2026-W48`` (ValueError naming the expected form)."""
    try:
        year, week = text.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a week such as 2026-W48") from None


def last_finished_monday(now: float, tz: ZoneInfo) -> date:
    """The Monday that starts the last whole week before ``now`` (local)."""
    today = datetime.fromtimestamp(now, tz).date()
    this_monday = date.fromordinal(today.toordinal() - today.weekday())
    return date.fromordinal(this_monday.toordinal() - 7)
