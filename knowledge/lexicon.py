"""Vietnamese lexical resources for retrieval, loaded from ``knowledge/lang/*.yaml``.

Keys of ``ABBREVIATIONS`` are the words as typed; ``PHRASES`` keys are *folded* word sequences
(no diacritics, lower case, "đ" -> "d"). Values are proper Vietnamese with diacritics, so that an
expanded query can still match the knowledge base's accented text exactly. The files document
their sources; none of them is tuned to a knowledge base or an evaluation set.
"""

from __future__ import annotations

from knowledge import lang

ABBREVIATIONS: dict[str, str] = {str(k): str(v) for k, v in lang.load("abbreviations").items()}
"""Whole-token rewrites: abbreviations, teen code and southern colloquial spellings."""

PHRASES: dict[str, str] = {str(k): str(v) for k, v in lang.load("phrases").items()}
"""Phrase rewrites applied to folded token sequences before single tokens (longest first)."""

PHRASE_MARKS: dict[str, tuple[str, ...]] = {
    str(k): tuple(str(f) for f in v) for k, v in lang.load("phrase_marks").items()
}
"""For phrases whose folded words are also another phrase: the accented forms they stand for
(a word typed with marks must match one of them for the phrase to be rewritten)."""

_FILLERS = lang.load("fillers")
FILLERS: frozenset[str] = frozenset(str(w) for w in _FILLERS["fillers"])
"""Accented words that carry no topic: politeness, pronouns, particles, generic verbs."""

AMBIGUOUS_FOLDED: frozenset[str] = frozenset(str(w) for w in _FILLERS["ambiguous"])
"""Folded forms of fillers that are also content words when typed without marks."""

GENERIC: frozenset[str] = frozenset(str(w) for w in lang.load("generic")["generic"])
"""Folded words that say what is asked rather than about which procedure."""

_CUE_DATA = lang.load("aspect_cues")
HOW_MANY = ("bao nhiêu", "mấy")
"""The written and the everyday way of asking how many or how much ("mất bao nhiêu ngày",
"mất mấy ngày"; "nhận bao nhiêu", "lãnh mấy đồng"): a cue written with the first also matches
with the second, at its weight, unless the file gives that form a weight of its own."""


def _with_everyday_forms(cues: dict[str, float]) -> dict[str, float]:
    out = dict(cues)
    written, everyday = HOW_MANY
    for cue, weight in cues.items():
        if written in cue:
            out.setdefault(cue.replace(written, everyday), weight)
    return out


ASPECT_CUES: dict[str, dict[str, float]] = {
    str(aspect): _with_everyday_forms({str(cue): float(w) for cue, w in cues.items()})
    for aspect, cues in _CUE_DATA.items()
    if aspect != "compounds"
}
"""Per aspect, the accented phrases that ask about it, with their weight."""

CUE_COMPOUNDS: tuple[str, ...] = tuple(str(c) for c in _CUE_DATA.get("compounds", []))
"""Accented compounds read as one word before any cue: the "nhận" of "công nhận hộ nghèo" does
not start the cue "nhận hộ" (receiving for someone)."""
