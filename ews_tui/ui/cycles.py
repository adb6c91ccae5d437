"""Textual's style cycles broken where the box knows they end: less garbage left to the
full collections.

A widget with component classes (an input's cursor, a table's rows, an option list's
highlight, a footer key) gets its styles for each class from a *virtual node*: a
``DOMNode`` that the stylesheet makes, styles and keeps only through its styles. The node and
its ``Styles`` refer to each other (``Styles.node``), so when the widget is restyled (the
stylesheet makes new virtual nodes, at each focus or class change) or removed (Textual clears
``_component_styles`` as the widget leaves), the old nodes are a reference cycle of about
50 objects each (the node, its styles, signals, weak sets, caches) that only a full
collection frees. They reach the old generation first: a screen is open for seconds.

Five sessions opening every screen left about 5,000 cyclic objects per closed screen
(bench_sessions' navigating phase, a census of what each full collection freed: 277 k
objects from 55 screens in one of them, 578 ms of CPU). A test screen with five inputs,
five dropdowns, a table and a footer, opened and closed: 11.2 k cyclic objects, 6.7 k once
the virtual nodes are retired here.

:func:`retire` breaks a virtual node's cycle once nothing uses it: its attributes are
dropped, so the node, its styles and the rest are freed as their last reference goes,
without a collection. :class:`RetiresStyles` retires the nodes of a screen's widgets when the
screen's message loop ends; :class:`ews_tui.ui.app.SharedStylesheet` those a restyle
replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from textual.css.styles import RenderStyles
from textual.dom import DOMNode
from textual.screen import Screen

ResultT = TypeVar("ResultT")


def held_styles(node: DOMNode) -> list[RenderStyles]:
    """The component styles ``node`` holds now (one per component class)."""
    return list(node._component_styles.values())


def retire(styles: Iterable[RenderStyles]) -> None:
    """Break the cycle of each style's virtual node (none used any more)."""
    for render_styles in styles:
        node = render_styles.base.node
        if node is not None:
            node.__dict__.clear()


def replaced(before: Iterable[RenderStyles], node: DOMNode) -> list[RenderStyles]:
    """Of the component styles ``node`` held ``before``, the ones it no longer holds."""
    now = {id(styles) for styles in node._component_styles.values()}
    return [styles for styles in before if id(styles) not in now]


class RetiresStyles(Screen[ResultT]):
    """A screen that retires its widgets' virtual nodes as it goes (see the module)."""

    async def _message_loop_exit(self) -> None:
        nodes = self.walk_children(with_self=True)
        held = [styles for node in nodes for styles in held_styles(node)]
        await super()._message_loop_exit()
        retire(held)
