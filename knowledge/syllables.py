"""Is a typed word a real Vietnamese syllable? (``knowledge/lang/syllables.txt``)

Spelling correction mends words a knowledge base does not contain. A real word the base does
not contain ("vàng" in "giá vàng", "khuyết tật", "học bổng") must stay what it is: corrected
into a base word ("vắng", "thuyết tai", "hoặc") it pulls an out-of-scope question onto a covered
entry. Only non-words (typos, Telex leftovers, teen code, initialisms) are corrected.

A word typed with diacritics is a syllable when that exact spelling is attested (tone placement
"hoá"/"hóa" aside), so "nghệp" and "gòm" are typos; a word typed without them when some attested
syllable folds to it ("vang").
"""

from __future__ import annotations

from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge.lang import LANG_DIR
from knowledge.normalize import FOLDED_FILLERS, Analysis, fold, tone_key


@cache
def _load() -> tuple[frozenset[str], frozenset[str]]:
    text = (LANG_DIR / "syllables.txt").read_text(encoding="utf-8")
    accented = frozenset(
        w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")
    )
    # Tone keys make "hoá" and "hóa" (old and new tone placement) the same syllable.
    return frozenset(tone_key(w) for w in accented), frozenset(fold(w) for w in accented)


def is_syllable(word: str) -> bool:
    """Whether ``word`` (as typed, any case) is an attested Vietnamese syllable."""
    w = word.lower()
    keys, folded = _load()
    if w == fold(w):
        return w in folded
    return tone_key(w) in keys


def is_folded_syllable(folded_word: str) -> bool:
    """Whether some attested syllable folds to ``folded_word`` (no diacritics, "đ" -> "d")."""
    return folded_word in _load()[1]


def real_words(a: Analysis) -> frozenset[str]:
    """The folded content words of an analysed text that were typed as real syllables."""
    content = frozenset(a.content)
    return frozenset(
        fol
        for tok, fol, marked in zip(a.tokens, a.folded, a.accented, strict=True)
        if fol in content and (is_syllable(tok) if marked else is_folded_syllable(fol))
    )


def slip_of(token: str, folded: str, marked: bool) -> str | None:
    """The politeness word or particle (folded) a typed word is a slip on, if it is one: a word
    that is no Vietnamese syllable and one edit from such a word (four letters or more: "nhữg",
    "khôg"), or typed with marks that are no syllable's over such a word's letters ("đươc")."""
    if not folded.isalpha() or (is_syllable(token) if marked else is_folded_syllable(folded)):
        return None
    return folded if folded in FOLDED_FILLERS else nearest_filler(folded)


def nearest_filler(folded: str) -> str | None:
    """The politeness word or particle (folded) a folded word of four letters or more is one
    edit from ("nhug": "nhung"), if any."""
    if len(folded) < 4:
        return None
    hit = process.extractOne(folded, FOLDED_FILLERS, scorer=Levenshtein.distance, score_cutoff=1)
    return hit[0] if hit else None


def mend_slips(a: Analysis) -> Analysis:
    """A question's slips on politeness words and particles (``slip_of``) read as those words
    typed without marks, for the aspect cues: "hs gồm nhữg gì" asks what the dossier holds as
    "gồm những gì" does, "có đươc không" whether one may as "có được không". Its content words
    are left as they are."""
    tokens, folded, marked = list(a.tokens), list(a.folded), list(a.accented)
    changed = False
    for i, (tok, f, m) in enumerate(zip(a.tokens, a.folded, a.accented, strict=True)):
        if (slip := slip_of(tok, f, m)) is not None:
            tokens[i] = folded[i] = slip
            marked[i] = False
            changed = True
    if not changed:
        return a
    return Analysis(tuple(tokens), tuple(folded), a.content, tuple(marked))
