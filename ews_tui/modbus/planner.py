"""The read planner: the wanted quantities of one device as the cheapest set of Modbus reads.

A transaction on an RS485 line costs a request (8 chars), a response header and CRC
(5 chars), two 3.5-char silent intervals and the device's turnaround; every register read
adds 2 chars. Reading a few unwanted registers between two quantities is therefore often
cheaper than a second transaction. The planner sorts the quantities by register per function
code and finds, by dynamic programming over that order, the partition into contiguous reads
of least total wire time, under the constraints:

- at most ``max_registers`` (125) registers per read;
- one function code per read (3 and 4 never mix);
- a quantity's words are never split across reads;
- a read never covers a register the model marks unreadable, nor one the device taught us
  to avoid (see :class:`PlanState`).

Everything here is pure (no asyncio, no I/O, no clock): values in, values out. The poller owns
one :class:`PlanState` per device, which caches the plans and remembers what the device
refused with exception 02 (Illegal Data Address).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ews_tui.domain.catalog import Quantity, RegisterMap
from ews_tui.domain.errors import DomainError
from ews_tui.domain.messages import N_, Message

Transport = Literal["rtu", "tcp"]
PollClass = Literal["fast", "slow"]
Span = tuple[int, int, int]  # (fc, first, last), inclusive

MAX_REGISTERS = 125  # Modbus limit for function codes 3 and 4
REQUEST_CHARS = 8  # address, fc, start (2), count (2), CRC (2)
RESPONSE_HEADER_CHARS = 5  # address, fc, byte count, CRC (2)
SILENCE_CHARS = 7  # two 3.5-char silent intervals
CHARS_PER_REGISTER = 2


class PlanError(DomainError):
    """The wanted quantities cannot be planned; the message names the map and the quantity."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


# ------------------------------------------------------------------------------ cost model


def bits_per_char(parity: str = "E", stopbits: int = 1, bytesize: int = 8) -> int:
    """Bits on the wire per character: start + data + parity + stop (8E1 -> 11, 8N1 -> 10)."""
    return 1 + bytesize + (0 if parity.upper() == "N" else 1) + stopbits


@dataclass(frozen=True)
class BusParams:
    """The line a device sits on. For a TCP gateway: its RS485 line plus a network overhead."""

    baud: int = 19200
    bits_per_char: int = 11
    transport: Transport = "rtu"
    # Fixed per-transaction cost of the network leg of a Modbus TCP gateway (seconds).
    tcp_overhead_s: float = 0.0
    max_registers: int = MAX_REGISTERS

    @classmethod
    def rtu(cls, baud: int = 19200, parity: str = "E", stopbits: int = 1) -> BusParams:
        return cls(baud=baud, bits_per_char=bits_per_char(parity, stopbits))

    @property
    def char_s(self) -> float:
        return self.bits_per_char / self.baud


DEFAULT_BUS = BusParams()


@dataclass(frozen=True)
class CostModel:
    """Wire time of one read transaction of a given device on a given line."""

    bus: BusParams = DEFAULT_BUS
    turnaround_ms: float = 5.0

    @property
    def fixed_s(self) -> float:
        """The cost of a transaction before any register: what merging saves."""
        chars = REQUEST_CHARS + RESPONSE_HEADER_CHARS + SILENCE_CHARS
        overhead = self.bus.tcp_overhead_s if self.bus.transport == "tcp" else 0.0
        return chars * self.bus.char_s + self.turnaround_ms / 1000.0 + overhead

    def transaction_s(self, count: int) -> float:
        """Seconds of one read of ``count`` registers, request to end of response."""
        return self.fixed_s + CHARS_PER_REGISTER * count * self.bus.char_s


DEFAULT_COST = CostModel()


# ------------------------------------------------------------------------------ plan values


@dataclass(frozen=True)
class Read:
    """One read transaction: ``count`` registers from ``start`` with ``fc``."""

    fc: int
    start: int
    count: int
    quantities: tuple[str, ...] = ()

    @property
    def stop(self) -> int:
        """One past the last register read."""
        return self.start + self.count


