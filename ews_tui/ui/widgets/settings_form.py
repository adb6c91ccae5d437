"""A form of box settings: one row per ``config.toml`` key, its error right under it.

Each row is described by a :class:`Setting` (the dotted key, a label msgid, the kind of
control). The form reads its values from the config as the TOML file spells them, gives back
only what changed (``changes()``), and shows the config's own refusal of a key under its row
(``show_problems``); a problem of no row shows at the bottom. Enter in a text field moves on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static, Switch

from ews_tui.config import Problem
from ews_tui.i18n import _
from ews_tui.ui.widgets.choice import Choice
from ews_tui.ui.widgets.ticks import TickSwitch

Kind = Literal["text", "number", "select", "switch", "list"]


@dataclass(frozen=True)
class Setting:
    """One row: ``key`` as in the TOML file (``rs485.timeout_ms``), a label msgid, a control.

    A ``list`` is one text field of words separated by commas or spaces (DNS servers).
    ``choices`` are ``(label, value)`` pairs for a select; labels are msgids unless
    ``native`` (language names are shown in their own language). ``suffix`` is a unit msgid.
    """

    key: str
    label: str
    kind: Kind = "text"
    choices: tuple[tuple[str, Any], ...] = ()
    native: bool = False
    suffix: str = ""

    @property
    def dom_id(self) -> str:
        return "set-" + self.key.replace(".", "-").replace("_", "-")


def lookup(doc: Mapping[str, Any], key: str) -> Any:
    """The value of a dotted key in a TOML document (None when absent)."""
    node: Any = doc
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _as_number(text: str) -> int | str:
    """Digits become an integer; anything else stays text for the config to refuse."""
    stripped = text.strip()
    return int(stripped) if stripped.isascii() and stripped.isdigit() else stripped


def as_text(value: Any) -> str:
    """A value as its text field shows it (a list: its words separated by commas)."""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def on_off(value: Any) -> str:
    """The word beside a switch: it must read without colours."""
    return _("ON") if value else _("OFF")


class SettingsForm(Vertical):
    """The rows of some settings, loaded from and compared with a config document."""

    DEFAULT_CSS = """
    SettingsForm { height: auto; }
    SettingsForm .setting-row { height: auto; margin-top: 1; }
    SettingsForm .setting-label { width: 26; padding: 0 1 0 0; }
    SettingsForm Input { width: 30; }
    SettingsForm Select { width: 30; }
    SettingsForm Switch { border: none; height: 1; padding: 0; }
    SettingsForm .setting-suffix { padding: 0 0 0 1; width: auto; }
    SettingsForm .setting-error { color: $error; padding-left: 26; height: auto; }
    SettingsForm .setting-error.-empty { display: none; }
    SettingsForm #form-error { color: $error; height: auto; }
    SettingsForm #form-error.-empty { display: none; }
    """

    def __init__(
        self, settings: Iterable[Setting], doc: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        """``doc``: the config document whose values the controls are composed with (then
        :meth:`load` need not run: setting them once mounted styles and lays out again)."""
        super().__init__(**kwargs)
        self.settings = tuple(settings)
        self._doc = doc
        self._rows: dict[str, Horizontal] = {}  # setting key -> its row
        # setting key ("" for the form's own) -> its error line, once one had to show
        self._errors: dict[str, Static] = {}
        self._loaded: dict[str, Any] = (
            {} if doc is None else {s.key: lookup(doc, s.key) for s in self.settings}
        )

    @property
    def loaded(self) -> bool:
        """True once the controls hold a config document's values."""
        return bool(self._loaded) or not self.settings

    def compose(self) -> ComposeResult:
        for setting in self.settings:
            value = None if self._doc is None else lookup(self._doc, setting.key)
            # Each row's error line is mounted under it when it first has one to show
            # (issue 16: hidden, they still cost the page's open).
            with Horizontal(classes="setting-row") as row:
                yield Label(_(setting.label), classes="setting-label")
                yield self._control(setting, value)
                if setting.suffix:
                    yield Label(_(setting.suffix), classes="setting-suffix")
                if setting.kind == "switch":
                    yield Label(
                        "" if self._doc is None else on_off(value),
                        id=f"{setting.dom_id}-word",
                        classes="setting-suffix",
                    )
            self._rows[setting.key] = row

    def _control(self, setting: Setting, value: Any) -> Input | Select[Any] | Switch:
        if setting.kind == "switch":
            return TickSwitch(value=bool(value), id=setting.dom_id)
        if setting.kind == "select":
            options = [
                (label if setting.native else _(label), choice) for label, choice in setting.choices
            ]
            # A value the choices lack is refused as load() refuses it (an error, not the
            # first choice in its place).
            return Choice(
                options,
                allow_blank=False,
                value=Select.NULL if value is None else value,
                id=setting.dom_id,
            )
        return Input(as_text(value), id=setting.dom_id, compact=True)

    # ---------------------------------------------------------------- values

    def load(self, doc: Mapping[str, Any]) -> None:
        """Show the values of a config document (as ``to_document`` spells them)."""
        for setting in self.settings:
            value = lookup(doc, setting.key)
            self._loaded[setting.key] = value
            widget = self.query_one(f"#{setting.dom_id}")
            if isinstance(widget, Switch):
                widget.value = bool(value)
                word = self.query_one(f"#{setting.dom_id}-word", Label)
                if str(word.content) != on_off(value):
                    word.update(on_off(value))
            elif isinstance(widget, Select):
                widget.value = value
            elif isinstance(widget, Input):
                widget.value = as_text(value)

    def value(self, setting: Setting) -> Any:
        widget = self.query_one(f"#{setting.dom_id}")
        if isinstance(widget, Switch | Select):
            return widget.value
        assert isinstance(widget, Input)
        if setting.kind == "list":
            return [word for word in re.split(r"[,\s]+", widget.value) if word]
        return _as_number(widget.value) if setting.kind == "number" else widget.value.strip()

    def values(self) -> dict[str, Any]:
        return {setting.key: self.value(setting) for setting in self.settings}

    def changes(self) -> dict[str, Any]:
        """The keys whose value differs from what was loaded."""
        return {key: value for key, value in self.values().items() if value != self._loaded[key]}

    # ---------------------------------------------------------------- errors

    def show_problems(self, problems: Iterable[Problem]) -> None:
        """Each problem under its row (the config's message); the others at the bottom."""
        by_key: dict[str, list[str]] = {}
        others: list[str] = []
        keys = {s.key for s in self.settings}
        for problem in problems:
            if problem.where in keys:
                by_key.setdefault(problem.where, []).append(problem.message.render(_))
            else:
                others.append(problem.render(_))
        for setting in self.settings:
            self._set_error(setting, by_key.get(setting.key, []))
        self._set_error(None, others)

    def error_of(self, key: str) -> str:
        """The error shown under the row of ``key`` ("" when none)."""
        static = self._errors.get(key)
        return "" if static is None or static.has_class("-empty") else str(static.content)

    def _set_error(self, setting: Setting | None, lines: list[str]) -> None:
        """Show ``lines`` under the row of ``setting`` (None: at the bottom of the form)."""
        static = self._errors.get("" if setting is None else setting.key)
        if static is None:
            if not lines:
                return
            if setting is None:
                static = Static("", id="form-error", classes="-empty")
                self.mount(static)
            else:
                static = Static("", id=f"{setting.dom_id}-error", classes="setting-error -empty")
                self.mount(static, after=self._rows[setting.key])
            self._errors["" if setting is None else setting.key] = static
        static.update("\n".join(lines))
        static.set_class(not lines, "-empty")

    def on_switch_changed(self, event: Switch.Changed) -> None:
        """Say ON or OFF beside a switch: it must read without colours."""
        word = self.query_one(f"#{event.switch.id}-word", Label)
        word.update(on_off(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()
