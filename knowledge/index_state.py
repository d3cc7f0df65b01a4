"""The structure behind ``knowledge.search.Index``: per-entry parts and the global state
combined from them, built at once or changed one entry at a time.

Everything the index knows about one entry (its BM25 term frequencies, the words of its short
fields, its aspects, topics, spellings, initialism candidates ...) is a pure function of the
entry's content: ``entry_parts``. The global state (postings, document frequencies, average
length, vocabulary, spellings, initialisms, keyword topics, group topics and aspects) is a
combination of those parts, so that an admin's edit produces a new state from the old one by
taking out the parts of the entry as it was and putting in the parts of the entry as it is
(``IndexState.edit``), in a fraction of the time a full build takes. The old state is never
modified (copy-on-write), so a worker keeps searching it while the new one is made.

Compactness, for bases of tens of thousands of entries:
- postings are one CSR structure (feature-major): entry positions as int32 and term frequencies
  as uint16 codes into a table of the distinct float64 values (a few hundred: sums of field
  weights), so contributions are computed exactly as before, at query time, only for the
  query's features;
- the analyses of the base's texts do not enter the process-wide ``analyze`` cache, and a
  text repeated across entries (a category, a keyword, a shared answer) is analysed once per
  build.

Building from the texts (``IndexState.from_entries``, what ``Index`` does) makes the same state
as combining every entry's parts (``IndexState.build``), in bulk: the texts are counted first,
the distinct texts are normalised all at once, per distinct word and per distinct run of
words some rewrite reads (``knowledge/bulk_normalize.py``), and their words become one array of
ids on which the aspect scan, the topics, the keyword phrases, the features, the spellings,
word pairs and initialism runs are read for all texts at once (``knowledge/bulk_texts.py``);
each distinct text is counted times its occurrences; term frequencies and postings are summed
with numpy over all entries at once, each sum in the order the per-entry code adds it (so
every float is the same, bit for bit: ``tests/test_index_build_speed.py``,
``tests/test_bulk_texts.py``).

The rules are those of the original single-pass build; the only choice the combination makes
is how ties are broken where the build used to depend on the order of the entries (two
spellings of a word used equally often, two phrases with the same initials used equally
often): by the text itself, so that an index edited entry by entry equals one built at once.
"""

from __future__ import annotations

import bisect
import copy
import ctypes
import ctypes.util
import gc
import itertools
import math
import operator
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, cast, overload

import numpy as np

from knowledge import aspects as aspect_model
from knowledge import features
from knowledge.bulk_normalize import analyze_many
from knowledge.bulk_texts import BulkTexts, distinct_codes, stable_argsort
from knowledge.entry import Entry
from knowledge.normalize import Analysis, analyze_words, fold, words, words_many
from knowledge.topics import topics_of

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _uncached(fn: F) -> F:
    """The function under an ``lru_cache``: long texts analysed once must not fill the cache."""
    return getattr(fn, "__wrapped__", fn)


# The index analyses its texts outside the process-wide caches of ``analyze`` and the aspect
# scan, which are there for citizens' questions: a base of 20,000 entries would fill them with
# texts analysed once, and keep them resident.
_scan = _uncached(aspect_model._scan)
MEMO_SIZE = 4096
"""Distinct short texts remembered by ``parts_of`` (which does not count the texts first)."""
LONG_TEXT = 200
"""Texts longer than this (answers) are never remembered by ``parts_of``."""


@dataclass(frozen=True, slots=True)
class EntryInfo:
    """What the index keeps of one entry for searching (small: no postings, no spellings).

    The short fields are kept once, as the content words of each text joined by spaces (a
    string of 60 letters takes a third of the memory of a tuple of its 12 words); their word
    sets, word pairs and procedure words are made from them when asked, for the few
    candidates of a question. Content words never hold a space, so ``text.split()`` gives
    the words back as analysed.
    """

    key: str
    texts: tuple[str, ...]
    """The content words of the short fields, one string per text: its phrasings, then its
    keywords, then its procedure name (when it has one)."""
    n_phrasings: int
    named_by: int
    """The text that names its procedure: the procedure name, else the question."""
    aspects: frozenset[str]
    answer_aspects: frozenset[str]
    topics: frozenset[str]
    kw_phrases: frozenset[tuple[str, ...]]

    @property
    def short_texts(self) -> tuple[tuple[str, ...], ...]:
        """The content words of each short text."""
        return tuple(tuple(t.split()) for t in self.texts)

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The content of each phrasing (question first), words joined by spaces."""
        return self.texts[: self.n_phrasings]

    @property
    def phrasing_words(self) -> tuple[tuple[str, ...], ...]:
        """The content words of each phrasing, as a set made a tuple."""
        return tuple(tuple(frozenset(t.split())) for t in self.texts[: self.n_phrasings])

    @property
    def procedure_words(self) -> tuple[str, ...]:
        """The content words of its procedure name (or question), as a set made a tuple."""
        return tuple(frozenset(self.texts[self.named_by].split()))

    @property
    def short_words(self) -> frozenset[str]:
        """The content words of all its short fields."""
        out: set[str] = set()
        for t in self.texts:
            out.update(t.split())
        return frozenset(out)

    @property
    def short_pairs(self) -> frozenset[tuple[str, str]]:
        """Pairs of neighbouring content words of its short fields."""
        out: set[tuple[str, str]] = set()
        for t in self.texts:
            out.update(itertools.pairwise(t.split()))
        return frozenset(out)


class Column:
    """One field of every entry's ``EntryInfo``, by position (``column[i]``), read in place:
    an edit does not copy a list per field."""

    __slots__ = ("_get", "_infos", "_items")

    def __init__(self, infos: EntryRecords | list[EntryInfo], name: str) -> None:
        self._infos = infos
        # (the records' own list, read directly where the record is made: a search reads
        # a few fields of each of its candidates)
        self._items: list[Any] = infos._items if isinstance(infos, EntryRecords) else infos
        self._get = operator.attrgetter(name)

    def __getitem__(self, i: int) -> Any:
        x = self._items[i]
        return self._get(self._infos[i] if x.__class__ is int else x)

    def __len__(self) -> int:
        return len(self._infos)


class SetView(Column):
    """A field of word tuples read as frozensets, made when asked for."""

    __slots__ = ()

    def __getitem__(self, i: int) -> frozenset[str]:
        x = self._items[i]
        return frozenset(self._get(self._infos[i] if x.__class__ is int else x))


class SetsView(Column):
    """A field of tuples of word tuples read as tuples of frozensets."""

    __slots__ = ()

    def __getitem__(self, i: int) -> tuple[frozenset[str], ...]:
        x = self._items[i]
        return tuple(frozenset(t) for t in self._get(self._infos[i] if x.__class__ is int else x))


@dataclass(slots=True, eq=False)
class _RecordStore:
    """What the bulk build keeps to make an entry's ``EntryInfo`` when it is first asked for
    (``EntryRecords``): per entry, the numbers of its short texts and a few small ids; per
    distinct short text, its content joined, topics and keyword phrase. The sums over all
    entries (document frequencies, owners, group topics and aspects) are made at the build,
    from the same arrays."""

    short: np.ndarray
    """The short texts' numbers, entry after entry (phrasings, keywords, procedure name)."""
    short_start: np.ndarray
    n_phrasings: np.ndarray
    n_keywords: np.ndarray
    has_procedure: np.ndarray
    keys: list[str]
    aspect_of: np.ndarray
    aspect_sets: list[frozenset[str]]
    answer_of: np.ndarray
    answer_sets: list[frozenset[str]]
    joined: list[str | None]
    """By text number: the content words joined (short texts only) ..."""
    topic_of: np.ndarray
    """... the number of its topics among ``topic_sets`` (-1: none) ..."""
    topic_sets: list[frozenset[str]]
    keyword_phrase: dict[int, tuple[str, ...]]
    """... and, for a keyword, the phrase it is (when it is one)."""
    shared: dict[frozenset[Any], frozenset[Any]] = field(default_factory=dict)

    def texts(self, e: int) -> tuple[str, ...]:
        lo, hi = int(self.short_start[e]), int(self.short_start[e + 1])
        joined = self.joined
        return tuple([joined[k] or "" for k in self.short[lo:hi].tolist()])

    def make(self, e: int) -> EntryInfo:
        """The ``EntryInfo`` ``_entry_info`` gives for entry ``e``."""
        lo, hi = int(self.short_start[e]), int(self.short_start[e + 1])
        ks = self.short[lo:hi].tolist()
        n_phr, n_kw = int(self.n_phrasings[e]), int(self.n_keywords[e])
        joined = self.joined
        texts = tuple([joined[k] or "" for k in ks])
        kwp, shared, sets = self.keyword_phrase, self.shared, self.topic_sets
        none: frozenset[str] = frozenset()
        on = none.union(*[sets[t] for t in self.topic_of[ks].tolist() if t >= 0])
        kw = frozenset([kwp[k] for k in ks[n_phr : n_phr + n_kw] if k in kwp])
        return EntryInfo(
            key=self.keys[e],
            texts=texts,
            n_phrasings=n_phr,
            named_by=len(texts) - 1 if self.has_procedure[e] else 0,
            aspects=self.aspect_sets[int(self.aspect_of[e])],
            answer_aspects=self.answer_sets[int(self.answer_of[e])],
            topics=shared.setdefault(on, on),
            kw_phrases=shared.setdefault(kw, kw),
        )


