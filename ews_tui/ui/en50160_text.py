"""How an EN 50160 verdict reads: a glyph *and* a word (✓ OK, ✕ KO, ? insufficient data,
– not assessed), so it reads without colour on a 16-colour serial console."""

from __future__ import annotations

from rich.text import Text

from ews_tui.domain.en50160 import Verdict
from ews_tui.i18n import N_, _

# verdict -> (glyph, word msgid, ANSI colour): a week's, then a criterion's
WEEK_VERDICTS: dict[str, tuple[str, str, str]] = {
    "ok": ("✓", N_("OK"), "green"),
    "ko": ("✕", N_("KO"), "red"),
    "insufficient": ("?", N_("insufficient data"), "yellow"),
}
VERDICTS: dict[str, tuple[str, str, str]] = {
    Verdict.PASSED.value: ("✓", N_("passed"), "green"),
    Verdict.FAILED.value: ("✕", N_("failed"), "red"),
    Verdict.INSUFFICIENT.value: ("?", N_("too few data"), "yellow"),
    Verdict.NOT_ASSESSED.value: ("–", N_("not assessed"), "bright_black"),
}


def verdict_text(value: str, *, week: bool = False) -> Text:
    glyph, word, colour = (WEEK_VERDICTS if week else VERDICTS).get(value, ("?", value, "default"))
    return Text(f"{glyph} {_(word)}", style=colour)