@dataclass(frozen=True)
class ReadPlan:
    """The reads that fetch ``wanted`` from one device, and what they cost on the wire."""

    reads: tuple[Read, ...]
    cost: CostModel = field(default_factory=CostModel)
    wanted: tuple[str, ...] = ()
    # Wanted quantities the device refused even read alone: report them missing, never retry.
    unavailable: tuple[str, ...] = ()

    @property
    def wire_time_s(self) -> float:
        return plan_cost(self)

    def covering(self, ids: Iterable[str]) -> tuple[Read, ...]:
        """The reads that fetch any of ``ids`` (e.g. to retry a split read in the same cycle)."""
        wanted = set(ids)
        return tuple(r for r in self.reads if wanted.intersection(r.quantities))


def plan_cost(plan: ReadPlan) -> float:
    """Total wire time of a plan, in seconds: the floor of a poll cycle of that device."""
    return sum(plan.cost.transaction_s(r.count) for r in plan.reads)


# ------------------------------------------------------------------------------ constraints


@dataclass(frozen=True)
class _Blocked:
    """Registers a read of one function code must not cover."""

    declared: tuple[tuple[int, int], ...]  # inclusive spans from the register map
    learned: frozenset[int]  # single registers the device refused

    def crosses(self, first: int, last: int, covered: Collection[int]) -> bool:
        """True when ``first..last`` holds a blocked register not belonging to the read's
        own quantities (a quantity's own registers are tried, at worst alone)."""
        if any(lo <= last and first <= hi for lo, hi in self.declared):
            return True
        if self.learned:
            return any(r in self.learned and r not in covered for r in range(first, last + 1))
        return False


def _error(msgid: str, **params: object) -> PlanError:
    return PlanError(Message(msgid, params))


def _check_quantities(
    quantities: Sequence[Quantity], unreadable: Sequence[Span], bus: BusParams, where: str
) -> None:
    for q in quantities:
        last = q.register + q.words - 1
        if q.words > bus.max_registers:
            msgid = N_("{where}: quantity {qid!r} needs {words} registers, over the limit {limit}")
            raise _error(msgid, where=where, qid=q.id, words=q.words, limit=bus.max_registers)
        for fc, lo, hi in unreadable:
            if fc == q.fc and lo <= last and q.register <= hi:
                msgid = N_(
                    "{where}: quantity {qid!r} (fc {fc}, registers {first}..{last}) "
                    "overlaps the unreadable span {lo}..{hi}"
                )
                raise _error(
                    msgid, where=where, qid=q.id, fc=fc, first=f"{q.register:#06x}",
                    last=f"{last:#06x}", lo=f"{lo:#06x}", hi=f"{hi:#06x}",
                )  # fmt: skip


def _sort_key(q: Quantity) -> tuple[int, int, str]:
    return (q.register, q.register + q.words, q.id)


# ------------------------------------------------------------------------------ the planner


def _plan_one_fc(
    quantities: Sequence[Quantity],
    fc: int,
    cost: CostModel,
    blocked: _Blocked,
    isolated: Collection[str],
) -> list[Read]:
    """Least-cost partition of ``quantities`` (one fc, sorted) into contiguous reads."""
    n = len(quantities)
    best = [0.0] + [math.inf] * n  # best[k]: cheapest plan of the first k quantities
    back = [0] * (n + 1)  # back[k]: where the last read of that plan starts
    limit = cost.bus.max_registers
    for i in range(n):
        start = quantities[i].register
        last = start
        covered: set[int] = set()
        for j in range(i, n):
            q = quantities[j]
            if j > i and (q.id in isolated or quantities[i].id in isolated):
                break
            last = max(last, q.register + q.words - 1)
            count = last - start + 1
            if count > limit:
                break
            covered.update(range(q.register, q.register + q.words))
            if blocked.crosses(start, last, covered):
                # A hole in the covered registers lies below q.register, and later quantities
                # start at or above it: no longer read from i can be valid either.
                break
            total = best[i] + cost.transaction_s(count)
            if total < best[j + 1]:
                best[j + 1], back[j + 1] = total, i
    reads: list[Read] = []
    k = n
    while k > 0:
        i = back[k]
        group = quantities[i:k]
        start = group[0].register
        stop = max(q.register + q.words for q in group)
        reads.append(Read(fc, start, stop - start, tuple(q.id for q in group)))
        k = i
    reads.reverse()
    return reads


