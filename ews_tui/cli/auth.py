"""``ews auth reset --role ROLE``: recovery when a role's PUK is lost (root only, on the box).

The role gets a new random PIN and PUK, printed once on this terminal; both must be replaced
at its next login. Every source's failed logins are forgotten (lockouts and blocks lifted).
Works on a running box: the login service reads the stored codes at every attempt.
"""

from __future__ import annotations

import argparse
import os

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.errors import UserError
from ews_tui.domain.auth import Role
from ews_tui.hub import Hub
from ews_tui.i18n import _
from ews_tui.services.auth import AuthService
from ews_tui.store.db import DATABASE_FILE, StoreError, open_database
from ews_tui.store.users_repo import PepperError, UsersRepo

ROLE_CHOICES = [role.value for role in Role]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("auth", help=_("login recovery on the box (root)"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    reset = inner.add_parser(
        "reset",
        help=_("give a role a new random PIN and PUK and lift every lockout (root only)"),
        description=_(
            "For when every PUK of a role is lost. Prints the new PIN and PUK once; "
            "the role must replace both at its next login. Every source's failed logins are "
            "forgotten. Needs root: it is the recovery of someone at the box, not of a UI user."
        ),
    )
    reset.add_argument("--role", required=True, choices=ROLE_CHOICES)
    add_config_option(reset)
    reset.set_defaults(run=run_reset)


async def run_reset(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise UserError(_("auth reset: must be run as root"))
    config = read_config(config_path(args))
    role = Role(args.role)
    try:
        db = await open_database(config.data_dir / DATABASE_FILE)
    except StoreError as error:
        raise UserError(str(error)) from None
    try:
        auth = AuthService(UsersRepo(db), Hub())
        await auth.start()
        pin, puk = await auth.reset(role)
    except PepperError as error:
        raise UserError(str(error)) from None
    finally:
        await db.close()
    print(_("{role}: new PIN {pin}, new PUK {puk}").format(role=role.value, pin=pin, puk=puk))
    print(_("Both must be replaced at the next login of this role. Lockouts lifted."))
    return 0
