"""Style cycles broken where they end (``ews_tui.ui.cycles``): a closed screen's and a
restyled widget's virtual nodes are freed by their last reference going, with the garbage
collector off, instead of waiting for a full collection."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from textual.app import App, ComposeResult
from textual.dom import DOMNode
from textual.widgets import DataTable, Footer, Input

from ews_tui.ui.app import SharedStylesheet
from ews_tui.ui.cycles import RetiresStyles, held_styles
from ews_tui.ui.screen import EwsModalScreen, EwsScreen


def test_the_products_screens_retire_their_styles() -> None:
    assert issubclass(EwsScreen, RetiresStyles) and issubclass(EwsModalScreen, RetiresStyles)


class Form(RetiresStyles[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="one")
        yield Input(id="two")
        yield DataTable()
        yield Footer()


class FormApp(App[None]):
    """A plain Textual app with the box's stylesheet (an EwsApp needs a whole box)."""

    def __init__(self) -> None:
        super().__init__()
        self.stylesheet = SharedStylesheet(variables=self.get_css_variables())


def virtual_nodes(root: DOMNode) -> list[weakref.ref[DOMNode]]:
    return [
        weakref.ref(styles.base.node)
        for node in root.walk_children(with_self=True)
        for styles in held_styles(node)
        if styles.base.node is not None
    ]


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def test_a_closed_screens_virtual_nodes_go_without_a_collection(collector_off: None) -> None:
    app = FormApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = Form()
        await app.push_screen(screen)
        await pilot.pause()
        nodes = virtual_nodes(screen)
        assert len(nodes) >= 8  # two inputs' classes, the table's, the footer keys'
        await app.pop_screen()
        await pilot.pause()
        del screen
        alive = [ref for ref in nodes if ref() is not None]
        assert alive == []


async def test_a_restyle_retires_the_virtual_nodes_it_replaced(collector_off: None) -> None:
    app = FormApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(Form())
        await pilot.pause()
        field = app.screen.query_one("#one", Input)
        before = virtual_nodes(field)
        assert before
        app.stylesheet.apply(field, animate=False)  # new virtual nodes for its classes
        after = virtual_nodes(field)
        assert {id(ref()) for ref in after}.isdisjoint({id(ref()) for ref in before})
        assert [ref for ref in before if ref() is not None] == []
        assert field.get_component_rich_style("input--cursor") is not None  # the new ones work
