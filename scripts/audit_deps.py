#!/usr/bin/env python3
"""Offline dependency audit: the installed distributions against a local advisory file.

    .venv/bin/python scripts/audit_deps.py [--advisories FILE]

Exit status 0 when no installed version matches an advisory, 1 otherwise (each match printed),
2 for an unreadable advisory file. It needs no network: the advisory file
(``scripts/advisories.json`` by default) is refreshed by an operator who has network access,
from https://osv.dev or ``pip-audit`` (docs/security.md, "Dependency audit").
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DEFAULT = Path(__file__).resolve().parent / "advisories.json"


def installed() -> dict[str, str]:
    """Canonical name -> version of every distribution in this environment."""
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out[canonicalize_name(name)] = dist.version
    return out


def findings(advisories: list[dict[str, str]], versions: dict[str, str]) -> list[str]:
    """One line per installed distribution that an advisory covers."""
    lines = []
    for adv in advisories:
        version = versions.get(canonicalize_name(adv["package"]))
        if version is None:
            continue
        try:
            hit = Version(version) in SpecifierSet(adv["vulnerable"])
        except (InvalidVersion, InvalidSpecifier):
            hit = False
        if hit:
            lines.append(
                f"{adv['package']} {version}: {adv['id']} ({adv['vulnerable']}) {adv['summary']}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--advisories", type=Path, default=DEFAULT)
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.advisories.read_text("utf-8"))
        advisories = list(data["advisories"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read {args.advisories}: {exc}", file=sys.stderr)
        return 2
    lines = findings(advisories, installed())
    for line in lines:
        print(line)
    updated = data.get("updated", "unknown")
    if lines:
        print(f"{len(lines)} vulnerable distribution(s) (advisories of {updated}).")
        return 1
    print(f"No known vulnerable distribution (advisories of {updated}, {len(advisories)} checked).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
