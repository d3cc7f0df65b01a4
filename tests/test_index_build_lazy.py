"""The bulk build makes an entry's record (``EntryInfo``) only when it is first asked for:
the records it makes then are those of the entry's own parts, and edits, storage and the
sums over all entries do not need them made."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.index_state import EntryRecords, entry_parts
from knowledge.search import Index

BUNDLED = Path(__file__).resolve().parent.parent / "knowledge" / "data"


def _entries() -> list[Entry]:
    entries = [e for e in kbfile.load_dir(BUNDLED) if e.enabled]
    assert len(entries) > 50
    return entries


def test_records_are_made_when_asked_and_equal_each_entrys_own() -> None:
    entries = _entries()
    index = Index(entries)
    infos = index._state.infos
    assert isinstance(infos, EntryRecords)
    assert all(infos.peek(i) is None for i in range(len(infos)))  # none made by the build
    # what the sums read without making a record
    assert [infos.key(i) for i in range(len(infos))] == index._state.keys
    assert [infos.texts(i) for i in range(len(infos))] == [
        entry_parts(e).info.texts for e in entries
    ]
    assert all(infos.peek(i) is None for i in range(len(infos)))
    index.search(entries[3].question)
    made = [i for i in range(len(infos)) if infos.peek(i) is not None]
    assert 0 < len(made) < len(infos)  # the candidates of that question only
    for i, e in enumerate(entries):
        assert infos[i] == entry_parts(e).info
    assert all(infos.peek(i) is not None for i in range(len(infos)))
    assert infos[2:5] == [entry_parts(e).info for e in entries[2:5]]


def test_an_edit_copies_the_records_without_making_them() -> None:
    entries = _entries()
    index = Index(entries)
    target = entries[10]
    # (a keyword phrase no entry had: its owners are read from every entry's texts)
    edited = index.with_entry(replace(target, keywords=(*target.keywords, "sổ hồng mới")))
    old, new = index._state.infos, edited._state.infos
    assert new is not old
    # the new one, and those of the groups whose topics and aspects were made again
    made = [i for i in range(len(new)) if new.peek(i) is not None]
    assert 10 in made and len(made) < len(new) // 4
    assert all(old.peek(i) is None for i in range(len(old)))
    assert [new[i] for i in range(len(new)) if i != 10] == [
        old[i] for i in range(len(old)) if i != 10
    ]


def test_records_survive_storage() -> None:
    entries = _entries()
    index = Index(entries)
    infos = index._state.infos
    infos[0]  # one made, the others not
    back = pickle.loads(pickle.dumps(infos))  # noqa: S301 (our own bytes)
    assert back.peek(0) == infos[0] and back.peek(1) is None
    assert back == infos