class EntryRecords:
    """Every entry's ``EntryInfo`` by position, each made when first asked for (a search reads
    those of its few candidates; a bulk build of 20,000 entries made them all, a tenth of its
    time) and kept. Edited like a list, copy-on-write (``copy``): a position holds an
    ``EntryInfo`` or the entry's number in the store of the build that made it."""

    __slots__ = ("_items", "_store")

    def __init__(self, items: list[EntryInfo | int], store: _RecordStore | None = None) -> None:
        self._items = items
        self._store = store

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, i: int) -> EntryInfo: ...

    @overload
    def __getitem__(self, i: slice) -> list[EntryInfo]: ...

    def __getitem__(self, i: int | slice) -> EntryInfo | list[EntryInfo]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self._items)))]
        x = self._items[i]
        if isinstance(x, int):
            assert self._store is not None
            x = self._items[i] = self._store.make(x)
        return x

    def __setitem__(self, i: int, info: EntryInfo) -> None:
        self._items[i] = info

    def __delitem__(self, i: int) -> None:
        del self._items[i]

    def insert(self, i: int, info: EntryInfo) -> None:
        self._items.insert(i, info)

    def __iter__(self) -> Iterator[EntryInfo]:
        for i in range(len(self._items)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EntryRecords | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> tuple[list[EntryInfo | int], _RecordStore | None]:
        return self._items, self._store

    def __setstate__(self, state: tuple[list[EntryInfo | int], _RecordStore | None]) -> None:
        self._items, self._store = state

    def copy(self) -> EntryRecords:
        return EntryRecords(list(self._items), self._store)

    def peek(self, i: int) -> EntryInfo | None:
        """The ``EntryInfo`` at ``i`` if made, else None (nothing is made)."""
        x = self._items[i]
        return None if isinstance(x, int) else x

    def texts(self, i: int) -> tuple[str, ...]:
        """``self[i].texts``, without making the record."""
        x = self._items[i]
        if isinstance(x, int):
            assert self._store is not None
            return self._store.texts(x)
        return x.texts

    def key(self, i: int) -> str:
        """``self[i].key``, without making the record."""
        x = self._items[i]
        if isinstance(x, int):
            assert self._store is not None
            return self._store.keys[x]
        return x.key


class GroupColumn:
    """The topics of every entry's procedure group, by entry position."""

    __slots__ = ("_state",)

    def __init__(self, state: IndexState) -> None:
        self._state = state

    def __getitem__(self, i: int) -> frozenset[str]:
        return self._state.group_topics[self._state.keys[i]]

    def __len__(self) -> int:
        return len(self._state.keys)


@dataclass(frozen=True, slots=True)
class EntryParts:
    """Everything one entry contributes to the index (``entry_parts``)."""

    info: EntryInfo
    feats: tuple[str, ...]
    tfs: tuple[float, ...]
    length: float
    spellings: tuple[tuple[str, int], ...]
    pairs: tuple[tuple[tuple[str, str], int], ...]
    runs: tuple[tuple[tuple[str, ...], int], ...]
    """Runs of 3 to 5 folded words of the short fields: candidate phrases for initialisms."""


def group_key(entry: Entry) -> str:
    """The procedure group key of an entry (its procedure, or the first part of its id)."""
    return fold(entry.procedure) if entry.procedure else entry.id.split("/", 1)[0]


def _fields(entry: Entry) -> list[tuple[str, Sequence[str]]]:
    return [
        ("phrasing", entry.phrasings),
        ("keywords", entry.keywords),
        ("procedure", (entry.procedure,) if entry.procedure else ()),
        ("category", (entry.category,)),
        ("answer", (entry.answer,)),
    ]


@dataclass(slots=True, eq=False)
class _TextParts:
    """What one text contributes, whatever field it is in (memoised per build). The parts only
    some fields need (topics, initialism runs, keyword phrase) are computed when first asked."""

    text: str
    analysis: Analysis
    names: tuple[str, ...]
    """The matching features, then the exact-diacritics ones, in the build's order ..."""
    counts: tuple[float, ...]
    """... and their counts."""
    raw: list[str]
    """The text's words as typed (spellings and spelling pairs)."""
    aspect_weights: tuple[tuple[str, float], ...]
    cue_words: frozenset[str]
    cue_at: frozenset[int]
    """Positions of the cue words in the text's tokens (``aspects.cue_positions``)."""
    _joined: str | None = None
    _topics: frozenset[str] | None = None
    _keyword: bool | None = None
    _ids: array[int] | None = None
    _counts: array[float] | None = None

    @property
    def feats(self) -> tuple[tuple[str, float], ...]:
        """The features with their counts, in order."""
        return tuple(zip(self.names, self.counts, strict=True))

    @property
    def alpha(self) -> list[str]:
        """The text's words as typed that are all letters (spellings), in order."""
        return [w for w in self.raw if w.isalpha()]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Pairs of neighbouring words as typed (spelling pairs), in order."""
        return list(itertools.pairwise(self.raw))

    @property
    def joined(self) -> str:
        """For a short field: its content words joined by spaces (one object per text)."""
        if self._joined is None:
            self._joined = " ".join(self.analysis.content)
        return self._joined

    @property
    def topics(self) -> frozenset[str]:
        if self._topics is None:
            self._topics = topics_of(self.analysis)
        return self._topics

    @property
    def keyword_phrase(self) -> bool:
        """Whether the text, as a keyword, is a phrase that may name its procedure: 2 to 5
        content words of letters, not all of them aspect cue words."""
        if self._keyword is None:
            c = self.analysis.content
            self._keyword = (
                2 <= len(c) <= 5
                and all(x.isalpha() for x in c)
                and len(self.cue_words) < len(set(c))
            )
        return self._keyword

    @property
    def runs(self) -> list[tuple[str, ...]]:
        """Runs of 3 to 5 folded words of letters: candidate phrases for initialisms (shorter
        runs give initialisms under 3 letters: never used)."""
        return list(_runs(self.letters()))

    def letters(self) -> list[str]:
        """The folded words that are all letters."""
        return [x for x in self.analysis.folded if x.isalpha()]

    def coded(self, fid: dict[str, int]) -> tuple[array[int], array[float]]:
        """The features as ids of ``fid`` (new ones added in order) and their counts."""
        if self._ids is None:
            ids = list(map(fid.get, self.names))
            if None in ids:
                for k, f in enumerate(self.names):
                    if ids[k] is None:
                        ids[k] = fid.setdefault(f, len(fid))
            self._ids = array("i", ids)  # type: ignore[arg-type]
            self._counts = array("d", self.counts)
        assert self._counts is not None
        return self._ids, self._counts


def _runs(ws: list[str]) -> Iterator[tuple[str, ...]]:
    """Runs of 3, then 4, then 5 neighbouring words, each left to right."""
    return itertools.chain(
        zip(ws, ws[1:], ws[2:], strict=False),
        zip(ws, ws[1:], ws[2:], ws[3:], strict=False),
        zip(ws, ws[1:], ws[2:], ws[3:], ws[4:], strict=False),
    )


class _Memo:
    """Texts met while reading entries one by one (``parts_of``): a short text repeated among
    them is analysed once (the short texts met last are remembered, at most ``MEMO_SIZE``),
    and equal short-field contents and sets of different entries are one object."""

    def __init__(self) -> None:
        self.texts: dict[str, _TextParts] = {}
        self.sets: dict[frozenset[Any], frozenset[Any]] = {}
        self.strings: dict[str, str] = {}

    def set(self, s: frozenset[T]) -> frozenset[T]:
        """One object for equal small sets (aspects, topics) of different entries."""
        return self.sets.setdefault(s, s)

    def text(self, text: str) -> _TextParts:
        """The parts of one occurrence of a text."""
        texts = self.texts
        hit = texts.get(text)
        if hit is None:
            hit = _text_parts(text)
            if len(text) <= LONG_TEXT:
                if len(texts) >= MEMO_SIZE:
                    texts.clear()
                texts[text] = hit
        return hit


CHUNK = 512
"""Distinct texts cut into words and analysed at a time by the build that reads them one by
one (``_TextFeatures.at_once`` false)."""


def _text_parts(text: str, with_features: bool = True) -> _TextParts:
    """The parts of a text (without its features when the build counts them at once:
    ``_TextFeatures``)."""
    raw = words(text)
    a = analyze_words(raw)
    weights, cue_words, cue_at = _scan(a.tokens, a.folded, a.accented)
    if not with_features:
        return _TextParts(text, a, (), (), raw, weights, cue_words, cue_at)
    feats = features._features(a, cue_at=cue_at if features.SPLIT_CUES else frozenset())
    tone = features._tone_features(a)
    return _TextParts(
        text,
        a,
        (*feats, *tone),
        (*feats.values(), *tone.values()),
        raw,
        weights,
        cue_words,
        cue_at,
    )


def _with_features(tp: _TextParts) -> _TextParts:
    """A text's parts with its features (when the build does not count them at once)."""
    feats = features._features(
        tp.analysis, cue_at=tp.cue_at if features.SPLIT_CUES else frozenset()
    )
    tone = features._tone_features(tp.analysis)
    tp.names = (*feats, *tone)
    tp.counts = (*feats.values(), *tone.values())
    return tp


def _texts(entry: Entry, memo: _Memo) -> list[tuple[str, _TextParts, float]]:
    """Every text of an entry, field by field: (field, its parts, the field's weight)."""
    weights = features.FIELD_WEIGHTS
    return [
        (fname, memo.text(text), weights[fname])
        for fname, texts in _fields(entry)
        for text in texts
    ]


def _runs_of(
    entry: Entry, texts: list[tuple[str, _TextParts, float]]
) -> Iterator[list[tuple[str, ...]]]:
    """Initialism runs of the procedure name, phrasings and keywords, in that order."""
    by_field: dict[str, list[_TextParts]] = defaultdict(list)
    for fname, tp, _ in texts:
        by_field[fname].append(tp)
    for fname in ("procedure", "phrasing", "keywords"):
        for tp in by_field[fname]:
            yield tp.runs


def _entry_info(
    entry: Entry, memo: _Memo, texts: list[tuple[str, _TextParts, float]]
) -> tuple[EntryInfo, float]:
    """What the index keeps of an entry, and its weighted length (BM25)."""
    length = 0.0
    short_texts: list[str] = []
    answered: dict[str, float] = {}
    phr: list[_TextParts] = []
    kws: list[_TextParts] = []
    procs: list[_TextParts] = []
    for fname, tp, w in texts:
        n_content = len(tp.analysis.content)
        if fname == "answer":
            answered = dict(tp.aspect_weights)
        elif fname != "category":
            joined = tp.joined
            short_texts.append(memo.strings.setdefault(joined, joined))
            (phr if fname == "phrasing" else kws if fname == "keywords" else procs).append(tp)
        length += w * n_content
    analysed = [tp.analysis for tp in phr]
    named_by = len(short_texts) - 1 if entry.procedure else 0
    topics: set[str] = set()
    for tp in (*phr, *kws, *procs):
        topics.update(tp.topics)
    kw_phrases = {kp.analysis.content for kp in kws if kp.keyword_phrase}
    scanned = {id(tp.analysis): tp.aspect_weights for tp in phr}
    info = EntryInfo(
        key=group_key(entry),
        texts=tuple(short_texts),
        n_phrasings=len(phr),
        named_by=named_by,
        aspects=memo.set(
            aspect_model.entry_aspects(
                analysed[0], analysed[1:], entry.aspect, lambda a: dict(scanned[id(a)])
            )
        ),
        answer_aspects=memo.set(frozenset(a for a, v in answered.items() if v >= 3.0)),
        topics=memo.set(frozenset(topics)),
        kw_phrases=memo.set(frozenset(kw_phrases)),
    )
    return info, length


def _weights_of_stand_in(a: Analysis) -> dict[str, float]:
    """``aspect_weights`` of a phrasing that ``_entry_records`` stands in for by its weights."""
    return dict(cast("tuple[tuple[str, float], ...]", a))


@dataclass(slots=True)
class _TextColumns:
    """What the bulk build read of its distinct texts, by text number."""

    contents: dict[int, tuple[str, ...]]
    """The content words of the short texts (phrasings, keywords, procedure names) ..."""
    topics: dict[int, frozenset[str]]
    """... their topics (those with some) ..."""
    weights: dict[int, tuple[tuple[str, float], ...]]
    """... the aspect weights of every text (those with some) ..."""
    keyword_phrase: dict[int, tuple[str, ...]]
    """... the keywords that are phrases (``_TextParts.keyword_phrase``) ..."""
    n_content: np.ndarray
    """... and how many content words every text has."""


_FIELD_ORDER = ("phrasing", "keywords", "procedure", "category", "answer")
"""The fields of ``_fields``, in its order."""


@dataclass(slots=True)
class _Records:
    """What ``_entry_records`` gives: the entries' records and the sums over them."""

    infos: EntryRecords
    lengths: np.ndarray
    occurrence: np.ndarray
    """The text number of every text occurrence, entry after entry, field by field ..."""
    weights: np.ndarray
    """... its field's weight ..."""
    per_entry: np.ndarray
    """... and how many texts each entry has."""
    short_df: Counter[str]
    phrase_count: dict[tuple[str, ...], int]
    owners: dict[tuple[str, ...], Counter[str]] | None
    group_topics: dict[str, set[str]]
    """The topics of each group's entries (without its keyword topics) ..."""
    group_aspects: dict[str, set[str]]
    """... and their aspects and answer aspects."""


RECORD_BLOCK = 2048
"""Entries whose (entry, word) pairs are counted at a time by ``_entry_records``."""


def _ramp(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ... size - 1 for each of ``sizes``, one after the other."""
    return np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """The distinct pairs (a[i], b[i]) of non-negative ids, in increasing order."""
    if len(a) == 0:
        return []
    radix = int(b.max()) + 1
    codes = distinct_codes(a.astype(np.int64) * radix + b)
    return list(zip((codes // radix).tolist(), (codes % radix).tolist(), strict=True))


def _entry_records(
    entries: Sequence[Entry],
    flat: Sequence[str],
    number_of: dict[str, int],
    texts: _TextColumns,
    text_words: tuple[np.ndarray, np.ndarray, list[str]],
    found: dict[int, frozenset[tuple[str, ...]]] | None = None,
) -> _Records:
    """The entries' records (``_entry_info`` of each, made when first asked for:
    ``EntryRecords``) and the sums over them the bulk build needs, from the parts of the
    distinct texts (``parts``, by number), every text occurrence (``flat``, entry by entry,
    field by field) and the distinct content words of each short text (``text_words``: the
    start of each text's among the word ids, the ids, the words by id, and how many content
    words each text has, distinct or not): the weighted
    lengths, each occurrence's text number and field weight, how many texts each entry has,
    the document frequencies of short-field words, how many entries have each keyword phrase;
    with ``found`` (the keyword phrases in each short text, by number:
    ``BulkTexts.phrases_in``), how many entries of each group have each phrase in their short
    texts (``owners``); the topics and aspects of each group's entries.

    What depends on one text only is made once per distinct text; the sums over the entries
    are counted with numpy over (entry, text) and (entry, word) pairs; the lengths are summed
    text slot by text slot, so each entry's sum is added in the order ``_entry_info`` adds it
    (the same floats, bit for bit). An entry's own work left here is its group key and its
    aspects (one ``entry_aspects`` per stated aspect and phrasing weights)."""
    n = len(entries)
    occurrence = np.fromiter(map(number_of.__getitem__, flat), np.int64, len(flat))
    # how many texts of each field every entry has, in ``_fields`` order
    shape = np.zeros((n, len(_FIELD_ORDER)), dtype=np.int64)
    shape[:, 0] = np.fromiter((len(e.phrasings) for e in entries), np.int64, n)
    shape[:, 1] = np.fromiter((len(e.keywords) for e in entries), np.int64, n)
    shape[:, 2] = np.fromiter((1 if e.procedure else 0 for e in entries), np.int64, n)
    shape[:, 3:] = 1
    per_entry = shape.sum(axis=1)
    if int(per_entry.sum()) != len(flat):
        raise ValueError("the text occurrences do not follow the entries' fields")
    field_weight = np.asarray([features.FIELD_WEIGHTS[f] for f in _FIELD_ORDER], np.float64)
    field = np.repeat(np.tile(np.arange(len(_FIELD_ORDER)), n), shape.reshape(-1))
    weights = field_weight[field]
    # the weighted length of each entry: ``length += w * n_content`` over its texts in order
    n_content = texts.n_content
    term = weights * n_content[occurrence]
    starts = np.cumsum(per_entry) - per_entry
    slot = np.arange(len(flat), dtype=np.int64) - np.repeat(starts, per_entry)
    owner = np.repeat(np.arange(n, dtype=np.int64), per_entry)
    lengths = np.zeros(n, dtype=np.float64)
    by_slot = stable_argsort(slot)
    bounds = np.searchsorted(slot[by_slot], np.arange(int(per_entry.max(initial=0)) + 1))
    for lo, hi in itertools.pairwise([*bounds.tolist(), len(flat)]):
        at = by_slot[lo:hi]
        lengths[owner[at]] += term[at]
    del term, slot, by_slot, n_content
    # the short texts (phrasings, keywords, procedure name) of every entry, in order
    is_short = field < 3
    short = occurrence[is_short]
    short_entry = owner[is_short]
    n_short = shape[:, :3].sum(axis=1)
    short_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_short, out=short_start[1:])
    kw_occ = field == 1
    kw_text, kw_entry = occurrence[kw_occ], owner[kw_occ]
    answer_of_entry = occurrence[starts + per_entry - 1]
    del is_short, kw_occ, field, owner
    # per distinct text: its content joined (short texts), topics, keyword phrase
    strings: dict[str, str] = {}
    n_texts = len(texts.n_content)
    joined: list[str | None] = [None] * n_texts
    for k in distinct_codes(short).tolist():
        j = " ".join(texts.contents[k])
        joined[k] = strings.setdefault(j, j)
    del strings
    topics = {k: ts for k, ts in texts.topics.items() if ts}
    keyword_phrase = texts.keyword_phrase
    weights_of = texts.weights
    no_weights: tuple[tuple[str, float], ...] = ()
    # answer aspects, per distinct answer text
    answer_sets: list[frozenset[str]] = []
    answer_set_no: dict[frozenset[str], int] = {}
    answer_no_of_text: dict[int, int] = {}
    for k in distinct_codes(answer_of_entry).tolist():
        got = frozenset(a for a, v in dict(weights_of.get(k, no_weights)).items() if v >= 3.0)
        i = answer_set_no.get(got)
        if i is None:
            i = answer_set_no[got] = len(answer_sets)
            answer_sets.append(got)
        answer_no_of_text[k] = i
    answer_of = np.fromiter(
        map(answer_no_of_text.__getitem__, answer_of_entry.tolist()), np.int32, n
    )
    del answer_no_of_text, answer_set_no
    # each entry's group key and aspects
    keys = [group_key(e) for e in entries]
    aspect_sets: list[frozenset[str]] = []
    aspect_set_no: dict[frozenset[str], int] = {}
    aspects_memo: dict[tuple[Any, ...], int] = {}
    aspect_of = np.zeros(n, dtype=np.int32)
    occ = occurrence.tolist()
    for e, (entry, lo, n_phr) in enumerate(
        zip(entries, starts.tolist(), shape[:, 0].tolist(), strict=True)
    ):
        phr = occ[lo : lo + n_phr]
        scanned = tuple([weights_of.get(k, no_weights) for k in phr])
        aspect_key = (entry.aspect, scanned)
        got_no = aspects_memo.get(aspect_key)
        if got_no is None:
            # (each phrasing stands for itself by its weights: ``entry_aspects`` reads a
            # phrasing only through ``weights_of``)
            stand_ins = cast("list[Analysis]", list(scanned))
            got = aspect_model.entry_aspects(
                stand_ins[0], stand_ins[1:], entry.aspect, _weights_of_stand_in
            )
            got_no = aspect_set_no.get(got)
            if got_no is None:
                got_no = aspect_set_no[got] = len(aspect_sets)
                aspect_sets.append(got)
            aspects_memo[aspect_key] = got_no
        aspect_of[e] = got_no
    del occ, aspects_memo, aspect_set_no
    # the groups' topics and aspects, from the distinct (group, set) pairs of their entries
    group_no: dict[str, int] = {}
    gid = np.fromiter((group_no.setdefault(k, len(group_no)) for k in keys), np.int64, n)
    group_names = list(group_no)
    del group_no
    topic_sets: list[frozenset[str]] = []
    topic_set_no: dict[frozenset[str], int] = {}
    tsid = np.full(n_texts, -1, dtype=np.int64)
    for k, ts in topics.items():
        if ts not in topic_set_no:
            topic_set_no[ts] = len(topic_sets)
            topic_sets.append(ts)
        tsid[k] = topic_set_no[ts]
    del topic_set_no
    group_topics: dict[str, set[str]] = defaultdict(set)
    group_aspects: dict[str, set[str]] = defaultdict(set)
    for name in group_names:  # (every group, in order, even without topics)
        group_topics[name] = set()
        group_aspects[name] = set()
    with_topics = tsid[short] >= 0
    for g, t in _distinct_pairs(gid[short_entry[with_topics]], tsid[short[with_topics]]):
        group_topics[group_names[g]] |= topic_sets[t]
    del with_topics
    for g, a in _distinct_pairs(gid, aspect_of.astype(np.int64)):
        group_aspects[group_names[g]] |= aspect_sets[a]
    for g, a in _distinct_pairs(gid, answer_of.astype(np.int64)):
        group_aspects[group_names[g]] |= answer_sets[a]
    # the document frequency of each short-field word: the entries whose short texts have it
    tw_start, tw_ids, tw_names = text_words
    nw = max(len(tw_names), 1)
    df = np.zeros(nw, dtype=np.int64)
    # (a block of entries at a time: an entry's pairs are all in its block, and the
    # temporary arrays stay small)
    for lo in range(0, n, RECORD_BLOCK):
        a, b = int(short_start[lo]), int(short_start[min(lo + RECORD_BLOCK, n)])
        block = short[a:b]
        size = tw_start[block + 1] - tw_start[block]
        at = np.repeat(tw_start[block], size) + _ramp(size)
        entry_word = distinct_codes(np.repeat(short_entry[a:b], size) * nw + tw_ids[at])
        del size, at
        df += np.bincount(entry_word % nw, minlength=nw)
        del entry_word
    short_df: Counter[str] = Counter(
        {
            tw_names[w]: c
            for w, c in zip(np.flatnonzero(df).tolist(), df[df > 0].tolist(), strict=True)
        }
    )
    # how many entries have each keyword phrase (among their keywords)
    phrase_no: dict[tuple[str, ...], int] = {}
    pid = np.fromiter(
        (
            phrase_no.setdefault(keyword_phrase[k], len(phrase_no)) if k in keyword_phrase else -1
            for k in kw_text.tolist()
        ),
        np.int64,
        len(kw_text),
    )
    phrases = list(phrase_no)
    held = pid >= 0
    entry_phrase = _distinct_pairs(kw_entry[held], pid[held])
    phrase_count: dict[tuple[str, ...], int] = {}
    for _, p in entry_phrase:
        phrase_count[phrases[p]] = phrase_count.get(phrases[p], 0) + 1
    del pid, held, entry_phrase
    # the entries of each group with each keyword phrase in their short texts
    owners: dict[tuple[str, ...], Counter[str]] | None = None
    if found is not None:
        owners = defaultdict(Counter)
        holders = sorted(found)
        held_sets = [found[k] for k in holders]
        every = [ph for phs in held_sets for ph in phs]
        found_phrases = list(dict.fromkeys(every))
        found_no = {ph: i for i, ph in enumerate(found_phrases)}
        f_size = np.zeros(n_texts + 1, dtype=np.int64)
        f_size[np.asarray(holders, dtype=np.int64) + 1] = np.fromiter(
            map(len, held_sets), np.int64, len(held_sets)
        )
        f_start = np.cumsum(f_size)
        f_arr = np.fromiter(map(found_no.__getitem__, every), np.int64, len(every))
        del holders, held_sets, every, found_no
        size = f_start[short + 1] - f_start[short]
        at = np.repeat(f_start[short], size) + _ramp(size)
        radix = len(found_phrases) + 1
        entry_phrase_codes = distinct_codes(np.repeat(short_entry, size) * radix + f_arr[at])
        del size, at
        ng = max(len(group_names), 1)
        codes = (entry_phrase_codes % radix) * ng + gid[entry_phrase_codes // radix]
        counted, counts = np.unique(codes, return_counts=True)
        for code, c in zip(counted.tolist(), counts.tolist(), strict=True):
            owners[found_phrases[code // ng]][group_names[code % ng]] = c
    store = _RecordStore(
        short=short.astype(np.int32),
        short_start=short_start,
        n_phrasings=shape[:, 0].astype(np.int32),
        n_keywords=shape[:, 1].astype(np.int32),
        has_procedure=shape[:, 2].astype(bool),
        keys=keys,
        aspect_of=aspect_of,
        aspect_sets=aspect_sets,
        answer_of=answer_of,
        answer_sets=answer_sets,
        joined=joined,
        topic_of=tsid.astype(np.int32),
        topic_sets=topic_sets,
        keyword_phrase=keyword_phrase,
    )
    infos = EntryRecords(list(range(n)), store)
    return _Records(
        infos,
        lengths,
        occurrence,
        weights,
        per_entry,
        short_df,
        phrase_count,
        owners,
        group_topics,
        group_aspects,
    )


def _entry_parts(entry: Entry, memo: _Memo | None = None) -> EntryParts:
    memo = _Memo() if memo is None else memo
    texts = _texts(entry, memo)
    tf: dict[str, float] = {}
    tf_get = tf.get
    spellings: Counter[str] = Counter()
    spelling_pairs: Counter[tuple[str, str]] = Counter()
    for _, tp, w in texts:
        spellings.update(tp.alpha)
        spelling_pairs.update(tp.pairs)
        for feat, c in tp.feats:
            tf[feat] = tf_get(feat, 0.0) + w * c
    runs: Counter[tuple[str, ...]] = Counter()
    for r in _runs_of(entry, texts):
        runs.update(r)
    info, length = _entry_info(entry, memo, texts)
    return EntryParts(
        info,
        tuple(tf),
        tuple(tf.values()),
        length,
        tuple(spellings.items()),
        tuple(spelling_pairs.items()),
        tuple(runs.items()),
    )


@lru_cache(maxsize=64)
def entry_parts(entry: Entry) -> EntryParts:
    """The parts of one entry (a pure function of its content; recent ones are cached, so that
    an edit finds the parts of the entry as it was without analysing it again)."""
    return _entry_parts(entry)


def parts_of(entries: Iterable[Entry]) -> Iterator[EntryParts]:
    """The parts of many entries, one at a time; short texts repeated among them (categories,
    keywords, shared phrasings) are analysed once."""
    memo = _Memo()
    for e in entries:
        yield _entry_parts(e, memo)


# --- the global state ---------------------------------------------------------------------


class _Codes:
    """Term frequencies seen so far -> uint16 codes (shared by every state, append-only)."""

    def __init__(self) -> None:
        self.code: dict[float, int] = {}
        self.values: list[float] = []
        self.table = np.zeros(0, dtype=np.float64)

    def encode(self, tfs: Iterable[float]) -> list[int]:
        out = []
        for v in tfs:
            c = self.code.get(v)
            if c is None:
                c = self.code[v] = len(self.values)
                self.values.append(v)
                if c >= 2**16:
                    raise OverflowError("more than 65,536 distinct term frequencies")
            out.append(c)
        if len(self.values) != len(self.table):
            self.table = np.asarray(self.values, dtype=np.float64)
        return out


CACHE_MIN_DF = 512
"""Postings at least this long have their contributions kept once computed ..."""
CACHE_BYTES = 32 * 2**20
"""... up to this many bytes per index (a state after an edit starts afresh: n and the average
length, hence every contribution, changed)."""
DENSE_SHARE = 0.5
"""Features in at least this share of the entries also have their contributions kept as one
value per entry (zero where absent) ..."""
DENSE_MIN_N = 2000
"""... in an index of at least this many entries: adding a whole row to the scores is several
times as fast as adding at the posting's positions (7x for a posting of 19,000 of 20,000
entries), and gives the same sums (the others get 0.0 added)."""
DENSE_BYTES = 16 * 2**20
"""The rows' budget per index (at 20,000 entries: 34 features, 5.2 MiB)."""


