"""The built package carries the catalogs (``setup.py``'s build step): a box installed from
a wheel speaks every language, not only English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_built_package_carries_every_catalog(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path / "lib")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    source = sorted(p.relative_to(ROOT / "locales") for p in ROOT.glob("locales/*/*/*.po"))
    built = tmp_path / "lib" / "ews_tui" / "locales"
    assert len(source) == 13
    assert sorted(p.relative_to(built) for p in built.glob("*/*/*.po")) == source
    for catalog in source:
        assert (built / catalog).read_bytes() == (ROOT / "locales" / catalog).read_bytes()
    assert (tmp_path / "lib" / "ews_tui" / "data" / "catalog" / "emdx3.toml").is_file()
