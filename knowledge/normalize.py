"""Vietnamese text normalisation for retrieval.

Citizens type on phones: with or without diacritics, in NFC or NFD, with tone marks in the old or
new position ("hoá"/"hóa"), with Telex slips, abbreviations and southern colloquial spellings.
Everything here turns such text into comparable tokens:

- ``fold``: no diacritics at all, "đ" -> "d" (what an unaccented keyboard produces);
- ``tone_key``: vowel letters kept but the tone moved to a trailing digit, so that the two tone
  placements compare equal while still telling "bán" from "bản";
- ``analyze``: the full pipeline, returning folded tokens for matching and tone keys for
  preferring exact-diacritics matches.
"""

from __future__ import annotations

import itertools
import operator
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from cydifflib import SequenceMatcher  # type: ignore[import-untyped]

from knowledge.lexicon import ABBREVIATIONS, AMBIGUOUS_FOLDED, FILLERS, PHRASE_MARKS, PHRASES

_TONES = {"\u0300": "2", "\u0301": "1", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MAX_PHRASE = max(len(k.split()) for k in PHRASES)
_FOLDED_PHRASES = {tuple(k.split()): v for k, v in PHRASES.items()}
_PHRASE_STARTS = frozenset(k[0] for k in _FOLDED_PHRASES)
_PHRASE_FORMS = {
    tuple(k.split()): tuple(tuple(f.split()) for f in forms) for k, forms in PHRASE_MARKS.items()
}
_FOLDED_FILLERS = frozenset(
    unicodedata.normalize("NFD", w.replace("đ", "d")).encode("ascii", "ignore").decode()
    for w in FILLERS
)
FOLDED_FILLERS: tuple[str, ...] = tuple(
    sorted(w for w in _FOLDED_FILLERS if len(w) >= 3 and w not in AMBIGUOUS_FOLDED)
)
"""Folded fillers that no content word shares, for telling a slip on one from a typo."""
_NON_VIETNAMESE_LETTERS = frozenset("fjwz")


def nfc(text: str) -> str:
    """Compose the text (NFC); input may arrive decomposed from some keyboards."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case text with every diacritic removed and "đ" turned into "d"."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")


@lru_cache(maxsize=65536)
def tone_key(token: str) -> str:
    """A token with its tone mark moved to a trailing digit ("hoá" and "hóa" -> "hoa1")."""
    decomposed = unicodedata.normalize("NFD", token.lower())
    tone = ""
    kept = []
    for ch in decomposed:
        if ch in _TONES:
            tone = _TONES[ch]
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)) + tone


@lru_cache(maxsize=65536)
def has_marks(token: str) -> bool:
    """True when the token carries a tone or vowel mark (a bare "đ" does not count)."""
    return fold(token) != token.lower().replace("đ", "d")


def words(text: str) -> list[str]:
    """Lower-case NFC word tokens; punctuation and symbols separate words."""
    return _WORD.findall(nfc(text).lower())


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text after normalisation.

    ``tokens`` are the accented words after expansion; ``folded`` the same words without marks;
    ``content`` the folded words that are not fillers; ``accented`` tells, per token, whether the
    person typed diacritics (so tone keys are meaningful for it).
    """

    tokens: tuple[str, ...]
    folded: tuple[str, ...]
    content: tuple[str, ...]
    accented: tuple[bool, ...]

    @property
    def any_accented(self) -> bool:
        return any(self.accented)


_WordInfo = tuple[str, str, bool, bool, bool, tuple[str, bool]]
_WORD_INFO: dict[str, _WordInfo] = {}
"""Typed word -> (the word after Telex recovery, its folded form, whether it carries marks,
whether any rewrite may start at it or apply to it, whether an abbreviation may apply to it,
the word after Telex recovery with whether it carries marks: what ``_expand`` passes on).
A word that no rewrite concerns always comes out of ``_expand`` as itself: most words."""
_conv_of = operator.itemgetter(0)
_first = operator.itemgetter(0)
_second = operator.itemgetter(1)
_folded_of = operator.itemgetter(1)
_special = operator.itemgetter(3)
_passed = operator.itemgetter(5)
_SECOND: dict[str, frozenset[str]] = {}
for _key in (k for k in _FOLDED_PHRASES if len(k) > 1):
    _SECOND[_key[0]] = _SECOND.get(_key[0], frozenset()) | {_key[1]}
_WORD_INFO_SIZE = 200_000
_NO_WORDS: frozenset[str] = frozenset()


def _word_info(word: str) -> _WordInfo:
    got = _WORD_INFO.get(word)
    if got is None:
        conv = (
            telex_fold(word)
            if word not in ABBREVIATIONS and not has_marks(word) and is_telex(word)
            else word
        )
        folded = fold(conv)
        marks = has_marks(conv)
        # whether ``_expand`` may replace it by an abbreviation's expansion: as typed, or
        # folded when typed without marks or with letters Vietnamese does not use ("được"
        # is never read as "duoc")
        abbr = conv in ABBREVIATIONS or (
            (not marks or bool(_NON_VIETNAMESE_LETTERS.intersection(folded)))
            and folded in ABBREVIATIONS
        )
        got = (conv, folded, marks, abbr or folded in _PHRASE_STARTS, abbr, (conv, marks))
        if len(_WORD_INFO) >= _WORD_INFO_SIZE:
            _WORD_INFO.clear()
        _WORD_INFO[word] = got
    return got


def _marks_fit(key: tuple[str, ...], typed: list[str]) -> bool:
    """Whether the words ``typed`` for the folded phrase ``key`` may be rewritten: each word
    typed with marks carries those of one accented form the phrase stands for
    (``knowledge/lang/phrase_marks.yaml``: "giấy đó" is not "giấy đỏ")."""
    forms = _PHRASE_FORMS.get(key)
    if forms is None:
        return True
    return any(
        all(not has_marks(w) or w.lower() == f for w, f in zip(typed, form, strict=True))
        for form in forms
    )


def phrase_spans(folded: list[str]) -> frozenset[int]:
    """Positions of words (folded) that form a phrase whose rewrite depends on the marks typed
    (``knowledge/lang/phrase_marks.yaml``)."""
    out: set[int] = set()
    for i, n in _two_way_phrases(folded):
        out.update(range(i, i + n))
    return frozenset(out)


def _two_way_phrases(folded: list[str]) -> Iterator[tuple[int, int]]:
    """Where (start, length) the folded words hold a phrase of ``phrase_marks.yaml``."""
    for i in range(len(folded)):
        for n in range(2, min(_MAX_PHRASE, len(folded) - i) + 1):
            if tuple(folded[i : i + n]) in _PHRASE_FORMS:
                yield i, n


@lru_cache(maxsize=4096)
def ambiguous_readings(text: str) -> frozenset[str]:
    """The folded words that the rewrite of a phrase typed without marks brings into ``text``
    where the same folded words are also another everyday phrase (``knowledge/lang/
    phrase_marks.yaml``): "giay do" reads the land-use certificate, yet is as often "giấy đó"
    (that paper). Words the text itself holds are not among them."""
    raw = words(text)
    folded = [fold(w) for w in raw]
    out: set[str] = set()
    for i, n in _two_way_phrases(folded):
        if not any(has_marks(w) for w in raw[i : i + n]):
            out.update(fold(w) for w in words(_FOLDED_PHRASES.get(tuple(folded[i : i + n]), "")))
    return frozenset(out - set(folded))


def _expand(raw: list[str]) -> list[tuple[str, bool]]:
    """Apply phrase rewrites, then single-token abbreviations; keep whether marks were typed.

    The same as ``_expand_reference`` (the specification), faster: words that no rewrite
    concerns are passed through from a per-word table.
    """
    found = list(map(_WORD_INFO.get, raw))
    infos = (
        [x or _word_info(w) for x, w in zip(found, raw, strict=True)]
        if None in found
        else cast("list[_WordInfo]", found)
    )
    specials = list(itertools.compress(range(len(infos)), map(_special, infos)))
    passed = list(map(_passed, infos))
    if not specials:
        return passed
    end = len(infos)
    # Only where an abbreviation may apply or a phrase's first two words are: elsewhere a
    # phrase start starts no phrase and is passed on as it is.
    second_of = _SECOND.get
    specials = [
        i
        for i in specials
        if infos[i][4] or (i + 1 < end and infos[i + 1][1] in second_of(infos[i][1], _NO_WORDS))
    ]
    if not specials:
        return passed
    raw = list(map(_conv_of, infos))
    folded = list(map(_folded_of, infos))
    out: list[tuple[str, bool]] = []
    i = 0  # the first word not yet consumed
    for at in specials:
        if at < i:
            continue  # inside a phrase already rewritten
        out.extend(passed[i:at])
        i = at
        second = _SECOND.get(folded[i])
        if second is not None and i + 1 < end and folded[i + 1] in second:
            longest = min(_MAX_PHRASE, end - i)
        elif not infos[i][4]:
            out.append(passed[i])  # a phrase start that starts no phrase here
            i += 1
            continue
        else:
            longest = 1
        for n in range(longest, 1, -1):
            key = tuple(folded[i : i + n])
            if (
                key in _FOLDED_PHRASES
                and not _already_expanded(folded, i, n, key)
                and _marks_fit(key, raw[i : i + n])
            ):
                typed_marks = any(has_marks(w) for w in raw[i : i + n])
                out.extend((w, typed_marks) for w in _FOLDED_PHRASES[key].split())
                i += n
                break
        else:
            word = raw[i]
            marks = infos[i][2]
            repl = ABBREVIATIONS.get(word)
            if repl is None and (not marks or _NON_VIETNAMESE_LETTERS.intersection(folded[i])):
                repl = ABBREVIATIONS.get(folded[i])
            if repl is not None and _already_expanded(folded, i, 1, (folded[i],), repl):
                repl = None
            if repl is None:
                out.append((word, marks))
            else:
                out.extend((w, marks or repl != fold(repl)) for w in repl.split())
            i += 1
    out.extend(passed[i:])
    return out


def _expand_reference(raw: list[str]) -> list[tuple[str, bool]]:
    """Apply phrase rewrites, then single-token abbreviations; keep whether marks were typed.

    The specification of ``_expand`` (kept for the tests that compare the two)."""
    out: list[tuple[str, bool]] = []
    raw = [
        telex_fold(w) if w not in ABBREVIATIONS and not has_marks(w) and is_telex(w) else w
        for w in raw
    ]
    folded = [fold(w) for w in raw]
    i = 0
    while i < len(raw):
        longest = min(_MAX_PHRASE, len(raw) - i) if folded[i] in _PHRASE_STARTS else 1
        for n in range(longest, 1, -1):
            key = tuple(folded[i : i + n])
            if (
                key in _FOLDED_PHRASES
                and not _already_expanded(folded, i, n, key)
                and _marks_fit(key, raw[i : i + n])
            ):
                typed_marks = any(has_marks(w) for w in raw[i : i + n])
                out.extend((w, typed_marks) for w in _FOLDED_PHRASES[key].split())
                i += n
                break
        else:
            word = raw[i]
            marks = has_marks(word)
            repl = ABBREVIATIONS.get(word)
            if repl is None and (not marks or _NON_VIETNAMESE_LETTERS.intersection(folded[i])):
                repl = ABBREVIATIONS.get(folded[i])
            if repl is not None and _already_expanded(folded, i, 1, (folded[i],), repl):
                repl = None
            if repl is None:
                out.append((word, marks))
            else:
                out.extend((w, marks or repl != fold(repl)) for w in repl.split())
            i += 1
    return out


def _already_expanded(
    folded: list[str], i: int, n: int, key: tuple[str, ...], repl: str | None = None
) -> bool:
    """Whether the words around ``key`` already spell its rewrite (which contains the key).

    "bao lâu" is rewritten "thời gian bao lâu"; text that already says "thời gian bao lâu" is
    left alone, so that normalising normalised text changes nothing (idempotence).
    """
    rep = tuple(fold(repl if repl is not None else _FOLDED_PHRASES[key]).split())
    if len(rep) == n:
        return False  # a plain respelling ("duoc" -> "được"), always applied
    for j in range(len(rep) - n + 1):
        if rep[j : j + n] == key:
            before, after = rep[:j], rep[j + n :]
            if (
                i >= j
                and tuple(folded[i - j : i]) == before
                and tuple(folded[i + n : i + n + len(after)]) == after
            ):
                return True
    return False


@lru_cache(maxsize=32768)
def analyze(text: str) -> Analysis:
    """Normalise a question or a knowledge-base text into tokens for matching.

    Rewrites are applied until nothing changes (one rewrite can make another apply: "tốn
    nhiêu" -> "tốn bao nhiêu" -> "lệ phí tốn bao nhiêu"), so normalising normalised text
    changes nothing.
    """
    return analyze_words(words(text))


def settle(
    tokens: tuple[str, ...], accented: tuple[bool, ...]
) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """The further rewrite passes of a text whose first pass changed some words, until a pass
    changes nothing (at most three), carrying which words were typed with marks."""
    for _ in range(3):
        current = list(tokens)
        again = _expand(current)
        if [w for w, _ in again] == current:
            break
        before = list(zip(current, accented, strict=True))
        tokens, accented = _unzip(_carry_marks(before, again))
    return tokens, accented


def analyze_words(raw: list[str]) -> Analysis:
    """``analyze`` of a text already cut into ``words`` (not cached: the index analyses each
    of its texts once)."""
    tokens, accented = _unzip(_expand(raw))
    if len(tokens) != len(raw) or list(tokens) != raw:
        tokens, accented = settle(tokens, accented)
    found = list(map(_TOKEN_INFO.get, tokens))
    infos = (
        [x or _token_info(w) for x, w in zip(found, tokens, strict=True)]
        if None in found
        else cast("list[tuple[str, bool, bool]]", found)
    )
    folded = tuple(map(_conv_of, infos))
    # is_filler(token, folded, marks), from the token's table row
    content = tuple(
        [x[0] for x, m in zip(infos, accented, strict=True) if not (x[1] or (x[2] and not m))]
    )
    return Analysis(tokens, folded, content, accented)


def _carry_marks(
    before: list[tuple[str, bool]], after: list[tuple[str, bool]]
) -> list[tuple[str, bool]]:
    """Whether each word of a further rewriting pass was typed with marks, carried from the
    pass before: a word the pass leaves alone keeps its flag, and a rewrite's words were typed
    with marks when the words they replace were. Judged from the rewritten words alone,
    words with no marks of their own ("gian", "bao" of "thời gian bao lâu") would lose it,
    and "làm cccd mất bao lâu" (two passes: "cccd" -> "căn cước công dân" -> "căn cước") would
    not read as "làm căn cước mất bao lâu" (one pass)."""
    # (``difflib.SequenceMatcher`` compiled: the same opcodes, several times as fast; the
    # index build aligns 2,000 whole texts at 20,000 entries, tests/test_normalize_align.py)
    matcher = SequenceMatcher(a=[w for w, _ in before], b=[w for w, _ in after], autojunk=False)
    out: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(before[i1:i2])
        else:
            typed = any(m for _, m in before[i1:i2])
            out.extend((w, m or typed or has_marks(w)) for w, m in after[j1:j2])
    return out


def _unzip(expanded: list[tuple[str, bool]]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """Words and marks as two tuples."""
    return tuple(map(_first, expanded)), tuple(map(_second, expanded))


_TOKEN_INFO: dict[str, tuple[str, bool, bool]] = {}
"""Token -> (folded, is a filler as typed, its folded form is a filler when typed without
marks): what ``is_filler`` reads, once per distinct token."""


def _token_info(token: str) -> tuple[str, bool, bool]:
    folded = fold(token)
    got = (
        folded,
        token in FILLERS,
        folded in _FOLDED_FILLERS and folded not in AMBIGUOUS_FOLDED,
    )
    if len(_TOKEN_INFO) >= _WORD_INFO_SIZE:
        _TOKEN_INFO.clear()
    _TOKEN_INFO[token] = got
    return got


def analyze_reference(text: str) -> Analysis:
    """The specification of ``analyze`` (kept for the tests that compare the two)."""
    raw = words(text)
    expanded = _expand_reference(raw)
    for _ in range(3 if [w for w, _ in expanded] != raw else 0):
        current = [w for w, _ in expanded]
        again = _expand_reference(current)
        if [w for w, _ in again] == current:
            break
        expanded = _carry_marks(expanded, again)
    tokens = tuple(w for w, _ in expanded)
    folded = tuple(fold(w) for w in tokens)
    accented = tuple(m for _, m in expanded)
    content = tuple(
        f for w, f, m in zip(tokens, folded, accented, strict=True) if not is_filler(w, f, m)
    )
    return Analysis(tokens, folded, content, accented)


def is_filler(token: str, folded: str, typed_marks: bool) -> bool:
    """True for politeness words, pronouns and particles, which carry no topic."""
    if typed_marks or token in FILLERS:
        return token in FILLERS
    return folded in _FOLDED_FILLERS and folded not in AMBIGUOUS_FOLDED


_TELEX_TONES = frozenset("sfrxj")
_TELEX_PAIRS: tuple[tuple[str, str], ...] = (
    ("dd", "d"),
    ("aa", "a"),
    ("aw", "a"),
    ("ee", "e"),
    ("oo", "o"),
    ("ow", "o"),
    ("uw", "u"),
    ("w", "u"),
)


def telex_fold(token: str) -> str:
    """The folded word a Telex key sequence left unconverted stands for ("ddawngf" -> "dang").

    Telex types marks as letters: doubled vowels and "w" for the vowel marks, "dd" for "đ", and
    one of s f r x j for the tone, usually at the end. Only the folded form is recovered (the
    index matches folded words); callers keep the result only when it is a known word.
    """
    t = token.lower()
    if len(t) > 2 and t[-1] in _TELEX_TONES and any(v in t[:-1] for v in "aeiouy"):
        t = t[:-1]
    for seq, rep in _TELEX_PAIRS:
        t = t.replace(seq, rep)
    return t


_TELEX_MARKERS = ("dd", "aa", "aw", "ee", "oo", "ow", "uw", "w")


def is_telex(word: str) -> bool:
    """Whether an unaccented word can only be unconverted Telex: no Vietnamese syllable ends in
    s, f, r, x or j, or holds "dd", "w" or a doubled vowel letter (except "oo" in "xoong")."""
    if not word.isalpha() or not word.isascii() or len(word) < 2:
        return False
    if word[-1] in _TELEX_TONES and any(v in word[:-1] for v in "aeiouy"):
        return True
    return any(m in word for m in _TELEX_MARKERS if m != "oo") or (
        "oo" in word and not word.endswith(("oong", "ooc"))
    )


# --- many texts at once (the index build) --------------------------------------------------

_SEPARATOR = "\x1f"
"""Joins texts for ``words_many``: not a word character, a starter that composes with nothing
and is neither cased nor case-ignorable, so composing, lower-casing and cutting the joined
text gives each text's words as ``words`` does."""


def words_many(texts: list[str]) -> list[list[str]]:
    """``words`` of each text, composed and lower-cased as one string."""
    if not texts:
        return []
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a text holds the separator itself
        return [words(t) for t in texts]
    return list(map(_WORD.findall, nfc(joined).lower().split(_SEPARATOR)))
