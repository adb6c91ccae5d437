"""Value formatting is a total function: every value a meter can send renders as text, in
every language, for every quantity of the catalog (a float32 read with the wrong word order
gave −3.2e32, babel raised decimal.InvalidOperation and the whole UI process ended)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.i18n import LANGUAGES, use_language
from ews_tui.ui.value_text import MISSING, value_text
from ews_tui.ui.widgets.measure_table import quantity_label

QUANTITIES = sorted(
    {(q.id, q.unit) for reg_map in builtin_catalog().maps.values() for q in reg_map.quantities}
    | {("index", "m3"), ("ea_import", "kWh"), ("x", "unknown unit")}
)
VALUES = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**128), max_value=2**128),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e32, -3.2e32, -0.0, 2**64 - 1]),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(
    quantity=st.sampled_from(QUANTITIES),
    language=st.sampled_from(sorted(LANGUAGES)),
    value=VALUES,
)
def test_every_value_of_every_quantity_renders_in_every_language(
    quantity: tuple[str, str], language: str, value: float | int | str | None
) -> None:
    qid, unit = quantity
    with use_language(language):
        text = value_text(value, unit)
        assert isinstance(text, str)
        assert text or value == ""
        assert quantity_label(qid)


@pytest.mark.parametrize(
    ("language", "value", "unit", "expected"),
    [
        ("en", None, "kWh", MISSING),
        ("en", float("nan"), "kWh", MISSING),
        ("en", float("inf"), "kW", "∞"),
        ("en", float("-inf"), "kW", "-∞"),
        ("fr", -3.2e32, "kWh", "-3,2E32"),
        ("en", 1e32, "V", "1E32"),
        ("en", 2**64 - 1, "", "1.845E19"),
        ("en", -0.0, "kWh", "0.0"),
        ("en", -0.00001, "kW", "0.000"),
        ("fr", 810727.0, "kWh", "810\u202f727,0"),
        ("en", 999_999_999_999_999.0, "kWh", "999,999,999,999,999.0"),
        ("de", 230.45, "V", "230,4"),
        ("en", "tripped", "", "Tripped"),
        ("en", "weird", "", "weird"),
    ],
)
def test_marks_and_numbers(language: str, value: object, unit: str, expected: str) -> None:
    with use_language(language):
        assert value_text(value, unit) == expected  # type: ignore[arg-type]
