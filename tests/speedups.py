"""Work the suite would otherwise repeat in every test, done once per run.

Every started application builds a search index over its knowledge base (about 1.5 s for the
bundled base) and reads the bundled YAML files (0.2 s). The results depend only on their inputs,
so the test process keeps them: ``install`` wraps ``knowledge.calibrate.build`` and
``knowledge.kbfile.load_dir`` with caches keyed by the full input (the entries themselves, or the
bundled directory, which tests never write). Applications built by any test, from any fixture or
by hand, get the shared index without doing anything special.

The shared objects are read-only in the code (``Index`` is immutable once built, ``Entry`` is a
frozen dataclass; ``load_dir`` hands out a fresh list each time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from knowledge import calibrate, kbfile
from knowledge.entry import Entry
from knowledge.search import Index, Thresholds

BUNDLED_KB = (Path(__file__).resolve().parent.parent / "knowledge" / "data").resolve()

_indexes: dict[tuple[Any, ...], Index] = {}
_bundled: dict[Path, list[Entry]] = {}
stats = {"index_built": 0, "index_shared": 0}


def _cached_build(original: Callable[..., Index]) -> Callable[..., Index]:
    def build(
        entries: Sequence[Entry],
        thresholds: Thresholds | None = None,
        calibrate: bool = calibrate.ENABLED,
    ) -> Index:
        try:
            key = (tuple(entries), thresholds, calibrate)
            hash(key)
        except TypeError:  # an unhashable threshold model: build, do not share
            return original(entries, thresholds, calibrate)
        if key in _indexes:
            stats["index_shared"] += 1
        else:
            stats["index_built"] += 1
            _indexes[key] = original(entries, thresholds, calibrate)
        return _indexes[key]

    build.__doc__ = original.__doc__
    build.__wrapped__ = original  # type: ignore[attr-defined]
    return build


def _cached_load_dir(original: Callable[[str | Path], list[Entry]]) -> Callable[..., list[Entry]]:
    def load_dir(directory: str | Path) -> list[Entry]:
        path = Path(directory).resolve()
        if path != BUNDLED_KB:  # files a test wrote: always read
            return original(directory)
        if path not in _bundled:
            _bundled[path] = original(directory)
        return list(_bundled[path])

    load_dir.__doc__ = original.__doc__
    load_dir.__wrapped__ = original  # type: ignore[attr-defined]
    return load_dir


def install() -> None:
    """Wrap the two functions once per process (idempotent)."""
    if not hasattr(calibrate.build, "__wrapped__"):
        calibrate.build = _cached_build(calibrate.build)  # type: ignore[assignment]
    if not hasattr(kbfile.load_dir, "__wrapped__"):
        kbfile.load_dir = _cached_load_dir(kbfile.load_dir)  # type: ignore[assignment]
