"""The matching features of a text and the BM25F constants.

Shared by the index's build (``knowledge/index_state.py``) and its search
(``knowledge/search.py``), which is why they live apart from both.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from knowledge.normalize import Analysis, tone_key

# Field weights for BM25F: how much a word in each part of an entry says about it.
FIELD_WEIGHTS = {
    "phrasing": 1.0,
    "keywords": 0.8,
    "procedure": 0.6,
    "category": 0.2,
    "answer": 0.15,
}
K1 = 1.2
B = 0.6
BIGRAM_WEIGHT = 1.0
# Words of aspect cues become separate "^word" features (see ``_features``).
SPLIT_CUES = True


def _features(a: Analysis, cues: frozenset[str] = frozenset()) -> dict[str, float]:
    """Matching features of an analysed text with their counts.

    Words of aspect cues (``cues``) become separate "^word" features: "mất" in "mất bao lâu"
    is not the "mất" of "bị mất giấy phép", and the aspect is judged on its own anyway.
    """
    feats: dict[str, float] = defaultdict(float)
    content = tuple(("^" + t) if t in cues else t for t in a.content)
    for tok in content:
        feats[tok] += 1.0
    for left, right in itertools.pairwise(content):
        feats[f"{left}_{right}"] += BIGRAM_WEIGHT
    return feats


def _tone_features(a: Analysis) -> dict[str, float]:
    """Exact-diacritics features, only for words typed with marks."""
    feats: dict[str, float] = defaultdict(float)
    for tok, fol, marked in zip(a.tokens, a.folded, a.accented, strict=True):
        if marked and fol in a.content:
            feats["~" + tone_key(tok)] += 1.0
    return feats
