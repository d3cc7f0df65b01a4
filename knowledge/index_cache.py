"""A built index kept on disk, so that a worker (re)starting on a base already indexed loads it
instead of analysing every entry again.

The file is named by a digest of the code and language data that analyse the entries
(``knowledge/**/*.py``, ``knowledge/lang/*``) and of the entries (content and order): a stale
index is never loaded as is. When no file matches the entries, the newest one of the same code is
loaded and edited to them if only a few entries differ (a worker restarting after an admin's
edit), else the index is built. Files are written whole to a temporary name and
renamed, so workers sharing the directory never read a partial one. The directory must be the
service's own (``INDEX_CACHE_DIR``): its files are Python pickles, loaded as trusted code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from knowledge.entry import Entry
from knowledge.index_state import IndexState, _release_freed_memory, edit_plan, group_key
from knowledge.search import MAX_EDITS, Index, Thresholds

log = logging.getLogger(__name__)

KNOWLEDGE = Path(__file__).resolve().parent
FORMAT = 5
"""Bumped when the stored state changes shape (5: the entry records made when first asked,
``index_state.EntryRecords``)."""


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code and language data the index is built with."""
    h = hashlib.sha256(f"format {FORMAT}".encode())
    for path in sorted((*KNOWLEDGE.rglob("*.py"), *(KNOWLEDGE / "lang").rglob("*"))):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(KNOWLEDGE)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def base_digest(entries: Sequence[Entry]) -> str:
    """A digest of the enabled entries, in order."""
    h = hashlib.sha256()
    for e in entries:
        if e.enabled:
            h.update(repr(e).encode())
            h.update(b"\0")
    return h.hexdigest()


def _prefix() -> str:
    return f"index-{code_digest()[:16]}-"


def path_for(directory: Path, entries: Sequence[Entry]) -> Path:
    return directory / f"{_prefix()}{base_digest(entries)[:32]}.pickle"


def _read(path: Path, with_entries: bool) -> tuple[IndexState, tuple[Entry, ...]] | None:
    """A stored state, and the entries it was built from when asked (they come second in the
    file: a worker loading the index of its own entries does not read them again)."""
    try:
        with path.open("rb") as f:
            state = pickle.load(f)  # noqa: S301 (the service's own files)
            entries = pickle.load(f) if with_entries else ()  # noqa: S301
    except FileNotFoundError:
        return None
    except Exception:
        log.warning("stored index %s unreadable; building it again", path.name, exc_info=True)
        return None
    if not isinstance(state, IndexState):
        return None
    return state, entries


def load(directory: Path, entries: Sequence[Entry], thresholds: Thresholds | None) -> Index | None:
    """The index of ``entries`` stored in ``directory``, or None when there is none (or it
    cannot be read: it is then built again)."""
    found = _read(path_for(directory, entries), with_entries=False)
    if found is None:
        return None
    state = found[0]
    live = [e for e in entries if e.enabled]
    if state.keys != [group_key(e) for e in live]:  # a file renamed by hand
        return None
    return Index.from_state(live, state, thresholds)


def load_near(
    directory: Path, entries: Sequence[Entry], thresholds: Thresholds | None
) -> Index | None:
    """The most recent index stored by this code, brought to ``entries`` by a few edits
    (``Index.updated``): a worker restarting after an admin's edit need not build it all."""
    stored = sorted(directory.glob(_prefix() + "*.pickle"), key=_mtime, reverse=True)
    for path in stored[:1]:
        found = _read(path, with_entries=True)
        if found is None:
            continue
        index = Index.from_state(found[1], found[0], thresholds)
        live = [e for e in entries if e.enabled]
        if edit_plan(index.entries, live, MAX_EDITS) is not None:
            return index.updated(live)
    return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def save(directory: Path, index: Index) -> Path:
    """Store ``index`` (atomically); returns the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = path_for(directory, index.entries)
    if path.exists():
        return path
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".index-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(index.state_for_storage(), f, pickle.HIGHEST_PROTOCOL)
            pickle.dump(index.entries, f, pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        # pickling a large state allocates and frees much (its memo of every object): the
        # freed memory is given back rather than kept by the worker
        _release_freed_memory()
    return path


def prune(directory: Path, keep: int = 3) -> None:
    """Remove all but the ``keep`` most recent stored indexes."""
    files = sorted(directory.glob("index-*.pickle"), key=_mtime)
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


def load_or_build(
    entries: Sequence[Entry], thresholds: Thresholds | None, directory: Path | None
) -> Index:
    """The stored index of ``entries`` when there is one, else a new one (then stored)."""
    if directory is None:
        return Index(entries, thresholds)
    found = load(directory, entries, thresholds)
    if found is not None:
        log.info("knowledge index loaded from %s", path_for(directory, entries).name)
        return found
    near = load_near(directory, entries, thresholds)
    if near is not None:
        log.info("knowledge index loaded from a stored one and edited")
        index = near
    else:
        index = Index(entries, thresholds)
    store(directory, index)
    return index


def store(directory: Path, index: Index) -> None:
    """Store an index, logging (not raising) a failure: the cache is only a shortcut."""
    try:
        save(directory, index)
        prune(directory)
    except OSError:
        log.warning("could not store the index in %s", directory, exc_info=True)
