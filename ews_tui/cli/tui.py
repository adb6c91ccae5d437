"""``ews tui [--config F] [--kiosk]``: the UI in this terminal, the box running in this process.

For a box without SSH (a screen and a keyboard on it) or for trying a config. ``--kiosk``
shows the read-only dashboard first; any key leads to the login. It holds the data dir like
``ews serve``: next to an ``ews serve`` of the same data dir it exits 1 ("in use by process N").
"""

from __future__ import annotations

import argparse
import os

from ews_tui.cli.box import add_config_option, config_path, hold_box, read_config
from ews_tui.cli.errors import UserError
from ews_tui.cli.serve import check_data_dir
from ews_tui.frontends.driver import colors_for_terminal
from ews_tui.i18n import LANGUAGES, _
from ews_tui.logs import log_to_data_dir
from ews_tui.services.box import running_box
from ews_tui.store.db import StoreError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "tui",
        help=_("the UI in this terminal, with the box running in this process"),
        description=_("Start the box of the config file and open its UI in this terminal."),
    )
    add_config_option(parser)
    parser.add_argument(
        "--kiosk", action="store_true", help=_("the read-only dashboard; a key opens the login")
    )
    parser.add_argument(
        "--language",
        choices=sorted(LANGUAGES),
        default=None,
        help=_("UI language of this session (default: the box's)"),
    )
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    from ews_tui.frontends.kiosk import kiosk_app
    from ews_tui.frontends.sessions import run_here
    from ews_tui.ui.app import EwsApp
    from ews_tui.ui.session import Session

    path = config_path(args)
    config = read_config(path)
    check_data_dir(config)
    log_to_data_dir(config.data_dir, ui_on_terminal=True)
    colors = colors_for_terminal(os.environ.get("TERM"), os.environ.get("COLORTERM"))
    with hold_box(config.data_dir):
        try:
            async with running_box(path, config) as rt:
                session = Session(
                    rt, language=args.language or config.language, colors=colors, origin="tui"
                )
                app = kiosk_app(session) if args.kiosk else EwsApp(session)
                crash = await run_here(app)
        except StoreError as error:
            raise UserError(str(error)) from None
    if crash is not None:
        raise UserError(crash)  # the box stopped with its one session: say why, exit 1
    return 0
