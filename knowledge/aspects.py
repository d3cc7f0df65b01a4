"""The fixed vocabulary of entry aspects: what a question asks about a procedure.

An entry is "procedure × aspect": "Đăng ký kết hôn" × ``documents`` answers which papers to
bring. Knowledge files may state an entry's aspect (the ``aspect`` field); where they do not,
retrieval infers it from the entry's own phrasings. ``other`` is for entries that fit no aspect.
The Vietnamese labels are shown to citizens ("Về thủ tục này tôi chưa có thông tin về lệ phí").
"""

from __future__ import annotations

ASPECT_LABELS: dict[str, str] = {
    "documents": "hồ sơ, giấy tờ cần chuẩn bị",
    "place": "nơi nộp hồ sơ",
    "online": "nộp trực tuyến",
    "time": "thời hạn giải quyết",
    "deadline": "thời hạn phải làm thủ tục",
    "fee": "lệ phí, chi phí",
    "amount": "mức hưởng, số tiền",
    "condition": "điều kiện, đối tượng",
    "how": "trình tự, cách thực hiện",
    "result": "kết quả và cách nhận kết quả",
    "validity": "thời hạn hiệu lực",
    "penalty": "mức xử phạt",
    "other": "thông tin khác",
}
"""Every aspect an entry may state, with how a citizen would name it."""

ASPECTS: tuple[str, ...] = tuple(ASPECT_LABELS)


def is_aspect(value: str) -> bool:
    """Whether ``value`` is one of the documented aspects."""
    return value in ASPECT_LABELS


# --- detecting the aspect a text asks about (cues in knowledge/lang/aspect_cues.yaml) --------

import itertools  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import cache, lru_cache  # noqa: E402

from knowledge.lexicon import ASPECT_CUES, CUE_COMPOUNDS  # noqa: E402
from knowledge.normalize import Analysis, fold, tone_key  # noqa: E402
from knowledge.syllables import is_folded_syllable, mend_slips, slip_of  # noqa: E402

# (aspect, weight, tone keys of the cue words, folded cue words), longest cues first.
_CUES: tuple[tuple[str, float, tuple[str, ...], tuple[str, ...]], ...] = tuple(
    sorted(
        (
            (aspect, weight, tuple(tone_key(w) for w in cue.split()), tuple(fold(cue).split()))
            for aspect, cues in {**ASPECT_CUES, "": dict.fromkeys(CUE_COMPOUNDS, 0.0)}.items()
            for cue, weight in cues.items()
        ),
        key=lambda c: (-len(c[2]), -c[1]),
    )
)
CLEAR = 2.5
"""Total cue weight from which an aspect counts as clearly asked."""


def aspect_weights(a: Analysis) -> dict[str, float]:
    """Total cue weight per aspect in an analysed text (longest cues first, no overlaps)."""
    return dict(_weights(a.tokens, a.folded, a.accented))


def cue_words(a: Analysis) -> frozenset[str]:
    """The folded words of a text that belong to an aspect cue ("bao lâu", "lệ phí"): they say
    what is asked, not about which procedure, and are matched apart from the other words."""
    return _scan(a.tokens, a.folded, a.accented)[1]


def cue_positions(a: Analysis) -> frozenset[int]:
    """The positions (in ``a.tokens``) of the words inside a matched aspect cue. An entry is
    marked by these, not by ``cue_words``: in "Khai sinh ở quê, ... sửa giấy khai sinh ở
    đâu?" only the "ở" of "ở đâu" asks where; the "ở" of "ở quê" says where one lives."""
    return _scan(a.tokens, a.folded, a.accented)[2]


def _weights(
    tokens: tuple[str, ...], folded: tuple[str, ...], marked: tuple[bool, ...]
) -> tuple[tuple[str, float], ...]:
    return _scan(tokens, folded, marked)[0]


_BY_FIRST: dict[str, list[tuple[str, float, tuple[str, ...], tuple[str, ...]]]] = defaultdict(list)
for _cue in _CUES:  # already longest first
    _BY_FIRST[_cue[3][0]].append(_cue)


OVERLAP_HEAVIER = True
"""Of two overlapping cues, the one that starts later is read when it weighs more and ends
later: "thì có được nhận ... không" asks whether one is entitled ("có được", condition 2), not
when ("thì có", time 1). The cue read at a word is the first that matches there (longest, then
heaviest); an outweighed one is not read at all (``knowledge/bulk_texts.py`` reads the same)."""


def _first_cue(
    tokens: tuple[str, ...], folded: tuple[str, ...], marked: tuple[bool, ...], i: int
) -> tuple[str, float, tuple[str, ...], tuple[str, ...]] | None:
    """The first cue (longest, then heaviest) that matches at word ``i``: its folded words
    first (equal tone keys have equal folded forms), then the tone keys of the words typed
    with marks."""
    n = len(tokens)
    for cue in _BY_FIRST.get(folded[i], ()):
        m = len(cue[2])
        if (
            i + m <= n
            and folded[i : i + m] == cue[3]
            and all(tone_key(tokens[i + j]) == cue[2][j] for j in range(m) if marked[i + j])
        ):
            return cue
    return None


