"""The dependency audit that works offline, and the pinned setuptools (issue 14, "Also")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit_deps.py"


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_environment_has_no_dependency_with_a_known_advisory() -> None:
    """scripts/setup.sh pins a current setuptools: the venv's bundled 65.5 is vulnerable."""
    done = audit()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No known vulnerable distribution" in done.stdout


def test_the_audit_reports_an_installed_vulnerable_version(tmp_path: Path) -> None:
    advisories = tmp_path / "adv.json"
    advisories.write_text(
        json.dumps(
            {
                "updated": "2026-12-06",
                "advisories": [
                    {"id": "TEST-1", "package": "PyYAML", "vulnerable": ">=0", "summary": "x"},
                    {"id": "TEST-2", "package": "PyYAML", "vulnerable": "<0.1", "summary": "y"},
                    {
                        "id": "TEST-3",
                        "package": "not-installed",
                        "vulnerable": ">=0",
                        "summary": "z",
                    },
                ],
            }
        )
    )
    done = audit("--advisories", str(advisories))
    assert done.returncode == 1
    assert "TEST-1" in done.stdout and "TEST-2" not in done.stdout and "TEST-3" not in done.stdout
    advisories.write_text("{not json")
    assert audit("--advisories", str(advisories)).returncode == 2
