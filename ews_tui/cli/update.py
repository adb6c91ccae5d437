"""``ews update keygen/build/check/apply/status``: software updates from a file.

``build`` (on a machine with the source tree and the registry) writes one file with the
project's wheel, every dependency's wheel and a manifest signed with an ed25519 key;
``apply`` (on the box, as root) checks it, installs it beside the running version, switches
to it, restarts the box and goes back by itself if the new version does not report healthy
(:mod:`ews_tui.services.update_install`).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.errors import UserError
from ews_tui.domain.messages import Message
from ews_tui.i18n import _
from ews_tui.services.system_commands import SubprocessRunner
from ews_tui.services.update import outcome_text, update_problem
from ews_tui.services.update_bundle import (
    CheckedBundle,
    UpdateError,
    build_bundle,
    compare_versions,
    generate_key,
    inspect_bundle,
    project_root,
    read_signing_key,
    read_trusted_keys,
)
from ews_tui.services.update_install import (
    INSTALLED,
    ApplyPlan,
    Layout,
    apply_update,
    read_outcome,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("update", help=_("build, check and apply software update files"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    keygen = inner.add_parser(
        "keygen",
        help=_("make an ed25519 key to sign update files"),
        description=_(
            "Write KEYFILE (private, 0600) and KEYFILE.pub; copy the .pub line into "
            "the box's update.trusted_keys file. ssh-keygen -t ed25519 -f KEYFILE does the same."
        ),
    )
    keygen.add_argument("keyfile", type=Path, metavar="KEYFILE")
    keygen.set_defaults(run=run_keygen)

    build = inner.add_parser(
        "build",
        help=_("write an update file: the project's wheel, its dependencies', a signed manifest"),
        description=_(
            "Builds the wheel of the source tree and downloads the wheels of every "
            "dependency, at the versions installed here (the box has no internet)."
        ),
    )
    build.add_argument("out", type=Path, metavar="OUT")
    build.add_argument(
        "--version", help=_("the version written in the bundle (default: the tree's)")
    )
    build.add_argument("--key", type=Path, metavar="KEYFILE", help=_("sign with this ed25519 key"))
    build.add_argument("--source", type=Path, help=_("the source tree (default: this one)"))
    build.add_argument(
        "--find-links",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help=_("also look for wheels in DIR"),
    )
    build.add_argument("--offline", action="store_true", help=_("do not use the package index"))
    build.add_argument(
        "--platform", help=_("wheels for another platform (e.g. manylinux2014_aarch64)")
    )
    build.set_defaults(run=run_build)

    check = inner.add_parser("check", help=_("check an update file's signature and version"))
    check.add_argument("file", type=Path, metavar="FILE")
    check.add_argument("--allow-unsigned", action="store_true")
    add_config_option(check)
    check.set_defaults(run=run_check)

    apply = inner.add_parser(
        "apply",
        help=_("install an update file, switch to it, roll back if it is not healthy"),
        description=_(
            "Checks the signature, installs into PREFIX/versions/VERSION, backs the "
            "database up, switches PREFIX/current, restarts the unit (systemctl) and waits for "
            "the new version to report healthy within update.health_timeout_s; otherwise goes "
            "back to the previous version (and its database). Run it as root."
        ),
    )
    apply.add_argument("file", type=Path, metavar="FILE")
    apply.add_argument("--prefix", type=Path, help=_("where the versions live (update.prefix)"))
    apply.add_argument("--allow-unsigned", action="store_true", help=_("install an unsigned file"))
    apply.add_argument(
        "--yes", action="store_true", help=_("do not ask (a downgrade is then allowed)")
    )
    add_config_option(apply)
    apply.set_defaults(run=run_apply)

    status = inner.add_parser("status", help=_("the running version and the last update"))
    status.add_argument("--prefix", type=Path)
    add_config_option(status)
    status.set_defaults(run=run_status)


def _refused(error: UpdateError) -> UserError:
    return UserError(error.message.render(_))


def run_keygen(args: argparse.Namespace) -> int:
    try:
        public = generate_key(args.keyfile)
    except UpdateError as error:
        raise _refused(error) from None
    print(_("Signing key: {key}; public key: {public}").format(key=args.keyfile, public=public))
    return 0


def run_build(args: argparse.Namespace) -> int:
    source = args.source or project_root()
    if source is None:
        raise UserError(_("no source tree here: give --source DIR"))
    try:
        key = read_signing_key(args.key) if args.key else None
        manifest = build_bundle(
            args.out,
            source,
            version=args.version,
            key=key,
            find_links=args.find_links,
            offline=args.offline,
            platform=args.platform,
        )
    except UpdateError as error:
        raise _refused(error) from None
    signed = _("signed") if key is not None else _("not signed")
    print(
        _("{file}: version {version}, {count} wheels, {signed}").format(
            file=args.out, version=manifest.version, count=len(manifest.files), signed=signed
        )
    )
    return 0


def _checked(args: argparse.Namespace, allow_unsigned: bool) -> CheckedBundle:
    config = read_config(config_path(args))
    try:
        trusted = read_trusted_keys(config.update.trusted_keys)
        return inspect_bundle(
            args.file, trusted, allow_unsigned=allow_unsigned or config.update.allow_unsigned
        )
    except UpdateError as error:
        raise _refused(error) from None


def run_check(args: argparse.Namespace) -> int:
    bundle = _checked(args, args.allow_unsigned)
    signer = bundle.signer or _("not signed")
    print(
        _("{file}: version {version}, signed by {signer}").format(
            file=args.file, version=bundle.version, signer=signer
        )
    )
    return 0


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in ("y", "yes", _("y"), _("yes"))


async def run_apply(args: argparse.Namespace) -> int:
    path = config_path(args)
    config = read_config(path)
    if args.prefix is not None:
        config = replace(config, update=replace(config.update, prefix=args.prefix))
    bundle = _checked(args, args.allow_unsigned)
    layout = Layout(config.update.prefix)
    running = layout.running_version()
    order = compare_versions(bundle.version, running)
    if order == 0:
        raise UserError(_("Version {version} is already installed.").format(version=running))
    if order < 0 and not args.yes:
        question = _("{version} is OLDER than the running {running}. Downgrade? [y/N] ").format(
            version=bundle.version, running=running
        )
        if not _ask(question):
            raise UserError(
                _("downgrade to {version} refused (--yes to allow it)").format(
                    version=bundle.version
                )
            )
    plan = ApplyPlan(config, path, SubprocessRunner())

    def progress(message: Message) -> None:
        print(message.render(_), flush=True)

    try:
        outcome = await apply_update(bundle, plan, progress)
    except UpdateError as error:
        raise _refused(error) from None
    if outcome.result == INSTALLED:
        print(_("Version {version} is running.").format(version=outcome.version))
        return 0
    raise UserError(update_problem(outcome).render(_))


def run_status(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    layout = Layout(args.prefix or config.update.prefix)
    print(_("Running version: {version}").format(version=layout.running_version()))
    last = read_outcome(layout)
    if last is not None:
        print(outcome_text(last))
    return 0
