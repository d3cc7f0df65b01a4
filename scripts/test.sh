#!/usr/bin/env bash
# The whole check, as developers and CI run it: set up, lint, type-check, test on SQLite and
# PostgreSQL (started here when it can be; CI requires it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -z "${MOTCUA_TEST_POSTGRES_URL:-}" ]; then
  eval "$(scripts/postgres.sh)"
fi
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Chromium from Debian packages for the browser tests ..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null
fi
if [ "${CI:-}" = "true" ]; then
  export MOTCUA_REQUIRE_POSTGRES=1
  export MOTCUA_REQUIRE_BROWSER=1
fi
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
# -n auto: one pytest-xdist worker per core (each with its own databases and temporary files).
.venv/bin/pytest -q -n auto "$@"
