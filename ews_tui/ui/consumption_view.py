"""What the Consumption screens show: the view state they share and pass on.

Total, Partial and Details show the same day, week, month or year of the same energy; going
from one to the other (keys 1, 2, 3) keeps it. The date arithmetic is the domain's
(:func:`~ews_tui.domain.periods.view_range`, :func:`~ews_tui.domain.periods.shift_view`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

from ews_tui.domain.grouping import ENERGIES, By
from ews_tui.domain.periods import BAR_STEPS, VIEW_STEPS, Step, shift_view, view_range

PARTIAL_GROUPS: tuple[By, ...] = (By.CIRCUIT, By.ZONE, By.SWITCHBOARD)

T = TypeVar("T")


def _next(items: tuple[T, ...], current: T) -> T:
    return items[(items.index(current) + 1) % len(items)]


@dataclass(frozen=True)
class ConsumptionView:
    """The day, week, month or year holding ``anchor``, of ``energy``, and how it is drawn.

    ``chart_cost``: the bars show the cost instead of the amount; ``by`` and ``stacked``:
    Partial's grouping and layout; ``device_id``: the device Details shows.
    """

    anchor: date
    step: Step = Step.DAY
    energy: str = "electricity"
    chart_cost: bool = False
    by: By = By.CIRCUIT
    stacked: bool = True
    device_id: int | None = None

    @property
    def range(self) -> tuple[date, date]:
        """Local dates ``[first, end)`` shown."""
        return view_range(self.anchor, self.step)

    @property
    def bar_step(self) -> Step:
        return BAR_STEPS[self.step]

    @property
    def previous_range(self) -> tuple[date, date]:
        """The view before this one (Details compares with it)."""
        return view_range(shift_view(self.anchor, self.step, -1), self.step)

    def shifted(self, count: int) -> ConsumptionView:
        """The previous (-1) or next (+1) day, week, month or year."""
        return replace(self, anchor=shift_view(self.anchor, self.step, count))

    def with_step(self, step: Step) -> ConsumptionView:
        """The same date seen by ``step``: the anchor stays in the view."""
        return replace(self, step=step)

    def next_step(self) -> ConsumptionView:
        return self.with_step(_next(VIEW_STEPS, self.step))

    def next_energy(self) -> ConsumptionView:
        return replace(self, energy=_next(ENERGIES, self.energy), device_id=None)

    def next_group(self) -> ConsumptionView:
        return replace(self, by=_next(PARTIAL_GROUPS, self.by))

    def toggle_stacked(self) -> ConsumptionView:
        return replace(self, stacked=not self.stacked)

    def toggle_chart(self) -> ConsumptionView:
        return replace(self, chart_cost=not self.chart_cost)
