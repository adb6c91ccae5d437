"""The keys of issue 17: ``time.backend``, ``time.timesyncd_dir`` and ``network.dns``, read,
refused with a message naming the key, and written back as the file spells them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ews_tui.config import (
    ConfigError,
    TimeBackend,
    apply_changes,
    default_config,
    load_config,
    parse_config,
    save_config,
)

BASE = Path("/etc/ews")


def test_defaults_apply_nothing() -> None:
    config = parse_config({}, BASE)
    assert config.time.backend is TimeBackend.NONE
    assert config.time.timesyncd_dir == Path("/etc/systemd/timesyncd.conf.d")
    assert config.network.dns == ()


def test_new_keys_are_read() -> None:
    config = parse_config(
        {
            "time": {"backend": "systemd-timesyncd", "timesyncd_dir": "timesyncd"},
            "network": {"dns": ["192.168.1.1", "2001:db8::53"]},
        },
        BASE,
    )
    assert config.time.backend is TimeBackend.SYSTEMD_TIMESYNCD
    assert config.time.timesyncd_dir == BASE / "timesyncd"  # relative to the config file
    assert config.network.dns == ("192.168.1.1", "2001:db8::53")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"time": {"backend": "ntpd"}},
            'time.backend: "ntpd" is not one of none, systemd-timesyncd',
        ),
        ({"time": {"timesyncd_dir": ""}}, "time.timesyncd_dir: must not be empty"),
        ({"network": {"dns": ["8.8.8.300"]}}, 'network.dns: "8.8.8.300" is not an IP address'),
        ({"network": {"dns": ["dns.example"]}}, 'network.dns: "dns.example" is not an IP address'),
        ({"network": {"dns": ["9.9.9.9", "9.9.9.9"]}}, 'network.dns: "9.9.9.9" is listed twice'),
        (
            {"network": {"dns": ["1.1.1.1", "1.0.0.1", "9.9.9.9", "8.8.8.8"]}},
            "network.dns: at most 3 addresses",
        ),
        ({"network": {"dns": 53}}, "network.dns: 53 is not a list of IP addresses"),
        ({"network": {"dns": [53]}}, "network.dns: 53 is not a string"),
    ],
)
def test_bad_values_are_refused_naming_the_key(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(doc, BASE)
    assert [str(p) for p in refused.value.problems] == [message]


def test_a_form_field_spells_dns_as_one_line(tmp_path: Path) -> None:
    """The Network page's field: addresses separated by commas or spaces."""
    config = apply_changes(
        default_config(tmp_path), {"network.dns": "192.168.1.1, 9.9.9.9"}, tmp_path
    )
    assert config.network.dns == ("192.168.1.1", "9.9.9.9")
    assert apply_changes(config, {"network.dns": ""}, tmp_path).network.dns == ()


def test_saved_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    changes = {
        "network.dns": ["9.9.9.9"],
        "time.backend": "systemd-timesyncd",
        "time.timesyncd_dir": str(tmp_path / "timesyncd"),
    }
    save_config(apply_changes(default_config(tmp_path), changes, tmp_path), path)
    text = path.read_text("utf-8")
    assert 'backend = "systemd-timesyncd"' in text
    again = load_config(path)
    assert again.network.dns == ("9.9.9.9",)
    assert again.time.timesyncd_dir == tmp_path / "timesyncd"
