"""The fast paths of the index build compute exactly what the plain code computed.

Building the index from the texts was made faster (``IndexState.from_entries``, per-word
tables in ``normalize.analyze``, features counted in C, topic and aspect scans that skip words
no phrase starts with). Every ranking and decision must stay bit-identical, so each fast path
is compared here with its specification, on every text of the bundled base, of the evaluation
sets and on awkward inputs (Telex leftovers, abbreviations, rewrites that feed each other).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge import aspects, features, index_state, kbfile, normalize
from knowledge.entry import Entry
from knowledge.index_state import IndexState, parts_of
from knowledge.normalize import Analysis, analyze, analyze_reference, fold, tone_key
from knowledge.search import GENERAL_PAIRS, GENERAL_WORDS, KEYWORD_TOPICS, Index
from knowledge.topics import _PHRASES, topics_of
from tests.test_index_edits import assert_same

_LONGEST = max(len(p) for p in _PHRASES)

ROOT = Path(__file__).resolve().parent.parent
SETS = [ROOT.parent / "shared" / "eval", *(ROOT / "bench" / f"eval{i}" for i in (2, 3, 4))]

AWKWARD = [
    "",
    "   ",
    "ddawng kys khai sinh towf khai",
    "đkkh cần j ạ, dkkh voi nguoi nuoc ngoai lam o dau",
    "tốn nhiêu tiền? tốn bao nhiêu, lệ phí tốn bao nhiêu",
    "bao lâu thì có, thời gian bao lâu, mất bao lâu",
    "Hồ  sơ\u0301 gồm: CMND/CCCD; giấy_tờ (bản sao) - 2 bản!!",
    "HÔNG BIẾT LÀM SAO ZẬY, tui lãnh giùm ổng được hông",
    "cho e hoi lam cccd o dau a, mat bao lau, bn tien",
    "ko co so ho khau thi sao, k có sổ hộ khẩu",
    "xoong nồi vneid wifi zalo fb",
    "ngh iep thatnghiep dangky kethon",
]


def _texts() -> list[str]:
    out: set[str] = set(AWKWARD)
    entries = kbfile.load_dir(ROOT / "knowledge" / "data")
    for folder in SETS:
        if (folder / "kb.yaml").exists():
            entries += kbfile.load(folder / "kb.yaml")
            lines = (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
            out.update(json.loads(line)["q"] for line in lines if line.strip())
    for e in entries:
        out.update((*e.phrasings, *e.keywords, e.procedure, e.category, e.answer))
    # every text also typed without diacritics and in capitals, as citizens do
    return sorted(out | {fold(t) for t in out} | {t.upper() for t in list(out)[::7]})


TEXTS = _texts()


def test_analyze_equals_its_specification() -> None:
    for text in TEXTS:
        assert analyze(text) == analyze_reference(text), text


def test_features_equal_their_specification(monkeypatch: pytest.MonkeyPatch) -> None:
    for text in TEXTS[::3]:
        a = analyze(text)
        for cues in (aspects.cue_words(a), frozenset()):
            fast, ref = features._features(a, cues), features._features_reference(a, cues)
            assert list(fast.items()) == list(ref.items()), text
        at = aspects.cue_positions(a)
        fast, ref = features._features(a, cue_at=at), features._features_reference(a, cue_at=at)
        assert list(fast.items()) == list(ref.items()), text
        assert list(features._tone_features(a).items()) == list(
            features._tone_features_reference(a).items()
        )
    # another pair weight: sums of repeated weights, added one by one as before
    monkeypatch.setattr(features, "BIGRAM_WEIGHT", 0.7)
    a = analyze("hồ sơ hồ sơ hồ sơ hồ sơ đăng ký hồ sơ")
    fast, ref = features._features(a), features._features_reference(a)
    assert list(fast.items()) == list(ref.items()) and fast["ho_so"] == 0.7 + 0.7 + 0.7 + 0.7 + 0.7


def _topics_reference(a: Analysis) -> frozenset[str]:
    toks = a.folded
    found: set[str] = set()
    i = 0
    while i < len(toks):
        for n in range(min(_LONGEST, len(toks) - i), 0, -1):
            topic = _PHRASES.get(tuple(toks[i : i + n]))
            if topic is not None:
                found.add(topic)
                i += n
                break
        else:
            i += 1
    return frozenset(found)


def _first_cue_reference(
    tokens: tuple[str, ...], folded: tuple[str, ...], marked: tuple[bool, ...], i: int
) -> tuple[str, float, int] | None:
    """The first cue (longest, then heaviest) matching at word ``i``: aspect, weight, length."""
    n = len(tokens)
    for aspect, weight, cue_keys, cue_folded in aspects._BY_FIRST.get(folded[i], ()):
        m = len(cue_keys)
        if i + m <= n and all(
            (tone_key(tokens[i + j]) == cue_keys[j])
            if marked[i + j]
            else folded[i + j] == cue_folded[j]
            for j in range(m)
        ):
            return aspect, weight, m
    return None


def _scan_reference(
    tokens: tuple[str, ...], folded: tuple[str, ...], marked: tuple[bool, ...]
) -> tuple[tuple[tuple[str, float], ...], frozenset[str], frozenset[int]]:
    found: dict[str, float] = defaultdict(float)
    covered: set[str] = set()
    at: set[int] = set()
    n = len(tokens)
    i = 0
    while i < n:
        first = _first_cue_reference(tokens, folded, marked, i)
        if first is None:
            i += 1
            continue
        aspect, weight, m = first
        # an aspect's cue is not read when the cue read at a word inside it weighs more and
        # reaches further (aspects.OVERLAP_HEAVIER)
        inside = [_first_cue_reference(tokens, folded, marked, j) for j in range(i + 1, i + m)]
        if aspect and any(
            c is not None and c[0] and c[1] > weight and j + c[2] > i + m
            for j, c in enumerate(inside, i + 1)
        ):
            i += 1
            continue
        if aspect:  # a compound ("công nhận") starts no cue and counts for none
            found[aspect] += weight
            covered.update(folded[i : i + m])
            at.update(range(i, i + m))
        i += m
    return tuple(found.items()), frozenset(covered), frozenset(at)


def test_topic_and_aspect_scans_equal_the_word_by_word_ones() -> None:
    named = asked = 0
    for text in TEXTS:
        a = analyze(text)
        topics = topics_of(a)
        assert topics == _topics_reference(a), text
        scan = index_state._scan(a.tokens, a.folded, a.accented)
        assert scan == _scan_reference(a.tokens, a.folded, a.accented), text
        named += bool(topics)
        asked += bool(scan[0])
    assert named > 100 and asked > 500  # the texts do exercise both scans


def test_stable_order_is_numpys_stable_argsort() -> None:
    rng = np.random.default_rng(3)
    for high in (1000, 70_000, 2**31 - 1):
        keys = rng.integers(0, high, 50_000).astype(np.int32)
        assert np.array_equal(index_state._stable_order(keys), np.argsort(keys, kind="stable"))
    assert len(index_state._stable_order(np.zeros(0, np.int32))) == 0


def _both(entries: list[Entry]) -> tuple[Index, Index]:
    """The index built in bulk and the one built from each entry's parts."""
    live = [e for e in entries if e.enabled]
    bulk = IndexState.from_entries(live, GENERAL_WORDS, KEYWORD_TOPICS, GENERAL_PAIRS)
    parts = IndexState.build(parts_of(live), GENERAL_WORDS, KEYWORD_TOPICS, GENERAL_PAIRS)
    return Index.from_state(live, bulk), Index.from_state(live, parts)


