"""The bulk paths of the index build on a grown base and on the rewrite lexicon, compared with
their specifications (the build from each entry's parts, ``analyze_reference``, the plain
feature counts): rankings and decisions must stay bit-identical.

``tests/test_index_build_speed.py`` compares them on the bundled base and the evaluation sets;
here the base is the one ``bench/retrieval_scale.py`` measures (the bundled base grown with
other procedure names, agencies and numbers: texts shared by hundreds of entries, keywords
repeated thousands of times), and every phrase of the lexicon is typed whole, cut and at the
end of a text.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from bench.retrieval_scale import synthetic_base, synthetic_queries
from knowledge import features, index_state
from knowledge.index_state import IndexState, _Tally, parts_of
from knowledge.lexicon import ABBREVIATIONS, PHRASES
from knowledge.normalize import analyze, analyze_reference, analyze_words, words
from knowledge.search import GENERAL_PAIRS, GENERAL_WORDS, KEYWORD_TOPICS, Index
from tests.test_index_edits import assert_same


def test_bulk_build_of_a_grown_base_equals_the_build_from_parts() -> None:
    live = [e for e in synthetic_base(700) if e.enabled]
    bulk = IndexState.from_entries(live, GENERAL_WORDS, KEYWORD_TOPICS, GENERAL_PAIRS)
    parts = IndexState.build(parts_of(live), GENERAL_WORDS, KEYWORD_TOPICS, GENERAL_PAIRS)
    assert bulk.run_counts == parts.run_counts and bulk.owners == parts.owners
    assert bulk.acronyms == parts.acronyms and len(bulk.acronyms) > 100
    queries = synthetic_queries(live, 150)
    assert_same(Index.from_state(live, bulk), Index.from_state(live, parts), queries)


def test_tally_counts_every_occurrence_of_a_text() -> None:
    texts = {
        "Đăng ký kết hôn với người nước ngoài tại Đà Nẵng": (1, 1),
        "cho người nước ngoài": (5, 3),  # a keyword of many entries
        "Lệ phí 100.000 đồng, nộp tại UBND xã": (2, 0),  # an answer shared by two
        "hồ sơ hồ sơ gồm giấy tờ gì gì": (1, 0),
        "": (3, 3),
    }
    tally = _Tally()
    words_: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    runs: Counter[tuple[str, ...]] = Counter()
    for text, (times, run_times) in texts.items():
        tp = index_state._text_parts(text)
        tally.add(tp, times, run_times)
        for _ in range(times):
            words_.update(w for w in words(text) if w.isalpha())
            pairs.update(itertools.pairwise(words(text)))
        ws = [w for w in analyze_words(words(text)).folded if w.isalpha()]
        for _ in range(run_times):
            runs.update(tuple(ws[i : i + n]) for n in (3, 4, 5) for i in range(len(ws) - n + 1))
    assert tally.spellings() == words_ and "100" not in tally.spellings()
    assert tally.pairs == pairs and tally.pairs[("hồ", "sơ")] == 2
    assert tally.runs == runs and tally.runs[("cho", "nguoi", "nuoc")] == 3


def _lexicon_texts() -> list[str]:
    """Every rewrite key typed whole, cut after its first word, at the end of a text, twice
    in a row, and without diacritics; every abbreviation beside a phrase start."""
    out: list[str] = []
    for key, value in PHRASES.items():
        first = key.split()[0]
        out += [
            key,
            f"cho hỏi {key}",
            f"{first} ạ",
            f"{first}",
            f"{key} {key}",
            f"{value} {key}",
            f"{first} {value}",
        ]
    for key, value in itertools.islice(ABBREVIATIONS.items(), 0, None, 3):
        out += [f"{key} {value}", f"{value} {key} ạ", key.upper()]
    return out


def test_analysis_of_every_rewrite_equals_its_specification() -> None:
    texts = _lexicon_texts()
    assert len(texts) > 500
    for text in texts:
        assert analyze(text) == analyze_reference(text), text


def test_tone_features_of_two_spellings_of_one_word() -> None:
    # "hoá" and "hóa" (old and new tone placement) are one exact-diacritics feature, counted
    # where its first spelling first occurs.
    for text in ("đơn hóa đơn hoá hòa hoà hóa", "Hoá đơn, lệ phí và hóa đơn điện tử hòa giải"):
        a = analyze(text)
        fast, ref = features._tone_features(a), features._tone_features_reference(a)
        assert list(fast.items()) == list(ref.items()), text
    assert features._tone_features(analyze("đơn hóa đơn hoá"))["~hoa1"] == 2.0


def test_run_windows_by_rows_equal_those_by_one_code() -> None:
    # A vocabulary too large for one int64 code per run of 5 is counted by rows instead.
    rng = np.random.default_rng(5)
    ids = rng.integers(-1, 6, 4000).astype(np.int64)  # -1: the separator between texts
    times = rng.integers(1, 4, 4000).astype(np.int64)
    for n in (1, 2, 3, 5):
        by_code = dict(index_state._windows(ids, times, n, 6))
        by_rows = dict(index_state._windows(ids, times, n, 10**6))
        by_huge = list(index_state._windows(ids, times, n, 10**9))  # (by rows at n=5)
        assert by_huge == list(index_state._windows(ids, times, n, 7))
        plain: Counter[tuple[int, ...]] = Counter()
        for i in range(len(ids) - n + 1):
            run = tuple(int(x) for x in ids[i : i + n])
            if min(run) >= 0:
                plain[run] += int(times[i])
        assert by_code == by_rows == dict(plain) and len(plain) > 5
