"""Retrieval's per-index caches: a base whose every posting fits in the contributions'
budget keeps them all (``knowledge/index_state.py``), the same figures as computed afresh,
computed once; word weights are remembered (``knowledge/search.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import index_state
from knowledge.entry import Entry
from knowledge.search import Index


def _index() -> Index:
    return Index(
        [
            Entry(
                id=f"thu-tuc-{i}/ho-so",
                category="Hộ tịch",
                question=f"Hồ sơ thủ tục số {i} gồm những gì?",
                answer="Tờ khai.",
                procedure=f"Thủ tục {i}",
            )
            for i in range(12)
        ]
    )


def test_a_small_base_keeps_every_contribution_it_computed() -> None:
    index = _index()
    postings = index._postings
    state = postings._state
    first = postings.get("ho")
    assert first is not None and len(first[0]) < index_state.CACHE_MIN_DF
    again = postings.get("ho")
    assert again is not None and again[0] is first[0] and again[1] is first[1]  # kept
    assert "ho" in state.contrib_cache
    fresh = index_state.Postings(index.state_for_storage())
    state.contrib_cache.clear()
    recomputed = fresh.get("ho")
    assert recomputed is not None
    np.testing.assert_array_equal(recomputed[0], first[0])
    assert recomputed[1].tobytes() == first[1].tobytes()  # bit for bit
    assert postings.get("khong-co-tu-nay") is None


def test_a_base_larger_than_the_budget_keeps_only_common_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = _index()
    monkeypatch.setattr(index_state, "CACHE_BYTES", index._postings._state.idx.size * 16 - 1)
    state = index._postings._state
    state.contrib_cache.clear()
    state.cache_bytes = 0
    assert index._postings.get("ho") is not None
    assert state.contrib_cache == {}  # rare (df < CACHE_MIN_DF): computed on each use


def test_a_base_larger_than_the_budget_keeps_common_contributions_without_positions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beyond the budget for everything, a common feature keeps its contributions only (half
    the bytes); its positions are copied from the stored ones on each use, the same values."""
    index = _index()
    state = index._postings._state
    first = index._postings.get("ho")
    assert first is not None
    monkeypatch.setattr(index_state, "CACHE_BYTES", state.idx.size * 16 - 1)
    monkeypatch.setattr(index_state, "CACHE_MIN_DF", 1)
    state.contrib_cache.clear()
    state.cache_bytes = 0
    got = index._postings.get("ho")
    assert got is not None
    kept = state.contrib_cache["ho"]
    assert kept[0] is None and kept[1] is got[1]
    assert state.cache_bytes == got[1].nbytes
    again = index._postings.get("ho")
    assert again is not None and again[1] is got[1]
    np.testing.assert_array_equal(again[0], first[0])
    assert again[1].tobytes() == first[1].tobytes()


def _ranked(index: Index, questions: list[str]) -> list[object]:
    out: list[object] = []
    for q in questions:
        r = index.search(q)
        out.append((r.decision, [(m.entry.id, m.score) for m in r.matches], r.aspect))
    return out


def test_rows_of_features_most_entries_hold_give_the_same_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A feature most entries hold is added to the scores as a whole row (``Postings.dense``):
    the rankings and scores are those of adding at its positions, bit for bit."""
    questions = [
        "hồ sơ thủ tục số 3 gồm những gì",
        "thu tuc so 7 can giay to gi",
        "thủ tục 11",
        "tờ khai",
    ]
    plain = _index()
    expected = _ranked(plain, questions)
    assert plain._postings._state.dense_cache == {}  # a small base: no rows
    monkeypatch.setattr(index_state, "DENSE_MIN_N", 1)
    index = _index()
    assert _ranked(index, questions) == expected
    rows = index._postings._state.dense_cache
    assert "^ho" in rows and len(rows["^ho"]) == len(index)  # every entry holds "hồ sơ"
    assert "3" not in rows  # one entry's number: its posting
    # within the rows' budget only
    monkeypatch.setattr(index_state, "DENSE_BYTES", 0)
    assert _ranked(_index(), questions) == expected


def test_word_weights_are_remembered_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Index.weight`` remembers what it computed (the same figure), up to a bound."""
    import math

    from knowledge import search

    index = _index()
    expected = min(1.0, math.log((12 + 1) / (12 + 0.5)) / math.log(12 + 1))  # in every entry
    assert index.weight("thu") == pytest.approx(expected)
    assert index._weights["thu"] == index.weight("thu")
    assert index.weight("xa") == 1.0  # no entry uses it
    assert index.weight("12") == 0.0  # numbers say nothing of the topic
    monkeypatch.setattr(search, "WEIGHTS_KEPT", len(index._weights))
    assert index.weight("khac") == 1.0
    assert "khac" not in index._weights  # past the bound: computed, not kept