class Postings:
    """Feature -> (entry positions, BM25 contributions), computed for one feature on demand.

    ``get`` returns what the original build precomputed for every feature, by the same
    arithmetic: ``idf * tf * (K1 + 1) / (tf + norm[idx])``.
    """

    __slots__ = ("_state",)

    def __init__(self, state: IndexState) -> None:
        self._state = state

    def get(self, feat: str) -> tuple[np.ndarray, np.ndarray] | None:
        s = self._state
        hit = s.contrib_cache.get(feat)
        if hit is not None and hit[0] is not None:
            return hit[0], hit[1]
        span = s.span(feat)
        if span is None:
            return None
        lo, hi = span
        # Positions are stored as int32 (half the memory) but handed out as intp: numpy
        # indexes with int32 arrays more than twice as slowly.
        idx = s.idx[lo:hi].astype(np.intp)
        if hit is not None:
            return idx, hit[1]
        tf_arr = s.codes.table[s.code[lo:hi]]
        idf = s.idf_of(hi - lo)
        k1 = features.K1
        contrib = idf * tf_arr * (k1 + 1) / (tf_arr + s.norm[idx])
        if s.idx.size * 16 <= CACHE_BYTES:
            # A base whose every posting fits in the budget (the bundled one: 16 bytes a
            # posting, positions and contributions) keeps them all: recomputed, the few
            # features of a question cost a sixth of a search there.
            out = s.contrib_cache[feat] = (idx, contrib)
            s.cache_bytes += idx.nbytes + contrib.nbytes
            return out
        if hi - lo >= CACHE_MIN_DF and s.cache_bytes + contrib.nbytes <= CACHE_BYTES:
            # Common features (in thousands of entries) cost most to compute and come back in
            # most questions: their contributions are kept, within a memory budget, without
            # their positions (a copy of the stored ones, made again in a few microseconds),
            # so the budget holds twice as many (at 20,000 entries, every feature in 512
            # entries or more).
            s.contrib_cache[feat] = (None, contrib)
            s.cache_bytes += contrib.nbytes
        return idx, contrib

    def dense(self, feat: str) -> np.ndarray | None:
        """The contributions of a feature most entries have, one per entry (0.0 where absent),
        else None."""
        s = self._state
        row = s.dense_cache.get(feat)
        if row is not None or s.n < DENSE_MIN_N:
            return row
        span = s.span(feat)
        if span is None or span[1] - span[0] < DENSE_SHARE * s.n:
            return None
        if s.dense_bytes + s.n * 8 > DENSE_BYTES:
            return None
        got = self.get(feat)
        assert got is not None
        row = np.zeros(s.n, dtype=np.float64)
        row[got[0]] = got[1]
        s.dense_cache[feat] = row
        s.dense_bytes += row.nbytes
        return row