def _outweighed(
    tokens: tuple[str, ...],
    folded: tuple[str, ...],
    marked: tuple[bool, ...],
    i: int,
    m: int,
    weight: float,
) -> bool:
    """Whether the cue read at a word inside the cue matched at ``i`` (length ``m``) is an
    aspect's cue weighing more than ``weight`` that ends after it."""
    for j in range(i + 1, i + m):
        cue = _first_cue(tokens, folded, marked, j)
        if cue is not None and cue[0] and cue[1] > weight and j + len(cue[2]) > i + m:
            return True
    return False


@lru_cache(maxsize=16384)
def _scan(
    tokens: tuple[str, ...], folded: tuple[str, ...], marked: tuple[bool, ...]
) -> tuple[tuple[tuple[str, float], ...], frozenset[str], frozenset[int]]:
    """Left to right, the first cue matching at each word (``_first_cue``; cues never overlap,
    an outweighed one is not read: ``OVERLAP_HEAVIER``): the weight per aspect, the folded
    words inside matched cues and their positions."""
    found: dict[str, float] = defaultdict(float)
    covered: set[str] = set()
    positions: set[int] = set()
    i = 0
    for at in [j for j, f in enumerate(folded) if f in _BY_FIRST]:  # no cue starts elsewhere
        if at < i:
            continue
        i = at
        cue = _first_cue(tokens, folded, marked, i)
        if cue is None:
            i += 1
            continue
        aspect, weight, cue_keys, _ = cue
        m = len(cue_keys)
        if aspect and OVERLAP_HEAVIER and _outweighed(tokens, folded, marked, i, m, weight):
            i += 1  # a heavier cue starts inside this one and reaches past it
            continue
        if aspect:  # else a compound (``CUE_COMPOUNDS``): its words start no cue
            found[aspect] += weight
            covered.update(folded[i : i + m])
            positions.update(range(i, i + m))
        i += m
    return tuple(found.items()), frozenset(covered), frozenset(positions)


@cache
def _joined_pairs() -> dict[str, tuple[str, str]]:
    """Neighbouring words of the aspect cues run together ("lephi": "le", "phi"; "baolau"),
    by their folded spelling, where that spelling is no Vietnamese syllable itself."""
    pairs: dict[str, tuple[str, str]] = {}
    for _aspect, _weight, _keys, words in _CUES:
        for left, right in itertools.pairwise(words):
            joined = left + right
            if not is_folded_syllable(joined):
                pairs.setdefault(joined, (left, right))
    return pairs


def joined_cue(folded: str) -> tuple[str, str] | None:
    """The two cue words a folded word is made of when typed run together ("lephi", "giayto",
    "odau"), if it is such a word."""
    return _joined_pairs().get(folded)


def mend_joins(a: Analysis) -> Analysis:
    """Cue words typed run together read apart, as typed without marks ("lêphí nhiêu hen" asks
    the fee as "lệ phí bao nhiêu" does): the cues are then matched by their folded forms. Its
    content words are left as they are (retrieval splits joined words itself)."""
    if not any(joined_cue(f) for f in a.folded):
        return a
    tokens: list[str] = []
    folded: list[str] = []
    marked: list[bool] = []
    for tok, f, m in zip(a.tokens, a.folded, a.accented, strict=True):
        parts = joined_cue(f)
        if parts is None:
            tokens.append(tok)
            folded.append(f)
            marked.append(m)
        else:
            tokens.extend(parts)
            folded.extend(parts)
            marked.extend((False, False))
    return Analysis(tuple(tokens), tuple(folded), a.content, tuple(marked))


def as_typed(a: Analysis) -> Analysis:
    """A text's slips on particles (``syllables.mend_slips``) and cue words run together
    (``mend_joins``) mended, for reading the aspect it asks."""
    return mend_joins(mend_slips(a))


def mended_word(token: str, folded: str, marked: bool) -> bool:
    """Whether ``as_typed`` reads a typed word as another: a slip on a particle
    (``syllables.slip_of``) or cue words run together (``joined_cue``)."""
    return slip_of(token, folded, marked) is not None or joined_cue(folded) is not None


def primary(weights: dict[str, float]) -> str:
    """The aspect with the highest weight, or "" when nothing is asked clearly enough."""
    if not weights:
        return ""
    aspect, weight = max(weights.items(), key=lambda kv: (kv[1], kv[0]))
    return aspect if weight >= CLEAR else ""


def distribution(weights: dict[str, float]) -> dict[str, float]:
    """Weights scaled to sum to 1 (empty when nothing is asked)."""
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()} if total else {}


def entry_aspects(
    question: Analysis,
    alternatives: list[Analysis],
    stated: str,
    weights_of: Callable[[Analysis], dict[str, float]] | None = None,
) -> frozenset[str]:
    """The aspects an entry answers: the stated one, else those its phrasings ask most.

    The question counts fully and each alternative at 0.6; every aspect reaching half the
    strongest one is kept (an entry on "lệ phí và thời hạn" answers both); "other" when the
    phrasings ask nothing recognisable. ``weights_of`` gives ``aspect_weights`` of a phrasing
    already scanned (the index's build scans every text once).
    """
    weigh = weights_of or aspect_weights
    if stated and is_aspect(stated):
        return frozenset({stated})
    total: dict[str, float] = defaultdict(float)
    for k, v in weigh(question).items():
        total[k] += v
    for alt in alternatives:
        for k, v in weigh(alt).items():
            total[k] += 0.6 * v
    if not total:
        return frozenset({"other"})
    top = max(total.values())
    return frozenset(k for k, v in total.items() if v >= 0.5 * top)
