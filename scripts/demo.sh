#!/usr/bin/env bash
# Set up (see setup.sh) and run the demo: simulated devices, the whole runtime, the UI here.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/ews demo "$@"
