"""The fast paths of a search compute exactly what the plain code computed.

A search at 20,000 entries must stay under 5 ms at p99 (issue 11, part 6), and every ranking,
score and decision must stay bit-identical: each per-search shortcut is compared here with the
plain computation it replaces, on the bundled base and the evaluation sets.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.normalize import analyze
from knowledge.search import Index

ROOT = Path(__file__).resolve().parent.parent
SETS = [ROOT.parent / "shared" / "eval", *(ROOT / "bench" / f"eval{i}" for i in (2, 3, 4, 5, 6))]


def _bases() -> list[list[Entry]]:
    out = [kbfile.load_dir(ROOT / "knowledge" / "data")]
    out += [kbfile.load(f / "kb.yaml") for f in SETS if (f / "kb.yaml").exists()]
    return out


def _group_vocab(index: Index, members: list[int]) -> frozenset[str]:
    """The plain computation: the analysed content words of every text of the members."""
    words: set[str] = set()
    for i in members:
        e = index.entries[i]
        for text in (e.category, e.procedure, *e.phrasings, *e.keywords, e.answer):
            if text:
                words.update(analyze(text).content)
    return frozenset(words)


def _assert_group_words(index: Index) -> int:
    state = index._state
    vocab = set(state.vocab) | {"khongcotu", "vang", "zzz"}
    checked = 0
    for members in state.group_members.values():
        has = state.group_words(members)
        plain = _group_vocab(index, members)
        assert {w for w in vocab if has(w)} == plain & vocab
        checked += 1
    return checked


def test_group_words_read_from_the_postings_equal_the_analysed_texts() -> None:
    groups = 0
    for entries in _bases():
        groups += _assert_group_words(Index(entries))
    assert groups > 100


def test_group_words_after_edits() -> None:
    # Edits insert a posting at the end of a feature's range (positions no longer sorted):
    # the answer must not depend on it.
    entries = kbfile.load_dir(ROOT / "knowledge" / "data")
    index = Index(entries)
    first = entries[0]
    index = index.with_entry(replace(first, answer=first.answer + " Nộp tại bưu điện xã."))
    added = replace(entries[5], id="moi/ho-so", question="Hồ sơ vàng bạc?")
    index = index.with_entry(added, 3)
    index = index.without_entry(entries[9].id)
    assert _assert_group_words(index) > 10
    state = index._state
    assert state.group_words(state.group_members[index.group_of(added)])("vang")


def test_compact_entry_records_give_the_words_of_the_analysed_texts() -> None:
    # EntryInfo keeps each short text's content once, joined by spaces; the word sets, pairs
    # and procedure words a search reads are made from it and must be those of the analysis.
    for entries in _bases():
        index = Index(entries)
        for entry, info in zip(index.entries, index._state.infos, strict=True):
            phr = [analyze(t).content for t in entry.phrasings]
            kws = [analyze(t).content for t in entry.keywords]
            proc = [analyze(entry.procedure).content] if entry.procedure else []
            short = [*phr, *kws, *proc]
            assert info.short_texts == tuple(short)
            assert info.phrasings == tuple(" ".join(c) for c in phr)
            assert [frozenset(w) for w in info.phrasing_words] == [frozenset(c) for c in phr]
            named = proc[0] if proc else phr[0]
            assert frozenset(info.procedure_words) == frozenset(named)
            assert info.short_words == frozenset(w for c in short for w in c)
            assert info.short_pairs == frozenset(p for c in short for p in itertools.pairwise(c))


def test_equal_short_texts_of_different_entries_are_one_object() -> None:
    entries = kbfile.load_dir(ROOT / "knowledge" / "data")
    twice = entries + [replace(e, id=e.id + "-2") for e in entries]
    infos = Index(twice)._state.infos
    half = len(infos) // 2
    assert all(
        a is b
        for x, y in zip(infos[:half], infos[half:], strict=True)
        for a, b in zip(x.texts, y.texts, strict=True)
    )
