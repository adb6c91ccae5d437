"""``ews install export/import`` carry the cost pages (rules, tariffs, bands): a round trip
onto a fresh box gives the same pages; a bad cost rule refuses the whole file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff, TimeBand
from ews_tui.store.cost_rules_repo import CostRulesRepo
from ews_tui.store.db import open_database
from ews_tui.store.installation_repo import InstallationRepo
from tests.cli.conftest import RunAsync
from tests.cli.test_install import SITE


async def stored_costs(config: Path) -> CostSettings:
    db = await open_database(config.parent / "data" / "ews.sqlite")
    try:
        return await CostRulesRepo(db).load()
    finally:
        await db.close()


async def save_costs(config: Path) -> CostSettings:
    db = await open_database(config.parent / "data" / "ews.sqlite")
    try:
        inst = await InstallationRepo(db).load()
        lighting = next(c.id for c in inst.circuits if c.name == "Lighting")
        floor = inst.zones[0].id
        night = TimeBand(frozenset(range(7)), 22, 24, Decimal("0.1696"))
        costs = CostSettings(
            (
                EnergyCosts(
                    "electricity",
                    "EUR",
                    (
                        CostRule(
                            "Lighting",
                            (
                                Tariff(date(2024, 1, 1), Decimal("0.2146"), (night,)),
                                Tariff(date(2025, 8, 1), Decimal("0.20160")),
                            ),
                            circuit_ids=(lighting,),
                            zone_ids=(floor,),
                        ),
                        CostRule("Site", (Tariff(date(2024, 1, 1), Decimal("0.25")),)),
                    ),
                ),
                EnergyCosts(
                    "gas",
                    "CHF",
                    (CostRule("Gas", (Tariff(date(2024, 1, 1), Decimal("1.25")),)),),
                    Decimal("11.2"),
                ),
                EnergyCosts("water", "EUR"),
            )
        )
        return await CostRulesRepo(db).save(costs)
    finally:
        await db.close()


def _without_ids(settings: CostSettings) -> CostSettings:
    return CostSettings(
        tuple(
            replace(page, rules=tuple(replace(rule, id=0) for rule in page.rules))
            for page in settings.energies
        )
    )


def _box(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    config = tmp_path / name / "config.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    return config


async def test_cost_pages_go_through_export_and_import(
    ews_here_async: RunAsync, tmp_path: Path
) -> None:
    old, new = _box(tmp_path, "old"), _box(tmp_path, "new")
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    assert (
        await ews_here_async("install", "import", str(site), "--config", str(old))
    ).returncode == 0
    saved = await save_costs(old)

    exported = tmp_path / "export.toml"
    done = await ews_here_async("install", "export", str(exported), "--config", str(old))
    assert done.returncode == 0, done.stderr
    assert "3 cost rules written" in done.stdout
    text = exported.read_text()
    assert '[[costs.rules]]\nname = "Lighting"\ncircuits = [\n    "Lighting",\n]' in text
    assert 'base = "0.20160"' in text

    done = await ews_here_async("install", "import", str(exported), "--config", str(new))
    assert done.returncode == 0, done.stderr
    assert "3 cost rules imported" in done.stdout
    restored = await stored_costs(new)
    assert _without_ids(restored) == _without_ids(saved)
    # Exported again from the new box: the same file but for its header.
    again = tmp_path / "again.toml"
    assert (
        await ews_here_async("install", "export", str(again), "--config", str(new))
    ).returncode == 0
    assert again.read_text().split("\n", 2)[2] == text.split("\n", 2)[2]


async def test_a_bad_cost_rule_refuses_the_whole_file(
    ews_here_async: RunAsync, tmp_path: Path
) -> None:
    box = _box(tmp_path, "box")
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    assert (
        await ews_here_async("install", "import", str(site), "--config", str(box))
    ).returncode == 0
    saved = await save_costs(box)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        SITE.replace('name = "Roof"', 'name = "Roof 2"')
        + '\n[[costs]]\nenergy = "electricity"\n\n[[costs.rules]]\nname = "X"\n'
        'circuits = ["Nowhere"]\n\n[[costs.rules.tariffs]]\nvalid_from = 2025-01-01\n'
        'base = "-1"\n',
        encoding="utf-8",
    )
    done = await ews_here_async("install", "import", str(bad), "--config", str(box))
    assert done.returncode == 1
    assert 'costs[0].rules[0].circuits[0]: no circuit is named "Nowhere"' in done.stdout
    assert "nothing imported" in done.stderr
    assert _without_ids(await stored_costs(box)) == _without_ids(saved)
    exported = tmp_path / "e.toml"
    assert (
        await ews_here_async("install", "export", str(exported), "--config", str(box))
    ).returncode == 0
    assert 'name = "Roof"' in exported.read_text()  # the installation did not change either


async def test_a_file_without_costs_keeps_the_stored_ones(
    ews_here_async: RunAsync, tmp_path: Path
) -> None:
    box = _box(tmp_path, "box")
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    assert (
        await ews_here_async("install", "import", str(site), "--config", str(box))
    ).returncode == 0
    saved = await save_costs(box)
    done = await ews_here_async("install", "import", str(site), "--config", str(box))
    assert done.returncode == 0 and "cost rules" not in done.stdout
    assert await stored_costs(box) == saved
