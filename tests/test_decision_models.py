"""The shipped decision models and how they are fitted (``knowledge/decision_models.json``)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge import calibrate, selfcal
from knowledge.calibrate import Row
from knowledge.search import FEATURES, MODELS_FILE, Index, Thresholds, quadratic, shipped_models

N = len(FEATURES)


def test_quadratic_features_are_the_features_their_pairwise_products_and_squares() -> None:
    x = np.arange(1.0, N + 1.0)
    q = quadratic(x)
    assert len(q) == N + N * (N - 1) // 2 + N
    assert list(q[:N]) == list(x)
    assert q[N] == x[0] * x[1]  # the first pair
    assert q[N + N * (N - 1) // 2 - 1] == x[N - 2] * x[N - 1]  # the last pair
    assert list(q[-N:]) == list(x * x)
    # A matrix is expanded row by row, as the fit expands its rows.
    rows = np.vstack([x, 2 * x])
    assert np.array_equal(quadratic(rows)[1], quadratic(2 * x))


def test_the_shipped_models_are_read_from_the_models_file() -> None:
    data = json.loads(MODELS_FILE.read_text(encoding="utf-8"))
    assert set(data) >= {"about", "plain", "checked"}
    for name in ("plain", "checked"):
        t = shipped_models(name)
        assert len(t.in_scope) == 1 + N
        assert len(t.correct) == 1 + len(quadratic(np.zeros(N)))
        assert 0.0 < t.suggest < 1.0 and 0.0 < t.answer < 1.0
    assert Thresholds() == shipped_models("plain")
    assert shipped_models("checked") == selfcal.CHECKED
    # The default models never weigh the foreign ratio (it is 0 without the check).
    assert Thresholds().in_scope[1 + FEATURES.index("foreign_ratio")] == 0.0


def test_a_confident_clear_question_is_answered_with_the_shipped_models() -> None:
    kept = ("khai-sinh/", "luong-huu/", "om-dau/", "nvqs-lan-dau/")
    index = selfcal.build([e for e in selfcal.bundled_entries() if e.id.startswith(kept)])
    res = index.search("hồ sơ đăng ký khai sinh cần những giấy tờ gì")
    assert res.decision.value == "answer"
    assert res.matches[0].entry.id == "khai-sinh/ho-so"


def _rows(rng: random.Random, n: int, signal: bool) -> list[Row]:
    """Decision rows over 40 procedures: the best candidate is right when its first feature is
    high (``signal``), or at random."""
    rows = []
    for i in range(n):
        x = np.array([rng.random() for _ in range(N)])
        in_scope = i % 5 != 0
        correct = in_scope and ((x[0] > 0.5) if signal else rng.random() < 0.5)
        group = f"set:p{i % 40}" if in_scope else f"set:oos:{i % 7}"
        rows.append(Row(x, in_scope, correct, in_scope, group, "paraphrase"))
    return rows


def test_the_correct_model_is_fitted_on_quadratic_features() -> None:
    fitted = calibrate.fit(_rows(random.Random(1), 600, signal=True), max_wrong=0.05)
    assert len(fitted.correct) == 1 + len(quadratic(np.zeros(N)))
    index = Index([], fitted)
    high, low = np.full(N, 0.5), np.full(N, 0.5)
    high[0], low[0] = 0.95, 0.05
    high[FEATURES.index("margin")] = low[FEATURES.index("margin")] = 0.3
    # The signal is learnt: the first feature high gets the direct answer, low does not.
    assert index.decide(high).value == "answer"
    assert index.decide(low).value != "answer"


def test_the_answer_threshold_is_picked_out_of_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    """152 weights fit a few hundred rows of noise well enough that, judged on their own rows,
    some look safe to answer; picked on out-of-fold probabilities (each procedure's rows
    scored by a model fitted without them), the threshold is higher: fewer rows answered."""
    rows = _rows(random.Random(2), 400, signal=False)
    out_of_fold = calibrate.fit(rows, max_wrong=0.05)
    monkeypatch.setattr(calibrate, "ANSWER_FOLDS", 1)  # one fold: every row scored in-sample
    in_sample = calibrate.fit(rows, max_wrong=0.05)
    assert out_of_fold.correct == in_sample.correct  # the shipped model is fitted on all rows
    assert out_of_fold.answer > in_sample.answer + 0.05


def test_refitted_models_are_written_as_the_shipped_file_reads_them(tmp_path: Path) -> None:
    from bench.retrieval import write_models

    plain = calibrate.fit(_rows(random.Random(3), 300, signal=True), max_wrong=0.05)
    checked = replace(plain, suggest=0.4)
    target = tmp_path / "decision_models.json"
    write_models(plain, checked, "test rows", target)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert "test rows" in data["about"]
    for name, t in (("plain", plain), ("checked", checked)):
        m = data[name]
        read = Thresholds(
            in_scope=tuple(m["in_scope"]),
            suggest=m["suggest"],
            correct=tuple(m["correct"]),
            answer=m["answer"],
        )
        assert read == t
    # One line per list of weights: a refit shows as a few changed lines in a review.
    assert len(target.read_text(encoding="utf-8").splitlines()) == 15