class Idf:
    """Feature -> idf, for features some entry has (a read-only mapping)."""

    __slots__ = ("_state",)

    def __init__(self, state: IndexState) -> None:
        self._state = state

    def __contains__(self, feat: object) -> bool:
        return isinstance(feat, str) and self._state.span(feat) is not None

    def __getitem__(self, feat: str) -> float:
        span = self._state.span(feat)
        if span is None:
            raise KeyError(feat)
        return self._state.idf_of(span[1] - span[0])

    def get(self, feat: str, default: float = 0.0) -> float:
        span = self._state.span(feat)
        return default if span is None else self._state.idf_of(span[1] - span[0])


def _spelling_order(general: frozenset[str]) -> Callable[[str], tuple[bool, str]]:
    return lambda w: (w not in general, w)


def _best_phrase(
    phrases: Iterable[tuple[str, ...]], counts: dict[tuple[str, ...], int]
) -> tuple[str, ...] | None:
    """The phrase an initialism stands for: the most used, ties broken by the text."""
    best: tuple[str, ...] | None = None
    for p in phrases:
        c = counts.get(p, 0)
        if c and (best is None or c > counts[best] or (c == counts[best] and p < best)):
            best = p
    return best


def _acronym(phrase: tuple[str, ...]) -> str:
    return "".join(w[0] for w in phrase)


