"""The seams between screens and services are typed, and mypy checks them.

A screen once asked ``hasattr(polling, "test_gateway")`` of a method nobody wrote, and users
saw "Test not available". These tests run the real mypy, with the project's settings, on a
small screen: a call to a method a service lacks must be a type error.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from ews_tui.domain import auth
from ews_tui.ui import app, menu, session
from ews_tui.ui.screens import login

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
from ews_tui.runtime import Runtime
from ews_tui.services.polling import PollingService
from ews_tui.ui.screen import EwsModalScreen, EwsScreen
from ews_tui.ui.session import Session


def lookup(runtime: Runtime) -> None:
    reveal_type(Session(runtime).service(PollingService))
    reveal_type(runtime.config)


class Probe(EwsScreen[None]):
    def probe(self) -> None:
        reveal_type(self.app)
        reveal_type(self.session)
        self.session.service(PollingService).no_such_method()


class Form(EwsModalScreen[bool]):
    def probe(self) -> None:
        reveal_type(self.app)
"""


def mypy(source: str, tmp_path: Path) -> list[str]:
    """mypy's lines about ``source``, checked with the settings of ``pyproject.toml``."""
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(source))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(probe)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return [line.split(": ", 1)[1] for line in done.stdout.splitlines() if "probe.py:" in line]


def test_screens_reach_typed_services(tmp_path: Path) -> None:
    lines = mypy(PROBE, tmp_path)
    assert lines == [
        'note: Revealed type is "ews_tui.services.polling.PollingService"',
        'note: Revealed type is "ews_tui.config.model.Config"',
        'note: Revealed type is "ews_tui.ui.app.EwsApp"',
        'note: Revealed type is "ews_tui.ui.session.Session"',
        'error: "PollingService" has no attribute "no_such_method"  [attr-defined]',
        'note: Revealed type is "ews_tui.ui.app.EwsApp"',
    ]


def test_the_package_is_checked_and_clean() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    unchecked = {
        module
        for override in config["tool"]["mypy"].get("overrides", [])
        if override.get("ignore_errors")
        for module in override["module"]
    }
    assert not unchecked, f"modules whose errors mypy ignores: {sorted(unchecked)}"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_role_enum() -> None:
    assert session.Role is auth.Role
    assert menu.Role is auth.Role
    assert app.Role is auth.Role
    assert login.Role is auth.Role
