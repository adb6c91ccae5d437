"""One device on a bus: its register map, what it taught us, and its reads decoded to values.

:func:`device_map` finds the :class:`RegisterMap` of an installation device: its model's map
(side 2 of a two-sided charger shifted by the map's ``side_offset``), the generic map built
from the user's register, or, for a pulse meter, the one ``input<N>_index`` of its
concentrator's map renamed to the meter's own quantity. A :class:`DeviceReader` holds that
map and the device's :class:`PlanState`, executes a plan through a read function and decodes
the words; an exception 02 to a merged read splits it and re-plans in the same call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace

from ews_tui.domain.catalog import Catalog, Model, RegisterMap, generic_map
from ews_tui.domain.errors import CatalogError, DomainError
from ews_tui.domain.installation import Device
from ews_tui.domain.messages import N_, Message
from ews_tui.modbus.codec import BlockDecoder, CodecError, decode
from ews_tui.modbus.planner import BusParams, PlanState, PollClass, Read, ReadPlan
from ews_tui.modbus.transport import ExceptionCode, Failure, ReadResult

log = logging.getLogger(__name__)

ILLEGAL_DATA_ADDRESS = 2
PULSE_ELECTRICITY_ID = "ea_import"  # a pulse electricity meter's index, in kWh
PULSE_INDEX_ID = "index"  # a gas or water pulse meter's index, in m3

Values = Mapping[str, float | str | None]
ReadFn = Callable[[int, int, int, int], Awaitable[ReadResult]]  # (fc, address, start, count)
DecodeInto = Callable[[dict[str, float | str | None], tuple[int, ...]], None]


class DeviceMapError(DomainError):
    """The device cannot be read: unknown model, no map, bad generic register..."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


@dataclass(frozen=True)
class DeviceTarget:
    """What a bus poller needs to read one device."""

    device_id: int
    address: int
    reg_map: RegisterMap
    model: str = ""
    provenance: str = "assumed"


def _error(msgid: str, **params: object) -> DeviceMapError:
    return DeviceMapError(Message(msgid, params))


def pulse_map(
    concentrator_map: RegisterMap, position: int, meter: Model, concentrator: str = ""
) -> RegisterMap:
    """The map of a pulse meter wired to input ``position`` of a concentrator."""
    source = concentrator_map.quantity(f"input{position}_index")
    if source is None:
        raise _error(
            N_("concentrator {concentrator} has no input {position}"),
            concentrator=concentrator or concentrator_map.id,
            position=position,
        )
    electricity = meter.energy == "electricity"
    qid = PULSE_ELECTRICITY_ID if electricity else PULSE_INDEX_ID
    quantity = replace(source, id=qid, unit=meter.index_unit)
    return replace(
        concentrator_map,
        id=f"{concentrator_map.id}#input{position}",
        quantities=(quantity,),
    )


def device_map(device: Device, catalog: Catalog) -> tuple[Model | None, RegisterMap]:
    """The model (None for a generic register) and the register map to read ``device``."""
    model = catalog.find(device.model) if device.model else None
    if device.generic is not None and (model is None or model.generic):
        g = device.generic
        try:
            return model, generic_map(g.fc, g.register, g.words, g.multiplier)
        except CatalogError as exc:
            raise DeviceMapError(exc.message) from None  # translatable; the device is known
    if model is None:
        raise _error(N_('unknown model "{model}"'), model=device.model)
    if model.addressing == "pulse":
        concentrator = catalog.find(device.concentrator or "")
        reg_map = catalog.register_map(concentrator) if concentrator else None
        if reg_map is None or device.position is None:
            raise _error(
                N_("pulse meter {device}: no concentrator map for {concentrator!r}"),
                device=device.id,
                concentrator=device.concentrator or "",
            )
        return model, pulse_map(reg_map, device.position, model, device.concentrator or "")
    reg_map = catalog.register_map(model)
    if reg_map is None:
        raise _error(N_('model "{model}" has no register map'), model=model.ref)
    if device.side and device.side > 1:
        reg_map = reg_map.for_side(device.side)
    return model, reg_map


def device_target(device: Device, catalog: Catalog) -> DeviceTarget:
    """The poll target of an installation device (raises DeviceMapError)."""
    model, reg_map = device_map(device, catalog)
    return DeviceTarget(
        device_id=device.id,
        address=device.address,
        reg_map=reg_map,
        model=model.ref if model else "generic",
        provenance=reg_map.provenance,
    )


def bus_for_map(bus: BusParams, reg_map: RegisterMap) -> BusParams:
    """The bus parameters with the device's own read-size limit."""
    if reg_map.max_registers < bus.max_registers:
        return replace(bus, max_registers=reg_map.max_registers)
    return bus