@pytest.mark.parametrize("folder", SETS, ids=lambda p: p.name)
def test_bulk_build_equals_the_build_from_parts(folder: Path) -> None:
    if not (folder / "kb.yaml").exists():
        pytest.skip(f"{folder} is not there")
    entries = kbfile.load(folder / "kb.yaml")
    lines = (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line)["q"] for line in lines if line.strip()]
    bulk, parts = _both(entries)
    assert_same(bulk, parts, queries[::2])
    assert bulk._state.run_counts == parts._state.run_counts
    assert bulk._state.owners == parts._state.owners


def test_bulk_build_of_the_bundled_base_with_repeated_texts() -> None:
    # The bundled base twice over (other ids): every text repeated, answers shared, so the
    # memo and the summing of one feature over several texts of an entry are exercised.
    entries = kbfile.load_dir(ROOT / "knowledge" / "data")
    twice = entries + [replace(e, id=e.id + "-2") for e in entries]
    bulk, parts = _both(twice)
    assert_same(bulk, parts, [e.question for e in entries[::5]] + ["dkkh can gi"])
    assert len(bulk) == 2 * len([e for e in entries if e.enabled])


def test_small_and_empty_bases() -> None:
    assert len(Index([])) == 0 and Index([]).search("lệ phí").best is None
    one = kbfile.load_dir(ROOT / "knowledge" / "data")[:1]
    bulk, parts = _both(one)
    assert_same(bulk, parts, [one[0].question, "giá vàng"])


