"""An index changed entry by entry (``Index.with_entry`` / ``without_entry`` / ``updated``)
equals one built at once over the same entries: same internal state, same rankings, scores,
decision features and decisions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.search import Index

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "knowledge" / "data"
EVAL = ROOT.parent / "shared" / "eval"


def _queries(path: Path) -> list[str]:
    return [json.loads(line)["q"] for line in path.read_text().splitlines() if line.strip()]


def _postings(index: Index) -> dict[str, list[tuple[int, float]]]:
    s = index._state
    out: dict[str, list[tuple[int, float]]] = {}
    for feat in s.fid:
        hit = index._postings.get(feat)
        if hit is not None:
            idx, contrib = hit
            out[feat] = sorted(zip(idx.tolist(), contrib.tolist(), strict=True))
    return out


def assert_same(edited: Index, at_once: Index, queries: list[str], exact: bool = True) -> None:
    """Same state and results; ``exact=False`` for an index read back from a file, whose sets
    iterate in another order, so that sums over them may differ in the last bit (as between
    two processes building the same index)."""
    assert edited.entries == at_once.entries
    a, b = edited._state, at_once._state
    assert _postings(edited) == _postings(at_once)
    assert np.array_equal(a.lengths, b.lengths) and np.array_equal(a.norm, b.norm)
    assert a.vocab == b.vocab and a.vocab_set == b.vocab_set
    assert +a.short_df == +b.short_df
    assert a.spellings == b.spellings
    for f in a.spellings:  # the order breaks ties in ``restore``
        assert list(a.spellings[f]) == list(b.spellings[f])
    assert a.spelling_pairs == b.spelling_pairs
    assert a.acronyms == b.acronyms
    assert a.keyword_topics == b.keyword_topics
    assert a.group_topics == b.group_topics and a.group_aspects == b.group_aspects
    assert dict(a.group_members) == dict(b.group_members) and a.keys == b.keys
    assert a.infos == b.infos
    for q in queries:
        ra, rb = edited.rank_full(q), at_once.rank_full(q)
        assert [(m.entry.id, m.score) for m in ra.matches] == [
            (m.entry.id, m.score) for m in rb.matches
        ], q
        assert (ra.x is None) == (rb.x is None)
        if ra.x is not None and rb.x is not None:
            assert np.array_equal(ra.x, rb.x) if exact else np.allclose(ra.x, rb.x, 0, 1e-12)
        assert (ra.aspect, ra.missing_aspect, ra.procedure, ra.named, ra.unique_aspect) == (
            rb.aspect,
            rb.missing_aspect,
            rb.procedure,
            rb.named,
            rb.unique_aspect,
        )
        assert edited.search(q).decision == at_once.search(q).decision, q
        assert edited.restore(q) == at_once.restore(q)


def _edited(entries: list[Entry]) -> list[Entry]:
    """The base after an admin's edits: an answer and phrasings changed, a keyword added,
    a procedure renamed, one entry disabled."""
    out = list(entries)
    e = out[1]
    out[1] = replace(
        e,
        answer=e.answer + " Có thể nộp trực tuyến trên Cổng Dịch vụ công quốc gia.",
        alternatives=(*e.alternatives, "nộp hồ sơ này ở đâu vậy"),
        keywords=(*e.keywords, "giấy tạm trú mới"),
    )
    e = out[-2]
    out[-2] = replace(e, procedure=e.procedure + " cho người nước ngoài")
    out[3] = replace(out[3], enabled=False)
    return out


@pytest.fixture(scope="module")
def eval_entries() -> list[Entry]:
    if not (EVAL / "kb.yaml").exists():
        pytest.skip("../shared/eval is not there")
    return kbfile.load(EVAL / "kb.yaml")


def test_entries_added_one_by_one_equal_a_build_at_once(eval_entries: list[Entry]) -> None:
    index = Index([])
    for e in eval_entries:
        index = index.with_entry(e)
    assert_same(index, Index(eval_entries), _queries(EVAL / "queries.jsonl"))


def test_inserted_in_the_middle_and_deleted_from_anywhere(eval_entries: list[Entry]) -> None:
    # Built backwards by insertions at the front; then a third of the entries deleted.
    index = Index([])
    for e in reversed(eval_entries):
        index = index.with_entry(e, position=0)
    queries = _queries(EVAL / "queries.jsonl")[::3]
    assert_same(index, Index(eval_entries), queries)
    kept = [e for i, e in enumerate(eval_entries) if i % 3]
    for i, e in enumerate(eval_entries):
        if i % 3 == 0:
            index = index.without_entry(e.id)
    assert_same(index, Index(kept), queries)
    assert index.without_entry("khong-co/muc-nay") is index


def test_edits_leave_the_old_index_unchanged(eval_entries: list[Entry]) -> None:
    before = Index(eval_entries)
    queries = _queries(EVAL / "queries.jsonl")[::4]
    expected = [(q, [m.entry.id for m in before.search(q).matches]) for q in queries]
    after = before.updated(_edited(eval_entries))
    assert after is not before
    assert_same(before, Index(eval_entries), queries)
    assert [(q, [m.entry.id for m in before.search(q).matches]) for q in queries] == expected
    assert_same(after, Index(_edited(eval_entries)), queries)


def test_bundled_base_edited_equals_rebuilt() -> None:
    entries = kbfile.load_dir(BUNDLED)
    index = Index(entries)
    edited = _edited(entries)
    new_entry = replace(
        entries[10], id="thu-nghiem/moi", question="Đăng ký tạm vắng cho con nhỏ cần gì?"
    )
    edited.insert(7, new_entry)
    edited.pop(20)
    queries = [
        *(e.question for e in entries[::9]),
        "dkkh can gi",
        "lam lai cccd o dau",
        "dang ky tam vang cho con nho",
        "giá vàng hôm nay",
        "nộp hồ sơ này ở đâu vậy",
    ]
    assert_same(index.updated(edited), Index(edited), queries)


def test_updated_builds_at_once_when_the_order_changed(eval_entries: list[Entry]) -> None:
    index = Index(eval_entries)
    shuffled = [*eval_entries[1:], eval_entries[0]]
    assert_same(index.updated(shuffled), Index(shuffled), _queries(EVAL / "queries.jsonl")[:20])
    assert index.updated(eval_entries) is index  # nothing changed: nothing rebuilt


def test_a_disabled_entry_leaves_and_comes_back(eval_entries: list[Entry]) -> None:
    index = Index(eval_entries)
    target = eval_entries[5]
    hidden = index.with_entry(replace(target, enabled=False))
    assert hidden.get(target.id) is None and len(hidden) == len(eval_entries) - 1
    back = hidden.with_entry(target, position=5)
    assert_same(back, Index(eval_entries), [target.question, "hồ sơ gồm những gì"])
