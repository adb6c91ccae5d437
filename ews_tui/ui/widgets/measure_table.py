"""The table of one device's live values: quantity, value, unit (Live measures screen).

Rows follow the device's register map (quantity ids of the catalog); labels are translated,
values formatted by :func:`~ews_tui.ui.value_text.value_text` (every value renders, NaN and
1e32 too). A missing value, or any value of a silent device, shows as "—", never as the last
number read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from ews_tui.domain.catalog import known_unit
from ews_tui.i18n import N_, _
from ews_tui.ui.value_text import MISSING, value_text

MIN_LABEL_WIDTH = 8

QUANTITY_LABELS: Mapping[str, str] = {
    "v1": N_("Voltage L1-N"),
    "v2": N_("Voltage L2-N"),
    "v3": N_("Voltage L3-N"),
    "u12": N_("Voltage L1-L2"),
    "u23": N_("Voltage L2-L3"),
    "u31": N_("Voltage L3-L1"),
    "i1": N_("Current L1"),
    "i2": N_("Current L2"),
    "i3": N_("Current L3"),
    "in": N_("Neutral current"),
    "p": N_("Active power"),
    "p1": N_("Active power L1"),
    "p2": N_("Active power L2"),
    "p3": N_("Active power L3"),
    "q": N_("Reactive power"),
    "s": N_("Apparent power"),
    "pf": N_("Power factor"),
    "f": N_("Frequency"),
    "ea_import": N_("Active energy imported"),
    "ea_export": N_("Active energy exported"),
    "er_import": N_("Reactive energy imported"),
    "er_export": N_("Reactive energy exported"),
    "session_energy": N_("Session energy"),
    "index": N_("Meter index"),
    "breaker": N_("Breaker"),
    "charger": N_("Charging station"),
}
_NUMBERED = re.compile(r"(in|out|input)([1-9][0-9]*)(_index)?")


def quantity_label(qid: str, custom: Mapping[str, str] | None = None) -> str:
    """The translated label of a quantity id; a device's own IO label wins."""
    if custom and qid in custom:
        return custom[qid]
    if qid in QUANTITY_LABELS:
        return _(QUANTITY_LABELS[qid])
    if qid.startswith("thd_") and qid[4:] in QUANTITY_LABELS:
        return _("THD {quantity}").format(quantity=_(QUANTITY_LABELS[qid[4:]]))
    numbered = _NUMBERED.fullmatch(qid)
    if numbered:
        kind, number, index = numbered.groups()
        if kind == "input" and index:
            return _("Pulse input {n} index").format(n=number)
        if kind == "in":
            return _("Input {n}").format(n=number)
        if kind == "out":
            return _("Output {n}").format(n=number)
    return qid


class MeasureTable(DataTable[str]):
    """Quantity / value / unit rows for one device; ``show_values`` updates the values.

    A number is never cut: the value column takes the width of its longest value, and the
    labels give way (shortened with "…") when the three columns would not fit.

    The table measures its columns itself (the cells are plain text) and gives Textual fixed
    widths: Textual's own fitting measured every cell of a column again for each cell that
    got narrower, which cost more than all the rest of the screen. ``show_values`` writes
    only the cells whose text changed; ``cells_written`` and ``rows_built`` count what it
    did (tests read them).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._units: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        self._shown: dict[str, str] = {}  # the label each row shows now
        self._values: dict[str, str] = {}  # the text each value cell shows now
        self.cells_written = 0
        self.rows_built = 0

    def on_mount(self) -> None:
        for key, title in (("label", _("Quantity")), ("value", _("Value")), ("unit", _("Unit"))):
            self.add_column(title, key=key, width=cell_len(title))

    def set_rows(
        self, rows: Sequence[tuple[str, str]], custom: Mapping[str, str] | None = None
    ) -> None:
        """One row per ``(quantity id, unit)``, in order; values start missing.

        The rows of a device with the same quantities and labels as the one shown (a site has
        many meters of one model) are kept: only the values are written again, and the
        screen is not laid out anew."""
        labels = {qid: quantity_label(qid, custom) for qid, _unit in rows}
        if list(rows) == list(self._units.items()) and labels == self._labels and rows:
            self.show_values({})
            return
        self.clear()
        self.rows_built += 1
        self._units = dict(rows)
        self._labels = labels
        self._shown = dict(self._labels)
        self._values = dict.fromkeys(self._units, MISSING)
        for qid, unit in rows:
            self.add_row(self._labels[qid], MISSING, unit, key=qid)
        self._fit()

    def show_values(self, values: Mapping[str, float | str | None]) -> None:
        """Show ``values`` (a row absent from them shows missing); only changed cells are
        written."""
        wider = False
        for qid, unit in self._units.items():
            text = value_text(values.get(qid), unit)
            if self._values.get(qid) != text:
                self._values[qid] = text
                self.update_cell(qid, "value", text)
                self.cells_written += 1
                wider = wider or cell_len(text) > self._width("value")
        if wider or self._value_width() < self._width("value"):
            self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _width(self, key: str) -> int:
        return self.columns[ColumnKey(key)].width

    def _value_width(self) -> int:
        return max([cell_len(_("Value"))] + [cell_len(text) for text in self._values.values()])

    def _unit_width(self) -> int:
        return max([cell_len(_("Unit"))] + [cell_len(unit) for unit in self._units.values()])

    def label_width(self) -> int:
        """The width left to the labels: the table's, less the values' and units'."""
        room = self.scrollable_content_region.width
        if room <= 0:  # not laid out yet: no reason to shorten anything
            return max((cell_len(label) for label in self._labels.values()), default=0)
        padding = 2 * self.cell_padding
        return max(MIN_LABEL_WIDTH, room - self._value_width() - self._unit_width() - 3 * padding)

    def _fit(self) -> None:
        """Fit the labels to the room left, and give each column its width."""
        width = self.label_width()
        for qid, label in self._labels.items():
            shown = label if cell_len(label) <= width else set_cell_size(label, width - 1) + "…"
            if self._shown.get(qid) != shown:
                self._shown[qid] = shown
                self.update_cell(qid, "label", shown)
        widths = {
            "label": max(
                [cell_len(_("Quantity"))] + [cell_len(text) for text in self._shown.values()]
            ),
            "value": self._value_width(),
            "unit": self._unit_width(),
        }
        changed = [key for key, w in widths.items() if self._width(key) != w]
        for key in changed:
            self.columns[ColumnKey(key)].width = widths[key]
        if changed and self._units:
            # One cell written with update_width: Textual then recomputes the table's
            # size from the new widths (fixed widths: nothing else is measured again).
            first = next(iter(self._units))
            self.update_cell(first, "unit", self._units[first], update_width=True)
        elif changed:
            self.refresh(layout=True)

    def label_of(self, qid: str) -> str:
        return str(self.get_cell(qid, "label"))

    def value_of(self, qid: str) -> str:
        return str(self.get_cell(qid, "value"))

    @staticmethod
    def unit_of(qid: str) -> str:
        return known_unit(qid) or ""
