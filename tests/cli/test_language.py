"""The ``ews`` command speaks the language of the user's locale variables (issue 16): its
help, argparse's own words, its errors; a UI session it starts still picks its own."""

from __future__ import annotations

import argparse
import contextvars
import io
import sys
from pathlib import Path

import pytest

from ews_tui.cli import build_parser, main
from ews_tui.cli.language import ENVIRONMENT, environment_language, translate_argparse
from ews_tui.i18n import current_language, translator, use_language
from tests.cli.conftest import Run
from tests.ui.box_fixtures import box_runtime, make_box_app

FRENCH = translator("fr")


def test_lang_fr_prints_the_help_in_french(ews: Run) -> None:
    result = ews("--help", env={"LANG": "fr_FR.UTF-8"})
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())  # argparse wraps the lines
    assert result.stdout.startswith(FRENCH.gettext("usage: ") + "ews ")
    assert FRENCH.gettext("usage: ") != "usage: "
    for msgid in (
        "show this help message and exit",  # argparse's own
        "show program's version number and exit",
        "ews-tui: energy management server operated through a terminal UI.",
        "check a config file",  # a command's help
    ):
        assert FRENCH.gettext(msgid) != msgid
        assert FRENCH.gettext(msgid) in help_text
    assert f"{FRENCH.gettext('options')}:" in result.stdout
    assert "usage:" not in result.stdout and "show this help" not in result.stdout


def test_a_command_s_help_and_placeholders_in_french(ews: Run) -> None:
    result = ews("probe", "--help", env={"LC_ALL": "fr_FR.UTF-8"})
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    speed = FRENCH.gettext("RTU speed (default 19200)")
    assert speed != "RTU speed (default 19200)" and speed in help_text
    settings = FRENCH.gettext(
        "the box's settings: its user model files join the catalog "
        "(default: $EWS_CONFIG, else {path} when it exists)"
    )
    assert settings.format(path="/etc/ews/config.toml") in help_text  # {path} filled


def test_language_de_prints_the_config_error_in_german(ews: Run, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent.toml"
    result = ews("config", "check", str(missing), env={"LANGUAGE": "de"})
    german = translator("de")
    assert result.returncode == 1
    reason = german.gettext("cannot read the file: {reason}").split("{reason}")[0]
    assert reason != "cannot read the file: "
    assert f"{missing}: {reason}" in result.stdout
    count = german.ngettext("{file}: {count} problem", "{file}: {count} problems", 1)
    assert result.stderr == "ews: " + count.format(file=missing, count=1) + "\n"


def test_a_missing_argument_is_refused_in_russian(ews: Run) -> None:
    result = ews("config", "check", env={"LANG": "ru_RU.UTF-8"})
    russian = translator("ru")
    assert result.returncode == 2
    message = russian.gettext("the following arguments are required: %s") % "F"
    error = russian.gettext("%(prog)s: error: %(message)s\n")
    assert result.stderr.endswith(error % {"prog": "ews config check", "message": message})
    assert result.stderr.startswith(russian.gettext("usage: ") + "ews config check")
    assert "required" not in result.stderr


def test_an_invalid_choice_is_refused_in_polish(ews: Run) -> None:
    result = ews("export", "pdf", env={"LANGUAGE": "pl_PL"})
    polish = translator("pl")
    assert result.returncode == 2
    assert polish.gettext("invalid choice: %(value)r (choose from %(choices)s)").split("%")[0] in (
        result.stderr
    )
    assert "invalid choice" not in result.stderr


@pytest.mark.parametrize("locale", ["C", "POSIX", "C.UTF-8", "ja_JP.UTF-8"])
def test_c_and_unknown_locales_speak_english(ews: Run, locale: str) -> None:
    result = ews("--help", env={"LANG": locale})
    assert result.returncode == 0
    assert result.stdout.startswith("usage: ews ")
    assert "show this help message and exit" in result.stdout
    assert "check a config file" in result.stdout


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "fr_BE.UTF-8"}, "fr_BE"),
        ({"LANG": "de_AT"}, "de"),
        ({"LANG": "nl_BE@euro"}, "nl_BE"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "en"),
        # the first variable set (and not empty) decides, in gettext's order
        ({"LANGUAGE": "it", "LC_ALL": "ru_RU", "LC_MESSAGES": "de_DE", "LANG": "fr_FR"}, "it"),
        ({"LANGUAGE": "", "LC_ALL": "ru_RU", "LC_MESSAGES": "de_DE", "LANG": "fr_FR"}, "ru"),
        ({"LC_ALL": "", "LC_MESSAGES": "de_DE.UTF-8", "LANG": "fr_FR"}, "de"),
        ({"LC_MESSAGES": "el_GR", "LANG": "fr_FR"}, "el"),
        ({"LANG": "hu_HU.UTF-8"}, "hu"),
        # LANGUAGE: a colon list of wishes, the first we have wins
        ({"LANGUAGE": "ja:pt_BR:de", "LANG": "fr_FR"}, "pt"),
        ({"LANGUAGE": "::es", "LANG": "fr_FR"}, "es"),
        ({"LANGUAGE": "C:fr", "LANG": "de_DE"}, "en"),
        # ... and when none is one of ours, English (gettext does not read LANG then)
        ({"LANGUAGE": "ja:zh", "LANG": "fr_FR"}, "en"),
    ],
)
def test_environment_language_in_gettext_order(environ: dict[str, str], expected: str) -> None:
    assert environment_language(environ) == expected


def test_the_variables_are_gettext_s() -> None:
    assert ENVIRONMENT == ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def test_argparse_speaks_the_current_language_and_never_the_catalog_header() -> None:
    translate_argparse()

    def run() -> tuple[str, str, object, str]:
        with use_language("fr"):
            help_text = build_parser(["config"]).format_help()
            return help_text, argparse._(""), argparse._(None), current_language()  # type: ignore[attr-defined]

    help_text, empty, none, language = contextvars.copy_context().run(run)
    assert help_text.startswith(FRENCH.gettext("usage: "))
    assert FRENCH.gettext("show this help message and exit") in help_text
    assert (empty, none, language) == ("", None, "fr")  # not the catalog's header
    with use_language("en"):
        assert build_parser(["config"]).format_help().startswith("usage: ")


async def test_a_ui_session_keeps_its_own_language_under_the_command_s(tmp_path: Path) -> None:
    """``ews tui`` / ``demo`` / ``serve`` under LANG=de: the session opens in the language
    it was given (config.language, --language, the login choice), not the command's."""
    seen: list[str] = []
    with use_language("de"):
        async with box_runtime(tmp_path) as rt:
            app = make_box_app(rt, None, language="fr")
            async with app.run_test() as pilot:
                app.call_later(lambda: seen.append(current_language()))
                await pilot.pause()
        assert current_language() == "de"
    assert seen == ["fr"]


def test_the_command_s_own_messages_follow_the_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANGUAGE", "es")
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))  # not a terminal: one line read
    assert main(["ssh", "hash-password"]) == 1
    refused = translator("es").gettext("an empty password is refused")
    assert refused != "an empty password is refused"
    assert capsys.readouterr().err == f"ews: {refused}\n"
    assert current_language() == "en"  # the command's language ended with it
