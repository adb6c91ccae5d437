#!/usr/bin/env bash
# Set up (see setup.sh) and run every check: ruff, the import-layer contracts, mypy (its
# settings are [tool.mypy] in pyproject.toml), the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
