"""Memory an index state held is given back to the system when the state is let go (after an
edit replaced it): its arrays are freed first, then glibc is asked to return freed memory."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from knowledge import index_state, kbfile
from knowledge.index_state import IndexState
from knowledge.search import GENERAL_WORDS

ROOT = Path(__file__).resolve().parent.parent


def test_a_state_let_go_gives_back_memory_after_its_arrays_are_freed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [e for e in kbfile.load_dir(ROOT / "knowledge" / "data") if e.enabled][:40]
    state = IndexState.from_entries(entries, GENERAL_WORDS)
    edited = state.edit(0, index_state.entry_parts(entries[0]), None)
    arrays = [weakref.ref(a) for a in (state.idx, state.code, state.lengths, state.norm)]
    seen: list[list[bool]] = []
    monkeypatch.setattr(
        index_state, "_release_freed_memory", lambda: seen.append([a() is None for a in arrays])
    )
    copy = state.for_storage()  # (a copy for storage shares the arrays and the release)
    del state
    gc.collect()
    assert seen == []  # still held by the copy
    del copy
    assert seen == [[True, True, True, True]]  # once, with the arrays already gone
    # the state made by the edit is another one: its release is its own
    assert edited.n == len(entries) - 1
    del edited
    assert len(seen) == 2
