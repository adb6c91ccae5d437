"""``ews install import`` refuses a gateway on the box's own Modbus TCP server (manual §7.1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

Run = Callable[..., CompletedProcess[str]]

SITE = """
[[gateways]]
name = "Local"
ip = "127.0.0.1"

[[gateways]]
name = "mbusd"
ip = "127.0.0.1"
port = 5020

[[gateways]]
name = "Roof"
ip = "127.0.0.1"
port = {port}
"""


def test_import_refuses_a_gateway_on_the_boxs_own_server(ews_here: Run, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'data_dir = "data"\n[modbus_tcp_server]\nenabled = true\nlisten = "0.0.0.0:1502"\n',
        encoding="utf-8",
    )
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(port=1502), encoding="utf-8")
    result = ews_here("install", "import", str(site), "--config", str(config))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "gateways[2].ip: 127.0.0.1:1502 is this box's own Modbus TCP server (0.0.0.0:1502): "
        "the box would poll its own bus through itself; its devices go on the Local gateway"
    ]
    # Another loopback port is a real gateway (a local bridge): imported.
    site.write_text(SITE.format(port=1503), encoding="utf-8")
    assert ews_here("install", "import", str(site), "--config", str(config)).returncode == 0
