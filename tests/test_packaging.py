"""Every data file the code reads at run time ships with the package (a non-editable install
holds only the files ``[tool.setuptools.package-data]`` names)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = {".md"}
"""Notes for the people who write the files, not read by the code."""


def test_every_runtime_data_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    missing = []
    for package, patterns in globs.items():
        base = ROOT / package
        for path in base.rglob("*"):
            if (
                not path.is_file()
                or path.suffix in {".py", ".pyc"} | DOCS
                or "__pycache__" in path.parts
            ):
                continue
            rel = path.relative_to(base).as_posix()
            if not any(fnmatch(rel, p) for p in patterns):
                missing.append(f"{package}/{rel}")
    assert not missing, f"not shipped by a non-editable install: {missing}"
