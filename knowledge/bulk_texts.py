"""The distinct texts of an index build read at once, as arrays of word ids.

``IndexState.from_entries`` used to read each distinct text of a base on its own: its aspect
scan, its features, its spellings and its initialism runs, each a few Python loops over its
words (87,000 texts, 3 million words at 20,000 entries). Here the words of every analysed
text are one array of token ids (with per-token tables: folded form, filler flags, tone key),
and the per-text steps are numpy operations over the whole array:

- the aspect scan (``aspects._scan``): the cue that matches at each position is found for
  all positions at once, cue by cue; only where matched cues overlap is the left-to-right
  choice made word by word;
- the topics of the short texts (``topics.topics_of``) and the keyword phrases in them (for
  the keyword owners), found the same way;
- the features of each text (content words, aspect cue words as "^word", exact-diacritics
  keys) as ids, in the order ``_TextFeatures.add`` gives them;
- the spellings and initialism runs of each text, as ids, in the order ``_Tally.add`` gives
  them.

Each result is the same as the text-by-text code's, bit for bit (``tests/test_bulk_texts.py``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge import aspects as aspect_model
from knowledge import features
from knowledge.bulk_normalize import Normalised
from knowledge.bulk_normalize import member as _member
from knowledge.normalize import (
    _TOKEN_INFO,
    FILLERS,
    Analysis,
    _token_info,
    tone_key,
)
from knowledge.topics import _PHRASES


def _table(strings: Sequence[str]) -> tuple[list[str], dict[str, int], np.ndarray]:
    """The distinct strings in order of first appearance, their ids, and each string's id."""
    names = list(dict.fromkeys(strings))
    number = {s: i for i, s in enumerate(names)}
    ids = np.fromiter(map(number.__getitem__, strings), dtype=np.int64, count=len(strings))
    return names, number, ids


def stable_argsort(
    keys: np.ndarray, fallback: Literal["stable", "quicksort"] = "stable"
) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative integer keys, faster: keys below
    2**16 by numpy's radix sort of 16-bit keys; others with each position packed below the
    key (no two equal) by one plain sort of 64-bit integers, which numpy does with SIMD
    instructions (several times as fast as its stable sort of wider keys); where that does
    not fit in 63 bits, by ``np.argsort`` itself (of ``fallback`` kind: "quicksort" where
    any order of equal keys will do)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    top = int(keys.max())
    if int(keys.min()) < 0:
        return np.argsort(keys, kind=fallback)
    if top < 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    shift = (n - 1).bit_length()
    if top.bit_length() + shift > 63:
        return np.argsort(keys, kind=fallback)
    packed = keys.astype(np.int64)
    packed <<= shift
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << shift) - 1
    return packed.astype(np.intp, copy=False)