def plan_quantities(
    quantities: Iterable[Quantity],
    cost: CostModel = DEFAULT_COST,
    *,
    unreadable: Sequence[Span] = (),
    learned: Mapping[int, Collection[int]] | None = None,
    isolated: Collection[str] = (),
    where: str = "register map",
) -> ReadPlan:
    """The cheapest reads for ``quantities``.

    ``unreadable`` are the map's (fc, first, last) spans: a wanted quantity overlapping one is
    an error. ``learned`` maps fc -> registers the device refused, which a read may cover only
    when one of its own quantities owns them; ``isolated`` quantities are read alone.
    """
    unique: dict[str, Quantity] = {}
    for q in quantities:
        unique.setdefault(q.id, q)
    wanted = list(unique.values())
    _check_quantities(wanted, unreadable, cost.bus, where)
    learned = learned or {}
    reads: list[Read] = []
    for fc in sorted({q.fc for q in wanted}):
        group = sorted((q for q in wanted if q.fc == fc), key=_sort_key)
        blocked = _Blocked(
            declared=tuple((lo, hi) for f, lo, hi in unreadable if f == fc),
            learned=frozenset(learned.get(fc, ())),
        )
        reads.extend(_plan_one_fc(group, fc, cost, blocked, isolated))
    return ReadPlan(tuple(reads), cost, tuple(unique))


def naive_plan_quantities(
    quantities: Iterable[Quantity],
    cost: CostModel = DEFAULT_COST,
    *,
    unreadable: Sequence[Span] = (),
    where: str = "register map",
) -> ReadPlan:
    """One read per quantity: the baseline the poll benchmark compares against."""
    unique: dict[str, Quantity] = {}
    for q in quantities:
        unique.setdefault(q.id, q)
    _check_quantities(list(unique.values()), unreadable, cost.bus, where)
    reads = tuple(
        Read(q.fc, q.register, q.words, (q.id,))
        for q in sorted(unique.values(), key=lambda q: (q.fc, *_sort_key(q)))
    )
    return ReadPlan(reads, cost, tuple(unique))


# ------------------------------------------------------------------------------ register maps


def select(
    reg_map: RegisterMap, *, ids: Iterable[str] | None = None, poll: PollClass | None = None
) -> tuple[Quantity, ...]:
    """The map's quantities named by ``ids`` and/or of poll class ``poll`` (all when neither)."""
    chosen = reg_map.quantities
    if ids is not None:
        by_id = {q.id: q for q in reg_map.quantities}
        wanted = list(dict.fromkeys(ids))
        unknown = [qid for qid in wanted if qid not in by_id]
        if unknown:
            msgid = N_("register map {map_id}: no quantity {qid!r}")
            raise _error(msgid, map_id=reg_map.id, qid=unknown[0])
        chosen = tuple(by_id[qid] for qid in wanted)
    if poll is not None:
        chosen = tuple(q for q in chosen if q.poll == poll)
    return chosen


def _cost_of(reg_map: RegisterMap, bus: BusParams) -> CostModel:
    return CostModel(bus, reg_map.turnaround_ms)


def plan_map(
    reg_map: RegisterMap,
    bus: BusParams = DEFAULT_BUS,
    *,
    ids: Iterable[str] | None = None,
    poll: PollClass | None = None,
) -> ReadPlan:
    """The cheapest reads of the wanted quantities of a register map."""
    return plan_quantities(
        select(reg_map, ids=ids, poll=poll),
        _cost_of(reg_map, bus),
        unreadable=reg_map.unreadable,
        where=f"register map {reg_map.id}",
    )


def plan_for(reg_map: RegisterMap, poll_class: PollClass, bus: BusParams = DEFAULT_BUS) -> ReadPlan:
    """The plan of one poll class ("fast" or "slow")."""
    return plan_map(reg_map, bus, poll=poll_class)


