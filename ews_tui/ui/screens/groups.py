"""System configuration > Circuits, zones and switchboards (manual §7.16.2).

Three pages (Switchboards, Circuits, Measurement zones), each a list and a form: Add, Save,
Delete (the intermediate page: Deactivate or Delete; preset circuits only deactivate) and
Activate. Every change goes through the installation service; a refusal of the domain shows
under its field (the name) or under the form (too many circuits). The screen follows
InstallationChanged, so an edit from another session shows here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import AwaitMount
from textual.widgets import Static, TabbedContent, TabPane

from ews_tui.domain.edits import (
    InstallationError,
    delete_group,
    save_group,
    set_group_active,
)
from ews_tui.domain.events import InstallationChanged
from ews_tui.domain.installation import Circuit, Installation
from ews_tui.i18n import N_, _
from ews_tui.services.installation import InstallationService
from ews_tui.ui.app import UnsavedInput
from ews_tui.ui.follow import while_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.group_remove import GroupRemoveScreen
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.group_panel import GroupPanel, group_name

STYLES = Path(__file__).resolve().parent.parent / "styles"
PAGES = (
    ("switchboards", N_("Switchboards")),
    ("circuits", N_("Circuits")),
    ("zones", N_("Measurement zones")),
)


class GroupsScreen(UnsavedInput, EwsScreen[None]):
    CSS_PATH = STYLES / "groups.tcss"
    # The page's list has the focus from the start (Textual's default gave it to the tabs
    # first, then on_mount moved it: both restyled twice as the screen opened).
    AUTO_FOCUS = "GroupPanel OptionList"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", N_("Add")),
        Binding("s", "save", N_("Save")),
        Binding("ctrl+s", "save", N_("Save"), show=False, priority=True),
        Binding("d", "delete", N_("Delete")),
        Binding("o", "toggle_active", N_("(De)activate")),
        Binding("w", "page('switchboards')", N_("Switchboards"), show=False),
        Binding("c", "page('circuits')", N_("Circuits"), show=False),
        Binding("z", "page('zones')", N_("Zones"), show=False),
    ]

    def __init__(self, page: str = "switchboards", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._first_page = page
        # The pages composed so far (the first one; another when first shown) and their
        # mounting, awaited by whoever needs the page next.
        self._panels: dict[str, GroupPanel] = {}
        self._mounting: dict[str, AwaitMount] = {}

    @property
    def service(self) -> InstallationService:
        return self.session.service(InstallationService)

    def compose(self) -> ComposeResult:
        yield Static(_("Circuits, zones and switchboards"), classes="page-title")
        # Only the page shown is composed: the other two when first shown (issue 16).
        with TabbedContent(initial=self._first_page, id="group-pages"):
            for kind, title in PAGES:
                with TabPane(_(title), id=kind):
                    if kind == self._first_page:  # composed showing its first item
                        yield self._new_panel(kind, self.service.current)
        yield EwsFooter()

    def _new_panel(self, kind: str, inst: Installation | None = None) -> GroupPanel:
        panel = self._panels[kind] = GroupPanel(kind, inst, id=f"panel-{kind}")
        return panel

    def on_mount(self) -> None:
        self.panel().option_list.focus()
        self._follow()

    def _show_first(self, panel: GroupPanel) -> None:
        inst = self.service.current
        items = inst.groups(panel.kind)
        panel.show(inst, items[0].id if items else None)

    async def page_panel(self, kind: str | None = None) -> GroupPanel:
        """The panel of page ``kind`` (the page shown by default), composed if need be."""
        kind = kind or self._active()
        if kind not in self._panels:
            panel = self._new_panel(kind)
            self._mounting[kind] = self.query_one(f"#{kind}", TabPane).mount(panel)
            await self._mounting[kind]
            self._show_first(panel)
        elif kind in self._mounting:
            await self._mounting[kind]
        return self._panels[kind]

    def _active(self) -> str:
        return self.query_one("#group-pages", TabbedContent).active or "switchboards"

    def panel(self, kind: str | None = None) -> GroupPanel:
        """The panel of a page already composed (the one shown, by default)."""
        return self._panels[kind or self._active()]

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id is not None:
            await self.page_panel(event.pane.id)

    @work(exclusive=True, group="follow")
    async def _follow(self) -> None:
        """Show the installation saved by any session."""
        with self.session.hub.subscribe(
            InstallationChanged, maxsize=8, name="groups-screen"
        ) as changes:
            async for _event in while_shown(self, changes):
                self._show_all(self.service.current)

    def _show_all(self, inst: Installation, kind: str = "", select_id: int | None = None) -> None:
        for page, panel in self._panels.items():
            if page not in self._mounting or panel.is_mounted:
                panel.show(inst, select_id if page == kind else None)

    def unsaved_input(self) -> bool:
        """A new item being written, or a saved one changed, on any of the three pages."""
        return any(panel.is_mounted and panel.unsaved() for panel in self._panels.values())

    # ------------------------------------------------------------------ actions

    async def action_page(self, kind: str) -> None:
        panel = await self.page_panel(kind)
        self.query_one("#group-pages", TabbedContent).active = kind
        panel.option_list.focus()

    async def action_add(self) -> None:
        panel = await self.page_panel()
        if panel.kind == "circuits":  # the domain says at once whether one more is allowed
            try:
                save_group(self.service.current, Circuit(0, "\u2060"), self.service.context)
            except InstallationError as error:
                refusals = [v for v in error.violations if v.field != "name"]
                if refusals:
                    panel.show_violations(refusals)
                    return
        panel.start_new()

    async def action_save(self) -> None:
        self._apply(save_group, (await self.page_panel()).item())

    async def action_toggle_active(self) -> None:
        panel = await self.page_panel()
        if panel.selected is not None:
            selected = panel.selected
            self._apply(set_group_active, panel.kind, selected.id, not selected.active)

    async def action_delete(self) -> None:
        panel = await self.page_panel()
        item = panel.selected
        if item is None:
            panel.start_new()  # Delete on a new, unsaved item: forget it
            return
        preset = isinstance(item, Circuit) and item.is_preset

        def chosen(choice: str | None) -> None:
            if choice == "delete":
                self._apply(delete_group, panel.kind, item.id)
            elif choice in ("deactivate", "activate"):
                self._apply(set_group_active, panel.kind, item.id, choice == "activate")

        screen = GroupRemoveScreen(group_name(item), active=item.active, preset=preset)
        self.app.push_screen(screen, chosen)

    @work(exclusive=True, group="apply")
    async def _apply(self, edit: Any, *args: Any) -> None:
        panel = self.panel()
        before = self.service.current
        new_id = before.next_id(panel.kind)
        try:
            inst = await self.service.apply(edit, *args)
        except InstallationError as error:
            panel.show_violations(error.violations)
            return
        selected = panel.selected
        if edit is delete_group:
            keep = None
        elif selected is None:
            keep = new_id
        else:
            keep = selected.id
        if keep is None:
            items = inst.groups(panel.kind)
            keep = items[0].id if items else None
            panel.selected = None
        self._show_all(inst, panel.kind, keep)
        self.notify(_("Saved."), timeout=2)


SCREEN = GroupsScreen
