"""``ews ssh hash-password``: the ``password_scrypt`` text of an ``[[ssh.users]]`` entry.

The password is asked twice on a terminal (never echoed), or read as one line from stdin.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from ews_tui.cli.errors import UserError
from ews_tui.frontends.ssh import hash_password
from ews_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("ssh", help=_("SSH front end helpers"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    hashing = inner.add_parser(
        "hash-password",
        help=_("print the password_scrypt text of a password for [[ssh.users]]"),
    )
    hashing.set_defaults(run=run_hash_password)


def run_hash_password(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass(_("Password: "))
        if getpass.getpass(_("Password again: ")) != password:
            raise UserError(_("the two passwords differ"))
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UserError(_("an empty password is refused"))
    print(hash_password(password))
    return 0
