#!/usr/bin/env bash
# Set up and start the assistant on the embedded default (SQLite in data/, bundled knowledge).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/motcua serve "$@"
