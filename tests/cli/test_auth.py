"""``ews auth reset --role ROLE``: the recovery on the box when every PUK is lost (root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ews_tui.cli import main
from ews_tui.domain.auth import MAX_FAILURES, MAX_PUK_FAILURES, AuthState, Role, SourceFailures
from ews_tui.hub import Hub
from ews_tui.services.auth import AuthService, LoginStatus
from ews_tui.store.db import open_database
from ews_tui.store.users_repo import UsersRepo
from tests.cli.conftest import Run

GUEST = "ssh:guest@10.0.0.9"


@pytest.mark.skipif(os.geteuid() != 0, reason="the reset needs root")
async def test_reset_gives_the_role_new_codes_and_lifts_every_lockout(
    ews: Run, box_config: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    db = await open_database(data_dir / "ews.sqlite")
    try:
        repo = UsersRepo(db)
        auth = AuthService(repo, Hub())
        await auth.start()  # the default codes, as at a first start
        state = await repo.load()
        blocked = SourceFailures(MAX_FAILURES + MAX_PUK_FAILURES, 0.0)
        await repo.save(AuthState(state.credentials, {GUEST: blocked}), sources=[GUEST])
        assert (await auth.refusal(GUEST)) is not None
    finally:
        await db.close()

    done = ews("auth", "reset", "--role", "server", "--config", str(box_config))
    assert done.returncode == 0, done.stderr
    found = re.search(r"server: new PIN (\d{5}), new PUK (\d{5} \d{4} \d{5})", done.stdout)
    assert found is not None, done.stdout
    pin, puk = found.groups()

    db = await open_database(data_dir / "ews.sqlite")
    try:
        auth = AuthService(UsersRepo(db), Hub())
        await auth.start()
        assert await auth.refusal(GUEST) is None
        old = await auth.login("99999", "00000 9999 00000", source="console")
        assert old.status is LoginStatus.WRONG_PIN
        result = await auth.login(pin, puk, source=GUEST)
        assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.SERVER)
        assert result.must_change_pin and result.must_change_puk
    finally:
        await db.close()


def test_reset_refuses_without_root(
    box_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # This machine's Python is not runnable by another user: the process says it is not root.
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    status = main(["auth", "reset", "--role", "system", "--config", str(box_config)])
    assert status == 1
    assert capsys.readouterr().err.strip() == "ews: auth reset: must be run as root"
    assert not (tmp_path / "data" / "ews.sqlite").exists()


def test_reset_needs_a_known_role(ews: Run, box_config: Path) -> None:
    done = ews("auth", "reset", "--role", "admin", "--config", str(box_config))
    assert done.returncode == 2 and "invalid choice" in done.stderr
