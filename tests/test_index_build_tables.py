"""Runs of word ids are counted the same by a table of every code (a block of positions at
a time) and by sorting."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import index_state


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
