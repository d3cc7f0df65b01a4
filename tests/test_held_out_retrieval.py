"""The held-out evaluation sets (bench/eval6, eval7, eval9, eval10, eval11), written blind and
never fitted on: no decision model, cue or threshold has seen them, and their questions are not
read one by one. (eval8 was held out too, until its failures were read to mend the lexicon: its
floors stay.) They are the project's held-out test of retrieval, so they are scored as ``motcua
ask --kb`` builds the index (with the out-of-scope check against the bundled base), and their
floors guard against changes that help the five fitted sets at their expense."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import kbfile, selfcal
from tests.test_understanding_retrieval import figures

ROOT = Path(__file__).resolve().parent.parent

# Floors a little under each set's single blind scoring (its README): eval6 top1 0.824, hit@3
# 0.872, answer@1 0.612, wrong 0.039, out-of-scope fallback 0.804; eval7 0.832, 0.876, 0.660,
# 0.046, 0.719; eval8 0.770, 0.841, 0.544, 0.037, 0.800; eval9 0.779, 0.883, 0.642, 0.084, 0.643;
# eval10 0.778, 0.827, 0.626, 0.077, 0.709; eval11 0.733, 0.858, 0.537, 0.085, 0.655.
FLOORS = {
    # wrong 0.052 since selfcal.SAME_CONTAINED (answer@1 0.656 -> 0.680 on this set)
    "eval6": {"top1": 0.80, "hit3": 0.84, "answer1": 0.58, "wrong": 0.055, "oos_fb": 0.76},
    "eval7": {"top1": 0.80, "hit3": 0.84, "answer1": 0.62, "wrong": 0.06, "oos_fb": 0.68},
    "eval8": {"top1": 0.75, "hit3": 0.81, "answer1": 0.51, "wrong": 0.05, "oos_fb": 0.76},
    "eval9": {"top1": 0.75, "hit3": 0.85, "answer1": 0.61, "wrong": 0.095, "oos_fb": 0.61},
    "eval10": {"top1": 0.75, "hit3": 0.80, "answer1": 0.59, "wrong": 0.09, "oos_fb": 0.67},
    "eval11": {"top1": 0.70, "hit3": 0.82, "answer1": 0.50, "wrong": 0.10, "oos_fb": 0.62},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_held_out_set_floors(name: str) -> None:
    d = ROOT / "bench" / name
    f = figures(selfcal.build(kbfile.load(d / "kb.yaml")), d / "queries.jsonl")
    floor = FLOORS[name]
    assert f["top1"] >= floor["top1"]
    assert f["hit3"] >= floor["hit3"]
    assert f["answer1"] >= floor["answer1"]
    assert f["wrong"] <= floor["wrong"]
    assert f["oos_fb"] >= floor["oos_fb"]
