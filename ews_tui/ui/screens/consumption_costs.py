"""Consultation > Costs: the Total screen with its bars showing the cost of each period.

The same screen as Consumption > Total (``c`` turns the bars back to amounts); the table
gives both the amount and the cost of each period, and the total of the range.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ews_tui.ui.consumption_view import ConsumptionView
from ews_tui.ui.screens.consumption_total import TotalScreen


class CostsScreen(TotalScreen):
    def __init__(self, view: ConsumptionView | None = None, **kwargs: Any) -> None:
        super().__init__(view, **kwargs)
        if view is None:
            self.view = replace(self.view, chart_cost=True)


SCREEN = CostsScreen
