"""Migration 3: measures, energy readings, hourly rollups and cost rules.

- ``quantities``: a small id per quantity name, so a measure row stores two bytes, not a name.
- ``measures``: one row per 10-minute slot (UTC) and device, every quantity's count, mean,
  min and max packed in one blob (see :mod:`ews_tui.store.aggregates_repo`); keyed by
  ``slot * 65536 + device_id``, a rowid: each batch appends, and SQLite fills a page whole
  before it starts the next when rows arrive in key order (a WITHOUT ROWID table keyed
  ``(slot, device_id)`` left 10 % of its pages empty); ``slot`` and ``device_id`` are
  virtual columns (no storage). ``measure_layouts`` names a device's list of quantity ids
  once, so a row does not repeat it.
- ``energy_readings``: the last energy index of each device in each slot (kWh or m3).
- ``energy_hourly``: consumption per device and UTC hour, kept up to date at write time, with
  the count of the hour's slots whose consumption is unknown.
- ``energy_daily``: the same per UTC day (hour // 24), and the day's amount of each UTC hour
  in ``h00``..``h23``: a year table reads days, and hours only at the edges of its periods
  (local midnights are not UTC midnights); with time bands it sums the hour columns of the
  days of each weekday, so the price of each hour of the week applies to 24 sums, not to
  every hourly row. A zero costs one byte (SQLite stores a whole REAL as an integer).
- ``energy_gaps``: an amount known only over several hours (readings missing in between),
  kept whole; a period holding the whole gap counts it, others show missing data.
- ``cost_*``: the cost pages of manual §7.16.3 (see :mod:`ews_tui.store.cost_rules_repo`).

History tables carry no foreign key to ``devices``: a device's history outlives the device,
and its id is never given again.
"""

from __future__ import annotations

V3_ENERGY = """
CREATE TABLE quantities (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE measure_layouts (
    id   INTEGER PRIMARY KEY,
    qids BLOB NOT NULL UNIQUE
);
CREATE TABLE measures (
    slot_device INTEGER PRIMARY KEY,
    data        BLOB NOT NULL,
    slot        INTEGER AS (slot_device >> 16),
    device_id   INTEGER AS (slot_device & 65535)
);
CREATE TABLE energy_readings (
    device_id INTEGER NOT NULL,
    slot      INTEGER NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (device_id, slot)
) WITHOUT ROWID;
CREATE TABLE energy_hourly (
    device_id INTEGER NOT NULL,
    hour      INTEGER NOT NULL,
    amount    REAL NOT NULL DEFAULT 0,
    missing   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, hour)
) WITHOUT ROWID;
CREATE TABLE energy_daily (
    device_id INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    amount    REAL NOT NULL DEFAULT 0,
    missing   INTEGER NOT NULL DEFAULT 0,
    h00 REAL NOT NULL DEFAULT 0,
    h01 REAL NOT NULL DEFAULT 0,
    h02 REAL NOT NULL DEFAULT 0,
    h03 REAL NOT NULL DEFAULT 0,
    h04 REAL NOT NULL DEFAULT 0,
    h05 REAL NOT NULL DEFAULT 0,
    h06 REAL NOT NULL DEFAULT 0,
    h07 REAL NOT NULL DEFAULT 0,
    h08 REAL NOT NULL DEFAULT 0,
    h09 REAL NOT NULL DEFAULT 0,
    h10 REAL NOT NULL DEFAULT 0,
    h11 REAL NOT NULL DEFAULT 0,
    h12 REAL NOT NULL DEFAULT 0,
    h13 REAL NOT NULL DEFAULT 0,
    h14 REAL NOT NULL DEFAULT 0,
    h15 REAL NOT NULL DEFAULT 0,
    h16 REAL NOT NULL DEFAULT 0,
    h17 REAL NOT NULL DEFAULT 0,
    h18 REAL NOT NULL DEFAULT 0,
    h19 REAL NOT NULL DEFAULT 0,
    h20 REAL NOT NULL DEFAULT 0,
    h21 REAL NOT NULL DEFAULT 0,
    h22 REAL NOT NULL DEFAULT 0,
    h23 REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, day)
) WITHOUT ROWID;
CREATE TABLE energy_gaps (
    device_id  INTEGER NOT NULL,
    first_slot INTEGER NOT NULL,
    last_slot  INTEGER NOT NULL,
    amount     REAL NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (device_id, first_slot)
) WITHOUT ROWID;
CREATE TABLE cost_energies (
    energy     TEXT PRIMARY KEY CHECK (energy IN ('electricity', 'gas', 'water')),
    currency   TEXT NOT NULL,
    kwh_per_m3 TEXT
);
CREATE TABLE cost_rules (
    id     INTEGER PRIMARY KEY,
    energy TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    name   TEXT NOT NULL
);
CREATE TABLE cost_rule_targets (
    rule_id   INTEGER NOT NULL REFERENCES cost_rules (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('circuit', 'zone')),
    target_id INTEGER NOT NULL,
    PRIMARY KEY (rule_id, kind, target_id)
);
CREATE TABLE cost_tariffs (
    id         INTEGER PRIMARY KEY,
    rule_id    INTEGER NOT NULL REFERENCES cost_rules (id) ON DELETE CASCADE,
    valid_from TEXT NOT NULL,
    base       TEXT NOT NULL,
    UNIQUE (rule_id, valid_from)
);
CREATE TABLE cost_bands (
    tariff_id  INTEGER NOT NULL REFERENCES cost_tariffs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    days       INTEGER NOT NULL,
    start_hour INTEGER NOT NULL,
    end_hour   INTEGER NOT NULL,
    price      TEXT NOT NULL,
    PRIMARY KEY (tariff_id, seq)
);
"""

# Migration 4: the slots the recorder has not closed yet, saved every poll cycle or so (see
# :mod:`ews_tui.store.open_slots`), so that a crash loses at most that and a restart inside
# a slot merges with what came before it. A row is deleted in the transaction that writes
# its slot to ``measures`` (a clean stop writes the slot and keeps the row, to merge after
# the restart).
V4_OPEN_SLOTS = """
CREATE TABLE open_slots (
    slot_device INTEGER PRIMARY KEY,
    idx         REAL,
    data        BLOB NOT NULL
);
"""
