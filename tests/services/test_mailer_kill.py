"""SIGKILL between queueing and sending: the mail arrives after the restart, once.

A child process queues a notice (committed with its transaction), composes its mail and
fails to send it (nobody listens yet), says so, and is killed with SIGKILL. A new mailer on
the same data dir, with the server now up, sends it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path

from ews_tui.hub import Hub
from ews_tui.services.mailer import Mailer
from ews_tui.store.db import open_database
from ews_tui.supervision import Supervisor
from tests.services.smtp_fixtures import Inbox, free_port, smtp_server
from tests.services.test_mailer import smtp_at

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from ews_tui.domain.events import MailFailing
    from ews_tui.domain.notifications import NotificationSettings, Notice, Recipient, Severity
    from ews_tui.hub import Hub
    from ews_tui.services.mailer import Mailer
    from ews_tui.store.db import open_database
    from ews_tui.store.notification_settings_repo import NotificationSettingsRepo
    from ews_tui.store.outbox_repo import enqueue
    from ews_tui.supervision import Supervisor
    from tests.services.test_mailer import smtp_at

    async def main():
        db = await open_database(Path(sys.argv[1]))
        await NotificationSettingsRepo(db).save(
            NotificationSettings(recipients=(Recipient("marie@site.test", "en"),), site_name="K")
        )
        async with db.transaction() as conn:
            await enqueue(conn, [Notice("breaker.tripped", Severity.CRITICAL, "TD1 Q3",
                                        datetime(2026, 12, 3, 17, 4, 5, tzinfo=UTC))])
        hub = Hub()
        news = hub.subscribe(MailFailing, name="child")
        mailer = Mailer(db, hub, smtp=lambda: smtp_at(int(sys.argv[2])),
                        timezone=lambda: "Europe/Paris", supervisor=Supervisor(hub))
        await mailer.start()
        await news.get()
        print("failing", flush=True)
        await asyncio.Event().wait()  # killed here

    asyncio.run(main())
    """
)


async def test_sigkill_between_queueing_and_sending(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    port = free_port()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(path),
        str(port),
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert child.stdout is not None
    async with asyncio.timeout(60):
        line = await child.stdout.readline()
    assert line == b"failing\n"
    child.send_signal(signal.SIGKILL)
    assert await child.wait() == -signal.SIGKILL

    inbox = Inbox()
    async with smtp_server(inbox, port=port):
        db = await open_database(path)
        try:
            hub = Hub()
            mailer = Mailer(
                db,
                hub,
                smtp=lambda: smtp_at(port),
                timezone=lambda: "Europe/Paris",
                supervisor=Supervisor(hub),
            )
            await mailer.start()  # tries at once what the killed box had put off
            try:
                async with asyncio.timeout(30):
                    await inbox.arrived.wait()
            finally:
                await mailer.stop()
            await mailer.run_once()  # a round after it sends nothing more
            counts = await mailer.outbox.counts()
        finally:
            await db.close()
    [mail] = inbox.mails
    assert mail["Subject"] == "[K] Critical: Breaker tripped on TD1 Q3"
    assert (counts.waiting, counts.unsent) == (0, 0)
