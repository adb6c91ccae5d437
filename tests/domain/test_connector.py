"""The Connector's pure rules: folders, keywords (manual §7.12 vectors), the schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from ews_tui.config.model import CSV_FOLDERS
from ews_tui.domain.connector import (
    ConnectorValueError,
    check_destination,
    chosen_folders,
    expand_destination,
    next_run,
    parse_day,
    parse_hour,
    parse_sources,
    zip_name,
)
from ews_tui.services.connector import retry_delay
from ews_tui.store.csv_export import FOLDERS

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = datetime(2022, 11, 30, 14, 0, tzinfo=PARIS)


def test_the_config_knows_the_box_folders() -> None:
    assert CSV_FOLDERS == FOLDERS


def test_sources_empty_means_all_and_unknown_names_are_refused_with_the_valid_ones() -> None:
    assert parse_sources("", FOLDERS) == ()
    assert chosen_folders((), FOLDERS) == FOLDERS
    assert parse_sources("energy, events", FOLDERS) == ("energy", "events")
    assert parse_sources(["Events", "energy", "events"], FOLDERS) == ("events", "energy")
    with pytest.raises(ConnectorValueError) as refused:
        parse_sources("energy, power", FOLDERS)
    assert refused.value.message.params == {
        "value": "power",
        "allowed": "energy, measures, events, eqcheck",
    }


def test_keywords_of_the_manual() -> None:
    assert expand_destination("répertoire/sauvegarde%date", WEDNESDAY) == (
        "répertoire/sauvegarde202211301400"
    )
    assert zip_name(expand_destination("répertoire/energyOf%dow", WEDNESDAY)) == (
        "répertoire/energyOfwed.zip"
    )
    assert expand_destination("%jour-%day-%heure-%hour", WEDNESDAY) == "30-30-14-14"
    assert expand_destination("d%jour", datetime(2022, 11, 3, 7, tzinfo=PARIS)) == "d03"
    assert zip_name("x.ZIP") == "x.ZIP"


def test_destination_stays_in_the_remote_home() -> None:
    assert check_destination(" a//b/ ") == "a/b"
    assert check_destination("") == ""
    for bad in ("/etc", "a/../../b"):
        with pytest.raises(ConnectorValueError):
            check_destination(bad)


def test_day_and_hour_values() -> None:
    assert parse_day("*") == "*" and parse_day("MON") == "mon" and parse_day("31") == 31
    assert parse_hour("*") == "*" and parse_hour(0) == 0 and parse_hour("23") == 23
    for bad_day in ("0", 32, "monday", True):
        with pytest.raises(ConnectorValueError):
            parse_day(bad_day)
    for bad_hour in ("24", -1, "x"):
        with pytest.raises(ConnectorValueError):
            parse_hour(bad_hour)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def local(instant: datetime) -> str:
    return instant.astimezone(PARIS).isoformat(timespec="minutes")


@pytest.mark.parametrize(
    ("day", "hour", "after", "expected"),
    [
        # The manual's four examples.
        ("*", "*", "2022-11-30T14:00", "2022-11-30T15:00+01:00"),  # every day, every hour
        ("*", 0, "2022-11-30T14:00", "2022-12-01T00:00+01:00"),  # every day at 0h00
        ("mon", 0, "2022-11-30T14:00", "2022-12-05T00:00+01:00"),  # every Monday at 0h00
        (1, 3, "2022-11-30T14:00", "2022-12-01T03:00+01:00"),  # the 1st of each month at 3h00
        # The 31st skips short months.
        (31, 0, "2023-01-31T00:00", "2023-03-31T00:00+02:00"),
        (31, 0, "2023-03-31T01:00", "2023-05-31T00:00+02:00"),
        # Spring forward (Paris, 2023-03-26 02:00 does not exist): runs when clocks jump.
        ("*", 2, "2023-03-25T12:00", "2023-03-26T03:00+02:00"),
        ("*", "*", "2023-03-26T01:30", "2023-03-26T03:00+02:00"),
        # Autumn (2023-10-29 02:00 happens twice): once, at the first.
        ("*", 2, "2023-10-28T12:00", "2023-10-29T02:00+02:00"),
        ("*", 2, "2023-10-29T02:00", "2023-10-30T02:00+01:00"),
        # Strictly after.
        ("*", 14, "2022-11-30T14:00", "2022-12-01T14:00+01:00"),
    ],
)
def test_next_run(day: str | int, hour: str | int, after: str, expected: str) -> None:
    assert local(next_run(day, hour, at(after), PARIS)) == expected


def test_every_hour_across_the_autumn_change_runs_each_real_hour_once() -> None:
    instant = at("2023-10-29T00:30").astimezone(UTC)
    seen = []
    for _ in range(5):
        instant = next_run("*", "*", instant, PARIS)
        seen.append(instant)
    gaps = {(b - a).total_seconds() for a, b in pairwise(seen)}
    assert gaps == {3600.0}


def test_retry_backoff_doubles_up_to_a_ceiling() -> None:
    assert [retry_delay(n, 60, 3600) for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]
