"""Texts normalised at once, per distinct word (``knowledge/bulk_normalize.py``), come out as
``normalize.analyze_words(words(text))`` makes them one by one: the words as typed, the tokens,
which were typed with marks, the folded and content words, text for text."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge import bulk_normalize
from knowledge.bulk_normalize import analyze_many, cut_many
from knowledge.lexicon import ABBREVIATIONS, PHRASE_MARKS, PHRASES
from knowledge.normalize import analyze_words, fold, words
from tests.test_index_build_speed import AWKWARD, TEXTS


def _same_as_one_by_one(texts: list[str]) -> None:
    got = analyze_many(texts)
    assert len(got.sizes) == len(texts) == len(got.raw_sizes)
    for k, text in enumerate(texts):
        raw = words(text)
        assert got.raw_words(k) == raw, text
        assert got.analysis(k) == analyze_words(raw), text
    # ids in order of first appearance, as ``BulkTexts.add`` gives them
    assert got.tokens == list(dict.fromkeys(got.tokens[i] for i in got.tok.tolist()))
    assert got.words == list(dict.fromkeys(got.words[i] for i in got.raw.tolist()))


def test_real_texts_are_normalised_as_one_by_one() -> None:
    _same_as_one_by_one(TEXTS)


def test_texts_cut_a_block_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_normalize, "BLOCK", 7)
    _same_as_one_by_one(TEXTS[:500])


def test_awkward_and_empty_texts() -> None:
    _same_as_one_by_one([])
    _same_as_one_by_one([""])
    _same_as_one_by_one(["", "", "bhyt"])
    _same_as_one_by_one(AWKWARD)
    # phrases whose rewrite depends on the marks typed (knowledge/lang/phrase_marks.yaml)
    _same_as_one_by_one(["giấy đó còn giá trị", "giấy đỏ bị mất", "sửa mặt tiền", "mất tiền"])
    # a text holding the separator: that block is cut text by text, the same words
    _same_as_one_by_one(["a\x00b cccd", "làm cccd mất bao lâu", "\x00"])
    names, raw, sizes = cut_many(["x\x00y", "ddawng kys"])
    assert [names[i] for i in raw.tolist()] == ["x", "y", "ddawng", "kys"]
    assert sizes.tolist() == [2, 2]


def test_chunks_met_again_and_in_other_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    # each distinct chunk is lower-cased and cut once, then looked up in later blocks; the
    # lower case of a text is that of its chunks (a final sigma reads its own chunk only)
    monkeypatch.setattr(bulk_normalize, "BLOCK", 2)
    texts = ["ΟΔΟΣ ΟΔΟΣ. ΣΑ aΣ Σ", "Hồ SƠ hồ sơ,", "İstanbul UBND", "ubnd, Ubnd (UBND)"]
    texts += ["HỒ SƠ, ΟΔΟΣ.", "hồ sơ,hồ", "Ο\u0301ΔΟΣ\u0301 x", "Hồ SƠ hồ sơ,"]
    _same_as_one_by_one(texts)
    names, raw, _ = cut_many(texts)
    assert [names[i] for i in raw.tolist()][:6] == ["οδος", "οδος", "σα", "aς", "σ", "hồ"]


# The words rewrites read: abbreviations (as typed and folded), the words of every phrase and
# of every rewrite's result, so that random texts make rewrites meet, overlap, feed each other
# (a second pass) and sit next to the words they read as context.
_REWRITE_WORDS = sorted(
    {w for k in PHRASES for w in k.split()}
    | {w for v in PHRASES.values() for w in v.split()}
    | {w for v in ABBREVIATIONS.values() for w in v.split()}
    | set(ABBREVIATIONS)
    | {fold(w) for v in PHRASES.values() for w in v.split()}
    | {w for forms in PHRASE_MARKS.values() for f in forms for w in f.split()}
)
# ... and the same folded words with other marks ("giấy đó" is not "giấy đỏ")
_OTHER = ["và", "tại", "ngày", "30", "hồ", "sơ", "UBND", "Xã", "ddawngf", "kys", "hoá", "hóa"]
_OTHER += ["đó", "mặt", "để", "thẻ", "đồ", "đầu", "tài", "giả", "nghĩ", "trẻ", "xa"]
_word = st.sampled_from(_REWRITE_WORDS + _OTHER)
_gap = st.sampled_from([" ", " ", " ", ", ", ". ", "\n", " (", ") ", "/", " - "])
_text = st.lists(st.tuples(_word, _gap), max_size=40).map(
    lambda ws: "".join(itertools.chain.from_iterable(ws))
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_text, max_size=12))
def test_random_texts_of_rewrite_words(texts: list[str]) -> None:
    _same_as_one_by_one(texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8))
def test_random_unicode_texts(texts: list[str]) -> None:
    _same_as_one_by_one(texts)


def test_a_text_whose_rewrites_feed_each_other_is_read_whole() -> None:
    # "cccd" -> "căn cước công dân" -> "căn cước": a second pass changes the first's words,
    # and the typed marks are carried across the passes as ``analyze_words`` carries them
    texts = [
        "làm cccd mất bao lâu",
        "căn cước công dân cccd căn cước công dân",
        "cmnd và cccd, bhtn và tctn",
        "lam cccd o dau, cccd lam o dau",
    ]
    _same_as_one_by_one(texts)