def first_order_dense(codes: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes (all in ``range(bound)``) in order of first appearance, and each
    code's rank among them, without sorting the codes."""
    first = np.full(bound, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    present = np.flatnonzero(first < len(codes))
    distinct = present[stable_argsort(first[present])]
    del first, present
    rank_of = np.empty(bound, dtype=np.int64)
    rank_of[distinct] = np.arange(len(distinct), dtype=np.int64)
    return distinct, rank_of[codes]


@dataclass(slots=True)
class Scan:
    """``aspects._scan`` of every text, by text number: its (aspect, weight) pairs in order
    and its cue words (folded)."""

    weights_of: dict[int, tuple[tuple[str, float], ...]]
    """The texts with some aspect (others have none)."""
    cover: np.ndarray
    """text * ``radix`` + folded id of every cue word of every text, sorted"""
    radix: int
    folded: list[str]

    def weights(self, text: int) -> tuple[tuple[str, float], ...]:
        return self.weights_of.get(text, ())

    def cues(self, text: int) -> frozenset[str]:
        lo, hi = np.searchsorted(self.cover, [text * self.radix, (text + 1) * self.radix])
        if lo == hi:
            return _NONE
        folded = self.folded
        return frozenset([folded[c] for c in (self.cover[lo:hi] - text * self.radix).tolist()])


_NONE: frozenset[str] = frozenset()


def distinct_codes(codes: np.ndarray) -> np.ndarray:
    """The distinct codes, sorted (``np.unique`` by a sort: faster here than its hashing)."""
    if len(codes) == 0:
        return codes
    codes = np.sort(codes)
    keep = np.ones(len(codes), dtype=bool)
    keep[1:] = codes[1:] != codes[:-1]
    return codes[keep]


class BulkTexts:
    """The analysed distinct texts of a build, as arrays (see the module's docstring): given
    all at once, or a part at a time (``add``, then ``finish``), so that the words and
    analyses of only a part of the texts exist as Python objects at any time."""

    def __init__(
        self, analyses: Sequence[Analysis] | None = None, raws: Sequence[list[str]] | None = None
    ) -> None:
        self.n = 0
        self._token_no: dict[str, int] = {}
        self._raw_no: dict[str, int] = {}
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
        self._chunks = []
        if analyses is not None:
            self.add(analyses, raws if raws is not None else [[] for _ in analyses])
            self.finish()

    def add(self, analyses: Sequence[Analysis], raws: Sequence[list[str]]) -> None:
        """The next texts: their analyses and their words as typed (``words``)."""
        tokens = list(itertools.chain.from_iterable(a.tokens for a in analyses))
        words = list(itertools.chain.from_iterable(raws))
        for table, seq in ((self._token_no, tokens), (self._raw_no, words)):
            for w in dict.fromkeys(seq):
                if w not in table:
                    table[w] = len(table)
        self._chunks.append(
            (
                np.fromiter(map(self._token_no.__getitem__, tokens), np.int64, len(tokens)),
                np.fromiter(
                    itertools.chain.from_iterable(a.accented for a in analyses), bool, len(tokens)
                ),
                np.fromiter((len(a.tokens) for a in analyses), np.int64, len(analyses)),
                np.fromiter(map(self._raw_no.__getitem__, words), np.int64, len(words)),
                np.fromiter(map(len, raws), np.int64, len(raws)),
            )
        )
        self.n += len(analyses)

    def finish(self) -> None:
        """Make the arrays of all the texts added."""
        parts = list(zip(*self._chunks, strict=True)) or [[np.zeros(0, np.int64)]] * 5
        self._chunks = []
        self.tok, self.acc, sizes, self.raw_ids, self.raw_sizes = (np.concatenate(p) for p in parts)
        self.acc = self.acc.astype(bool)
        self.tokens = list(self._token_no)
        self.raw_names = list(self._raw_no)
        del self._token_no
        self._derive(sizes)

    @classmethod
    def of(cls, normalised: Normalised) -> BulkTexts:
        """The texts normalised at once (``bulk_normalize.analyze_many``), the same as adding
        their analyses and words."""
        out = cls()
        out.n = len(normalised.sizes)
        out.tok, out.acc, out.tokens = normalised.tok, normalised.acc, normalised.tokens
        out.raw_ids, out.raw_sizes = normalised.raw, normalised.raw_sizes
        out.raw_names = normalised.words
        out._raw_no = {w: k for k, w in enumerate(out.raw_names)}
        del out._token_no
        out._derive(normalised.sizes)
        return out

    def _derive(self, sizes: np.ndarray) -> None:
        n = self.n
        self.sizes = sizes
        self.starts = np.cumsum(sizes) - sizes
        self.text = np.repeat(np.arange(n, dtype=np.int64), sizes)
        rows = [_TOKEN_INFO.get(t) or _token_info(t) for t in self.tokens]
        folded_of_token = [r[0] for r in rows]
        self.folded, self.fold_id, fold_of = _table(folded_of_token)
        self.fold_of = fold_of  # token id -> folded id
        self.f = fold_of[self.tok]
        typed_filler = np.fromiter((t in FILLERS for t in self.tokens), bool, len(self.tokens))
        folded_filler = np.fromiter((r[2] for r in rows), bool, len(rows))
        # ``Analysis.content``: the folded words that are not fillers (as typed)
        self.content = ~(typed_filler[self.tok] | (folded_filler[self.tok] & ~self.acc))

    def contents(self, which: np.ndarray) -> tuple[np.ndarray, dict[int, tuple[str, ...]]]:
        """How many content words each text has (``len(Analysis.content)``), and the content
        words of the texts ``which`` (a mask by text)."""
        kept = self.text[self.content]
        counts = np.bincount(kept, minlength=self.n)
        at = np.flatnonzero(self.content)[which[kept]]
        folded = self.folded
        names = [folded[i] for i in self.f[at].tolist()]
        sizes = np.bincount(self.text[at], minlength=self.n)
        out: dict[int, tuple[str, ...]] = {}
        lo = 0
        for k, size in zip(np.flatnonzero(which).tolist(), sizes[which].tolist(), strict=True):
            out[k] = tuple(names[lo : lo + size])
            lo += size
        return counts, out

    # -- the aspect scan -------------------------------------------------------------------

    def scan(self) -> Scan:
        """``aspects._scan`` of every text (its tokens, folded words and marks)."""
        f, tok, acc, text = self.f, self.tok, self.acc, self.text
        ends = (self.starts + self.sizes)[text] if len(text) else np.zeros(0, np.int64)
        fold_id = dict(self.fold_id)  # cue words absent from the texts get ids of their own
        key_id: dict[str, int] = {}

        def fid(w: str) -> int:
            return fold_id.setdefault(w, len(fold_id))

        def kid(k: str) -> int:
            return key_id.setdefault(k, len(key_id))

        by_first = {fid(w): cues for w, cues in aspect_model._BY_FIRST.items()}
        is_first = np.zeros(len(fold_id), dtype=bool)
        is_first[list(by_first)] = True
        cand = np.flatnonzero(is_first[f]) if len(f) else np.zeros(0, np.int64)
        # the tone key of each token, where typed with marks (the only tokens it is read for)
        key_of_token = np.full(len(self.tokens), -1, dtype=np.int64)
        cue_words = [fid(w) for c in aspect_model._CUES for w in c[3]]
        in_cue = np.zeros(len(fold_id), dtype=bool)
        in_cue[cue_words] = True
        in_cue = in_cue[: len(self.folded)]
        for t in np.flatnonzero(in_cue[self.fold_of]).tolist():
            key_of_token[t] = kid(tone_key(self.tokens[t]))
        cue_index = {id(c): k for k, c in enumerate(aspect_model._CUES)}
        # One code per word for matching a cue's word: its folded id when typed without
        # marks (then only its folded form must match), else its tone key's (then the key
        # must: equal tone keys have equal folded forms); -1 where no cue word can match.
        nf = len(fold_id)
        code = np.where(acc, np.where(key_of_token[tok] >= 0, nf + key_of_token[tok], -1), f)
        patterns = {
            first: [
                (cue_index[id(c)], [(fid(w), nf + kid(k)) for w, k in zip(c[3], c[2], strict=True)])
                for c in cues
            ]
            for first, cues in by_first.items()
        }
        lengths = np.fromiter((len(c[2]) for c in aspect_model._CUES), np.int64)
        # each cue's weight, -1 for compounds (they outweigh nothing, nothing outweighs them)
        outweighs = np.fromiter((c[1] if c[0] else -1.0 for c in aspect_model._CUES), np.float64)
        pos, which, end = _read(code, cand, ends, f[cand], patterns, lengths, text, outweighs)
        aspect_names = list(aspect_model.ASPECT_LABELS)
        aspect_no = {a: k for k, a in enumerate(aspect_names)}
        cue_aspect = np.fromiter((aspect_no.get(c[0], -1) for c in aspect_model._CUES), np.int64)
        cue_weight = np.fromiter((c[1] for c in aspect_model._CUES), np.float64)
        asp = cue_aspect[which]
        real = asp >= 0  # compounds count for no aspect and cover no word
        pos, which, end, asp = pos[real], which[real], end[real], asp[real]
        owner = text[pos] if len(pos) else np.zeros(0, np.int64)
        na = len(aspect_names)
        # per (text, aspect): the weights added in the order of the text, from 0.0
        distinct, rank = first_order_dense(owner * na + asp, self.n * na)
        sums = np.bincount(rank, weights=cue_weight[which], minlength=len(distinct))
        weights_of: dict[int, list[tuple[str, float]]] = defaultdict(list)
        for t, a, s in zip(
            (distinct // na).tolist(), (distinct % na).tolist(), sums.tolist(), strict=True
        ):
            weights_of[t].append((aspect_names[a], s))
        # the folded words the cues cover, per text
        span = end - pos
        words_at = np.repeat(pos, span) + (
            np.arange(int(span.sum()), dtype=np.int64) - np.repeat(np.cumsum(span) - span, span)
        )
        nf = len(fold_id)
        cover_codes = distinct_codes(text[words_at] * nf + f[words_at])
        # and the positions of the words inside matched cues: only those are read as cues
        self.cue_at = np.zeros(len(f), dtype=bool)
        self.cue_at[words_at] = True
        return Scan({t: tuple(w) for t, w in weights_of.items()}, cover_codes, nf, self.folded)

    # -- the topics -------------------------------------------------------------------------

    def topics(self, which: np.ndarray) -> dict[int, frozenset[str]]:
        """``topics.topics_of`` of the texts ``which`` (a mask by text), by text number;
        texts naming none are left out."""
        f, text = self.f, self.text
        fold_id = self.fold_id
        phrases = [
            (p, topic)
            for p, topic in _PHRASES.items()
            if p and all(w in fold_id for w in p)  # others never match these texts
        ]
        patterns: dict[int, list[tuple[int, list[tuple[int, int]]]]] = defaultdict(list)
        # longest first (at most one phrase of each length starts at a word)
        for k in sorted(range(len(phrases)), key=lambda k: -len(phrases[k][0])):
            ids = [fold_id[w] for w in phrases[k][0]]
            patterns[ids[0]].append((k, [(i, i) for i in ids]))
        is_first = np.zeros(len(self.folded) + 1, dtype=bool)
        is_first[list(patterns)] = True
        cand = np.flatnonzero(is_first[f] & which[text]) if len(f) else np.zeros(0, np.int64)
        ends = (self.starts + self.sizes)[text] if len(text) else np.zeros(0, np.int64)
        lengths = np.fromiter((len(p) for p, _ in phrases), np.int64, len(phrases))
        pos, number, _ = _read(f, cand, ends, f[cand], patterns, lengths, text)
        found: dict[int, set[str]] = defaultdict(set)
        for t, k in zip(text[pos].tolist(), number.tolist(), strict=True):
            found[t].add(phrases[k][1])
        return {t: frozenset(s) for t, s in found.items()}

    # -- keyword phrases ---------------------------------------------------------------------

    def phrases_in(
        self, which: np.ndarray, phrases: Sequence[tuple[str, ...]]
    ) -> dict[int, frozenset[tuple[str, ...]]]:
        """The ``phrases`` (of 2 to 5 folded words) that occur as runs of neighbouring
        content words of the texts ``which`` (a mask by text), by text number; texts with
        none are left out (``index_state._phrases_in`` of each text's content)."""
        fold_id = self.fold_id
        usable = [p for p in phrases if 2 <= len(p) <= 5 and all(w in fold_id for w in p)]
        at = np.flatnonzero(self.content & which[self.text])
        word, owner = self.f[at], self.text[at]
        m = len(at)
        found: dict[int, set[tuple[str, ...]]] = defaultdict(set)
        if m < 2 or not usable:
            return {}
        nf = len(self.folded)
        pair_codes = distinct_codes(
            np.asarray([fold_id[p[0]] * nf + fold_id[p[1]] for p in usable], dtype=np.int64)
        )
        same = owner[1:] == owner[:-1]
        cand = np.flatnonzero(same & _member(word[:-1] * nf + word[1:], pair_codes, nf * nf))
        by_first: dict[int, list[int]] = defaultdict(list)
        for k, p in enumerate(usable):
            by_first[fold_id[p[0]]].append(k)
        first_of = word[cand]
        order = stable_argsort(first_of)
        bounds = np.flatnonzero(np.diff(first_of[order])) + 1
        for group in np.split(order, bounds) if len(order) else []:
            rows = cand[group]
            mine = by_first[int(first_of[group[0]])]
            window = []
            for j in range(max(len(usable[k]) for k in mine)):
                q = np.minimum(rows + j, m - 1)
                window.append(np.where((rows + j < m) & (owner[q] == owner[rows]), word[q], -2))
            for k in mine:
                ok = np.ones(len(rows), dtype=bool)
                for j, w in enumerate(usable[k]):
                    ok &= window[j] == fold_id[w]
                for t in np.unique(owner[rows[ok]]).tolist():
                    found[t].add(usable[k])
        return {t: frozenset(p) for t, p in found.items()}

    # -- the features ----------------------------------------------------------------------

    def feature_streams(
        self, fid: dict[str, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What ``_TextFeatures.add`` collects of every text, in order: the feature ids of its
        content words (aspect cue words as "^word"), each text followed by -1, with the sizes,
        and the ids of its exact-diacritics keys, with the sizes. New features get ids of
        ``fid`` in the order ``add`` would give them. (After ``scan``: it reads the cue words.)"""
        n, nf = self.n, len(self.folded)
        text, f, acc, content = self.text, self.f, self.acc, self.content
        c_at = np.flatnonzero(content)
        c_text = text[c_at]
        c_fold = f[c_at]
        # the word's feature: 2 * its folded id, + 1 where it is inside an aspect cue ("^word")
        cue = self.cue_at[c_at] if features.SPLIT_CUES else np.zeros(len(c_at), dtype=bool)
        del c_at
        # exact-diacritics keys: words typed with marks whose folded form is a content word of
        # the text (the word itself, or, for a filler, another word of the text)
        keyed = acc & content
        odd = np.flatnonzero(acc & ~content)
        if len(odd):
            # (only the content words of those texts with those folded forms matter)
            near = np.zeros(nf, dtype=bool)
            near[f[odd]] = True
            in_text = np.zeros(n, dtype=bool)
            in_text[text[odd]] = True
            some = np.flatnonzero(near[c_fold] & in_text[c_text])
            keyed[odd] = _member(text[odd] * nf + f[odd], np.sort(c_text[some] * nf + c_fold[some]))
            del near, in_text, some
        del odd
        word_name = c_fold
        word_name *= 2
        word_name += cue
        del c_fold, cue
        k_at = np.flatnonzero(keyed)
        del keyed
        k_text = text[k_at]
        k_tok = self.tok[k_at]
        del k_at
        tone = features._TONE_FEATURE
        keyed_tokens = np.flatnonzero(np.bincount(k_tok, minlength=len(self.tokens)))
        key_names = list(
            dict.fromkeys(
                tone.get(t) or features._tone_feature(t)
                for t in map(self.tokens.__getitem__, keyed_tokens.tolist())
            )
        )
        key_no = {k: i for i, k in enumerate(key_names)}
        key_of_token = np.full(len(self.tokens), -1, dtype=np.int64)
        key_of_token[keyed_tokens] = [
            key_no[tone.get(t) or features._tone_feature(t)]
            for t in map(self.tokens.__getitem__, keyed_tokens.tolist())
        ]
        key_name = 2 * nf + key_of_token[k_tok]
        del k_tok
        # one stream, text by text: its words, then its keys
        word_count = np.bincount(c_text, minlength=n)
        key_count = np.bincount(k_text, minlength=n)
        keys_before = np.cumsum(key_count) - key_count
        words_through = np.cumsum(word_count)
        # The stream is not made: the first place of each feature in it, from where its
        # words and keys would go, gives the order of first appearance.
        bound = 2 * nf + len(key_names)
        first = np.full(bound, len(word_name) + len(key_name), dtype=np.int64)
        w_to = np.arange(len(word_name), dtype=np.int64)
        w_to += keys_before[c_text]
        np.minimum.at(first, word_name, w_to)
        del w_to
        k_to = np.arange(len(key_name), dtype=np.int64)
        k_to += words_through[k_text]
        np.minimum.at(first, key_name, k_to)
        del k_to, k_text, keys_before, words_through
        present = np.flatnonzero(first < len(word_name) + len(key_name))
        distinct = present[stable_argsort(first[present])]
        del first, present
        names = [
            ("^" + self.folded[c // 2] if c % 2 else self.folded[c // 2])
            if c < 2 * nf
            else key_names[c - 2 * nf]
            for c in distinct.tolist()
        ]
        setdefault = fid.setdefault
        id_of = np.full(bound, -1, dtype=np.int64)
        id_of[distinct] = np.fromiter(
            (setdefault(name, len(fid)) for name in names), np.int64, len(names)
        )
        n_words = len(word_name)
        words = np.full(n_words + n, -1, dtype=np.int64)
        c_text += np.arange(n_words, dtype=np.int64)  # where each word goes
        words[c_text] = id_of[word_name]
        del c_text, word_name
        return words, word_count + 1, id_of[key_name], key_count

    # -- spellings and initialism runs -----------------------------------------------------

    def tally_streams(
        self, run_times: np.ndarray
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What ``_Tally.add`` collects of every text, in order: the names by id (ids given in
        order of first appearance), every text's words as typed as ids, each text followed by
        -1, with the sizes; and the folded words of letters of the texts with ``run_times``,
        the same way, with the sizes and which texts they are."""
        n, nf = self.n, len(self.folded)
        raw_sizes, raw_ids = self.raw_sizes, self.raw_ids
        # one namespace for both: words as typed, then the folded words not among them
        joint = dict(self._raw_no)
        fold_joint = np.fromiter(
            (joint.setdefault(w, len(joint)) for w in self.folded), np.int64, nf
        )
        everything = list(joint)
        del joint
        alpha = np.fromiter((w.isalpha() for w in self.folded), bool, nf)
        ran = run_times > 0
        l_at = np.flatnonzero(alpha[self.f] & ran[self.text])
        l_text = self.text[l_at]
        l_fold = fold_joint[self.f[l_at]]
        del l_at, fold_joint
        l_sizes = np.bincount(l_text, minlength=n)
        # The stream, text by text: its words (and a separator), then its letters (and one),
        # is not made: the first place of each name in it, from where its words and letters
        # would go, gives the order of first appearance.
        with_sep_l = l_sizes + ran
        per_text = raw_sizes + 1 + with_sep_l
        text_at = np.cumsum(per_text) - per_text
        past = int(per_text.sum())
        first = np.full(len(everything), past, dtype=np.int64)
        to = np.arange(len(raw_ids), dtype=np.int64)  # each word as typed: its place
        to += np.repeat(text_at - (np.cumsum(raw_sizes) - raw_sizes), raw_sizes)
        np.minimum.at(first, raw_ids, to)
        to = np.arange(len(l_text), dtype=np.int64)  # each folded word of letters: its place
        to += (text_at + raw_sizes + 1 - (np.cumsum(l_sizes) - l_sizes))[l_text]
        np.minimum.at(first, l_fold, to)
        del to, text_at, per_text
        present = np.flatnonzero(first < past)
        distinct = present[stable_argsort(first[present])]
        del first, present
        names = [everything[c] for c in distinct.tolist()]
        rank_of = np.full(len(everything), -1, dtype=np.int64)
        rank_of[distinct] = np.arange(len(distinct), dtype=np.int64)
        # every text's words as typed, then -1; the letters of the texts with runs, then -1
        raw_out = np.full(len(raw_ids) + n, -1, dtype=np.int64)
        to = np.arange(len(raw_ids), dtype=np.int64)
        to += np.repeat(np.arange(n, dtype=np.int64), raw_sizes)
        raw_out[to] = rank_of[raw_ids]
        ran_before: np.ndarray = np.cumsum(ran) - ran
        letters_out = np.full(len(l_text) + int(ran.sum()), -1, dtype=np.int64)
        to = np.arange(len(l_text), dtype=np.int64)
        to += ran_before[l_text]
        letters_out[to] = rank_of[l_fold]
        del to, l_text, l_fold
        return (
            names,
            raw_out,
            raw_sizes + 1,
            letters_out,
            with_sep_l[ran],
            np.flatnonzero(ran),
        )


def _read(
    code: np.ndarray,
    cand: np.ndarray,
    ends: np.ndarray,
    first_of: np.ndarray,
    patterns: dict[int, list[tuple[int, list[tuple[int, int]]]]],
    lengths: np.ndarray,
    text: np.ndarray,
    outweighs: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The patterns a left-to-right reading of every text finds: at each candidate position
    (by its first word's group in ``patterns``), the first pattern of the group whose every
    word's code is one of the two it accepts; a match starting inside the one read before
    it is not read. With ``outweighs`` (a weight per pattern, negative for those that take
    no part), a match is not read at all when one starting inside it weighs more and ends
    after it (``aspects.OVERLAP_HEAVIER``). Returns the positions, the patterns' numbers and
    where they end."""
    chosen = np.full(len(cand), -1, dtype=np.int64)
    order = stable_argsort(first_of)
    bounds = np.flatnonzero(np.diff(first_of[order])) + 1
    for group in np.split(order, bounds) if len(order) else []:
        rows = group
        group_patterns = patterns[int(first_of[group[0]])]
        # the codes of the words at each candidate of the group and after it (-2 past its
        # text's end), as far as its longest pattern reaches
        at, end_at = cand[rows], ends[cand[rows]]
        window = []
        for j in range(max(len(p) for _, p in group_patterns)):
            q = at + j
            inside = q < end_at
            window.append(np.where(inside, code[np.where(inside, q, 0)], -2))
        for number, accepted in group_patterns:
            ok = np.ones(len(rows), dtype=bool)
            for j, (a, b) in enumerate(accepted):
                w = window[j]
                ok &= (w == a) | (w == b) if a != b else w == a
            if ok.any():
                chosen[rows[ok]] = number
                rest = ~ok
                rows = rows[rest]
                if not len(rows):
                    break
                window = [w[rest] for w in window]
    at = np.flatnonzero(chosen >= 0)
    pos, which = cand[at], chosen[at]
    end = pos + lengths[which]
    covered = _inside_earlier(pos, end)
    if covered.any() and outweighs is not None and aspect_model.OVERLAP_HEAVIER:
        keep = _not_outweighed(pos, end, outweighs[which])
        pos, which, end = pos[keep], which[keep], end[keep]
        covered = _inside_earlier(pos, end)
    if covered.any():
        keep = _left_to_right(pos, end, text[pos], distinct_codes(text[pos[covered]]))
        pos, which, end = pos[keep], which[keep], end[keep]
    return pos, which, end


def _inside_earlier(pos: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Which matches (sorted by position) start before an earlier one ends."""
    covered = np.zeros(len(pos), dtype=bool)
    if len(pos):
        covered[1:] = pos[1:] < np.maximum.accumulate(end)[:-1]
    return covered


def _not_outweighed(pos: np.ndarray, end: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Which matches (sorted by position, texts apart) no later match starting inside them
    outweighs: heavier (neither weight negative) and ending after them."""
    keep = np.ones(len(pos), dtype=bool)
    p, e, w = pos.tolist(), end.tolist(), weight.tolist()
    for k in np.flatnonzero(pos[1:] < end[:-1]).tolist():
        if w[k] < 0:
            continue
        n = k + 1
        while n < len(p) and p[n] < e[k]:
            if w[n] > w[k] and e[n] > e[k]:
                keep[k] = False
                break
            n += 1
    return keep


def _left_to_right(
    pos: np.ndarray, end: np.ndarray, owner: np.ndarray, clash: np.ndarray
) -> np.ndarray:
    """Which matched cues the left-to-right scan reads: in a text where matches overlap, a
    match starting before the end of the last one read is skipped."""
    keep = np.ones(len(pos), dtype=bool)
    rows = np.flatnonzero(np.isin(owner, clash)).tolist()
    p, e, o = pos.tolist(), end.tolist(), owner.tolist()
    current, reach = -1, 0
    for k in rows:
        if o[k] != current:
            current, reach = o[k], 0
        if p[k] < reach:
            keep[k] = False
        else:
            reach = e[k]
    return keep