def plan_all(reg_map: RegisterMap, bus: BusParams = DEFAULT_BUS) -> ReadPlan:
    """One plan for every quantity, merging across classes (when fast and slow are both due)."""
    return plan_map(reg_map, bus)


def naive_plan(
    reg_map: RegisterMap,
    bus: BusParams = DEFAULT_BUS,
    *,
    ids: Iterable[str] | None = None,
    poll: PollClass | None = None,
) -> ReadPlan:
    """One read per wanted quantity of a register map."""
    return naive_plan_quantities(
        select(reg_map, ids=ids, poll=poll),
        _cost_of(reg_map, bus),
        unreadable=reg_map.unreadable,
        where=f"register map {reg_map.id}",
    )


# ------------------------------------------------------------------------------ exception 02


class PlanState:
    """What one device taught us about its registers, and its cached plans.

    Owned by the poller, one per device. When the device answers exception 02 (Illegal Data
    Address) to a read, :meth:`split_read` remembers it and returns a new plan:

    1. a read with unwanted registers between its quantities: those gap registers are marked
       unreadable for this device (a later read covers them only if it wants them);
    2. a gap-free read of several quantities: each of them is read alone from then on;
    3. a quantity read alone: it is unavailable and left out of every plan (not retried).

    Each step adds to a finite set, so a device answering 02 forever cannot loop the poller.
    """

    def __init__(self, reg_map: RegisterMap, bus: BusParams = DEFAULT_BUS) -> None:
        self._map = reg_map
        self._cost = _cost_of(reg_map, bus)
        self._learned: dict[int, set[int]] = {}
        self._isolated: set[str] = set()
        self._unavailable: set[str] = set()
        self._cache: dict[tuple[tuple[str, ...] | None, str | None], ReadPlan] = {}
        # how many times the device taught us something: a new revision, new plans
        self.revision = 0

    @property
    def unavailable(self) -> frozenset[str]:
        return frozenset(self._unavailable)

    @property
    def learned(self) -> Mapping[int, frozenset[int]]:
        """fc -> gap registers this device refused (for logs and the probe)."""
        return {fc: frozenset(regs) for fc, regs in self._learned.items()}

    def plan(self, ids: Iterable[str] | None = None, poll: PollClass | None = None) -> ReadPlan:
        key = (tuple(ids) if ids is not None else None, poll)
        cached = self._cache.get(key)
        if cached is None:
            chosen = select(self._map, ids=key[0], poll=poll)
            plan = plan_quantities(
                (q for q in chosen if q.id not in self._unavailable),
                self._cost,
                unreadable=self._map.unreadable,
                learned=self._learned,
                isolated=self._isolated,
                where=f"register map {self._map.id}",
            )
            gone = tuple(q.id for q in chosen if q.id in self._unavailable)
            cached = ReadPlan(plan.reads, plan.cost, tuple(q.id for q in chosen), gone)
            self._cache[key] = cached
        return cached

    def plan_for(self, poll_class: PollClass) -> ReadPlan:
        return self.plan(poll=poll_class)

    def plan_all(self) -> ReadPlan:
        return self.plan()

    def split_read(self, plan: ReadPlan, read: Read) -> ReadPlan:
        """Record that the device answered exception 02 to ``read``; the re-planned ``plan``."""
        self.refused(read)
        return self.plan(ids=plan.wanted)

    def refused(self, read: Read) -> None:
        """Record an exception 02 answer to ``read`` (see the class docstring)."""
        by_id = {q.id: q for q in self._map.quantities}
        own = [by_id[qid] for qid in read.quantities if qid in by_id]
        if len(own) <= 1:
            self._unavailable.update(read.quantities)
        else:
            covered = {r for q in own for r in range(q.register, q.register + q.words)}
            gaps = set(range(read.start, read.stop)) - covered
            if gaps:
                self._learned.setdefault(read.fc, set()).update(gaps)
            else:
                self._isolated.update(q.id for q in own)
        self._cache.clear()
        self.revision += 1
