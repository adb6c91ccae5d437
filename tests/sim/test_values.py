"""The simulator's physics: consistent electricity, growing counters, sessions and trips."""

from __future__ import annotations

import itertools
import math
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.en50160 import Interval, Verdict, builtin_limits, judge_week, week_slots
from ews_tui.sim.values import (
    DAY,
    HOUR,
    PROFILES,
    SimDevice,
    device_values,
    profile_area,
    profile_at,
)

CATALOG = builtin_catalog()
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
THREE_PHASE = ("0 146 68", "DPX3 630 MU", "4 149 20", "SDM630", "UMG 604", "EM24DIN", "0 046 80")
SINGLE_PHASE = ("0 046 77", "SDM120", "4 149 18")


def values_of(ref: str, now: float, seed: int = 1, key: str = "e0/1", **kw) -> dict:
    model = CATALOG.find(ref)
    assert model is not None, ref
    return device_values(SimDevice(key, model), now, seed, **kw)


def day_samples(step: float = 300.0) -> list[float]:
    return [T0 + i * step for i in range(int(DAY / step) + 1)]


@pytest.mark.parametrize("ref", THREE_PHASE + SINGLE_PHASE)
def test_power_is_the_sum_of_v_i_pf_all_day(ref: str) -> None:
    phases = CATALOG.find(ref).phases  # type: ignore[union-attr]
    for now in day_samples(1800.0):
        v = values_of(ref, now)
        total = sum(v[f"v{k}"] * v[f"i{k}"] * v["pf"] for k in range(1, phases + 1)) / 1000
        assert v["p"] == pytest.approx(total, rel=1e-9)
        assert v["s"] == pytest.approx(v["p"] / v["pf"], rel=1e-9)
        assert v["q"] ** 2 == pytest.approx(v["s"] ** 2 - v["p"] ** 2, rel=1e-6, abs=1e-9)
        assert 0.8 < v["pf"] < 1.0
        assert 49.9 < v["f"] < 50.1
        for k in range(1, phases + 1):
            assert 220.0 < v[f"v{k}"] < 240.0
        if phases == 3:
            assert v["p"] == pytest.approx(v["p1"] + v["p2"] + v["p3"], rel=1e-9)
            assert v["u12"] == pytest.approx(math.sqrt(3) * v["v1"], rel=0.02)
            assert 380.0 < v["u23"] < 415.0


def test_thd_stays_in_realistic_bands() -> None:
    seen_v, seen_i = [], []
    for now in day_samples(600.0):
        v = values_of("0 146 68", now)
        seen_v += [v[f"thd_v{k}"] for k in (1, 2, 3)] + [v["thd_u12"]]
        seen_i += [v[f"thd_i{k}"] for k in (1, 2, 3)] + [v["thd_in"]]
    assert min(seen_v) >= 1.0 and max(seen_v) <= 4.0
    assert min(seen_i) >= 5.0 and max(seen_i) <= 30.0
    assert max(seen_i) - min(seen_i) > 5.0  # it moves with the load


def test_load_follows_an_office_day() -> None:
    night = [values_of("0 146 68", T0 + h * HOUR, key="e0/9")["p"] for h in (1, 2, 3)]
    day = [values_of("0 146 68", T0 + h * HOUR, key="e0/9")["p"] for h in (10, 11, 14)]
    assert max(night) < min(day)


@pytest.mark.parametrize("ref", ["0 146 68", "SDM120", "DPX3 630 MU"])
def test_energy_only_grows_and_integrates_power_over_a_day(ref: str) -> None:
    step = 300.0
    samples = [values_of(ref, now) for now in day_samples(step)]
    for qid in ("ea_import", "ea_export", "er_import"):
        series = [s[qid] for s in samples]
        assert all(b >= a for a, b in itertools.pairwise(series)), qid
    integral = sum((a["p"] + b["p"]) / 2 * step / HOUR for a, b in itertools.pairwise(samples))
    delta = samples[-1]["ea_import"] - samples[0]["ea_import"]
    assert delta == pytest.approx(integral, rel=0.03)
    assert delta > 0


