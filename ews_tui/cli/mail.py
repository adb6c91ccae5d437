"""``ews mail test --to ADDR``: send a test mail with the box's ``[smtp]`` settings now, and
say what the server answered, in plain words ("connection refused on port 587",
"authentication refused (535 ...)", "certificate not trusted (...)").

Exit 0 when the server accepted the mail, 1 (with the reason on stderr) when it did not. The
mail does not go through the outbox: nothing is queued, nothing retried.
"""

from __future__ import annotations

import argparse

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.errors import UserError
from ews_tui.hub import Hub
from ews_tui.i18n import _, use_language
from ews_tui.services.mailer import Mailer, server_text
from ews_tui.store.db import DATABASE_FILE, StoreError, open_database
from ews_tui.supervision import Supervisor


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("mail", help=_("e-mail notifications: a test mail"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    test = inner.add_parser(
        "test",
        help=_("send a test mail now with the [smtp] settings and print the server's answer"),
        description=_(
            "Sends one test mail to ADDR through the [smtp] server of the config and "
            "prints what the server answered. Exit 0 if it accepted the mail, 1 if not."
        ),
    )
    test.add_argument("--to", required=True, metavar="ADDR", help=_("the recipient's address"))
    add_config_option(test)
    test.set_defaults(run=run_test)


async def run_test(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    try:
        db = await open_database(config.data_dir / DATABASE_FILE)
    except StoreError as error:
        raise UserError(str(error)) from None
    hub = Hub()
    try:
        mailer = Mailer(
            db,
            hub,
            smtp=lambda: config.smtp,
            timezone=lambda: config.time.timezone,
            supervisor=Supervisor(hub),
        )
        answer = await mailer.send_test(args.to, language=config.language)
    finally:
        await db.close()
    with use_language(config.language):
        text = answer.message.render(_)
        if not answer.ok:
            raise UserError(
                _("mail test via {server}: {reason}").format(
                    server=server_text(config.smtp), reason=text
                )
            )
        print(text)
    return 0