class DeviceReader:
    """Plans, reads and decodes one device; owned by its bus poller."""

    def __init__(self, target: DeviceTarget, bus: BusParams) -> None:
        self.target = target
        self.reg_map = target.reg_map
        self.state = PlanState(target.reg_map, bus_for_map(bus, target.reg_map))
        self.requests = 0  # reads sent (the poller's transaction count)
        self._classes = {q.poll for q in target.reg_map.quantities}
        self._quantities = {q.id: q for q in target.reg_map.quantities}
        self._decoders: dict[Read, BlockDecoder | _OneByOne] = {}
        # per plan (the planner caches them): its reads' decoders and its values before any
        # read (every wanted quantity missing), without hashing a Read
        self._prepared: dict[int, _Prepared] = {}
        # per due classes as the poller passes them, while the plans stand (the planner's
        # revision): what read() needs, without planning nor a set per poll
        self._by_classes: dict[tuple[PollClass, ...], _Prepared] = {}
        self._revision = self.state.revision

    @property
    def address(self) -> int:
        return self.target.address

    def has_class(self, poll: PollClass) -> bool:
        return poll in self._classes

    def plan(self, classes: Collection[PollClass]) -> ReadPlan:
        """The plan for the due classes: one merged plan when fast and slow are both due."""
        wanted = {c for c in classes if c in self._classes}
        if len(wanted) == 1:
            return self.state.plan(poll=next(iter(wanted)))
        return self.state.plan()

    def _prepared_for(self, classes: Collection[PollClass]) -> _Prepared:
        key = classes if type(classes) is tuple else tuple(classes)
        if self._revision != self.state.revision:  # the device taught us something
            self._by_classes.clear()
            self._revision = self.state.revision
        prepared = self._by_classes.get(key)
        if prepared is None:
            prepared = self._by_classes[key] = self._prepare(self.plan(classes))
        return prepared

    async def read(
        self, read_fn: ReadFn, classes: Collection[PollClass] = ("fast", "slow")
    ) -> Values | Failure:
        """Read the due classes; the decoded values (None when missing) or the failure."""
        prepared = self._prepared_for(classes)
        values = prepared.missing.copy()
        address = self.target.address
        for index, (fc, start, count, decode_into, read) in enumerate(prepared.steps):
            result = await read_fn(fc, address, start, count)
            if isinstance(result, Failure):
                self.requests += index + 1
                if isinstance(result, ExceptionCode) and result.code == ILLEGAL_DATA_ADDRESS:
                    return await self._replanned(read_fn, prepared.plan, index, values)
                return result
            try:
                decode_into(values, result)
            except CodecError:  # decode one by one, to log which quantity is wrong
                values.update(self._decode_each(read, result))
        self.requests += len(prepared.steps)
        if prepared.none_available:
            return ExceptionCode(address, ILLEGAL_DATA_ADDRESS)
        return values

    async def _replanned(
        self, read_fn: ReadFn, plan: ReadPlan, refused: int, values: dict[str, float | str | None]
    ) -> Values | Failure:
        """The rest of :meth:`read` after the device answered exception 02 to the read at
        ``refused`` in ``plan``: re-plan, and read what is not read yet."""
        address = self.target.address
        done = {qid for read in plan.reads[:refused] for qid in read.quantities}
        read = plan.reads[refused]
        while True:
            log.info(
                "device %d refused %s (exception 02): re-planning", self.target.device_id, read
            )
            plan = self.state.split_read(plan, read)
            for _fc, _start, _count, decode_into, read in self._prepare(plan).steps:
                if done.issuperset(read.quantities):
                    continue  # fetched before a re-plan
                self.requests += 1
                result = await read_fn(read.fc, address, read.start, read.count)
                if isinstance(result, ExceptionCode) and result.code == ILLEGAL_DATA_ADDRESS:
                    break  # re-plan again
                if isinstance(result, Failure):
                    return result
                try:
                    decode_into(values, result)
                except CodecError:
                    values.update(self._decode_each(read, result))
                done.update(read.quantities)
            else:
                break
        if plan.wanted and len(plan.unavailable) == len(plan.wanted):
            return ExceptionCode(address, ILLEGAL_DATA_ADDRESS)
        return values

    def _prepare(self, plan: ReadPlan) -> _Prepared:
        prepared = self._prepared.get(id(plan))
        if prepared is None or prepared.plan is not plan:
            if len(self._prepared) > 8:  # re-plans after exception 02: start afresh
                self._prepared.clear()
            steps = tuple(
                (read.fc, read.start, read.count, self._decoder(read).decode_into, read)
                for read in plan.reads
            )
            none = bool(plan.unavailable) and len(plan.unavailable) == len(plan.wanted)
            prepared = _Prepared(plan, steps, dict.fromkeys(plan.wanted), none)
            self._prepared[id(plan)] = prepared
        return prepared

    def _decoder(self, read: Read) -> BlockDecoder | _OneByOne:
        if read not in self._decoders:
            quantities = [self._quantities[qid] for qid in read.quantities
                          if qid in self._quantities]  # fmt: skip
            try:
                decoder: BlockDecoder | _OneByOne = BlockDecoder(
                    quantities, read.start, read.count, self.reg_map
                )
            except CodecError:
                decoder = _OneByOne()  # decoded one by one, each error logged
            self._decoders[read] = decoder
        return self._decoders[read]

    def _decode_each(self, read: Read, words: tuple[int, ...]) -> dict[str, float | str | None]:
        out: dict[str, float | str | None] = {}
        for qid in read.quantities:
            q = self._quantities.get(qid)
            if q is None:
                continue
            offset = q.register - read.start
            try:
                out[qid] = decode(q, words[offset : offset + q.words], self.reg_map)
            except CodecError as exc:
                log.warning("device %d: %s: %s", self.target.device_id, qid, exc)
                out[qid] = None
        return out


class _OneByOne:
    """The decoder of a read no :class:`BlockDecoder` can take: the reader decodes its
    quantities one by one, logging each that does not decode."""

    def decode_into(self, out: dict[str, float | str | None], words: tuple[int, ...]) -> None:
        raise CodecError("decoded one by one")


@dataclass(frozen=True, eq=False)
class _Prepared:
    """What a reader keeps per plan."""

    plan: ReadPlan
    # each read: its fc, start and count, its decoder's decode_into, the read
    steps: tuple[tuple[int, int, int, DecodeInto, Read], ...]
    missing: dict[str, float | str | None]  # every wanted quantity, None: copied per read
    none_available: bool  # every wanted quantity is unavailable (the device refused each)
