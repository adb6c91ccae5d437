"""The table of one device's live values: quantity, value, unit (Live measures screen).

Rows follow the model's register map (quantity ids of the catalog); labels are translated,
numbers formatted with babel for the session's language. A missing value, or any value of a
silent device, shows as "—", never as the last number read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from babel.numbers import format_decimal
from textual.widgets import DataTable

from ews_tui.domain.catalog import known_unit
from ews_tui.i18n import N_, _, babel_locale

MISSING = "—"

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
    "breaker": N_("Breaker"),
    "charger": N_("Charging station"),
}
STATE_LABELS: Mapping[str, str] = {
    "open": N_("Open"),
    "closed": N_("Closed"),
    "tripped": N_("Tripped"),
    "on": N_("On"),
    "off": N_("Off"),
    "available": N_("Available"),
    "connected": N_("Connected"),
    "charging": N_("Charging"),
    "fault": N_("Fault"),
    "disabled": N_("Disabled"),
}
NUMBER_FORMATS: Mapping[str, str] = {
    "V": "#,##0.0",
    "A": "#,##0.00",
    "kW": "#,##0.000",
    "kvar": "#,##0.000",
    "kVA": "#,##0.000",
    "kWh": "#,##0.0",
    "kvarh": "#,##0.0",
    "m3": "#,##0.000",
    "Hz": "#,##0.00",
    "%": "#,##0.0",
    "": "0.000",
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


def format_value(value: float | str | None, unit: str) -> str:
    """A value in the session's locale: ``230,4`` in French; a state word; "—" if missing."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return _(STATE_LABELS[value]) if value in STATE_LABELS else value
    pattern = NUMBER_FORMATS.get(unit, "#,##0.###")
    return format_decimal(value, pattern, locale=babel_locale())


class MeasureTable(DataTable[str]):
    """Quantity / value / unit rows for one device; ``show_values`` updates the values."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._units: dict[str, str] = {}

    def on_mount(self) -> None:
        self.add_column(_("Quantity"), key="label")
        self.add_column(_("Value"), key="value")
        self.add_column(_("Unit"), key="unit")

    def set_rows(
        self, rows: Sequence[tuple[str, str]], custom: Mapping[str, str] | None = None
    ) -> None:
        """One row per ``(quantity id, unit)``, in order; values start missing."""
        self.clear()
        self._units = dict(rows)
        for qid, unit in rows:
            self.add_row(quantity_label(qid, custom), MISSING, unit, key=qid)

    def show_values(self, values: Mapping[str, float | str | None]) -> None:
        """Show ``values`` (a row absent from them shows missing)."""
        for qid, unit in self._units.items():
            self.update_cell(qid, "value", format_value(values.get(qid), unit))

    def value_of(self, qid: str) -> str:
        return str(self.get_cell(qid, "value"))

    @staticmethod
    def unit_of(qid: str) -> str:
        return known_unit(qid) or ""
