"""Many texts normalised at once, per distinct word rather than per text (the index build).

``normalize.analyze_words`` reads one text at a time. A base of 20,000 entries has 87,000
distinct texts, 3 million words, but fewer than 2,000 distinct words: what the normaliser
does to a word is nearly always decided by the word alone, and only a few spans of a text
need the multi-word rewrites (phrases, abbreviations with their context). So here:

1. The texts are cut into words at C speed: joined by a separator, composed as one string,
   split at white space; each distinct white-space chunk ("sơ,", "(UBND)") is lower-cased
   and cut by the word pattern once. Every text's words become one array of word ids.
2. Each distinct word gets its row of the normaliser's per-word table once (Telex recovery,
   folded form, marks, whether an abbreviation may replace it).
3. The rewrites are local: a rewrite reads the words it replaces and, as context, the words
   of its result around them. Two neighbouring words that no rewrite reads together (they
   are next to each other in no phrase rewrite and in no rewrite's result: most neighbours,
   "hồ sơ" | "tại") are a place where a text can be cut: one rewriting pass over the text is
   the passes over its parts, one after the other. So a text reads as runs of linked words;
   only the runs that hold a trigger (an abbreviation, a Telex leftover, the first two words
   of a phrase) are rewritten (``normalize._expand``), each distinct run once (91,000 runs
   at 20,000 entries, a few thousand distinct); the other words stay as typed.
4. ``analyze_words`` applies more passes while a pass changes something (one rewrite can make
   another apply: "cccd" -> "căn cước công dân" -> "căn cước"), carrying the typed marks
   across them by aligning the whole text's words (``difflib``), which a part alone cannot
   reproduce. So where a second pass would change a run, or a rewritten run's ends now
   touch a neighbour some rewrite reads with them (and a second pass over the whole text
   changes something), the text's further passes are made whole, from its first pass, as
   ``analyze_words`` makes them (2,000 texts at 20,000 entries); elsewhere the first pass is
   the analysis.

The result is the same as ``analyze_words(words(text))`` for every text, token for token and
mark for mark (``tests/test_index_build_normalize.py`` compares them on real and random
texts).
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.lexicon import ABBREVIATIONS
from knowledge.normalize import (
    _FOLDED_PHRASES,
    _TOKEN_INFO,
    Analysis,
    _expand,
    _token_info,
    _word_info,
    fold,
    nfc,
    settle,
    words,
)

_SEPARATOR = "\x00"
"""Joins the texts: not white space (``str.split`` keeps it), not a word character, a
starter that composes with nothing and is neither cased nor case-ignorable, so composing,
lower-casing and cutting the joined text gives each text's words as ``words`` does."""
_PIECE = re.compile(r"[^\W_]+|\x00")
"""``normalize._WORD``, or the separator."""
BLOCK = 8192
"""Texts cut at a time (the chunks of white space of all texts at once would take hundreds
of MiB as strings)."""

_PAIRS: frozenset[tuple[str, str]] = frozenset(
    pair
    for seq in (
        *(list(k) for k in _FOLDED_PHRASES),
        *(fold(v).split() for v in _FOLDED_PHRASES.values()),
        *(fold(v).split() for v in ABBREVIATIONS.values()),
    )
    for pair in itertools.pairwise(seq)
)
"""Neighbouring folded words that some rewrite takes in together, or puts out together (and
so reads as context): a text cut between two words that are not such a pair is rewritten
as its two parts are."""
_STARTS: frozenset[tuple[str, str]] = frozenset((k[0], k[1]) for k in _FOLDED_PHRASES if len(k) > 1)
"""The first two words of every phrase rewrite (a phrase start elsewhere starts nothing)."""


