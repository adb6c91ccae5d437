"""The values a Test shows (devices screen, gateway Test panel): whole numbers in the
session's format, state words translated (``.6g`` cut 1234567.8 kWh to ``1.23457e+06`` and
wrote ``400.74 V`` on a French screen)."""

from __future__ import annotations

from ews_tui.i18n import use_language
from ews_tui.ui.test_answer import values_text


def test_values_are_whole_and_in_the_sessions_format() -> None:
    values = {"v1": 229.78, "ea_import": 1_234_567.8, "breaker": "closed", "i1": None}
    with use_language("en"):
        assert values_text(values) == "v1 229.8 V · ea_import 1,234,567.8 kWh · breaker Closed"
    with use_language("fr"):
        text = values_text(values)
    assert text.startswith("v1 229,8 V · ea_import 1\u202f234\u202f567,8 kWh · breaker ")
    assert not text.endswith("Closed")  # the state word in French


def test_a_value_no_meter_could_mean_still_reads() -> None:
    with use_language("en"):
        assert values_text({"v1": float("nan"), "p": -3.2e32}) == "v1 — V · p -3.2E32 kW"
