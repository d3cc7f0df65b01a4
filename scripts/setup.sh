#!/usr/bin/env bash
# Create .venv and install motcua with its development tools (idempotent, quiet when up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "motcua needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))." >&2
  echo "On Debian: apt-get install python3 python3-venv" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installing python3-venv from Debian packages ..."
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv .venv
    else
      echo "Python's venv module is missing. On Debian: sudo apt-get install python3-venv" >&2
      exit 1
    fi
  fi
fi
stamp=.venv/.installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "Installing dependencies (a minute on a fresh machine) ..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The venv's bundled setuptools (65.5 on Python 3.11) has published advisories
  # (scripts/advisories.json); pin a current one.
  .venv/bin/python -m pip install --quiet --upgrade "setuptools>=80.9"
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