@dataclass(slots=True)
class Normalised:
    """Every text's words as typed and its analysis, as arrays of ids."""

    words: list[str]
    """The distinct words as typed, by id, in order of first appearance."""
    raw: np.ndarray
    """The ids of every text's words as typed, text after text."""
    raw_sizes: np.ndarray
    tokens: list[str]
    """The distinct analysed tokens, by id, in order of first appearance."""
    tok: np.ndarray
    """The ids of every text's analysed tokens (``Analysis.tokens``), text after text ..."""
    acc: np.ndarray
    """... whether each was typed with marks (``Analysis.accented``) ..."""
    sizes: np.ndarray
    """... and how many each text has."""

    def raw_words(self, k: int) -> list[str]:
        """The words of text ``k`` as typed (``words``)."""
        lo = int(self.raw_sizes[:k].sum())
        return [self.words[i] for i in self.raw[lo : lo + int(self.raw_sizes[k])].tolist()]

    def analysis(self, k: int) -> Analysis:
        """The ``Analysis`` of text ``k`` (for tests: the build reads the arrays)."""
        lo = int(self.sizes[:k].sum())
        hi = lo + int(self.sizes[k])
        tokens = tuple(self.tokens[i] for i in self.tok[lo:hi].tolist())
        accented = tuple(bool(a) for a in self.acc[lo:hi].tolist())
        rows = [_TOKEN_INFO.get(t) or _token_info(t) for t in tokens]
        folded = tuple(r[0] for r in rows)
        content = tuple(
            r[0] for r, m in zip(rows, accented, strict=True) if not (r[1] or (r[2] and not m))
        )
        return Analysis(tokens, folded, content, accented)


