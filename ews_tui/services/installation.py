"""The installation service: the one place where the installation changes.

UI sessions and the CLI ask it for edits; it applies the domain edit, stores the result in
one transaction and publishes :class:`InstallationChanged`. Edits are serialised by a lock,
so two sessions never overwrite each other's change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.edits import InstallationError
from ews_tui.domain.events import InstallationChanged
from ews_tui.domain.installation import Device, Installation
from ews_tui.domain.installation_doc import from_document, to_document
from ews_tui.domain.rules import OwnServer, RuleContext
from ews_tui.hub import Hub
from ews_tui.store.installation_repo import InstallationRepo

log = logging.getLogger(__name__)


class InstallationService:
    name = "installation"

    def __init__(
        self,
        repo: InstallationRepo,
        hub: Hub,
        catalog: Catalog,
        licence: int,
        own_server: Callable[[], OwnServer | None] = lambda: None,
    ) -> None:
        self._repo = repo
        self._hub = hub
        self._catalog = catalog
        self._licence = licence
        self._own_server = own_server  # the settings' Modbus TCP server, read at each edit
        self._lock = asyncio.Lock()
        self._current: Installation | None = None

    @property
    def context(self) -> RuleContext:
        """What the rules depend on now (the Modbus TCP server may have been switched on)."""
        return RuleContext(self._catalog, self._licence, self._own_server())

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    @property
    def current(self) -> Installation:
        if self._current is None:
            raise RuntimeError("the installation service is not started")
        return self._current

    async def start(self) -> None:
        self._current = await self._repo.load()

    async def stop(self) -> None:
        return None

    async def apply(self, edit: Callable[..., Installation], *args: Any) -> Installation:
        """Apply ``edit(current, *args, context)``, store it, announce it.

        Raises InstallationError (nothing stored) when the edit breaks a rule.
        """
        async with self._lock:
            new = edit(self.current, *args, self.context)
            await self._repo.save(new)
            self._current = new
        log.info("installation revision %d saved (%s)", new.revision, edit.__name__)
        self._hub.publish(InstallationChanged(revision=new.revision))
        return new

    def read_document(self, doc: Mapping[str, Any]) -> Installation:
        """What importing ``doc`` would store (ids kept as the import keeps them), nothing
        stored; InstallationError when the document breaks a rule."""
        inst, problems = from_document(doc, self.context, previous=self._current)
        if problems:
            raise InstallationError(problems)
        return inst

    async def dropped_with_history(self, new: Installation) -> list[Device]:
        """The devices of the current installation that storing ``new`` would delete and
        that have history (measures or energy): what an import must not drop unasked."""
        kept = {d.id for d in new.devices}
        gone = [d for d in self.current.devices if d.id not in kept]
        recorded = set(await self._repo.devices_with_history(d.id for d in gone))
        return [d for d in gone if d.id in recorded]

    async def import_document(self, doc: Mapping[str, Any]) -> Installation:
        """Replace the whole installation with a document: all of it, or nothing."""
        async with self._lock:
            inst = self.read_document(doc)
            await self._repo.replace(inst)
            self._current = await self._repo.load()
        self._hub.publish(InstallationChanged(revision=self.current.revision))
        return self.current

    def export_document(self) -> dict[str, Any]:
        return to_document(self.current)
