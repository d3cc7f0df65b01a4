"""The distinct texts of a build read at once (``knowledge/bulk_texts.py``) give what reading
them one by one gives: the aspect scan, the features (and the order their ids are given in),
the spellings and initialism runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge import features, index_state, kbfile
from knowledge.bulk_texts import BulkTexts, first_order_dense
from knowledge.index_state import IndexState, _Tally, _TextFeatures, _TextParts, parts_of
from knowledge.normalize import analyze_words, words, words_many
from knowledge.search import GENERAL_PAIRS, GENERAL_WORDS, KEYWORD_TOPICS
from knowledge.topics import topics_of
from tests.test_index_build_speed import AWKWARD, TEXTS

ROOT = Path(__file__).resolve().parent.parent

# overlapping cues ("thời gian bao lâu" holds "bao lâu"), compounds, cues at a text's end, a
# text of cues only, empty texts between others
EXTRA = [
    "thời gian bao lâu bao lâu thời hạn bao lâu",
    "công nhận hộ nghèo nhận hộ",
    "lệ phí",
    "bao",
    "",
    "mất bao lâu thời gian bao lâu lệ phí bao nhiêu tiền",
    "Ở ĐÂU NỘP HỒ SƠ, ở đâu, o dau",
]


def _texts() -> list[str]:
    return list(dict.fromkeys([*EXTRA, *AWKWARD, *TEXTS]))


def test_every_step_equals_the_text_by_text_one() -> None:
    texts = _texts()
    raws = [words(t) for t in texts]
    analyses = [analyze_words(r) for r in raws]
    bulk = BulkTexts(analyses, raws)
    # added a part at a time, the same arrays
    parted = BulkTexts()
    for lo in range(0, len(texts), 700):
        parted.add(analyses[lo : lo + 700], raws[lo : lo + 700])
    parted.finish()
    for name in ("tok", "acc", "f", "content", "raw_ids", "raw_sizes", "sizes"):
        assert np.array_equal(getattr(parted, name), getattr(bulk, name)), name
    assert parted.tokens == bulk.tokens and parted.raw_names == bulk.raw_names
    scan = bulk.scan()
    fid: dict[str, int] = {"already": 0}
    streams = bulk.feature_streams(fid)
    times = np.arange(len(texts), dtype=np.int64) % 3 + 1
    run_times = np.arange(len(texts), dtype=np.int64) % 4  # some texts count no runs
    names, raw, raw_sizes, letters, letter_sizes, letter_texts = bulk.tally_streams(run_times)

    plain = _TextFeatures({"already": 0})
    tally = _Tally()
    asked = 0
    for k, (text, a, r) in enumerate(zip(texts, analyses, raws, strict=True)):
        weights, cues, at = index_state._scan(a.tokens, a.folded, a.accented)
        assert (scan.weights(k), scan.cues(k)) == (weights, cues), text
        asked += bool(weights)
        tp = _TextParts(text, a, (), (), r, weights, cues, at)
        plain.add(tp)
        tally.add(tp, int(times[k]), int(run_times[k]))
    assert asked > 500
    # topics, of every other text
    which = np.arange(len(texts)) % 2 == 0
    topics = bulk.topics(which)
    assert set(topics) <= set(np.flatnonzero(which).tolist())
    named = 0
    for k in np.flatnonzero(which).tolist():
        assert topics.get(k, frozenset()) == topics_of(analyses[k]), texts[k]
        named += k in topics
    assert named > 100
    # keyword phrases, in the same texts
    phrases = sorted(
        {
            a.content
            for a in analyses
            if 2 <= len(a.content) <= 5 and all(map(str.isalpha, a.content))
        }
    )
    among, starts, firsts = set(phrases), {p[:2] for p in phrases}, {p[0] for p in phrases}
    found = bulk.phrases_in(which, phrases)
    assert set(found) <= set(np.flatnonzero(which).tolist())
    with_some = 0
    for k in np.flatnonzero(which).tolist():
        want = index_state._phrases_in(analyses[k].content, among, starts, firsts)
        assert found.get(k, frozenset()) == frozenset(want), texts[k]
        with_some += len(want) > 1
    assert with_some > 100
    assert list(fid.items()) == list(plain.fid.items())
    for got, want in zip(
        streams, (plain._words, plain._word_size, plain._keys, plain._key_size), strict=True
    ):
        assert got.tolist() == list(want)
    assert names == tally._names
    assert raw.tolist() == list(tally._raw) and raw_sizes.tolist() == list(tally._raw_sizes)
    assert letters.tolist() == list(tally._letters)
    assert letter_sizes.tolist() == list(tally._letter_sizes)
    assert run_times[letter_texts].tolist() == list(tally._letter_times)

    # the table the build makes of them, and the counts, are the same too
    loaded = _TextFeatures({})
    loaded.fid.update(fid)
    loaded.load(len(texts), *streams)
    for got, want in zip(loaded.table(), plain.table(), strict=True):
        assert np.array_equal(got, want)
    bulk_tally = _Tally()
    bulk_tally.load(times, run_times, *bulk.tally_streams(run_times))
    assert bulk_tally.spellings() == tally.spellings()
    assert bulk_tally.pairs == tally.pairs and bulk_tally.runs == tally.runs


def test_no_texts() -> None:
    bulk = BulkTexts([])
    scan = bulk.scan()
    assert scan.weights(0) == () and scan.cues(0) == frozenset()
    words_, sizes, keys, key_sizes = bulk.feature_streams({})
    assert len(words_) == len(sizes) == len(keys) == len(key_sizes) == 0
    assert bulk.tally_streams(np.zeros(0, np.int64))[0] == []


def test_first_order() -> None:
    codes = np.asarray([5, 3, 5, 9, 3, 0, 9], dtype=np.int64)
    distinct, rank = first_order_dense(codes, 10)
    assert distinct.tolist() == [5, 3, 9, 0]
    assert rank.tolist() == [0, 1, 0, 2, 1, 3, 2]


def test_features_text_by_text_when_pairs_weigh_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a word pair weighing other than 1 the build counts features text by text: the
    index built from the texts still equals the one combined from the entries' parts."""
    monkeypatch.setattr(features, "BIGRAM_WEIGHT", 0.7)
    entries = [e for e in kbfile.load_dir(ROOT / "knowledge" / "data") if e.enabled][:60]
    bulk = IndexState.from_entries(entries, GENERAL_WORDS, KEYWORD_TOPICS, GENERAL_PAIRS)
    parts = IndexState.build(parts_of(entries), GENERAL_WORDS, KEYWORD_TOPICS, GENERAL_PAIRS)
    assert bulk.infos == parts.infos and +bulk.short_df == +parts.short_df
    assert set(bulk.fid) == set(parts.fid) and len(parts.fid) > 1000
    for feat in parts.fid:
        a, b = bulk.span(feat), parts.span(feat)
        assert a is not None and b is not None
        assert np.array_equal(bulk.idx[a[0] : a[1]], parts.idx[b[0] : b[1]])
        assert np.array_equal(
            bulk.codes.table[bulk.code[a[0] : a[1]]], parts.codes.table[parts.code[b[0] : b[1]]]
        ), feat


def test_words_of_many_texts_at_once() -> None:
    texts = [*_texts(), "Σ ΑΣ ΑΣ\u0301", "a\u0301", "\u0301b", "x\x1fy"]
    assert words_many(texts) == [words(t) for t in texts]  # the last: text by text
    assert words_many(texts[:-1]) == [words(t) for t in texts[:-1]]
    assert words_many([]) == [] and words_many([""]) == [[]]


def test_few_values_is_numpys_unique() -> None:
    rng = np.random.default_rng(5)
    few = rng.choice(rng.random(300) * 9 + 0.1, 200_000)
    for values in (
        few,
        np.zeros(0),
        np.asarray([1.0, 1.0, 0.3, 0.1 + 0.2, 0.3]),  # 0.1 + 0.2 is not 0.3
        np.asarray([2.0, 0.0, -1.0, 2.0]),  # not all positive: by np.unique
        rng.random(100_000) + 0.5,  # 100,000 values: slots shared, by np.unique
    ):
        table, code = index_state._few_values(values)
        want_table, want_code = np.unique(values, return_inverse=True)
        assert np.array_equal(table, want_table) and np.array_equal(code, want_code.reshape(-1))
