"""A small site with known consumption, recorded through the real path, for the Consumption
screens' tests.

The installation is imported as a document (as ``ews install import`` does), the cost pages
saved through the Consumption service, and the samples go through the
:class:`~ews_tui.services.recorder.Recorder` (``ingest`` then ``flush``, as ``ews history
seed`` does) into the box's own store. Times are Europe/Paris (the default zone), winter:
UTC+1.

From Sunday 2025-01-12 23:00 to Friday 2025-01-17 00:00 local, every 10 minutes:

- "Lighting meter" (circuit Lighting, zone Offices, Main board): 1 kWh/h, 3 kWh/h from 08:00
  to 18:00 on Wednesday 15;
- "Heat pump" (circuit Heating, zones Offices and Workshop, Main board): 2.5 kWh/h;
- "Annex meter" (no circuit, zone Workshop, Annex board): 0.5 kWh/h;
- "Boiler gas": 0.1 m3/h;
- no device answers on Wednesday 15 from 03:00 to 05:00 (a gap of the whole site).

Electricity costs 0.20 EUR/kWh, gas 1.10 EUR/m3 with 11.2 kWh per m3.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff
from ews_tui.domain.events import Sample
from ews_tui.runtime import Runtime
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import DATABASE_FILE, open_database

PARIS = ZoneInfo("Europe/Paris")
ANCHOR = date(2025, 1, 15)
# "Now" for the screens: long after the seeded days, so every period shown has begun.
LATER = datetime(2025, 6, 1, tzinfo=PARIS).timestamp()
START = datetime(2025, 1, 12, 23, tzinfo=PARIS).timestamp()
END = datetime(2025, 1, 17, 0, tzinfo=PARIS).timestamp()
GAP = (
    datetime(2025, 1, 15, 3, tzinfo=PARIS).timestamp(),
    datetime(2025, 1, 15, 5, tzinfo=PARIS).timestamp(),
)

SITE = {
    "switchboards": [{"name": "Main board"}, {"name": "Annex board"}],
    "zones": [{"name": "Offices"}, {"name": "Workshop"}],
    "gateways": [
        {
            "name": "Local",
            "ip": "127.0.0.1",
            "switchboard": "Main board",
            "devices": [
                {
                    "name": "Lighting meter",
                    "model": "0 146 68",
                    "address": 1,
                    "circuit": "Lighting",
                    "zones": ["Offices"],
                },
                {
                    "name": "Heat pump",
                    "model": "0 146 68",
                    "address": 2,
                    "circuit": "Heating",
                    "zones": ["Offices", "Workshop"],
                },
                {
                    "name": "Boiler gas",
                    "model": "GAS METER",
                    "address": "5-2",
                    "concentrator": "4 120 65",
                },
            ],
        },
        {
            "name": "Annex",
            "ip": "192.168.1.20",
            "switchboard": "Annex board",
            "devices": [
                {"name": "Annex meter", "model": "0 146 68", "address": 1, "zones": ["Workshop"]},
            ],
        },
    ],
}


def lighting_rate(ts: float) -> float:
    local = datetime.fromtimestamp(ts, PARIS)
    return 3.0 if local.date() == ANCHOR and 8 <= local.hour < 18 else 1.0


RATES = {  # kWh (gas: m3) per hour, by device name
    "Lighting meter": lighting_rate,
    "Heat pump": lambda _ts: 2.5,
    "Annex meter": lambda _ts: 0.5,
    "Boiler gas": lambda _ts: 0.1,
}
QUANTITY = {"Boiler gas": "index"}

COSTS = CostSettings(
    (
        EnergyCosts(
            "electricity", "EUR", (CostRule("flat", (Tariff(date(2024, 1, 1), Decimal("0.2")),)),)
        ),
        EnergyCosts(
            "gas",
            "EUR",
            (CostRule("gas", (Tariff(date(2024, 1, 1), Decimal("1.1")),)),),
            kwh_per_m3=Decimal("11.2"),
        ),
        EnergyCosts("water"),
    )
)


async def seed_site(rt: Runtime) -> dict[str, int]:
    """Install the site, its cost pages and its history; the device ids by name."""
    installation = rt.get(InstallationService)
    await installation.import_document(SITE)
    await rt.get(ConsumptionService).save_costs(COSTS)
    ids = {d.name: d.id for d in installation.current.devices}
    db = await open_database(rt.config.data_dir / DATABASE_FILE)
    try:
        recorder = Recorder(None, AggregatesRepo(db))
        index = dict.fromkeys(RATES, 1000.0)
        ts = START
        while ts < END:
            for name, rate in RATES.items():
                index[name] += rate(ts) / 6  # what the slot [ts, ts + 600) used
                if not GAP[0] <= ts < GAP[1]:
                    quantity = QUANTITY.get(name, "ea_import")
                    recorder.ingest(Sample(ids[name], ts + 300, {quantity: index[name]}))
            ts += 600
        await recorder.flush()
    finally:
        await db.close()
    return ids
