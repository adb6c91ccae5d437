#!/usr/bin/env bash
# Set up (see setup.sh) and run every check: ruff, the import-layer contracts, mypy (its
# settings are [tool.mypy] in pyproject.toml), the tests.
# The tests run on one pytest-xdist worker per core (PYTEST_WORKERS overrides: a number, or 0
# for a single process), handed out one by one so that a slow test never holds a queue; the
# arguments go to pytest as they are (`./scripts/test.sh tests/ui -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/mypy
# Compiled modules are kept (in .venv/pycache, outside the source tree) even where the
# environment says not to write them (PYTHONDONTWRITEBYTECODE, as some CI images set): the
# tests start a Python process a couple of hundred times (the `ews` command, `ews serve`, the
# benches, the simulators), and each one compiled the package again (0.3 s of CPU a process);
# pytest keeps its rewritten test modules there too, for each worker.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="$PWD/.venv/pycache"
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist worksteal --durations=30 "$@"
