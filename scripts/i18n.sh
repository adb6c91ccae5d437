#!/usr/bin/env bash
# Translation catalogs: extract msgids, merge them into every catalog, compile, add a language.
#
#   scripts/i18n.sh extract     code + data files -> locales/messages.pot
#   scripts/i18n.sh update      messages.pot -> every locales/<lang>/LC_MESSAGES/messages.po
#   scripts/i18n.sh refresh     extract, then update
#   scripts/i18n.sh compile     .po -> .mo (optional: the app reads the .po directly)
#   scripts/i18n.sh init LANG   start a catalog for LANG (one of ews_tui.i18n.LANGUAGES)
#   scripts/i18n.sh stats       per language: % of the code's msgids translated (100 % wanted)
#
# Runs from any directory, with the repository's .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
PYBABEL="$ROOT/.venv/bin/pybabel"
POT="locales/messages.pot"
cd "$ROOT"
# The toml extractor of babel.cfg lives in the package: make it importable.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

extract() {
    "$PYBABEL" -q extract -F babel.cfg -o "$POT" \
        --project=ews-tui --copyright-holder="ews-tui contributors" \
        --add-comments=TRANSLATORS: --add-location=file --sort-by-file --width=100 .
    "$PY" -c 'import sys; from babel.messages.pofile import read_po
count = sum(1 for m in read_po(open(sys.argv[1], "rb")) if m.id)
print(sys.argv[1] + ": " + str(count) + " msgids")' "$POT"
}

update() {
    [[ -f "$POT" ]] || extract
    "$PYBABEL" -q update -i "$POT" -d locales -D messages \
        --ignore-obsolete --ignore-pot-creation-date --width=100
    stats
}

compile() {
    "$PYBABEL" compile -d locales -D messages --statistics
}

init() {
    local lang="${1:-}"
    [[ -n "$lang" ]] || usage
    "$PY" -c 'import sys; from ews_tui.i18n import UnknownLanguageError, validate_language
try:
    validate_language(sys.argv[1])
except UnknownLanguageError as exc:
    sys.exit(f"i18n.sh init: {exc}")' "$lang"
    if [[ -f "locales/$lang/LC_MESSAGES/messages.po" ]]; then
        echo "locales/$lang/LC_MESSAGES/messages.po exists already: use update" >&2
        exit 1
    fi
    [[ -f "$POT" ]] || extract
    "$PYBABEL" init -i "$POT" -d locales -D messages -l "$lang" --width=100
}

stats() {
    # One line per language of ews_tui.i18n.LANGUAGES: the share of the code's msgids (extracted
    # now, by babel.cfg, as tests/test_i18n.py does) that the catalog translates; fr_BE and
    # nl_BE count what they translate themselves or through their parent (fr, nl).
    # tests/test_i18n.py fails below 100 % in any language.
    "$PY" - <<'PYEOF'
import math
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from ews_tui.i18n import FALLBACKS, LANGUAGES

with open("babel.cfg", encoding="utf-8") as stream:
    method_map, options_map = parse_mapping_cfg(stream, "babel.cfg")
wanted = set()
for _file, _line, message, _comments, context in extract_from_dir(
    ".", method_map, options_map, keywords=DEFAULT_KEYWORDS
):
    singular = message[0] if isinstance(message, tuple) else message
    if singular:
        wanted.add((singular, context))


def load(code):
    po = Path("locales") / code / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return None
    with po.open("rb") as stream:
        return read_po(stream, locale=code)


def translated(entry):
    if entry is None or entry.fuzzy:
        return False
    return all(entry.string if isinstance(entry.string, tuple) else (entry.string,))


total = len(wanted)
for code in LANGUAGES:
    if code == "en":
        print(f"{'en':6} {total:4} msgids in the code (English is the source language)")
        continue
    own = load(code)
    if own is None:
        print(f"{code:6}   0.0 %  no catalog: scripts/i18n.sh init {code}")
        continue
    parent = FALLBACKS.get(code)
    behind = load(parent) if parent else None
    done = fuzzy = inherited = 0
    for msgid, context in wanted:
        entry = own.get(msgid, context)
        if entry is not None and entry.fuzzy:
            fuzzy += 1
        elif translated(entry):
            done += 1
        elif behind is not None and translated(behind.get(msgid, context)):
            done += 1
            inherited += 1
    share = math.floor(1000 * done / total) / 10 if total else 100.0  # 99.99 shows 99.9
    via = f" ({inherited} through {parent})" if parent else ""
    print(
        f"{code:6} {share:5.1f} %  {done}/{total} translated{via}, {fuzzy} fuzzy, "
        f"{total - done - fuzzy} missing"
    )
PYEOF
}

case "${1:-}" in
    extract) extract ;;
    update) update ;;
    refresh) extract && update ;;
    compile) compile ;;
    init) init "${2:-}" ;;
    stats) stats ;;
    *) usage ;;
esac
