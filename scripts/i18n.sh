#!/usr/bin/env bash
# Translation catalogs: extract msgids, merge them into every catalog, compile, add a language.
#
#   scripts/i18n.sh extract     code + data files -> locales/messages.pot
#   scripts/i18n.sh update      messages.pot -> every locales/<lang>/LC_MESSAGES/messages.po
#   scripts/i18n.sh refresh     extract, then update
#   scripts/i18n.sh compile     .po -> .mo (optional: the app reads the .po directly)
#   scripts/i18n.sh init LANG   start a catalog for LANG (one of ews_tui.i18n.LANGUAGES)
#   scripts/i18n.sh stats       translated / fuzzy / untranslated count per catalog
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
    "$PY" - <<'PYEOF'
from pathlib import Path

from babel.messages.pofile import read_po

for po in sorted(Path("locales").glob("*/LC_MESSAGES/messages.po")):
    with po.open("rb") as stream:
        catalog = read_po(stream)
    messages = [m for m in catalog if m.id]
    fuzzy = sum(1 for m in messages if m.fuzzy)
    done = sum(1 for m in messages if not m.fuzzy and all(m.string if isinstance(m.string, tuple) else (m.string,)))
    if po.parts[1] == "en":
        print(f"{'en':6} {len(messages):4} msgids (English is the source language)")
        continue
    print(f"{po.parts[1]:6} {done:4} translated, {fuzzy:3} fuzzy, {len(messages) - done - fuzzy:4} untranslated")
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
