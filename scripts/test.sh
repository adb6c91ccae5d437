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
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist worksteal --durations=30 "$@"
