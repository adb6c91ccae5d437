#!/usr/bin/env bash
# Set up this checkout on a fresh machine: the Debian packages the real-part tests use
# (installed when root and missing), a virtualenv in .venv, and ews-tui in it with its
# test extras. Safe to run again: it only refreshes what is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pair in socat:socat sshd:openssh-server ssh:openssh-client tmux:tmux mbpoll:mbpoll; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian packages: ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "setup: warning: missing Debian packages: ${missing[*]} (run as root to install)" >&2
    fi
fi

# chronyd, the NTP server of the Date and time tests (tests/services/chrony_server.py), is
# unpacked into .venv/chrony, not installed: the chrony package replaces systemd-timesyncd,
# the box's own time backend, and would start as this machine's time daemon.
if ! command -v chronyd >/dev/null 2>&1 && [ ! -x /usr/sbin/chronyd ] &&
    [ ! -x .venv/chrony/usr/sbin/chronyd ] && command -v apt-get >/dev/null 2>&1; then
    download=$(mktemp -d)
    chmod 755 "$download" # apt's own user writes the download there
    if ! (cd "$download" && apt-get download -qq chrony >/dev/null 2>&1) &&
        [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        (cd "$download" && apt-get download -qq chrony >/dev/null 2>&1) || true
    fi
    if ls "$download"/chrony_*.deb >/dev/null 2>&1; then
        echo "setup: unpacking chronyd into .venv/chrony" >&2
        mkdir -p .venv/chrony
        dpkg-deb -x "$download"/chrony_*.deb .venv/chrony
    else
        echo "setup: warning: cannot download chrony: the NTP server tests will skip" >&2
    fi
    rm -rf "$download"
fi

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python=$candidate
        break
    fi
done
if [ -z "$python" ]; then
    echo "setup: ews-tui needs Python 3.11 or newer" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
