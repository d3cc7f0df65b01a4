"""Runs of word ids are counted the same by a table of every code (a block of positions at
a time) and by sorting."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import index_state
from knowledge.bulk_texts import stable_argsort


def test_window_counts_by_table_equal_those_by_sorting(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    ids = rng.integers(-1, 40, 20000).astype(np.intc)  # -1: the separator between texts
    times = rng.integers(1, 5, 20000).astype(np.float64)
    by_table = [index_state._window_counts(ids, times, n, 40) for n in (1, 2, 3)]
    monkeypatch.setattr(index_state, "RUN_BLOCK", 777)  # (runs across the blocks' ends)
    by_blocks = [index_state._window_counts(ids, times, n, 40) for n in (1, 2, 3)]
    monkeypatch.setattr(index_state, "DENSE_RUNS", 0)
    by_sorting = [index_state._window_counts(ids, times, n, 40) for n in (1, 2, 3)]
    for a, b, c in zip(by_table, by_blocks, by_sorting, strict=True):
        assert a[0].tolist() == b[0].tolist() == c[0].tolist()
        assert a[1].tolist() == b[1].tolist() == c[1].tolist()
        assert len(a[0]) > 30


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (0, 50),  # 16-bit keys: numpy's radix sort
        (0, 1 << 20),  # wider keys: positions packed below them, one plain sort
        (1 << 40, 1 << 41),  # too wide to pack: numpy's stable sort
        (-5, 5),  # negative keys: numpy's stable sort
    ],
)
def test_stable_argsort_is_numpys_stable_argsort(low: int, high: int) -> None:
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 1000, 100_000):
        keys = rng.integers(low, high, n, dtype=np.int64)
        expected = np.argsort(keys, kind="stable")
        assert stable_argsort(keys).tolist() == expected.tolist()
        # (any order of equal keys would do there, but this one is the stable order)
        assert keys[stable_argsort(keys, fallback="quicksort")].tolist() == keys[expected].tolist()


def test_sorted_distinct_is_numpys_unique() -> None:
    rng = np.random.default_rng(6)
    for high in (30, 1 << 30, 1 << 60):
        code = rng.integers(0, high, 50_000, dtype=np.int64)
        first, inverse = index_state._sorted_distinct(code)
        distinct, expected_inverse = np.unique(code, return_inverse=True)
        assert code[first].tolist() == distinct.tolist()
        assert inverse.tolist() == expected_inverse.reshape(-1).tolist()


@pytest.mark.parametrize("n_entries", [500, 1 << 40])  # packed in 63 bits; too wide: sorted
def test_postings_sum_each_entrys_rows_in_row_order(
    n_entries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_state, "_BLOCK", 777)  # (rows read in blocks)
    rng = np.random.default_rng(11)
    n = 30000
    owner = np.sort(rng.integers(0, 500, n)).astype(np.int64)
    feat = rng.integers(0, 300, n).astype(np.int32)
    # values whose sum depends on the order they are added in
    value = rng.choice([1e16, 1.0, -1e16, 0.1, 3.3], n).astype(np.float64)
    tf, df, idx = index_state._postings([feat, owner, value], n_entries, 300)
    sums: dict[tuple[int, int], float] = {}
    for f, e, v in zip(feat.tolist(), owner.tolist(), value.tolist(), strict=True):
        sums[f, e] = sums[f, e] + v if (f, e) in sums else v
    keys = sorted(sums)
    features = np.repeat(np.arange(len(df)), df).tolist()
    assert list(zip(features, idx.tolist(), strict=True)) == keys
    assert tf.tolist() == [sums[k] for k in keys]
