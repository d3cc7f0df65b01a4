#!/usr/bin/env bash
# Start a local PostgreSQL for the tests and print its URL (Debian; installs it when run as root).
# Usage: eval "$(scripts/postgres.sh)"  -> exports MOTCUA_TEST_POSTGRES_URL
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed and this is not root: PostgreSQL tests will be skipped." >&2
    exit 0
  fi
  echo "Installing PostgreSQL from Debian packages ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver "; then
  pg_createcluster "$ver" main >&2
fi
pg_ctlcluster "$ver" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 || { echo "PostgreSQL did not start" >&2; exit 1; }
su postgres -c "psql -qAtc \"ALTER USER postgres PASSWORD 'motcua-test'\"" >/dev/null
echo "export MOTCUA_TEST_POSTGRES_URL=postgresql+asyncpg://postgres:motcua-test@127.0.0.1:5432/postgres"
