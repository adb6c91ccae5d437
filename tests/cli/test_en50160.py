"""``ews en50160``: the week's verdict per gateway with an EQ device, checked on demand when it
was not yet, then read from the store; clear errors for a bad week or gateway name."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.widgets import OptionList, Static

from ews_tui.cli.box import open_installation, read_config
from ews_tui.cli.sim import load_site
from ews_tui.config import apply_changes
from ews_tui.domain.installation_doc import to_document
from ews_tui.services.box import running_box
from ews_tui.store.db import DATABASE_FILE, open_database
from ews_tui.ui.screens.consumption_details import DetailsScreen
from ews_tui.ui.session import Role
from tests.cli.conftest import Run, RunAsync
from tests.services.test_en50160 import MONDAY, record_week
from tests.ui.box_fixtures import CHEAP_SCRYPT, CLOSED_NTP, CLOSED_NTP_PORT, make_box_app


async def a_box_with_a_ko_week(box_config: Path) -> None:
    config = read_config(box_config)
    async with open_installation(config) as service:
        await service.import_document(to_document(load_site("demo")))
    db = await open_database(config.data_dir / DATABASE_FILE)
    try:
        await record_week(db, MONDAY, thd_bad=100)  # 10 % of the week above 8 % THD
    finally:
        await db.close()


async def test_the_week_is_checked_on_demand_then_read_back(
    ews_here_async: RunAsync, box_config: Path
) -> None:
    await a_box_with_a_ko_week(box_config)
    args = ("en50160", "--config", str(box_config), "--week", "2026-W48", "--gateway", "Local")
    first = await ews_here_async(*args, "--json")
    assert first.returncode == 0, first.stderr
    (week,) = json.loads(first.stdout)
    assert (week["week"], week["gateway"], week["verdict"]) == ("2026-W48", "Local", "ko")
    thd = next(c for c in week["criteria"] if c["id"] == "thd")
    assert (thd["n"], thd["n1"], thd["verdict"]) == (1008, 100, "failed")
    again = await ews_here_async(*args, "--json")  # stored now: the same answer
    assert json.loads(again.stdout) == [week]
    text = await ews_here_async(*args)
    assert "EN 50160 2026-W48, gateway Local: KO" in text.stdout
    assert "THD          1008  100" in text.stdout
    assert "Not seen by a polling box: Mains signalling voltages" in text.stdout


def test_bad_weeks_and_gateways_are_named(ews_here: Run, box_config: Path) -> None:
    bad = ews_here("en50160", "--config", str(box_config), "--week", "2026-48")
    assert bad.returncode != 0 and "'2026-48' is not a week such as 2026-W48" in bad.stderr
    future = ews_here("en50160", "--config", str(box_config), "--week", "2099-W01")
    assert future.returncode != 0 and "2099-W01 is not over yet" in future.stderr
    none = ews_here("en50160", "--config", str(box_config), "--week", "2026-W48")
    assert none.returncode != 0 and "no gateway has an EQ device" in none.stderr


@pytest.mark.timeout(240)
async def test_the_demo_history_has_an_ok_and_a_ko_gateway_and_every_view_agrees(
    ews_here_async: RunAsync, box_config: Path
) -> None:
    """Simulated history of the demo site (its Workshop's machine tools pollute the supply
    with harmonics every evening): the last finished week is OK on the Local bus and KO in the
    Workshop; the JSON, the text, the eqcheck CSV, the EN 50160 screen and the Details line of
    a Workshop device say the same."""
    now = datetime.now(ZoneInfo("Europe/Paris"))
    days = now.weekday() + 7 + 1  # back past the Monday that starts the last finished week
    seed = ("history", "seed", "--config", str(box_config), "--days", str(days))
    seeded = await ews_here_async(*seed, "--site", "demo", "--poll", "600")
    assert seeded.returncode == 0, seeded.stderr
    done = await ews_here_async("en50160", "--config", str(box_config), "--json")
    assert done.returncode == 0, done.stderr
    weeks = {w["gateway"]: w for w in json.loads(done.stdout)}
    assert {g: w["verdict"] for g, w in weeks.items()} == {"Local": "ok", "Workshop": "ko"}
    failed = [c["id"] for c in weeks["Workshop"]["criteria"] if c["verdict"] == "failed"]
    assert failed == ["thd"]
    label = weeks["Workshop"]["week"]
    text = (
        await ews_here_async("en50160", "--config", str(box_config), "--gateway", "Workshop")
    ).stdout
    assert f"EN 50160 {label}, gateway Workshop: KO" in text
    folder = box_config.parent / "data" / "csv" / "eqcheck"
    for name, week in weeks.items():
        path = folder / f"{week['week']}_gateway-{week['gateway_id']}.csv"
        with path.open(encoding="utf-8", newline="") as stream:
            first = next(csv.DictReader(stream))
        assert (first["gateway"], first["verdict"]) == (name, week["verdict"])
    # The box on the same data dir: its screens read what was stored.
    config = apply_changes(read_config(box_config), CLOSED_NTP, box_config.parent)
    async with running_box(
        box_config, config, scrypt=CHEAP_SCRYPT, buses=False, ntp_port=CLOSED_NTP_PORT
    ) as rt:
        app = make_box_app(rt, "en50160", role=Role.CONSULTATION)
        async with app.run_test(size=(80, 24)) as pilot:
            options = app.screen.query_one("#en50160-weeks", OptionList)
            for _ in range(100):
                if options.option_count:
                    break
                await pilot.pause(0.05)
            shown = [str(options.get_option_at_index(i).prompt) for i in range(2)]
            assert shown == [
                f"{label}  ✓ OK  Local (Main meter)",
                f"{label}  ✕ KO  Workshop (Machine tools)",
            ]
            await pilot.press("escape")
            app.open_screen("consumption_details")
            for _ in range(100):
                if isinstance(app.screen, DetailsScreen) and app.screen.keys:
                    break
                await pilot.pause(0.05)
            details = app.screen
            assert isinstance(details, DetailsScreen)
            devices = details.query_one("#det-devices", OptionList)
            names = [k.name for k in details.keys]
            devices.highlighted = names.index("Machine tools")
            line = details.query_one("#det-en50160", Static)
            wanted = f"Last week EN 50160 check: ✕ KO ({label})"
            for _ in range(100):  # the first device's verdict (OK) shows until the move's
                if str(line.render()) == wanted:
                    break
                await pilot.pause(0.05)
            assert str(line.render()) == wanted