def _ramp(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ... size - 1 for each of ``sizes``, one after the other."""
    total = int(sizes.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def cut_many(texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``words`` of every text: the distinct words by id (in order of first appearance), the
    ids of every text's words, text after text, and how many each text has.

    Each distinct white-space chunk is lower-cased and cut into words once, the first time
    it is met (``_Chunks``); a block's chunks are looked up once each.

    Memory: the chunks of a block are hundreds of thousands of small strings. Nothing made
    while they exist is kept past the block (a new chunk or word is kept as a copy made once
    they are gone), so that the memory they took is wholly free again: one string kept
    among them would keep its part of the allocator's memory resident."""
    chunks = _Chunks()
    seqs: list[np.ndarray] = []
    for lo in range(0, len(texts), BLOCK):
        block = texts[lo : lo + BLOCK]
        joined = _SEPARATOR.join(block)
        if joined.count(_SEPARATOR) != len(block) - 1:  # a text holds the separator itself
            word_no = chunks.word_no
            for t in block:
                ws = words(t)
                seqs.append(
                    np.asarray(
                        [word_no.setdefault(_copy(w), len(word_no)) for w in ws] + [-1], np.int64
                    )
                )
            continue
        seqs.append(chunks.cut(joined))
        del joined
    if not seqs:
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
    seq = np.concatenate(seqs)
    del seqs
    ends = np.flatnonzero(seq < 0)
    if len(ends) != len(texts):
        raise AssertionError("texts cut into words out of step")  # (cannot happen)
    sizes = np.diff(np.append(-1, ends)) - 1
    return list(chunks.word_no), seq[seq >= 0], sizes


class _Chunks:
    """The distinct white-space chunks of the texts met so far ("sơ,", "(UBND)",
    "sơ\x00tại": the separator, as -1, between two texts), each with its word ids, and the
    distinct words.

    A chunk is cut as composed but not lower-cased: lower-casing a text is lower-casing each
    of its chunks (white space is neither cased nor case-ignorable: the one letter whose
    lower case depends on its neighbours, a final sigma, reads no further than its chunk),
    so only the distinct chunks are lower-cased, not every text whole."""

    def __init__(self) -> None:
        self.word_no: dict[str, int] = {}
        self.number: dict[str, int] = {}
        self._at: array[int] = array("q")  # where each chunk's word ids start in ``_ids``
        self._len: array[int] = array("q")
        self._ids: array[int] = array("q")  # (-1: the separator)

    def cut(self, joined: str) -> np.ndarray:
        """The word ids of texts joined by the separator, each text followed by -1."""
        pieces = nfc(joined).split()
        number = self.number
        ids = np.fromiter(map(number.get, pieces, itertools.repeat(-1)), np.int64, len(pieces))
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            # the new chunks, in order of first appearance (their new words so too)
            fresh = dict.fromkeys(map(pieces.__getitem__, missing.tolist()), 0)
            base = len(number)
            for k, c in enumerate(fresh):
                fresh[c] = base + k
            ids[missing] = np.fromiter(
                map(fresh.__getitem__, map(pieces.__getitem__, missing.tolist())),
                np.int64,
                len(missing),
            )
            del pieces
            self._add(list(fresh))
        else:
            del pieces
        lens = _numpy(self._len, np.int64)[ids]
        at = _numpy(self._at, np.int64)[ids]
        seq = _numpy(self._ids, np.int64)[np.repeat(at, lens) + _ramp(lens)]
        del ids, lens, at
        return np.append(seq, -1)  # the block's last text ends here

    def _add(self, fresh: list[str]) -> None:
        """Number the new chunks and cut them (after the block's other strings are gone)."""
        word_no, ids = self.word_no, self._ids
        for c in fresh:
            lower = c.lower()
            got = [lower] if lower.isalnum() else _PIECE.findall(lower)
            self.number[_copy(c)] = len(self.number)
            self._at.append(len(ids))
            self._len.append(len(got))
            for w in got:
                if w == _SEPARATOR:
                    ids.append(-1)
                    continue
                i = word_no.get(w)
                if i is None:
                    i = word_no[_copy(w)] = len(word_no)
                ids.append(i)


def _copy(word: str) -> str:
    """Another string object equal to ``word`` (see ``cut_many``)."""
    return word.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


def _numpy(a: array[int], dtype: type[np.generic]) -> np.ndarray:
    """An ``array.array``'s items as a numpy array (a view)."""
    return np.frombuffer(a, dtype=dtype) if len(a) else np.zeros(0, dtype=dtype)


def member(x: np.ndarray, sorted_codes: np.ndarray, bound: int | None = None) -> np.ndarray:
    """Whether each of ``x`` is in ``sorted_codes`` (sorted); with ``bound`` (every code is
    in ``range(bound)``) not too large, by a table of every code, else by binary search a
    block of ``x`` at a time (so that the temporary arrays stay small)."""
    if bound is not None and bound <= DENSE:
        table = np.zeros(max(bound, 1), dtype=bool)
        table[sorted_codes] = True
        return table[x]
    out = np.zeros(len(x), dtype=bool)
    if len(sorted_codes) == 0:
        return out
    last = len(sorted_codes) - 1
    for lo in range(0, len(x), _BLOCK):
        part = x[lo : lo + _BLOCK]
        at = np.minimum(np.searchsorted(sorted_codes, part), last)
        out[lo : lo + _BLOCK] = sorted_codes[at] == part
    return out


_BLOCK = 1 << 18
"""Elements read at a time by ``member``."""
DENSE = 1 << 25
"""Codes below this many are looked up in a table of them all (a byte each)."""


def _codes(pairs: frozenset[tuple[str, str]], number: dict[str, int], radix: int) -> np.ndarray:
    """The pairs whose words are both in ``number``, as sorted codes."""
    got = [number[a] * radix + number[b] for a, b in pairs if a in number and b in number]
    return np.sort(np.asarray(got, dtype=np.int64))


def analyze_many(texts: Sequence[str]) -> Normalised:
    """``analyze_words(words(text))`` of every text, as arrays (see the module's docstring)."""
    names, raw, raw_sizes = cut_many(texts)
    n, m = len(texts), len(raw)
    rows = [_word_info(w) for w in names]
    tok_no: dict[str, int] = {}
    conv_tok = np.fromiter(
        (tok_no.setdefault(r[0], len(tok_no)) for r in rows), np.int64, len(rows)
    )
    marks = np.fromiter((r[2] for r in rows), bool, len(rows))
    fold_no: dict[str, int] = {}
    fold_of = np.fromiter(
        (fold_no.setdefault(r[1], len(fold_no)) for r in rows), np.int64, len(rows)
    )
    # a rewrite may start at it: an abbreviation, or a Telex leftover (passed on recovered)
    trigger_word = np.fromiter(
        (r[4] or r[0] != w for r, w in zip(rows, names, strict=True)), bool, len(rows)
    )
    text = np.repeat(np.arange(n, dtype=np.int64), raw_sizes)
    trigger = trigger_word[raw]
    # neighbours that some rewrite reads together; the others are where a text may be cut
    nf = max(len(fold_no), 1)
    f = fold_of[raw]
    code = f[:-1] * nf + f[1:]
    same = text[1:] == text[:-1]
    trigger[:-1] |= same & member(code, _codes(_STARTS, fold_no, nf), nf * nf)
    linked = same & member(code, _codes(_PAIRS, fold_no, nf), nf * nf)
    del f, code, same
    # runs of linked words, within one text; those holding a trigger are "hot"
    begins = np.ones(m, dtype=bool)
    begins[1:] = ~linked
    run_of = np.cumsum(begins) - 1
    n_runs = int(begins.sum())
    hot_run = np.zeros(n_runs, dtype=bool)
    hot_run[run_of[trigger]] = True
    del trigger, linked
    run_start = np.flatnonzero(begins)
    run_len = np.diff(np.append(run_start, m))
    hot = np.flatnonzero(hot_run)
    hot_start, hot_len = run_start[hot], run_len[hot]
    in_hot = hot_run[run_of]
    del begins, run_of, hot_run, run_start, run_len, hot
    # each distinct hot run rewritten once
    buf = raw.astype(np.int32).tobytes()
    keys = [
        buf[4 * s : 4 * (s + k)] for s, k in zip(hot_start.tolist(), hot_len.tolist(), strict=True)
    ]
    del buf
    kinds: dict[bytes, int] = dict.fromkeys(keys, 0)
    out_tok: array[int] = array("q")
    out_acc: array[int] = array("b")
    out_at: array[int] = array("q")
    out_len: array[int] = array("q")
    again: list[bool] = []  # whether a second pass would change the run
    for k, key in enumerate(kinds):
        kinds[key] = k
        ws = [names[i] for i in np.frombuffer(key, dtype=np.int32).tolist()]
        done = _expand(ws)
        tokens = [w for w, _ in done]
        again.append(tokens != ws and [w for w, _ in _expand(tokens)] != tokens)
        out_at.append(len(out_tok))
        out_len.append(len(done))
        out_tok.extend(tok_no.setdefault(w, len(tok_no)) for w in tokens)
        out_acc.extend(1 if a else 0 for _, a in done)
    kind = np.fromiter(map(kinds.__getitem__, keys), np.int64, len(keys))
    del keys, kinds
    o_len, o_at = _numpy(out_len, np.int64), _numpy(out_at, np.int64)
    # every word out of a hot run is replaced by the run's rewrite, put at its first word
    size = np.where(in_hot, 0, 1)
    size[hot_start] = o_len[kind]
    place = np.cumsum(size) - size
    tok = np.empty(int(size.sum()), dtype=np.int64)
    acc = np.empty(len(tok), dtype=bool)
    plain = np.flatnonzero(~in_hot)
    tok[place[plain]] = conv_tok[raw[plain]]
    acc[place[plain]] = marks[raw[plain]]
    del plain, in_hot
    if len(kind):
        lens = o_len[kind]
        ramp = _ramp(lens)
        src = np.repeat(o_at[kind], lens) + ramp
        dst = np.repeat(place[hot_start], lens) + ramp
        tok[dst] = _numpy(out_tok, np.int64)[src]
        acc[dst] = _numpy(out_acc, np.int8)[src].astype(bool)
        del lens, ramp, src, dst
    through = np.concatenate([[0], np.cumsum(size)])
    raw_ends = np.cumsum(raw_sizes)
    sizes = through[raw_ends] - through[raw_ends - raw_sizes]
    # Texts where a second pass would change something, in a run or across the ends of one
    # (a rewrite's words beside a neighbour that some rewrite reads with them): read whole,
    # by ``analyze_words``.
    redo = np.flatnonzero(np.asarray(again, dtype=bool))
    if len(kind):
        tok_fold = np.fromiter(
            (fold_no.setdefault(fold(t), len(fold_no)) for t in tok_no), np.int64, len(tok_no)
        )
        nf = max(len(fold_no), 1)
        out_text = np.repeat(np.arange(n, dtype=np.int64), sizes)
        ends = np.concatenate([place[hot_start], place[hot_start] + o_len[kind]])
        ends = ends[(ends > 0) & (ends < len(tok))]
        ends = ends[out_text[ends - 1] == out_text[ends]]
        pair = tok_fold[tok[ends - 1]] * nf + tok_fold[tok[ends]]
        crossed = out_text[ends[member(pair, _codes(_PAIRS, fold_no, nf), nf * nf)]]
        del tok_fold, out_text, ends, pair
    else:
        crossed = np.zeros(0, np.int64)
    texts_redone = np.unique(text[hot_start[np.isin(kind, redo)]]).tolist()
    if len(crossed):
        # (where a second pass over the whole text changes nothing, the first is the analysis)
        by_id = list(tok_no)
        at = np.cumsum(sizes) - sizes
        for k in np.setdiff1d(crossed, texts_redone).tolist():
            lo = int(at[k])
            current = [by_id[i] for i in tok[lo : lo + int(sizes[k])].tolist()]
            if [w for w, _ in _expand(current)] != current:
                texts_redone.append(k)
        texts_redone.sort()
    if texts_redone:
        tok, acc, sizes = _redo(texts_redone, tok, acc, sizes, tok_no)
    del text, size, place, through
    # token ids in order of first appearance (as ``BulkTexts.add`` gives them)
    by_id = list(tok_no)
    first = np.full(len(by_id), len(tok), dtype=np.int64)
    np.minimum.at(first, tok, np.arange(len(tok), dtype=np.int64))
    present = np.flatnonzero(first < len(tok))
    order = present[np.argsort(first[present], kind="stable")]
    rank = np.empty(len(by_id), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return Normalised(
        names, raw, raw_sizes, [by_id[i] for i in order.tolist()], rank[tok], acc, sizes
    )


def _redo(
    which: list[int],
    tok: np.ndarray,
    acc: np.ndarray,
    sizes: np.ndarray,
    tok_no: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arrays with the further passes of ``analyze_words`` applied to the texts ``which``
    (increasing), from their first pass (the arrays): while a pass changes the words, the
    next one, with the typed marks carried across by aligning the whole text's words."""
    by_id = list(tok_no)
    at = np.cumsum(sizes) - sizes
    tok_parts: list[np.ndarray] = []
    acc_parts: list[np.ndarray] = []
    sizes = sizes.copy()
    done = 0
    for k in which:
        start = int(at[k])
        end = start + int(sizes[k])
        tokens = tuple(by_id[i] for i in tok[start:end].tolist())
        accented = tuple(acc[start:end].tolist())
        # ``analyze_words`` after its first pass (which changed some words)
        tokens, accented = settle(tokens, accented)
        tok_parts += [
            tok[done:start],
            np.asarray([tok_no.setdefault(w, len(tok_no)) for w in tokens], dtype=np.int64),
        ]
        acc_parts += [acc[done:start], np.asarray(accented, dtype=bool)]
        done = end
        sizes[k] = len(tokens)
    tok_parts.append(tok[done:])
    acc_parts.append(acc[done:])
    return np.concatenate(tok_parts), np.concatenate(acc_parts), sizes
