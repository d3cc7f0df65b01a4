"""The matching features of a text and the BM25F constants.

Shared by the index's build (``knowledge/index_state.py``) and its search
(``knowledge/search.py``), which is why they live apart from both.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

from knowledge.normalize import Analysis, is_filler, tone_key

# Field weights for BM25F: how much a word in each part of an entry says about it. The answer
# holds the particulars citizens ask about ("bưu điện", "mức 2"): 0.3 measured better than 0.15
# on the blind bench/eval6 (top1 0.824 -> 0.840) and leave-one-base-out (answer@1 +0.006).
FIELD_WEIGHTS = {
    "phrasing": 1.0,
    "keywords": 0.8,
    "procedure": 0.6,
    "category": 0.2,
    "answer": 0.3,
}
K1 = 1.2
B = 0.6
BIGRAM_WEIGHT = 1.0
# Words of aspect cues become separate "^word" features (see ``_features``).
SPLIT_CUES = True


def marked_content(a: Analysis, cue_at: frozenset[int]) -> tuple[str, ...]:
    """The content words of a text, those at the positions ``cue_at`` (of ``a.tokens``, words
    inside a matched aspect cue: ``aspects.cue_positions``) as "^word"."""
    if not cue_at:
        return a.content
    return tuple(
        [
            ("^" + f) if i in cue_at else f
            for i, (w, f, m) in enumerate(zip(a.tokens, a.folded, a.accented, strict=True))
            if not is_filler(w, f, m)
        ]
    )


def _features(
    a: Analysis, cues: frozenset[str] = frozenset(), cue_at: frozenset[int] | None = None
) -> dict[str, float]:
    """Matching features of an analysed text with their counts.

    Words of aspect cues (``cues``) become separate "^word" features: "mất" in "mất bao lâu"
    is not the "mất" of "bị mất giấy phép", and the aspect is judged on its own anyway. With
    ``cue_at`` only the words at those positions do (``marked_content``): how entries are read.

    Words first, then word pairs, each in the order of its first occurrence; a count is the
    sum of its occurrences' weights added one by one (``_features_reference`` is the
    specification, kept for the tests).
    """
    content = a.content
    if cue_at is not None:
        content = marked_content(a, cue_at)
    elif cues and not cues.isdisjoint(content):
        content = tuple([("^" + t) if t in cues else t for t in content])
    words = Counter(content)
    feats: dict[str, float] = dict(zip(words, map(float, words.values()), strict=True))
    bigrams = Counter(map("_".join, itertools.pairwise(content)))
    if BIGRAM_WEIGHT == 1.0:
        feats.update(zip(bigrams, map(float, bigrams.values()), strict=True))
    else:
        for b, c in bigrams.items():
            total = 0.0
            for _ in range(c):
                total += BIGRAM_WEIGHT
            feats[b] = total
    return feats


def _features_reference(
    a: Analysis, cues: frozenset[str] = frozenset(), cue_at: frozenset[int] | None = None
) -> dict[str, float]:
    feats: dict[str, float] = defaultdict(float)
    if cue_at is not None:
        content = tuple(
            ("^" + f) if i in cue_at else f
            for i, f in enumerate(a.folded)
            if not is_filler(a.tokens[i], f, a.accented[i])
        )
    else:
        content = tuple(("^" + t) if t in cues else t for t in a.content)
    for tok in content:
        feats[tok] += 1.0
    for left, right in itertools.pairwise(content):
        feats[f"{left}_{right}"] += BIGRAM_WEIGHT
    return feats


def _tone_features(a: Analysis) -> dict[str, float]:
    """Exact-diacritics features, only for words typed with marks."""
    if not any(a.accented):
        return {}
    content = frozenset(a.content)
    typed = Counter(
        [
            tok
            for tok, fol, marked in zip(a.tokens, a.folded, a.accented, strict=True)
            if marked and fol in content
        ]
    )
    # Counted per word, then per tone key (two spellings of a word share one), each key
    # where its first word first occurs: the same order and counts as counting the keys.
    keys = _TONE_FEATURE
    out: dict[str, float] = {}
    for tok, c in typed.items():
        k = keys.get(tok) or _tone_feature(tok)
        out[k] = out.get(k, 0.0) + c
    return out


def _tone_keys(a: Analysis) -> list[str]:
    """The exact-diacritics feature of each word typed with marks, one per occurrence, in
    order: what ``_tone_features`` counts (a bulk build counts them for all texts at once)."""
    if not any(a.accented):
        return []
    content = frozenset(a.content)
    keys = _TONE_FEATURE
    return [
        keys.get(tok) or _tone_feature(tok)
        for tok, fol, marked in zip(a.tokens, a.folded, a.accented, strict=True)
        if marked and fol in content
    ]


_TONE_FEATURE: dict[str, str] = {}


def _tone_feature(tok: str) -> str:
    if len(_TONE_FEATURE) >= 200_000:
        _TONE_FEATURE.clear()
    out = _TONE_FEATURE[tok] = "~" + tone_key(tok)
    return out


def _tone_features_reference(a: Analysis) -> dict[str, float]:
    feats: dict[str, float] = defaultdict(float)
    for tok, fol, marked in zip(a.tokens, a.folded, a.accented, strict=True):
        if marked and fol in a.content:
            feats["~" + tone_key(tok)] += 1.0
    return feats
