"""The fourth evaluation set (bench/eval4: short entries on four procedures, never fitted on)."""

from __future__ import annotations

from pathlib import Path

from knowledge import kbfile
from knowledge.search import Index
from tests.test_understanding_retrieval import figures

EVAL4 = Path(__file__).resolve().parent.parent / "bench" / "eval4"


def test_fourth_set_floors() -> None:
    """Floors a little under the bench (top1 0.948, hit@3 0.990, answer@1 0.856, wrong 0.000,
    out-of-scope fallback 0.870)."""
    f = figures(Index(kbfile.load(EVAL4 / "kb.yaml")), EVAL4 / "queries.jsonl")
    assert f["top1"] >= 0.93
    assert f["hit3"] >= 0.96
    assert f["answer1"] >= 0.83
    assert f["wrong"] <= 0.01
    assert f["oos_fb"] >= 0.82