def test_profile_area_is_the_integral_of_the_curve() -> None:
    for name in PROFILES:
        step = 60.0
        numeric = sum(
            profile_at(name, 5 * HOUR + i * step + step / 2) * step / HOUR for i in range(600)
        )
        assert profile_area(name, 5 * HOUR, 15 * HOUR) == pytest.approx(numeric, rel=1e-4)
    assert profile_area("office", 0, 3 * DAY) == pytest.approx(3 * sum(PROFILES["office"]))


def test_values_are_deterministic_per_seed_and_device() -> None:
    assert values_of("SDM630", T0 + 1234) == values_of("SDM630", T0 + 1234)
    assert values_of("SDM630", T0 + 1234)["p"] != values_of("SDM630", T0 + 1234, seed=2)["p"]
    assert values_of("SDM630", T0 + 1234)["p"] != values_of("SDM630", T0 + 1234, key="e1/1")["p"]


def test_every_catalog_model_gives_every_quantity_of_its_map() -> None:
    for model in CATALOG.models:
        reg_map = CATALOG.register_map(model)
        if reg_map is None:
            continue
        values = device_values(SimDevice("e0/3", model), T0 + 10 * HOUR, 1)
        for q in reg_map.quantities:
            value = values.get(q.id)
            assert value is not None, f"{model.ref}: no {q.id}"
            if q.states:
                assert value in q.states.values(), f"{model.ref}: {q.id}={value!r}"


def test_pulse_inputs_count_kwh_and_m3_along_their_curves() -> None:
    model = CATALOG.find("4 120 65")
    device = SimDevice("e0/5", model, inputs=("electricity", "gas", "water"))  # type: ignore[arg-type]
    series = [device_values(device, now, 1) for now in day_samples(600.0)]
    for n in (1, 2, 3):
        index = [s[f"input{n}_index"] for s in series]
        assert all(b >= a for a, b in itertools.pairwise(index))
    used = {n: series[-1][f"input{n}_index"] - series[0][f"input{n}_index"] for n in (1, 2, 3)}
    assert 20 < used[1] < 400  # kWh a day
    assert 10 < used[2] < 200  # m3 of gas a day
    assert 0.5 < used[3] < 30  # m3 of water a day


def test_charger_sessions_go_through_their_states() -> None:
    model = CATALOG.find("0 590 02")  # three-phase Premium
    device = SimDevice("e1/1", model)  # type: ignore[arg-type]
    step = 120.0
    samples = [device_values(device, T0 + i * step, 1) for i in range(int(4 * DAY / step))]
    states = [s["charger"] for s in samples]
    assert {"available", "connected", "charging"} <= set(states)
    charging = [s for s in samples if s["charger"] == "charging"]
    assert {round(s["p"]) for s in charging} <= {11, 22}
    assert all(
        s["p"] == 0 and s["session_energy"] == 0 for s in samples if s["charger"] == "available"
    )
    for s in charging:
        assert s["i1"] == pytest.approx(s["p"] * 1000 / (3 * 230))
    total = [s["ea_import"] for s in samples]
    assert all(b >= a for a, b in itertools.pairwise(total))
    integral = sum((a["p"] + b["p"]) / 2 * step / HOUR for a, b in itertools.pairwise(samples))
    assert total[-1] - total[0] == pytest.approx(integral, rel=0.05)
    # a session's energy grows while charging and is kept until the car leaves
    first = states.index("charging")
    after = next(i for i in range(first, len(states)) if states[i] != "charging")
    assert samples[after]["charger"] == "connected"
    assert samples[after]["session_energy"] >= samples[after - 1]["session_energy"] > 0


