"""The Date and time page's offset, measured against a real NTP server (chronyd -x on
loopback): the answer is checked and the offset of a clock against itself is near zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from ews_tui.config import default_config, save_config
from ews_tui.hub import Hub
from ews_tui.services.settings import SettingsService, check_sntp_answer
from tests.services.chrony_server import chrony_server


async def test_offset_to_a_real_ntp_server(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path / "data"), path)
    async with chrony_server(tmp_path / "chrony") as port:
        service = SettingsService(path, Hub(), ntp_port=port)
        await service.apply({"time.ntp_server": "127.0.0.1"})
        reading = await service.ntp_offset()
    assert reading.error == "" and reading.offset is not None
    # chronyd -x serves this machine's own clock: the offset is the measuring noise.
    assert abs(reading.offset) < 0.5


def _answer(first: int, stratum: int, origin: bytes) -> bytes:
    return bytes([first, stratum]) + bytes(22) + origin + bytes(16)


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (b"\x24" * 20, "SNTP answer of 20 bytes, expected 48"),
        (_answer(0x23, 2, b"12345678"), "not a server answer (mode 3)"),
        (_answer(0x24, 0, b"12345678"), "the server refused the request (\x00\x00\x00\x00)"),
        (_answer(0xE4, 2, b"12345678"), "the server is not synchronised"),
        (_answer(0x24, 2, b"87654321"), "an answer to another request"),
    ],
)
def test_unusable_answers_are_refused(packet: bytes, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_sntp_answer(packet, b"12345678")
    assert str(refused.value) == reason
    check_sntp_answer(_answer(0x24, 2, b"12345678"), b"12345678")  # a good one passes