@dataclass(slots=True)
class IndexState:
    """The global part of an index. Treat as immutable: ``edit`` returns a new state."""

    infos: EntryRecords
    # postings (feature-major CSR); ``fid`` and ``codes`` are shared append-only by all states
    fid: dict[str, int]
    codes: _Codes
    indptr: np.ndarray
    idx: np.ndarray
    code: np.ndarray
    lengths: np.ndarray
    norm: np.ndarray = field(init=False)
    vocab: list[str] = field(default_factory=list)
    vocab_set: frozenset[str] = frozenset()
    short_df: Counter[str] = field(default_factory=Counter)
    general: frozenset[str] = frozenset()
    spellings: dict[str, dict[str, int]] = field(default_factory=dict)
    spelling_pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    run_counts: dict[tuple[str, ...], int] = field(default_factory=dict)
    by_acronym: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    acronyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrase_count: dict[tuple[str, ...], int] = field(default_factory=dict)
    owners: dict[tuple[str, ...], dict[str, int]] = field(default_factory=dict)
    keyword_topics: dict[tuple[str, ...], str] = field(default_factory=dict)
    group_topics: dict[str, frozenset[str]] = field(default_factory=dict)
    group_aspects: dict[str, frozenset[str]] = field(default_factory=dict)
    group_members: dict[str, list[int]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    keyword_topics_on: bool = True
    contrib_cache: dict[str, tuple[np.ndarray | None, np.ndarray]] = field(default_factory=dict)
    cache_bytes: int = 0
    dense_cache: dict[str, np.ndarray] = field(default_factory=dict)
    dense_bytes: int = 0
    release: _Release = field(default_factory=lambda: _Release(), compare=False, repr=False)
    """(Last: let go after everything above when the state is.)"""

    def __post_init__(self) -> None:
        self._renorm()

    def for_storage(self) -> IndexState:
        """A copy without what searches computed on the way (the contribution cache)."""
        out = copy.copy(self)
        out.contrib_cache = {}
        out.cache_bytes = 0
        out.dense_cache = {}
        out.dense_bytes = 0
        return out

    # -- lookups ---------------------------------------------------------------------------

    @property
    def n(self) -> int:
        return len(self.infos)

    def span(self, feat: str) -> tuple[int, int] | None:
        """The posting range of a feature some entry has, else None."""
        f = self.fid.get(feat)
        if f is None or f + 1 >= len(self.indptr):
            return None
        lo, hi = int(self.indptr[f]), int(self.indptr[f + 1])
        return (lo, hi) if hi > lo else None

    def group_words(self, members: Sequence[int]) -> Callable[[str], bool]:
        """Whether a folded word occurs in any text of the entries at ``members`` (their
        analysed content, answers included), read from the postings: each content word of an
        entry's texts is one of its features, as itself or, where it is an aspect cue, as
        "^word". A search asks this of a dozen words at most, against one procedure group;
        analysing the group's texts instead cost a millisecond per group at 20,000 entries."""
        at = np.asarray(members, dtype=np.intp)
        mask = np.zeros(self.n, dtype=bool)
        mask[at] = True
        idx = self.idx
        rows = self.dense_cache

        def has(word: str) -> bool:
            for feat in (word, "^" + word):
                row = rows.get(feat)
                if row is not None:
                    # a word most entries hold: its row at the members, not its posting
                    if row[at].any():
                        return True
                    continue
                span = self.span(feat)
                if span is not None and mask[idx[span[0] : span[1]]].any():
                    return True
            return False

        return has

    def idf_of(self, df: int) -> float:
        n = self.n
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _renorm(self) -> None:
        n = len(self.lengths)
        avg = float(self.lengths.mean()) if n else 1.0
        k1, b = features.K1, features.B
        self.norm = k1 * (1 - b + b * self.lengths / max(avg, 1e-9))

    # -- building at once ------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        parts: Iterable[EntryParts],
        general_words: Iterable[str],
        keyword_topics: bool = True,
        general_pairs: Iterable[tuple[str, str]] = (),
    ) -> IndexState:
        """The state of a base at once, reading each entry's parts once (``parts`` may be a
        generator: only the small ``EntryInfo`` of each entry is kept). ``from_entries``
        makes the same state from the entries themselves, faster."""
        fid: dict[str, int] = {}
        codes = _Codes()
        infos: list[EntryInfo] = []
        ids_chunks: list[np.ndarray] = []
        code_chunks: list[np.ndarray] = []
        sizes: list[int] = []
        lengths: list[float] = []
        short_df: Counter[str] = Counter()
        spellings: Counter[str] = Counter()
        pair_counts: Counter[tuple[str, str]] = Counter()
        run_counts: Counter[tuple[str, ...]] = Counter()
        phrase_count: dict[tuple[str, ...], int] = {}
        for p in parts:
            infos.append(p.info)
            ids_chunks.append(
                np.fromiter((fid.setdefault(f, len(fid)) for f in p.feats), np.int32, len(p.feats))
            )
            code_chunks.append(np.asarray(codes.encode(p.tfs), dtype=np.uint16))
            sizes.append(len(p.feats))
            lengths.append(p.length)
            short_df.update(p.info.short_words)
            spellings.update(dict(p.spellings))
            pair_counts.update(dict(p.pairs))
            run_counts.update(dict(p.runs))
            for ph in p.info.kw_phrases:
                phrase_count[ph] = phrase_count.get(ph, 0) + 1
        n = len(infos)
        all_ids = np.concatenate(ids_chunks) if ids_chunks else np.zeros(0, np.int32)
        all_codes = np.concatenate(code_chunks) if code_chunks else np.zeros(0, np.uint16)
        del ids_chunks, code_chunks
        all_idx = np.repeat(np.arange(n, dtype=np.int32), np.asarray(sizes, dtype=np.int64))
        order = _stable_order(all_ids)
        counts = np.bincount(all_ids, minlength=len(fid))
        indptr = np.zeros(len(fid) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls._assemble(
            EntryRecords(list(infos)),
            fid,
            codes,
            indptr,
            all_idx[order],
            all_codes[order],
            lengths,
            short_df,
            frozenset(general_words),
            spellings,
            general_pairs,
            pair_counts,
            run_counts,
            phrase_count,
            keyword_topics,
        )

    @classmethod
    def from_entries(
        cls,
        entries: Iterable[Entry],
        general_words: Iterable[str],
        keyword_topics: bool = True,
        general_pairs: Iterable[tuple[str, str]] = (),
    ) -> IndexState:
        """The state ``build`` makes of the entries' parts, made in bulk: the distinct texts
        are normalised at once (``bulk_normalize.analyze_many``; text by text where the
        features cannot be counted at once), counts are summed over all entries at once, and
        the term frequencies (the sums, per entry, of field weight times count over its
        texts, added in the entry's field order as ``_entry_parts`` adds them) and the
        postings are made with numpy over all entries."""
        # The build makes millions of small objects and frees few: the cyclic garbage
        # collector, run every few hundred allocations, would walk all of them again and again.
        enabled = gc.isenabled()
        gc.disable()
        try:
            with _build_heap():
                state = cls._from_entries(
                    list(entries), general_words, keyword_topics, general_pairs
                )
        finally:
            if enabled:
                gc.enable()
        # (once the build's own objects are gone too)
        _release_freed_memory()
        return state

    @classmethod
    def _from_entries(
        cls,
        entries: list[Entry],
        general_words: Iterable[str],
        keyword_topics: bool,
        general_pairs: Iterable[tuple[str, str]],
    ) -> IndexState:
        # every text occurrence, entry by entry, field by field (``_fields``)
        flat = [t for e in entries for _, texts in _fields(e) for t in texts]
        occurrences = Counter(flat)
        # the texts whose initialism runs count: procedure names, phrasings, keywords
        run_texts = Counter(
            [t for e in entries for t in (e.procedure, *e.phrasings, *e.keywords) if t]
        )
        # every distinct text, numbered in order of first occurrence, read at once
        distinct = list(occurrences)
        fid: dict[str, int] = {}
        text_features = _TextFeatures(fid)
        # the texts whose initialism runs count, and topics are read: procedure names,
        # phrasings, keywords
        run_times = np.fromiter((run_texts[t] for t in distinct), np.int64, len(distinct))
        short_mask = run_times > 0
        if text_features.at_once:
            # every text normalised at once, per distinct word (``bulk_normalize``)
            bulk = BulkTexts.of(analyze_many(distinct))
            n_contents, short_contents = bulk.contents(short_mask)
        else:
            bulk, n_contents, short_contents = cls._texts_one_by_one(distinct, text_features)
        scanned = bulk.scan()
        # the cue words of a text are read as a keyword's (``keyword_phrase``); the topics of
        # the texts of short fields
        number_of = {t: k for k, t in enumerate(distinct)}
        # the keywords that are phrases which may name their procedure
        # (``_TextParts.keyword_phrase``, with the cue words the scan found)
        keyword_phrase: dict[int, tuple[str, ...]] = {}
        for k in sorted({number_of[t] for e in entries for t in e.keywords}):
            c = short_contents[k]
            if (
                2 <= len(c) <= 5
                and all(x.isalpha() for x in c)
                and len(scanned.cues(k)) < len(set(c))
            ):
                keyword_phrase[k] = c
        columns = _TextColumns(
            short_contents,
            bulk.topics(short_mask),
            scanned.weights_of,
            keyword_phrase,
            n_contents,
        )
        del short_contents, keyword_phrase
        # the keyword phrases (keywords of 2 to 5 content words ...) in every short text
        found: dict[int, frozenset[tuple[str, ...]]] | None = None
        if keyword_topics:
            found = bulk.phrases_in(run_times > 0, sorted(set(columns.keyword_phrase.values())))
        if text_features.at_once:
            text_features.load(len(distinct), *bulk.feature_streams(fid))
        tally = _Tally()
        tally.load(
            np.fromiter(occurrences.values(), np.int64, len(distinct)),
            run_times,
            *bulk.tally_streams(run_times),
        )
        # the distinct content words of each short text
        nf = max(len(bulk.folded), 1)
        at = np.flatnonzero(bulk.content & short_mask[bulk.text])
        pairs = distinct_codes(bulk.text[at] * nf + bulk.f[at])
        tw_start = np.zeros(len(distinct) + 1, dtype=np.int64)
        np.cumsum(np.bincount(pairs // nf, minlength=len(distinct)), out=tw_start[1:])
        text_words = (tw_start, pairs % nf, bulk.folded)
        del bulk, scanned, at, pairs, n_contents
        del distinct
        records = _entry_records(entries, flat, number_of, columns, text_words, found)
        del columns, number_of, flat, found, text_words
        # (the texts' columns and the records' temporary arrays are freed: their memory given
        # back before the postings' large arrays are made, not kept resident under them)
        _release_freed_memory()
        infos, lengths, occurrence = records.infos, records.lengths, records.occurrence
        weights, per_entry = records.weights, records.per_entry
        # the features of every text occurrence, read from its text's in the table
        pool_ids, pool_counts, pool_start, pool_size = text_features.table()
        del text_features
        text_of = _numpy(occurrence, np.int64)
        size = pool_size[text_of]
        ends = np.cumsum(size)
        at = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
        at += np.repeat(pool_start[text_of] - (ends - size), size)
        del text_of, ends
        feat = pool_ids[at]
        # field weight times count, per feature of every text of every entry (w * c == c * w)
        value = pool_counts[at] * np.repeat(_numpy(weights, np.float64), size)
        del pool_ids, pool_counts, at
        owner = np.repeat(
            np.repeat(np.arange(len(infos), dtype=np.int32), _numpy(per_entry, np.int64)), size
        )
        # One posting per (feature, entry): the entry's texts that have the feature are
        # neighbours, in field order; their values are added one by one, left to right
        # (``np.bincount`` adds its weights in order, to 0.0: the same floats).
        rows = [feat, owner, value]
        del feat, owner, value
        tf, df, idx = _postings(rows, len(infos), len(fid))
        indptr = np.zeros(len(fid) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        codes = _Codes()
        table, code = _few_values(tf)
        if len(table) > 2**16:
            raise OverflowError("more than 65,536 distinct term frequencies")
        codes.values = table.tolist()
        codes.code = {v: i for i, v in enumerate(codes.values)}
        codes.table = table
        state = cls._assemble(
            infos,
            fid,
            codes,
            indptr,
            idx.astype(np.int32, copy=False),
            code.astype(np.uint16).reshape(-1),
            lengths,
            records.short_df,
            frozenset(general_words),
            tally.spellings(),
            general_pairs,
            tally.pairs,
            tally.runs,
            records.phrase_count,
            keyword_topics,
            records.owners,
            (records.group_topics, records.group_aspects),
        )
        del records
        _release_freed_memory()
        return state

    @staticmethod
    def _texts_one_by_one(
        distinct: list[str], text_features: _TextFeatures
    ) -> tuple[BulkTexts, np.ndarray, dict[int, tuple[str, ...]]]:
        """The distinct texts analysed one by one, and their features counted text by text
        (when the features cannot be counted at once: ``_TextFeatures.at_once``); how many
        content words each has, and the content words of all."""
        bulk = BulkTexts()
        contents: dict[int, tuple[str, ...]] = {}
        for lo in range(0, len(distinct), CHUNK):
            chunk = distinct[lo : lo + CHUNK]
            raws = words_many(chunk)
            analyses = [analyze_words(r) for r in raws]
            bulk.add(analyses, raws)
            for k, (text, a, raw) in enumerate(zip(chunk, analyses, raws, strict=True)):
                contents[lo + k] = a.content
                weights_, cues_, at_ = _scan(a.tokens, a.folded, a.accented)
                tp = _TextParts(text, a, (), (), raw, weights_, cues_, at_)
                text_features.add(_with_features(tp))
            del chunk, raws, analyses
        bulk.finish()
        counts = np.fromiter(map(len, contents.values()), np.int64, len(contents))
        return bulk, counts, contents

    @classmethod
    def _assemble(
        cls,
        infos: EntryRecords,
        fid: dict[str, int],
        codes: _Codes,
        indptr: np.ndarray,
        idx: np.ndarray,
        code: np.ndarray,
        lengths: Sequence[float] | np.ndarray,
        short_df: Counter[str],
        general: frozenset[str],
        spellings: Counter[str],
        general_pairs: Iterable[tuple[str, str]],
        pair_counts: Counter[tuple[str, str]],
        run_counts: Counter[tuple[str, ...]],
        phrase_count: dict[tuple[str, ...], int],
        keyword_topics: bool,
        owners_made: dict[tuple[str, ...], Counter[str]] | None = None,
        group_sets: tuple[dict[str, set[str]], dict[str, set[str]]] | None = None,
    ) -> IndexState:
        """The state from the postings and the sums of the entries' parts (``owners_made``:
        the keyword phrases' owners, and ``group_sets``: the topics and aspects of each
        group's entries, where the bulk build counted them)."""
        # Word pairs of the language resources count once each (``GENERAL_PAIRS`` in search.py);
        # an edit only adds or removes an entry's own pairs, so these stay.
        spelling_pairs: dict[tuple[str, str], int] = dict.fromkeys(general_pairs, 1)
        for pair, c in pair_counts.items():
            spelling_pairs[pair] = spelling_pairs.get(pair, 0) + c
        state = cls(
            infos=infos,
            fid=fid,
            codes=codes,
            indptr=indptr,
            idx=idx,
            code=code,
            lengths=np.asarray(lengths, dtype=np.float64),
            short_df=short_df,
            general=general,
            spelling_pairs=spelling_pairs,
            run_counts=dict(run_counts),
            keyword_topics_on=keyword_topics,
        )
        vocab = {f.lstrip("^") for f in fid if "_" not in f and not f.startswith("~")}
        state.vocab = sorted(vocab)
        state.vocab_set = frozenset(vocab)
        spell: dict[str, Counter[str]] = defaultdict(Counter)
        for w in general:
            spell[fold(w)][w] += 1
        for w, c in spellings.items():
            spell[fold(w)][w] += c
        order_key = _spelling_order(general)
        state.spellings = {f: {w: c[w] for w in sorted(c, key=order_key)} for f, c in spell.items()}
        by_acro: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for r in state.run_counts:
            by_acro[_acronym(r)].add(r)
        state.by_acronym = {a: tuple(s) for a, s in by_acro.items()}
        for acro in state.by_acronym:
            state._set_acronym(acro)
        if keyword_topics:
            state.phrase_count = phrase_count
            owners: dict[tuple[str, ...], Counter[str]] = owners_made or defaultdict(Counter)
            starts = {ph[:2] for ph in phrase_count}
            firsts = {ph[0] for ph in phrase_count}
            # ``_short_runs(info, phrase_count, starts)``, each distinct short text read once
            # (the bulk build counts them with the entry records: ``owners_made``)
            seen: dict[str, Collection[tuple[str, ...]]] = {}
            for info in infos if owners_made is None else ():
                runs: set[tuple[str, ...]] = set()
                for text in info.texts:
                    got = seen.get(text)
                    if got is None:
                        seq = tuple(text.split())
                        got = seen[text] = _phrases_in(seq, phrase_count, starts, firsts)
                    runs.update(got)
                for ph in runs:
                    owners[ph][info.key] += 1
            del seen
            state.owners = {ph: dict(o) for ph, o in owners.items()}
            state.keyword_topics = {
                ph: "kw:" + " ".join(ph) for ph, o in state.owners.items() if len(o) == 1
            }
        state.keys = [infos.key(i) for i in range(len(infos))]
        state._regroup(set(state.keys), base=group_sets)
        return state

    def _set_acronym(self, acro: str) -> None:
        phrases = self.by_acronym.get(acro, ())
        best = _best_phrase(phrases, self.run_counts)
        if best is None or len(acro) < 3 or acro in self.vocab_set:
            self.acronyms.pop(acro, None)
        else:
            self.acronyms[acro] = best

    def _regroup(
        self,
        keys: set[str],
        members: dict[str, list[int]] | None = None,
        base: tuple[dict[str, set[str]], dict[str, set[str]]] | None = None,
    ) -> None:
        """Members of every group (``members`` when they did not change); topics and aspects
        of the groups in ``keys`` (``base``: those of their entries, already counted)."""
        if members is None:
            members = defaultdict(list)
            for i, k in enumerate(self.keys):
                members[k].append(i)
        self.group_members = members
        kw_by_key: dict[str, set[str]] = defaultdict(set)
        shared: dict[frozenset[str], frozenset[str]] = {}
        for ph, topic in self.keyword_topics.items():
            owner = next(iter(self.owners[ph]))
            if owner in keys:
                kw_by_key[owner].add(topic)
        for k in keys:
            mem = members.get(k)
            if not mem:
                self.group_topics.pop(k, None)
                self.group_aspects.pop(k, None)
                continue
            topics: set[str] = set(kw_by_key.get(k, ()))
            asp: set[str] = set()
            if base is not None:
                topics |= base[0][k]
                asp |= base[1][k]
            else:
                for i in mem:
                    info = self.infos[i]
                    topics |= info.topics
                    asp |= info.aspects | info.answer_aspects
            # one object for equal sets of different groups (most groups share a few)
            self.group_topics[k] = shared.setdefault(frozenset(topics), frozenset(topics))
            self.group_aspects[k] = shared.setdefault(frozenset(asp), frozenset(asp))

    # -- one edit --------------------------------------------------------------------------

    def edit(self, position: int, old: EntryParts | None, new: EntryParts | None) -> IndexState:
        """A new state with the entry at ``position`` (``old``) replaced by ``new``; ``old``
        None inserts ``new`` there, ``new`` None deletes ``old``."""
        if old is None and new is None:
            raise ValueError("an edit needs an old or a new entry")
        infos = self.infos.copy()
        keys = list(self.keys)
        indptr, idx, code = self._edit_postings(position, old, new)
        lengths = self.lengths
        if old is not None and new is not None:
            infos[position], keys[position] = new.info, new.info.key
            lengths = lengths.copy()
            lengths[position] = new.length
        elif new is not None:
            infos.insert(position, new.info)
            keys.insert(position, new.info.key)
            lengths = np.insert(lengths, position, new.length)
        else:
            del infos[position], keys[position]
            lengths = np.delete(lengths, position)
        out = IndexState(
            infos=infos,
            fid=self.fid,
            codes=self.codes,
            indptr=indptr,
            idx=idx,
            code=code,
            lengths=lengths,
            vocab=self.vocab,
            vocab_set=self.vocab_set,
            short_df=self.short_df.copy(),
            general=self.general,
            spellings=dict(self.spellings),
            spelling_pairs=dict(self.spelling_pairs),
            run_counts=dict(self.run_counts),
            by_acronym=dict(self.by_acronym),
            acronyms=dict(self.acronyms),
            phrase_count=dict(self.phrase_count),
            owners=dict(self.owners),
            keyword_topics=dict(self.keyword_topics),
            group_topics=dict(self.group_topics),
            group_aspects=dict(self.group_aspects),
            keys=keys,
            keyword_topics_on=self.keyword_topics_on,
        )
        same_groups = old is not None and new is not None and old.info.key == new.info.key
        out._edit_globals(old, new, self.group_members if same_groups else None)
        # The edit's temporary copies of the postings (tens of MiB at 20,000 entries) come
        # from the heap once glibc has raised its mmap threshold, and would stay resident:
        # given back now (about 1 ms).
        _release_freed_memory()
        return out

    def _edit_postings(
        self, position: int, old: EntryParts | None, new: EntryParts | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx, code = self.idx, self.code
        counts = np.diff(self.indptr)
        if old is not None:
            keep = idx != position
            idx, code = idx[keep], code[keep]
            np.subtract.at(counts, [self.fid[f] for f in old.feats], 1)
            if new is None:
                idx = idx - (idx > position).astype(np.int32)
        if new is not None:
            if old is None:
                idx = idx + (idx >= position).astype(np.int32)
            ids = np.asarray([self.fid.setdefault(f, len(self.fid)) for f in new.feats], np.int64)
            codes = np.asarray(self.codes.encode(new.tfs), dtype=np.uint16)
            if len(self.fid) > len(counts):
                counts = np.concatenate([counts, np.zeros(len(self.fid) - len(counts), np.int64)])
            ends = np.concatenate([[0], np.cumsum(counts)])
            order = np.argsort(ids, kind="stable")
            at = ends[ids[order] + 1]
            idx = np.insert(idx, at, np.int32(position))
            code = np.insert(code, at, codes[order])
            np.add.at(counts, ids, 1)
        indptr = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, idx.astype(np.int32, copy=False), code

    def _edit_globals(
        self,
        old: EntryParts | None,
        new: EntryParts | None,
        members: dict[str, list[int]] | None,
    ) -> None:
        old_info = old.info if old is not None else None
        new_info = new.info if new is not None else None
        # vocabulary: words whose features appeared or vanished
        touched = {
            f.lstrip("^")
            for p in (old, new)
            if p is not None
            for f in p.feats
            if "_" not in f and not f.startswith("~")
        }
        vocab = self.vocab
        vocab_changed: set[str] = set()
        for w in touched:
            present = self.span(w) is not None or self.span("^" + w) is not None
            if present != (w in self.vocab_set):
                vocab_changed.add(w)
        if vocab_changed:
            vocab = list(vocab)
            for w in vocab_changed:
                if w in self.vocab_set:
                    vocab.pop(bisect.bisect_left(vocab, w))
                else:
                    bisect.insort(vocab, w)
            self.vocab = vocab
            self.vocab_set = self.vocab_set.symmetric_difference(vocab_changed)
        # document frequencies of short-field words
        if old_info is not None:
            self.short_df.subtract(old_info.short_words)
            for w in old_info.short_words:
                if self.short_df[w] <= 0:
                    del self.short_df[w]
        if new_info is not None:
            self.short_df.update(new_info.short_words)
        # spellings and spelling pairs
        delta: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        for p, sign in ((old, -1), (new, 1)):
            if p is None:
                continue
            for w, c in p.spellings:
                delta[w] += sign * c
            for pair, c in p.pairs:
                pairs[pair] += sign * c
        order_key = _spelling_order(self.general)
        by_fold: dict[str, list[str]] = defaultdict(list)
        for w in delta:
            by_fold[fold(w)].append(w)
        for f, ws in by_fold.items():
            counts = dict(self.spellings.get(f, {}))
            for w in ws:
                c = counts.get(w, 0) + delta[w]
                if c > 0:
                    counts[w] = c
                else:
                    counts.pop(w, None)
            if counts:
                self.spellings[f] = {w: counts[w] for w in sorted(counts, key=order_key)}
            else:
                self.spellings.pop(f, None)
        for pair, c in pairs.items():
            total = self.spelling_pairs.get(pair, 0) + c
            if total > 0:
                self.spelling_pairs[pair] = total
            else:
                self.spelling_pairs.pop(pair, None)
        # initialisms
        runs: Counter[tuple[str, ...]] = Counter()
        for p, sign in ((old, -1), (new, 1)):
            if p is not None:
                for run, c in p.runs:
                    runs[run] += sign * c
        acros = {w for w in vocab_changed if w in self.by_acronym}
        for run, c in runs.items():
            if not c:
                continue
            acro = _acronym(run)
            acros.add(acro)
            total = self.run_counts.get(run, 0) + c
            phrases = self.by_acronym.get(acro, ())
            if total > 0:
                self.run_counts[run] = total
                if run not in phrases:
                    self.by_acronym[acro] = (*phrases, run)
            else:
                self.run_counts.pop(run, None)
                if run in phrases:
                    rest = tuple(p for p in phrases if p != run)
                    if rest:
                        self.by_acronym[acro] = rest
                    else:
                        del self.by_acronym[acro]
        for acro in acros:
            self._set_acronym(acro)
        # keyword topics
        groups = {i.key for i in (old_info, new_info) if i is not None}
        if self.keyword_topics_on:
            groups |= self._edit_keywords(old_info, new_info)
        self._regroup(groups, members)

    def _edit_keywords(self, old: EntryInfo | None, new: EntryInfo | None) -> set[str]:
        """Update keyword phrases and their owners; returns the groups whose topics change."""
        affected: set[tuple[str, ...]] = set()
        if old is not None:
            for run in _short_runs(old) & self.owners.keys():
                o = dict(self.owners[run])
                o[old.key] -= 1
                if o[old.key] <= 0:
                    del o[old.key]
                self.owners[run] = o
                affected.add(run)
            for ph in old.kw_phrases:
                self.phrase_count[ph] -= 1
                affected.add(ph)
                if self.phrase_count[ph] <= 0:
                    del self.phrase_count[ph]
                    self.owners.pop(ph, None)
        if new is not None:
            for ph in new.kw_phrases:
                affected.add(ph)
                if ph not in self.phrase_count:
                    self.phrase_count[ph] = 0
                    self.owners[ph] = self._scan_owners(ph, skip=new)
                self.phrase_count[ph] += 1
            for run in _short_runs(new) & self.owners.keys():
                o = dict(self.owners[run])
                o[new.key] = o.get(new.key, 0) + 1
                self.owners[run] = o
                affected.add(run)
        groups: set[str] = set()
        for ph in affected:
            was = self.keyword_topics.pop(ph, None)
            if was is not None:
                groups.update(self._owner_before(ph))
            held = self.owners.get(ph)
            if held is not None and len(held) == 1:
                self.keyword_topics[ph] = "kw:" + " ".join(ph)
                groups.update(held)
        return groups

    def _owner_before(self, ph: tuple[str, ...]) -> set[str]:
        # the group that held the topic: any group that may lose it is recomputed
        return {k for k, topics in self.group_topics.items() if "kw:" + " ".join(ph) in topics}

    def _scan_owners(self, ph: tuple[str, ...], skip: EntryInfo) -> dict[str, int]:
        """Which groups' entries use a phrase that just became a keyword (all entries read)."""
        owners: Counter[str] = Counter()
        first = ph[0]
        infos = self.infos
        for i in range(len(infos)):
            # (a word of a text is a part of its string: a quick test before the exact one;
            # the records not made yet are not made)
            texts = infos.texts(i)
            if infos.peek(i) is skip or not any(first in t for t in texts):
                continue
            if ph in _short_runs_of(texts):
                owners[infos.key(i)] += 1
        return dict(owners)


def _short_runs(
    info: EntryInfo,
    among: Container[tuple[str, ...]] | None = None,
    starts: Container[tuple[str, ...]] | None = None,
) -> set[tuple[str, ...]]:
    """Runs of 2 to 5 words of an entry's short fields (where keyword phrases are looked for);
    with ``among``, only those in it (``starts``: their first two words, to skip the rest)."""
    return _short_runs_of(info.texts, among, starts)


def _short_runs_of(
    texts: tuple[str, ...],
    among: Container[tuple[str, ...]] | None = None,
    starts: Container[tuple[str, ...]] | None = None,
) -> set[tuple[str, ...]]:
    """``_short_runs`` of the short texts (content words joined by spaces) of an entry."""
    out: set[tuple[str, ...]] = set()
    for seq in (tuple(t.split()) for t in texts):
        for j in range(len(seq) - 1):
            if starts is not None and seq[j : j + 2] not in starts:
                continue
            for m in range(2, min(6, len(seq) - j + 1)):
                run = seq[j : j + m]
                if among is None or run in among:
                    out.add(run)
    return out


def _phrases_in(
    seq: tuple[str, ...],
    among: Container[tuple[str, ...]],
    starts: Container[tuple[str, ...]],
    firsts: Container[str],
) -> tuple[tuple[str, ...], ...]:
    """The runs of 2 to 5 words of one short text that are in ``among`` (``_short_runs`` of
    one text; ``starts`` and ``firsts``: the first two words and first word of each)."""
    out: set[tuple[str, ...]] = set()
    for j in [j for j, w in enumerate(seq[:-1]) if w in firsts]:
        if seq[j : j + 2] not in starts:
            continue
        for m in range(2, min(6, len(seq) - j + 1)):
            run = seq[j : j + m]
            if run in among:
                out.add(run)
    return tuple(out)


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
        return trim
    except (OSError, AttributeError):  # not glibc
        return None


class _Release:
    """Held by one state (and its copies) only, as its last field: when the state is let go
    (an edit replaced it, the base was rebuilt), its postings and tables are freed before
    this, and the memory is given back to the system then. Otherwise the old state's tens
    of MiB stay in glibc's heap: the edit itself gives back what it freed while the old state
    was still in use."""

    __slots__ = ()

    def __del__(self) -> None:
        _release_freed_memory()


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""``mallopt`` parameters (glibc's malloc.h)."""
MMAP_THRESHOLD = 32 << 20
"""Blocks from this size up are mapped on their own (and unmapped when freed); smaller ones
come from the heap. glibc raises its threshold to this (its largest) by itself once a build
has freed a block that large; set from the start of a build, the build's many temporary
arrays of a few MiB reuse the heap's freed memory instead of being mapped, touched page by
page (a page fault each) and unmapped again, one after the other: at 20,000 entries,
175,000 page faults -> 100,000, 0.3-0.4 s of the system's time."""
BUILD_TRIM_THRESHOLD = 256 << 20
"""Freed memory at the top of the heap kept during a build, to be reused (not given back and
touched anew); the build gives it back when done (``_release_freed_memory``) ..."""
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
"""... and the heap keeps at most this much after it (glibc's own rule: twice the mapping
threshold)."""


@lru_cache(maxsize=1)
def _mallopt() -> Callable[[int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        set_option: Callable[[int, int], int] = libc.mallopt
        return set_option
    except (OSError, AttributeError):  # not glibc
        return None


@contextmanager
def _build_heap() -> Iterator[None]:
    """glibc's heap kept for reuse while a build runs (``MMAP_THRESHOLD``,
    ``BUILD_TRIM_THRESHOLD``), then given back."""
    set_option = _mallopt()
    if set_option is not None:
        set_option(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        set_option(M_TRIM_THRESHOLD, BUILD_TRIM_THRESHOLD)
    try:
        yield
    finally:
        if set_option is not None:
            set_option(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def _release_freed_memory() -> None:
    """Give the memory the build used and freed back to the system (glibc keeps the freed
    parts of its heap otherwise, and a worker would stay hundreds of MiB larger)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _ids_of(
    table: dict[str, int], names: Sequence[str], order: list[str] | None = None
) -> list[int]:
    """The ids of ``names`` in ``table``; a name not there yet gets the next id (and is
    appended to ``order``, the names by id, when given)."""
    ids = list(map(table.get, names))
    if None in ids:
        for k, name in enumerate(names):
            if ids[k] is None:
                ids[k] = i = table.setdefault(name, len(table))
                if order is not None and i == len(order):
                    order.append(name)
    return ids  # type: ignore[return-value]


class _TextFeatures:
    """The features of the distinct texts of a build and their counts, by the texts' numbers
    (in the order they are added).

    When a word pair weighs 1 (``features.BIGRAM_WEIGHT``), the features are counted at once
    with numpy, from the feature ids of each text's content words (aspect cue words as
    "^word") and exact-diacritics keys: per text, each word, each pair of neighbouring words
    ("left_right") and each key with the number of its occurrences, as a float, which is
    what ``features._features`` and ``features._tone_features`` count one text at a time
    (the order of a text's features differs, and matters nowhere: a text has each feature
    once). Otherwise they are those functions' figures, text by text."""

    def __init__(self, fid: dict[str, int]) -> None:
        self.fid = fid
        self.at_once = features.BIGRAM_WEIGHT == 1.0
        self.n = 0
        # at once: the content word ids of every text, each text followed by -1, and the
        # exact-diacritics key ids of every text, with the sizes
        self._words: array[int] = array("q")
        self._word_size: array[int] = array("q")
        self._keys: array[int] = array("q")
        self._key_size: array[int] = array("q")
        # text by text: the features and counts, with the sizes
        self._ids: array[int] = array("i")
        self._counts: array[float] = array("d")
        self._size: array[int] = array("q")

    def _fids(self, names: Sequence[str]) -> list[int]:
        return _ids_of(self.fid, names)

    def add(self, tp: _TextParts) -> int:
        """Add a text's features; returns its number."""
        number = self.n
        self.n += 1
        if not self.at_once:
            ids, counts = tp.coded(self.fid)
            self._ids.extend(ids)
            self._counts.extend(counts)
            self._size.append(len(ids))
            return number
        content = (
            features.marked_content(tp.analysis, tp.cue_at)
            if features.SPLIT_CUES
            else tp.analysis.content
        )
        self._words.extend(self._fids(content))
        self._words.append(-1)
        self._word_size.append(len(content) + 1)
        keys = features._tone_keys(tp.analysis)
        self._keys.extend(self._fids(keys))
        self._key_size.append(len(keys))
        return number

    def load(
        self,
        n: int,
        words: np.ndarray,
        word_size: np.ndarray,
        keys: np.ndarray,
        key_size: np.ndarray,
    ) -> None:
        """Take the features of ``n`` texts at once, as ``add`` would have collected them
        (``BulkTexts.feature_streams``)."""
        self.n = n
        # kept as numpy arrays: ``table`` reads either through the buffer protocol
        self._words = words.astype(np.int64)  # type: ignore[assignment]
        self._word_size = word_size.astype(np.int64)  # type: ignore[assignment]
        self._keys = keys.astype(np.int64)  # type: ignore[assignment]
        self._key_size = key_size.astype(np.int64)  # type: ignore[assignment]

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every text's feature ids (int32) and counts (float64), one text after the other,
        and where each text starts and how many it has."""
        if not self.at_once:
            size = _numpy(self._size, np.int64)
            ids = _numpy(self._ids, np.intc).astype(np.int32)
            return ids, _numpy(self._counts, np.float64), np.cumsum(size) - size, size
        n = self.n
        words = _numpy(self._words, np.int64)
        del self._words
        text = np.repeat(np.arange(n, dtype=np.int64), _numpy(self._word_size, np.int64))
        radix = max(len(self.fid), 1)  # every word and key id is below it
        if radix * radix >= 2**62:
            raise OverflowError("too many features to count their pairs at once")
        # pairs of neighbouring words of one text, and the feature id of each distinct pair
        at = np.flatnonzero((words[:-1] >= 0) & (words[1:] >= 0))
        pair_code = words[at] * radix + words[at + 1]
        first, pair_of = _sorted_distinct(pair_code)  # (``np.unique``, faster)
        pairs = pair_code[first]
        del first, pair_code
        names = list(self.fid)  # by id
        pair_ids = np.asarray(
            self._fids(
                [
                    names[left] + "_" + names[right]
                    for left, right in zip(
                        (pairs // radix).tolist(), (pairs % radix).tolist(), strict=True
                    )
                ]
            ),
            dtype=np.int64,
        )
        del names, pairs
        every = max(len(self.fid), 1)  # every feature id is below it
        if n * every >= 2**62:
            raise OverflowError("too many texts and features to count at once")
        # one row per (text, feature), by text: its occurrences counted, words, pairs and
        # keys at once (their features differ: no code of one is a code of another)
        kept = np.flatnonzero(words >= 0)
        n_words, n_pairs = len(kept), len(at)
        key_ids = _numpy(self._keys, np.int64)
        del self._keys
        code = np.empty(n_words + n_pairs + len(key_ids), dtype=np.int64)
        np.multiply(text[kept], every, out=code[:n_words])
        code[:n_words] += words[kept]
        del kept
        np.multiply(text[at], every, out=code[n_words : n_words + n_pairs])
        del at
        code[n_words : n_words + n_pairs] += pair_ids[pair_of.reshape(-1)]
        del pair_of, pair_ids, text, words
        keys_at = code[n_words + n_pairs :]
        keys_at[:] = np.repeat(np.arange(n, dtype=np.int64), _numpy(self._key_size, np.int64))
        keys_at *= every
        keys_at += key_ids
        del keys_at, key_ids
        code, counts = np.unique(code, return_counts=True)
        size = np.bincount(code // every, minlength=n)
        ids = (code % every).astype(np.int32)
        return ids, counts.astype(np.float64), np.cumsum(size) - size, size


class _Tally:
    """Spellings, spelling pairs and initialism runs of the distinct texts of a build, each
    text counted as often as it occurs.

    The words of every text are kept as integer ids in one array (a separator between texts)
    and the words, pairs and runs are counted with numpy once all texts are in: only the
    distinct ones become Python objects (3 million words and as many pairs at 20,000
    entries, 60,000 distinct pairs and runs)."""

    SEPARATOR = -1

    def __init__(self) -> None:
        self._id: dict[str, int] = {}
        self._names: list[str] = []
        # words as typed (spellings, pairs) and folded words of letters (runs), each text
        # followed by a separator, with how often each text counts and its length
        self._raw: array[int] = array("i")
        self._raw_times: array[int] = array("q")
        self._raw_sizes: array[int] = array("q")
        self._letters: array[int] = array("i")
        self._letter_times: array[int] = array("q")
        self._letter_sizes: array[int] = array("q")
        self.words: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        self.runs: Counter[tuple[str, ...]] = Counter()

    def _ids(self, ws: list[str]) -> list[int]:
        return _ids_of(self._id, ws, self._names)

    def add(self, tp: _TextParts, times: int, run_times: int) -> None:
        """Count a text occurring ``times`` times, ``run_times`` of them in a field whose
        initialism runs count."""
        if times:
            self._raw.extend(self._ids(tp.raw))
            self._raw.append(self.SEPARATOR)
            self._raw_times.append(times)
            self._raw_sizes.append(len(tp.raw) + 1)
        if run_times:
            letters = tp.letters()
            self._letters.extend(self._ids(letters))
            self._letters.append(self.SEPARATOR)
            self._letter_times.append(run_times)
            self._letter_sizes.append(len(letters) + 1)

    def load(
        self,
        times: np.ndarray,
        run_times: np.ndarray,
        names: list[str],
        raw: np.ndarray,
        raw_sizes: np.ndarray,
        letters: np.ndarray,
        letter_sizes: np.ndarray,
        letter_texts: np.ndarray,
    ) -> None:
        """Take every distinct text at once, as ``add`` would have collected them in order
        (``BulkTexts.tally_streams``): each occurs ``times`` times, ``run_times`` of them in a
        field whose initialism runs count (``letter_texts``: the texts with some)."""
        self._names = names
        self._id = {w: k for k, w in enumerate(names)}
        # kept as numpy arrays: ``spellings`` reads either through the buffer protocol
        self._raw = raw.astype(np.intc)  # type: ignore[assignment]
        self._raw_times = times.astype(np.int64)  # type: ignore[assignment]
        self._raw_sizes = raw_sizes.astype(np.int64)  # type: ignore[assignment]
        self._letters = letters.astype(np.intc)  # type: ignore[assignment]
        self._letter_times = run_times[letter_texts].astype(np.int64)
        self._letter_sizes = letter_sizes.astype(np.int64)  # type: ignore[assignment]

    def spellings(self) -> Counter[str]:
        """The words of letters (spellings) with their counts; also makes ``words``,
        ``pairs`` and ``runs`` (call after the last ``add``)."""
        names = self._names
        ids, times = self._positions(self._raw, self._raw_times, self._raw_sizes)
        rows, counts = _window_counts(ids, times, 1, len(names))
        self.words = Counter(
            {
                names[w]: c
                for w, c in zip(rows[:, 0].tolist(), counts.tolist(), strict=True)
                if names[w].isalpha()
            }
        )
        rows, counts = _window_counts(ids, times, 2, len(names))
        self.pairs = Counter(
            {
                (names[a], names[b]): c
                for (a, b), c in zip(rows.tolist(), counts.tolist(), strict=True)
            }
        )
        del ids, times, rows, counts
        ids, times = self._positions(self._letters, self._letter_times, self._letter_sizes)
        runs: Counter[tuple[str, ...]] = Counter()
        for n in (3, 4, 5):
            rows, counts = _window_counts(ids, times, n, len(names))
            for run, c in zip(rows.tolist(), counts.tolist(), strict=True):
                runs[tuple([names[w] for w in run])] = c
        self.runs = runs
        return self.words

    @staticmethod
    def _positions(
        ids: array[int], times: array[int], sizes: array[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ids as a numpy array (of C ints: ``_window_counts`` widens a part at a time),
        and how often each position counts (as floats, exact below 2**53)."""
        arr = np.frombuffer(ids, dtype=np.intc) if len(ids) else np.zeros(0, np.intc)
        per = np.repeat(_numpy(times, np.int64).astype(np.float64), _numpy(sizes, np.int64))
        return arr, per


def _windows(
    ids: np.ndarray, times: np.ndarray, n: int, vocabulary: int
) -> Iterator[tuple[tuple[int, ...], int]]:
    """The distinct runs of ``n`` neighbouring ids within one text (no separator in them),
    each with the sum of its occurrences' counts, in increasing order."""
    rows, counts = _window_counts(ids, times, n, vocabulary)
    for row, c in zip(rows.tolist(), counts.tolist(), strict=True):
        yield tuple(row), c


DENSE_RUNS = 1 << 23
"""Runs of ids with fewer possible codes than this are counted in a table of them all (8
bytes each) instead of by sorting ..."""
RUN_BLOCK = 1 << 20
"""... that many positions at a time."""


def _window_counts(
    ids: np.ndarray, times: np.ndarray, n: int, vocabulary: int
) -> tuple[np.ndarray, np.ndarray]:
    """``_windows`` as arrays: the distinct runs as rows, and their counts (as ints)."""
    none = np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=np.int64)
    m = len(ids) - n + 1
    if m <= 0:
        return none
    if vocabulary**n <= DENSE_RUNS:
        # one integer per run (mixed radix, in the order of the runs' words), counted in a
        # table of them all, a block of positions at a time (small temporary arrays)
        totals = np.zeros(vocabulary**n, dtype=np.float64)
        for lo in range(0, m, RUN_BLOCK):
            size = min(RUN_BLOCK, m - lo)
            part = ids[lo : lo + size + n - 1].astype(np.int64)
            keep = part[:size] >= 0
            for j in range(1, n):
                keep &= part[j : j + size] >= 0
            at = np.flatnonzero(keep)
            code = part[at]
            for j in range(1, n):
                code *= vocabulary
                code += part[at + j]
            np.add.at(totals, code, times[lo : lo + size][at])
        distinct = np.flatnonzero(totals)
        rows = np.empty((len(distinct), n), dtype=np.int64)
        rest = distinct.copy()
        for j in range(n - 1, -1, -1):
            rows[:, j] = rest % vocabulary
            rest //= vocabulary
        return rows, totals[distinct].astype(np.int64)
    ids = ids.astype(np.int64, copy=False)
    keep = ids[:m] >= 0
    for j in range(1, n):
        keep &= ids[j : j + m] >= 0
    at = np.flatnonzero(keep)
    del keep
    if not len(at):
        return none
    # sorted far faster than rows; where it would not fit, the rank of its first words' code
    # among theirs takes their place (the same order)
    head = n
    while head > 1 and vocabulary**head >= 2**62:
        head -= 1
    code = ids[at]
    for j in range(1, head):
        code = code * vocabulary + ids[at + j]
    if head < n:
        code = _sorted_distinct(code)[1]
    if head < n and len(at) * vocabulary ** (n - head) >= 2**62:
        rows = np.stack([ids[at + j] for j in range(n)], axis=1)
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    else:
        for j in range(head, n):
            code = code * vocabulary + ids[at + j]
        first, inverse = _sorted_distinct(code)
    del code
    counts = np.bincount(inverse.reshape(-1), weights=times[at].astype(np.float64, copy=False))
    start = at[first]
    return np.stack([ids[start + j] for j in range(n)], axis=1), counts.astype(np.int64)


def _sorted_distinct(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct code, in increasing order, a position holding it; and each code's
    rank among them (``np.unique``'s ``return_index`` up to which of the equal codes, and
    ``return_inverse``), by one unstable sort."""
    order = stable_argsort(code, fallback="quicksort")
    ordered = code[order]
    new = np.ones(len(code), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(code), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def _few_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for many positive finite floats of a few
    distinct values (term frequencies: millions of postings, a few hundred values), without
    sorting them: each value's bits are hashed into one of 2**16 slots; if no two distinct
    values share a slot, the slots give the table and every value's place in it. Otherwise,
    and for other values, by ``np.unique``."""
    if len(values) == 0 or not (np.isfinite(values).all() and (values > 0).all()):
        table, code = np.unique(values, return_inverse=True)
        return table, code.reshape(-1)
    bits = values.view(np.uint64)
    slot = ((bits * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(48)).astype(np.intp)
    held = np.zeros(2**16, dtype=np.float64)
    held[slot] = values
    if not np.array_equal(held[slot], values):  # two values in one slot
        table, code = np.unique(values, return_inverse=True)
        return table, code.reshape(-1)
    used = np.flatnonzero(held)
    table = np.sort(held[used])
    place = np.zeros(2**16, dtype=np.intp)
    place[used] = np.searchsorted(table, held[used])
    return table, place[slot]


def _numpy(a: array[Any] | np.ndarray, dtype: type[np.generic]) -> np.ndarray:
    """An ``array.array`` as a numpy array (a copy); a numpy array of that type as it is."""
    if isinstance(a, np.ndarray):
        return a.astype(dtype, copy=False)
    return np.frombuffer(a, dtype=dtype).copy() if len(a) else np.zeros(0, dtype=dtype)


def _postings(
    rows: list[np.ndarray], n_entries: int, n_features: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings of rows of (feature, entry, value) (``rows``: the three arrays, emptied
    so that each is freed once read), the entries in increasing order and each entry's rows
    in field order: per (feature, entry), by feature then entry, the sum of its rows' values
    in row order; how many entries each feature has; the entry of each.

    Rows in order of (feature, row) are rows in order of (feature, entry, row): where the three
    fit in 63 bits, by one plain sort of packed integers (numpy sorts 64-bit integers with
    SIMD instructions), else by a stable sort of the features."""
    feat, owner, value = rows
    rows.clear()
    n = len(feat)
    row_bits = max(n - 1, 0).bit_length()
    owner_bits = max(n_entries - 1, 0).bit_length()
    if max(n_features - 1, 0).bit_length() + owner_bits + row_bits <= 63:
        key = feat.astype(np.int64)
        del feat
        key <<= owner_bits
        key |= owner
        del owner
        key <<= row_bits
        for lo in range(0, n, _BLOCK):  # (no temporary array as long as the rows)
            key[lo : lo + _BLOCK] |= np.arange(lo, min(lo + _BLOCK, n), dtype=np.int64)
        key.sort()
        ordered = np.empty(n, dtype=np.float64)
        for lo in range(0, n, _BLOCK):
            ordered[lo : lo + _BLOCK] = value[key[lo : lo + _BLOCK] & ((1 << row_bits) - 1)]
        del value
        value = ordered
        key >>= row_bits  # (feature, entry)
        first = np.ones(n, dtype=bool)
        np.not_equal(key[1:], key[:-1], out=first[1:])
        pair = key[first]
        del key
        feat_of = pair >> owner_bits
        entry_of = pair & ((1 << owner_bits) - 1)
        del pair
    else:
        order = _stable_order(feat)
        feat, owner, value = feat[order], owner[order], value[order]
        del order
        first = np.ones(n, dtype=bool)
        first[1:] = (feat[1:] != feat[:-1]) | (owner[1:] != owner[:-1])
        feat_of, entry_of = feat[first], owner[first]
        del feat, owner
    posting = np.cumsum(first, dtype=np.int64)
    del first
    posting -= 1
    tf = np.bincount(posting, weights=value, minlength=len(feat_of))
    del posting, value
    df = np.bincount(feat_of, minlength=n_features)
    return tf, df, entry_of


_BLOCK = 1 << 20
"""Rows read at a time by ``_postings``."""


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative int32 keys, as two radix sorts of
    16-bit halves (numpy sorts 16-bit keys by radix, wider ones by a slower merge sort)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.intp)
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = keys >> 16
    if not high.any():
        return low
    return low[np.argsort(high[low].astype(np.uint16), kind="stable")]


@dataclass(frozen=True, slots=True)
class EditPlan:
    """How to turn one ordered list of entries into another by single-entry edits."""

    removed: tuple[str, ...]
    changed: tuple[Entry, ...]
    added: tuple[tuple[int, Entry], ...]
    """(position in the new list, entry), by increasing position."""


def edit_plan(old: Sequence[Entry], new: Sequence[Entry], max_edits: int) -> EditPlan | None:
    """The edits from ``old`` to ``new``, or None when a build at once is the better way: more
    than ``max_edits`` edits, repeated ids, or entries kept in another order."""
    old_ids = [e.id for e in old]
    new_ids = [e.id for e in new]
    old_set, new_set = set(old_ids), set(new_ids)
    if len(old_set) != len(old_ids) or len(new_set) != len(new_ids):
        return None
    removed = tuple(i for i in old_ids if i not in new_set)
    added = tuple((pos, e) for pos, e in enumerate(new) if e.id not in old_set)
    if len(removed) + len(added) > max_edits:
        return None
    if [i for i in old_ids if i in new_set] != [i for i in new_ids if i in old_set]:
        return None
    before = {e.id: e for e in old}
    changed = tuple(e for e in new if e.id in before and before[e.id] != e)
    if len(removed) + len(added) + len(changed) > max_edits:
        return None
    return EditPlan(removed, changed, added)
