"""How consumption changes read: a change that shows as zero has no sign."""

from __future__ import annotations

import pytest

from ews_tui.i18n import set_language
from ews_tui.ui.consumption_text import NONE, change_text


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [
        (100.004, 100.0, "0.0%"),  # was "+0.0%"
        (99.996, 100.0, "0.0%"),  # was "-0.0%"
        (100.0, 100.0, "0.0%"),
        (100.06, 100.0, "+0.1%"),
        (99.94, 100.0, "-0.1%"),
        (3.0, 1.0, "+200.0%"),
        (1.0, 0.0, NONE),
        (None, 1.0, NONE),
    ],
)
def test_change_text(now: float | None, before: float | None, expected: str) -> None:
    set_language("en")
    assert change_text(now, before) == expected
