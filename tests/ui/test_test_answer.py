"""The values a Test shows (devices screen, gateway Test panel): named as Live measures names
them, whole numbers in the session's format, state words translated (``.6g`` cut 1234567.8 kWh
to ``1.23457e+06`` and wrote ``400.74 V`` on a French screen; ``ea_import`` was shown raw)."""

from __future__ import annotations

from ews_tui.i18n import use_language
from ews_tui.ui.test_answer import values_text


def test_values_are_named_whole_and_in_the_sessions_format() -> None:
    values = {"v1": 229.78, "ea_import": 1_234_567.8, "breaker": "closed", "i1": None}
    with use_language("en"):
        assert values_text(values) == (
            "Voltage L1-N 229.8 V · Active energy imported 1,234,567.8 kWh · Breaker Closed"
        )
    with use_language("fr"):
        text = values_text(values)
    assert text.startswith("Tension L1-N 229,8 V · ")
    assert "1\u202f234\u202f567,8 kWh" in text
    assert "ea_import" not in text and "breaker" not in text
    assert not text.endswith("Closed")  # the state word in French


def test_a_pulse_index_reads_in_the_unit_of_its_input() -> None:
    with use_language("en"):
        text = values_text({"index": 1234.5}, units={"index": "m3"})
    assert text == "Meter index 1,234.500 m³"


def test_a_value_no_meter_could_mean_still_reads() -> None:
    with use_language("en"):
        assert values_text({"v1": float("nan"), "p": -3.2e32}) == (
            "Voltage L1-N — V · Active power -3.2E32 kW"
        )