def test_a_single_phase_charger_draws_32_a_on_one_phase() -> None:
    model = CATALOG.find("0 590 32")
    charging = []
    for side in (1, 2):
        device = SimDevice("e1/2", model, side=side)  # type: ignore[arg-type]
        samples = [device_values(device, T0 + i * 300.0, 1) for i in range(int(3 * DAY / 300))]
        charging += [s for s in samples if s["charger"] == "charging"]
    assert charging
    assert all(s["p"] == pytest.approx(7.4, rel=0.02) and s["i2"] == 0 for s in charging)
    assert all(31.5 < s["i1"] < 32.5 for s in charging)


def test_breakers_trip_now_and_then_and_carry_nothing_while_tripped() -> None:
    step = 900.0
    count = int(6 * 7 * DAY / step)
    samples = [values_of("DPX3 630 MU", T0 + i * step) for i in range(count)]
    tripped = [s for s in samples if s["breaker"] == "tripped"]
    assert tripped and len(tripped) < len(samples) * 0.05
    assert all(s["p"] == 0 and s["i1"] == 0 for s in tripped)
    energy = [s["ea_import"] for s in samples]
    assert all(b >= a for a, b in itertools.pairwise(energy))
    states = {values_of("DPX3 250 ELEC", T0 + i * step)["breaker"] for i in range(count)}
    assert states == {"closed", "tripped"}


def test_a_forced_state_wins_and_an_outage_stops_the_counter() -> None:
    now = T0 + 11 * HOUR
    forced = values_of("DPX3 630 MU", now, forced={"breaker": "open"})
    assert forced["breaker"] == "open" and forced["p"] == 0
    normal = values_of("DPX3 630 MU", now)
    outage = values_of("DPX3 630 MU", now, outages=[(now - HOUR, None)])
    lost = normal["ea_import"] - outage["ea_import"]
    assert 0.5 * normal["p"] < lost < 1.5 * normal["p"]  # about an hour at today's power
    assert values_of("0 590 02", now, forced={"charger": "fault"})["p"] == 0
    assert values_of("0 261 36", now, forced={"in1": "on"})["in1"] == "on"


def test_io_devices_switch_inputs_and_outputs() -> None:
    seen = {f"in{n}": set() for n in range(1, 5)} | {f"out{n}": set() for n in (1, 2)}
    for now in day_samples(600.0):
        v = values_of("0 261 36", now)
        for qid in seen:
            seen[qid].add(v[qid])
    assert all(states == {"on", "off"} for states in seen.values()), seen


# --- power-quality scenarios: each spoils one EN 50160 criterion for part of every week ---


@pytest.mark.parametrize(
    ("quality", "spoiled"),
    [
        ("normal", None),
        ("sag", "voltage"),
        ("harmonics", "thd"),
        ("unbalance", "unbalance"),
        ("drift", "frequency"),
    ],
)
def test_each_quality_scenario_fails_its_criterion_and_only_it(
    quality: str, spoiled: str | None
) -> None:
    model = CATALOG.find("0 146 68")
    assert model is not None
    device = SimDevice("e0/1", model, quality=quality)
    slots = week_slots(date(2026, 11, 23), ZoneInfo("Europe/Paris"))
    intervals = []
    for slot in slots:
        shown = [device_values(device, slot * 600 + t) for t in (60, 300, 540)]
        names = [k for k, v in shown[0].items() if isinstance(v, float)]
        mean = {k: sum(float(s[k]) for s in shown) / 3 for k in names}  # type: ignore[arg-type]
        low = {k: min(float(s[k]) for s in shown) for k in names}  # type: ignore[arg-type]
        high = {k: max(float(s[k]) for s in shown) for k in names}  # type: ignore[arg-type]
        intervals.append(Interval(slot, mean, low, high))
    result = judge_week(builtin_limits(), slots, intervals)
    failed = {r.criterion.id for r in result.criteria if r.verdict is Verdict.FAILED}
    assert failed == ({spoiled} if spoiled else set()), quality
    assert result.verdict.value == ("ko" if spoiled else "ok")