def test_word_tables_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # A worker answering years of questions must not grow the per-word tables without end.
    monkeypatch.setattr(normalize, "_WORD_INFO_SIZE", 50)
    for i in range(500):
        normalize.analyze_words([f"tu{i}", "hồ", "sơ"])
    assert len(normalize._WORD_INFO) <= 50 and len(normalize._TOKEN_INFO) <= 50
    assert analyze("ho so dkkh") == analyze_reference("ho so dkkh")


def test_features_counted_at_once_equal_those_counted_text_by_text() -> None:
    # The bulk build counts every text's features with numpy (``_TextFeatures``); each text
    # must get exactly the features and counts ``features._features`` and
    # ``_tone_features`` give it (the order within a text does not matter).
    texts = [*TEXTS[::2], "", "hồ sơ hồ sơ hồ sơ", "bao lâu bao lâu thì có", "ho so ho so"]
    fid_a: dict[str, int] = {}
    fid_b: dict[str, int] = {}
    at_once = index_state._TextFeatures(fid_a)
    one_by_one = index_state._TextFeatures(fid_b)
    one_by_one.at_once = False
    assert at_once.at_once
    for text in texts:
        at_once.add(index_state._text_parts(text, with_features=False))
        one_by_one.add(index_state._text_parts(text))
    tables = []
    for table, fid in ((at_once.table(), fid_a), (one_by_one.table(), fid_b)):
        names = list(fid)
        ids, counts, start, size = table
        tables.append(
            [
                {
                    names[f]: c
                    for f, c in zip(
                        ids[s : s + n].tolist(), counts[s : s + n].tolist(), strict=True
                    )
                }
                for s, n in zip(start.tolist(), size.tolist(), strict=True)
            ]
        )
    assert tables[0] == tables[1] and len(tables[0]) == len(texts)
    assert sum(len(t) for t in tables[0]) > 10_000
    a = analyze("Hồ sơ hồ sơ đăng ký ho so")
    assert Counter(features._tone_keys(a)) == features._tone_features(a)


def test_bulk_build_with_another_pair_weight_counts_text_by_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pairs weighing other than 1 are summed one by one (``features._features``): the bulk
    # build then takes every text's features from it and still equals the build from parts.
    monkeypatch.setattr(features, "BIGRAM_WEIGHT", 0.7)
    entries = kbfile.load_dir(ROOT / "knowledge" / "data")[:60]
    bulk, parts = _both(entries)
    assert not index_state._TextFeatures({}).at_once
    assert_same(bulk, parts, [e.question for e in entries[::4]] + ["dkkh can gi"])
