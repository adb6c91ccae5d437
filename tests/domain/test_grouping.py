"""Totals by circuit, zone, switchboard and site; excluded devices only in the details."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from ews_tui.cli.sim import load_site
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.grouping import Amount, By, energy_of, group, keys_of, metered_devices
from ews_tui.domain.installation import Advanced, Installation

SITE = load_site("demo")
CATALOG = builtin_catalog()


def test_devices_meter_their_energy() -> None:
    kinds = {d.name: energy_of(d, CATALOG) for d in SITE.devices}
    assert kinds["Main meter"] == "electricity"
    assert kinds["Boiler gas"] == "gas" and kinds["Cold water"] == "water"
    assert kinds["Alarm inputs"] is None  # an IO module has no energy index


def test_a_device_in_two_zones_counts_in_both_and_one_without_under_none() -> None:
    hvac = next(d for d in SITE.devices if d.name == "HVAC breaker")
    assert [k.name for k in keys_of(hvac, SITE, By.ZONE)] == ["Offices", "Workshop"]
    lone = replace(hvac, zone_ids=(), circuit_id=None)
    assert keys_of(lone, SITE, "zone")[0].id is None
    assert keys_of(lone, SITE, "circuit")[0].id is None


def with_excluded(inst: Installation, excluded: set[int]) -> Installation:
    return inst.with_(
        devices=tuple(
            replace(d, advanced=Advanced(exclude_from_totals=d.id in excluded))
            for d in inst.devices
        )
    )


amounts_st = st.lists(
    st.tuples(st.floats(0, 1e5), st.booleans(), st.one_of(st.none(), st.floats(0, 1e4))),
    min_size=3,
    max_size=3,
)


@settings(max_examples=100, deadline=None)
@given(
    st.sets(st.sampled_from([d.id for d in SITE.devices])),
    st.lists(amounts_st, min_size=15, max_size=15),
    st.sampled_from([By.CIRCUIT, By.SWITCHBOARD]),
)
def test_partial_groups_plus_excluded_devices_equal_the_details(
    excluded: set[int], values: list[list[tuple[float, bool, float | None]]], by: By
) -> None:
    inst = with_excluded(SITE, excluded)
    devices = metered_devices(inst, CATALOG, "electricity")
    amounts = {(p, d.id): Amount(*values[i][p]) for i, d in enumerate(devices) for p in range(3)}
    details = group(amounts, devices, inst, By.DEVICE, 3)
    partial = group(amounts, devices, inst, by, 3)
    total = group(amounts, devices, inst, By.TOTAL, 3)
    for p in range(3):
        sum_details = sum(row[p].value for row in details.values() if row[p])
        sum_partial = sum(row[p].value for row in partial.values() if row[p])
        sum_excluded = sum(amounts[(p, d.id)].value for d in devices if d.id in excluded)
        assert abs(sum_partial + sum_excluded - sum_details) <= 1e-9 * (1 + sum_details)
        site = [row[p] for row in total.values() if row[p]]
        assert abs(sum(a.value for a in site) - sum_partial) <= 1e-9 * (1 + sum_partial)
    assert len(details) == len(devices)  # excluded devices stay in the details
