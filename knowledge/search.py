"""The FAQ index: build it from entries, search it with a citizen's question, decide what to do.

Ranking is BM25F over folded Vietnamese syllables and syllable pairs, weighted by field (the
question and its other phrasings count most, the answer least), plus a small bonus for tokens
whose diacritics match exactly, a rapidfuzz similarity to the closest phrasing and an "aspect"
bonus (the query asks where / how long / how much ... and the entry answers that) for the best
candidates. Unknown query words are corrected against the index vocabulary first, which mends
Telex slips and missing letters.

The decision (answer, suggest, fall back) is taken by two small logistic models over features of
the best candidate that are normalised so that they mean the same thing in a base of 50 or of
10,000 entries: the score relative to the best score the query could reach, the margin over the
runner-up, and how well the query's *distinctive* words (not aspect words, weighted by their
rarity among entry questions) and the entry's topic explain each other. The last ones are what
tell "đăng ký kết hôn cần giấy tờ gì" (another procedure, same aspect words) from an in-scope
question. The coefficients are fitted by ``bench/retrieval.py fit`` on the development set with
procedures held out, and stored here as constants. Two scale-free features of the procedure,
"proc_margin" (how far the best entry leads the best entry of any other procedure, relative to
its score) and "agree" (the procedure judged without the aspect is the best entry's), carry zero
weight in those models; they drive the procedure × aspect answer: when the procedure is clear
and the aspect asked is answered by exactly one of its entries, that entry is the answer even
if a sibling entry scores close to it (``bench/crossbase.py`` shows why the models themselves
are not refitted).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from knowledge import aspects as aspect_model
from knowledge import index_state, synonyms
from knowledge.entry import Entry
from knowledge.features import (
    K1,
    SPLIT_CUES,
    _features,
    _tone_features,
)
from knowledge.index_state import (
    Column,
    GroupColumn,
    Idf,
    IndexState,
    Postings,
    SetsView,
    SetView,
    edit_plan,
    entry_parts,
    group_key,
)
from knowledge.lexicon import ABBREVIATIONS, ASPECT_CUES, FILLERS, GENERIC, PHRASES
from knowledge.normalize import (
    Analysis,
    analyze,
    fold,
    has_marks,
    phrase_spans,
    tone_key,
    words,
)
from knowledge.syllables import is_folded_syllable, nearest_filler, real_words
from knowledge.topics import topics_of

GENERAL_WORDS: tuple[str, ...] = tuple(
    sorted(
        {
            w
            for text in (*ABBREVIATIONS, *FILLERS, *(c for v in ASPECT_CUES.values() for c in v))
            for w in text.split()
            if has_marks(w) or "đ" in w
        }
    )
)
"""Accented words of the language resources: restoration candidates a base may not use."""

GENERAL_PAIRS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            pair
            for text in (
                *ABBREVIATIONS.values(),
                *PHRASES.values(),
                *(c for v in ASPECT_CUES.values() for c in v),
            )
            for pair in itertools.pairwise(words(text))
        }
    )
)
"""Accented word pairs of the language resources ("ở đâu", "bao lâu", "đối tượng"): they tell
restoration which spelling goes with a neighbour even when the base never uses the pair."""

TONE_WEIGHT = 0.25
FUZZ_WEIGHT = 0.25
ASPECT_WEIGHT = 0.4
CONFLICT = 0.5
RESTORE = True
GROUP_FIRST = True
CUE_WEIGHT = 0.5
TOPIC_WEIGHT = 0.3
MISMATCH_WEIGHT = 0.5
RERANK_DEPTH = 30
PLAIN_CUES = True
"""The aspect asked is read from the question as typed, not as restored: a word typed without
marks matches a cue by its folded form, while the restored one may carry the wrong marks ("co
phai dong tien khong" restores to "đồng tiền", money, and no longer asks the fee "đóng tiền")."""
MEND_SLIPS = True
"""The aspect a question asks is read with its slips on politeness words and particles mended
(``syllables.mend_slips``: "hs gồm nhữg gì" asks the documents as "gồm những gì" does), and
cue words typed run together read apart (``aspects.mend_joins``: "lêphí nhiêu hen")."""
FULL_NAME = True
"""A question that holds every word of a procedure's name ("còn cấp lại giấy phép bán lẻ sản
phẩm thuốc lá thì sao") names that procedure, the longest such name first: it leads the
ranking as a procedure the question names does (``GROUP_FIRST``), although a neighbour's name
("Cấp giấy phép bán lẻ sản phẩm thuốc lá") is in the question too and the words that tell
them apart ("cấp lại") are common ones."""
# The procedure × aspect answer (``Index.search``): a question the models would only suggest for
# is answered when its procedure is clear and the aspect asked singles out one entry of it.
# "Clear": the best entry leads every other procedure's best by half its own score, the
# procedure judged without the aspect is the same, and either 40% of the question's
# distinctive words are explained by the entry or the in-scope model gives 0.6. The three
# numbers were set on the development set (where they separate the 9 questions this rule
# newly answers right from the 1 it would answer wrong) and kept for the other sets.
UNIQUE_ASPECT_ANSWER = True
# A multi-word keyword that one procedure alone uses names it (see ``Index.__init__``). It feeds
# the decision features; in the ranking too with KEYWORD_RANKING, which measured better on the
# second and third sets but let "mới sinh" (a keyword of one bundled procedure) pull a
# newborn's documents question away from birth registration in the 280-entry bundled base.
KEYWORD_TOPICS = True
KEYWORD_NAMES = 1.0
"""A keyword phrase of the base that only one procedure's entries use ("tiền già", "sao y",
"work permit") names that procedure as its own name does: the ``procedure`` feature of a
question holding it is at least this. Measured leave-one-base-out (``bench/retrieval.py lobo``):
hit@3 0.896 -> 0.919 on bench/eval3, where citizens' words for a procedure are its keywords."""
KEYWORD_RANKING = False
MARKED_KEEP = 0.5
"""Share of a message's words typed with marks from which its words typed without marks are
kept as typed: "cần mang theo gì" means "mang", not the "mạng" of a base full of "qua mạng"."""
LAST_ASKED = True
SYNONYM_WEIGHT = 0.2
"""Weight of the other members of each synonym group a question holds
(``knowledge/synonyms.py``; phrases by their word pairs), matched without raising the
question's ceiling. Measured with the groups of ``knowledge/lang/synonyms.yaml`` (written
without reading any evaluation set): leave-one-base-out top1 0.922 -> 0.926, hit@3 0.941 ->
0.945, answer@1 0.795 -> 0.801, wrong 0.029 -> 0.027; held-out eval6 and eval7 answer@1 0.694
-> 0.700, the rest unchanged; conversations: follow-ups answered as the spelled-out question
0.984 -> 0.985, overall 0.982 -> 0.983. Lending a phrase's single words too ("vợ" for "lấy
vợ") scored the same and pulled "kết hôn ... hồ sơ" onto marriage with a foreigner."""
SYNONYM_COVER = 0.5
"""A question word that the best entry holds only through a synonym counts this much toward
the share of the question the entry explains (a word reached by spelling correction: 0.5)."""
STORY_WEIGHT = 0.1
"""In a long message (``LONG_QUESTION`` content words, two sentences or more), the weight of
the words that only the story before the last sentence holds: "Vợ chồng tôi đăng ký kết hôn năm
ngoái ... Cho tôi hỏi làm giấy khai sinh cho bé cần gì?" asks about the birth, not the marriage.
Measured on every set: held-out long questions top1 0.742 -> 0.871, answer@1 0.387 -> 0.452;
leave-one-base-out answer@1 0.791 -> 0.795; no kind worse. 0.1 rather than 0.3 since "lại" is a
content word: a story of a card lost and made again ("mất thẻ căn cước, đã làm lại") otherwise
pulls "làm hộ chiếu thì nộp ở đâu" onto the lost-passport entry; held-out and leave-one-base-out
figures unchanged within 0.001."""
LONG_QUESTION = 12
"""Content words from which a message counts as long (a story, then the question)."""
_SENTENCE = re.compile(
    r"[.?!;\n]+|\b(?:cho (?:tôi|em|mình|tui|con|cháu) hỏi|xin hỏi|cho hỏi)\b", re.I
)
OFF_DOMAIN = "off-"
"""Prefix of the lexicon's everyday subjects outside public services
(``knowledge/lang/topics.yaml``): a question naming one, and nothing of the best candidate's
procedure, falls back ("giá vàng hôm nay bao nhiêu một chỉ" is not a question on fees)."""
# ``Index.updated`` edits the index entry by entry up to this many changed entries, and builds
# it at once beyond (each edit costs a few passes over the postings).
MAX_EDITS = 50
UNIQUE_PROC_MARGIN = 0.5
UNIQUE_COVERAGE = 0.4
UNIQUE_IN_SCOPE = 0.6
GROUP_SUPPORT = 0.5
"""Weight of a procedure's second-best candidate, added to each of its candidates' scores: a
question that several entries of one procedure match ("cong vênh mờ chữ, đi đổi lại" against
the entries on changing an ID card) is more surely about it than one a single entry of another
procedure matches on a few shared words. Measured with the decision models refitted on the five
fitted sets (``bench/retrieval.py fit``): held-out (eval6-11) top1 0.809 -> 0.819, hit@3 0.882
-> 0.869, answer@1 0.640 -> 0.657, wrong 0.058 -> 0.064, out-of-scope fallback 0.725 -> 0.781
(the refit alone, without it: 0.809 / 0.860 / 0.638 / 0.061 / 0.784); leave-one-base-out 0.927
/ 0.946 / 0.805 / 0.028 / 0.898 -> 0.928 / 0.946 / 0.810 / 0.028 / 0.898. 0.3 gained less."""
PROCEDURE_EVIDENCE = 0.3
"""Weight of the procedure's own evidence in an entry's total: every procedure group is scored
as a whole (``Index._procedure_scores``: for each question word, its best entry in the group,
weighed by how few groups hold it), relative to the best group. A question whose words are
spread over a procedure's entries ("làm tài khoản VNeID có phải trả phí gì không": the name in
one entry, the fee in another) is placed in that procedure, not with an entry of another that
shares more of its generic words. Measured with the shipped decision models (refitting them
with it bought nothing held out): held-out eval6-11 0.825 / 0.871 / 0.661 / 0.060 / 0.784 ->
0.832 / 0.876 / 0.673 / 0.059 / 0.787; leave-one-base-out 0.929 / 0.943 / 0.810 / 0.029 /
0.902 -> 0.929 / 0.943 / 0.801 / 0.031 / 0.898 (the development set's answer@1 -0.03, the
others within 0.01); 0.2 and 0.4 alike. The out-of-scope check's combined index leaves it out
(``knowledge/selfcal.py``): there it cost held-out out-of-scope fallback 0.03."""

# Spelling correction mends only non-words: a content word typed as a real Vietnamese syllable
# (``knowledge/syllables.py``) is kept even when the base does not contain it.
REAL_WORDS_KEPT = True
# Diacritic restoration (``Index.restore``) also knows the word pairs of the language resources
# ("ở đâu", "cách tính", "đối tượng"), and a spelling that forms a known pair with a neighbour
# counts PAIR_FACTOR times its plain frequency: "o dau" is "ở đâu" even in a base that writes
# "lần đầu" ten times and "ở đâu" never. (3 before: pairs of one base were outvoted by counts.)
GENERAL_PAIRS_USED = True
PAIR_FACTOR = 10.0

# Features of the best candidate used by the decision models, in this order.
FEATURES = (
    "score",
    "fuzz",
    "margin",
    "coverage",
    "topic",
    "procedure",
    "unknown",
    "aspect",
    "pairs",
    "foreign",
    "topic_hit",
    "topic_miss",
    "proc_margin",
    "agree",
    "group_cover",
    "foreign_ratio",
)


class Decision(StrEnum):
    """What the assistant does with a question."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"


MODELS_FILE = Path(__file__).with_name("decision_models.json")
"""The shipped decision models: ``plain`` for an index without the out-of-scope check (these are
``Thresholds()``), ``checked`` for one with it (``knowledge/selfcal.py`` CHECKED). Written by
``bench/retrieval.py fit --write`` (see the file's ``about``)."""
_SHIPPED: dict[str, Any] = json.loads(MODELS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision models and their probability thresholds.

    ``in_scope`` is a logistic model (bias first, then one weight per name in ``FEATURES``) of
    "the question is answerable from this base"; below ``suggest`` the assistant falls back.
    ``correct`` models "the best candidate is the right entry" over ``quadratic`` of the same
    features (bias first); at or above ``answer`` (and not fallen back) the assistant answers
    directly, otherwise it suggests the candidates. The defaults are the shipped ``plain``
    models (``MODELS_FILE``).
    """

    in_scope: tuple[float, ...] = tuple(_SHIPPED["plain"]["in_scope"])
    suggest: float = float(_SHIPPED["plain"]["suggest"])
    correct: tuple[float, ...] = tuple(_SHIPPED["plain"]["correct"])
    answer: float = float(_SHIPPED["plain"]["answer"])
    # A direct answer also needs the best candidate to stand clear of the runner-up: two
    # entries of one procedure that score alike are offered as suggestions instead.
    answer_margin: float = 0.08


def shipped_models(name: str) -> Thresholds:
    """The shipped models called ``name`` in ``MODELS_FILE`` ("plain" or "checked")."""
    m = _SHIPPED[name]
    return Thresholds(
        in_scope=tuple(m["in_scope"]),
        suggest=float(m["suggest"]),
        correct=tuple(m["correct"]),
        answer=float(m["answer"]),
    )


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked candidate."""

    entry: Entry
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The ranked candidates, best first, and the decision taken on them.

    ``aspect`` is what the question asks about ("" when unclear). ``missing_aspect`` is set when
    the question clearly names the best candidate's procedure (``procedure``, its group key)
    but asks an aspect that none of that procedure's entries answers: the decision is then a
    fall-back, and the assistant says so and offers the procedure's entries.
    """

    query: str
    decision: Decision
    matches: tuple[Match, ...]
    aspect: str = ""
    missing_aspect: bool = False
    procedure: str = ""
    named: bool = False
    """Whether the question names a procedure or topic itself (else it may be a follow-up)."""

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


# Aspects that say little about what an entry answers ("how to get a passport for a child"
# answers documents, place and time for that case): never counted as conflicting.
_VAGUE = frozenset({"how", "other"})
# Aspects close enough that an entry on one partly answers the other: a question is said to
# ask an aspect "the base does not hold" only when no entry of the procedure answers any
# aspect of its family.
_FAMILIES = (
    frozenset({"time", "deadline", "validity"}),
    frozenset({"fee", "amount"}),
    frozenset({"place", "result"}),
)


@lru_cache(maxsize=8192)
def _name_words(name: str) -> frozenset[str]:
    """The folded words of a procedure name as written."""
    return _typed_words(name)


def _typed_words(text: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words(text))


def _family(aspect: str) -> frozenset[str]:
    return next((f for f in _FAMILIES if aspect in f), frozenset({aspect}))


# How much an entry on a neighbouring aspect of the same family answers the aspect asked
# ("đóng bao nhiêu tiền" asks a fee; an entry on the contribution amount answers it). Only for
# fee and amount, both asked as "bao nhiêu tiền": a processing time does not answer a deadline
# (the confusion issue 11 reports; crediting it let "phải nộp thuế bao nhiêu" be answered with
# a processing time in bench/eval2), and place and result share only "nhận" (crediting them
# sent a "gửi qua bưu điện" question of the development set to the place entry).
FAMILY_CREDIT = 0.5
CREDIT_FAMILIES = (_FAMILIES[1],)


def _aspect_fit(q_dist: dict[str, float], entry_aspects: frozenset[str]) -> float:
    """How much of what the question asks (``q_dist``) an entry answering ``entry_aspects``
    answers: an aspect asked counts fully, one of its family at ``FAMILY_CREDIT``."""
    exact = sum(q_dist.get(x, 0.0) for x in entry_aspects)
    near = sum(
        v
        for k, v in q_dist.items()
        if k not in entry_aspects and _family(k) in CREDIT_FAMILIES and _family(k) & entry_aspects
    )
    return min(1.0, exact + FAMILY_CREDIT * near)


@dataclass(frozen=True, slots=True)
class Ranking:
    """What ``Index.rank_full`` finds: candidates, decision features, aspect asked, and
    whether the best candidate's procedure (group key ``procedure``) lacks that aspect."""

    matches: tuple[Match, ...]
    x: np.ndarray | None
    aspect: str = ""
    missing_aspect: bool = False
    procedure: str = ""
    named: bool = False
    unique_aspect: bool = False
    off_domain: bool = False
    """The question names an everyday subject outside public services (a topic of the lexicon
    marked ``off-``: gold prices, football, weather) that the best candidate's procedure never
    mentions."""


def aspects(a: Analysis) -> frozenset[str]:
    """The aspects a text asks about clearly (see ``knowledge/lang/aspect_cues.yaml``)."""
    w = aspect_model.aspect_weights(a)
    top = max(w.values(), default=0.0)
    return frozenset(k for k, v in w.items() if v >= aspect_model.CLEAR and v >= 0.5 * top)


def _sigmoid(coef: Sequence[float], x: np.ndarray) -> float:
    z = coef[0] + float(np.dot(np.asarray(coef[1:], dtype=np.float64), x))
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


_PAIR_LEFT, _PAIR_RIGHT = np.triu_indices(len(FEATURES), 1)


def quadratic(x: np.ndarray) -> np.ndarray:
    """The features of the ``correct`` model: the decision features, the product of every pair
    of them, then their squares (rows of a matrix each expanded alike).

    "Is the best candidate the right entry" depends on the features together: a small margin
    matters when the aspect asked is the candidate's and little when the question asks none,
    a strong score with a strong foreign ratio means a neighbouring procedure. Measured
    against the linear model: ``CORRECT_L2`` in ``knowledge/calibrate.py``."""
    return np.concatenate(
        [x, x[..., _PAIR_LEFT] * x[..., _PAIR_RIGHT], x * x], axis=-1, dtype=np.float64
    )


WEIGHTS_KEPT = 65536
"""Words whose ``Index.weight`` an index remembers (a bound: questions bring new words)."""


Evidence = tuple[float, np.ndarray, np.ndarray, str, np.ndarray | None]
"""A question word's weight, posting (positions, contributions), feature and, for a word most
entries hold, its contributions as one row over all entries (``Postings.dense``)."""


class Index:
    """An immutable in-memory index over knowledge-base entries."""

    # Set by ``knowledge/selfcal.py`` when the base is loaded: a question it flags (about a
    # procedure of the bundled base that this base lacks) falls back. A class-level default,
    # so that building the index is untouched.
    out_of_scope: Callable[[str], bool] | None = None
    # Set with it: how far a bundled entry of a procedure this base lacks outscores this base's
    # best candidate (a decision feature, ``foreign_ratio``; 0 without the check).
    foreign_ratio: Callable[[str], float] | None = None
    # ``PROCEDURE_EVIDENCE`` for this index (the out-of-scope check's index sets 0).
    procedure_evidence: float = PROCEDURE_EVIDENCE
    # Entry positions by id, for the entries they were made from (``name_shares``).
    _positions: tuple[tuple[Entry, ...], dict[str, int]] | None = None

    def __init__(self, entries: Iterable[Entry], thresholds: Thresholds | None = None) -> None:
        live = tuple(e for e in entries if e.enabled)
        state = IndexState.from_entries(
            live,
            GENERAL_WORDS,
            KEYWORD_TOPICS,
            GENERAL_PAIRS if GENERAL_PAIRS_USED else (),
        )
        self._install(live, state, thresholds or Thresholds())

    def _install(
        self,
        entries: tuple[Entry, ...],
        state: IndexState,
        t: Thresholds,
        by_id: dict[str, Entry] | None = None,
    ) -> None:
        """Point the search structures at a state (see ``knowledge/index_state.py``)."""
        self.entries = entries
        self.thresholds = t
        self._state = state
        self._by_id = {e.id: e for e in entries} if by_id is None else by_id
        n = len(entries)
        infos = state.infos
        self._postings = Postings(state)
        self._idf = Idf(state)
        # Accented spellings seen in the base, by folded form, and accented word pairs: what
        # diacritic-free input is restored to (see ``restore``). General words of the language
        # resources count once, so that the base's own usage wins.
        self._spellings = state.spellings
        self._spelling_pairs = state.spelling_pairs
        self._phrasings = Column(infos, "phrasings")
        self._short_words = Column(infos, "short_words")
        self._short_pairs = Column(infos, "short_pairs")
        self._aspects = Column(infos, "aspects")
        # Per entry: the folded content words of its procedure name (or question), and of
        # each phrasing, for the "does the query name this entry's topic" features.
        self._procedure_words = SetView(infos, "procedure_words")
        self._phrasing_words = SetsView(infos, "phrasing_words")
        self._vocab = state.vocab
        self._vocab_set = state.vocab_set
        self._short_df = state.short_df
        # The words of every entry's procedure group (entries sharing a procedure, or an id
        # prefix), with the base's own keyword topics (``KEYWORD_TOPICS``): a query about the
        # group's topic is in scope even when it words the aspect differently from the entry
        # that ranked first.
        self._keyword_topics = state.keyword_topics
        self._keys = state.keys
        self._group_topics = GroupColumn(state)
        # What each procedure group answers, and its members (for "no entry on that aspect").
        self._group_aspects = state.group_aspects
        self._group_members = state.group_members
        # Initialisms of the base's own phrases ("dkkh" -> đăng ký kết hôn), for words no
        # entry uses (see ``index_state.IndexState._set_acronym``).
        self._acronyms = state.acronyms
        self._log_n = math.log(n + 1) if n else 1.0
        self._weights: dict[str, float] = {}  # ``weight``, per word asked (this state's)
        self._n = n
        self._groups: tuple[np.ndarray, list[str]] | None = None  # ``_group_numbers``
        self._group_dfs: dict[str, int] = {}  # ``_group_df``

    # -- edits: a new index that reuses everything but the edited entry ----------------------

    def with_entry(self, entry: Entry, position: int | None = None) -> Index:
        """A new index with ``entry`` added, or replacing the entry with its id in place.

        A new entry goes at ``position`` (default: last). A disabled entry is removed. The
        result equals ``Index`` built at once over the same entries in the same order; this
        index is not changed (searches may go on in it meanwhile).
        """
        if not entry.enabled:
            return self.without_entry(entry.id)
        pos = next((i for i, e in enumerate(self.entries) if e.id == entry.id), None)
        if pos is not None:
            old = self.entries[pos]
            if old == entry:
                return self
            state = self._state.edit(pos, entry_parts(old), entry_parts(entry))
            entries = (*self.entries[:pos], entry, *self.entries[pos + 1 :])
        else:
            pos = len(self.entries) if position is None else max(0, min(position, self._n))
            state = self._state.edit(pos, None, entry_parts(entry))
            entries = (*self.entries[:pos], entry, *self.entries[pos:])
        by_id = dict(self._by_id)
        by_id[entry.id] = entry
        return self._derived(entries, state, by_id)

    def without_entry(self, entry_id: str) -> Index:
        """A new index without the entry ``entry_id`` (this one when it has no such entry)."""
        pos = next((i for i, e in enumerate(self.entries) if e.id == entry_id), None)
        if pos is None:
            return self
        state = self._state.edit(pos, entry_parts(self.entries[pos]), None)
        by_id = dict(self._by_id)
        del by_id[entry_id]
        return self._derived((*self.entries[:pos], *self.entries[pos + 1 :]), state, by_id)

    def updated(self, entries: Iterable[Entry], max_edits: int = MAX_EDITS) -> Index:
        """An index over ``entries`` (in that order), made by editing this one when only a few
        entries were added, changed or removed and the others kept their order; built at once
        otherwise. Equal to ``Index(entries, self.thresholds)`` either way."""
        new = [e for e in entries if e.enabled]
        plan = edit_plan(self.entries, new, max_edits)
        if plan is None:
            return Index(new, self.thresholds)
        index = self
        for entry_id in plan.removed:
            index = index.without_entry(entry_id)
        for entry in plan.changed:
            index = index.with_entry(entry)
        for position, entry in plan.added:
            index = index.with_entry(entry, position)
        return index

    @classmethod
    def from_state(
        cls, entries: Iterable[Entry], state: IndexState, thresholds: Thresholds | None = None
    ) -> Index:
        """An index over ``entries`` (enabled ones, in order) from their stored state (see
        ``knowledge/index_cache.py``)."""
        out = cls.__new__(cls)
        out._install(tuple(e for e in entries if e.enabled), state, thresholds or Thresholds())
        return out

    def state_for_storage(self) -> IndexState:
        """The index's state, to be stored with its entries."""
        return self._state.for_storage()

    def _derived(
        self, entries: tuple[Entry, ...], state: IndexState, by_id: dict[str, Entry]
    ) -> Index:
        out = Index.__new__(Index)
        out._install(entries, state, self.thresholds, by_id)
        return out

    def __len__(self) -> int:
        return self._n

    @staticmethod
    def _group_key(entry: Entry) -> str:
        return group_key(entry)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def weight(self, word: str) -> float:
        """How much a folded word says about the topic: 0 for aspect words and numbers, else its
        rarity among entry questions, keywords and procedure names on a 0..1 scale (a word no
        entry uses weighs 1)."""
        known = self._weights.get(word)
        if known is not None:  # a search weighs the same few words dozens of times
            return known
        if word in GENERIC or len(word) < 2 or not word.isalpha():
            weight = 0.0
        else:
            df = self._short_df.get(word, 0)
            weight = min(1.0, math.log((self._n + 1) / (df + 0.5)) / self._log_n)
        if len(self._weights) < WEIGHTS_KEPT:
            self._weights[word] = weight
        return weight

    def _correct(self, a: Analysis) -> Analysis:
        """Mend content words no entry uses, from the base's own vocabulary.

        In order: an initialism of a phrase of the base ("dkkh"); two known words run
        together ("dangky") or one word split in two ("ngh iep"); the closest known word one
        edit away (two for long words), where the one forming a known word pair with a
        neighbour wins ("thất nghệp" -> "nghiệp", not "nghề"), then the most common one.
        """
        if not self._vocab:
            return a
        content = a.content
        real = real_words(a) if REAL_WORDS_KEPT else frozenset()
        fixed: list[str] = []
        changed = False
        i = 0
        while i < len(content):
            tok = content[i]
            if tok in self._vocab_set or not tok.isalpha() or tok in real:
                fixed.append(tok)
                i += 1
                continue
            nxt = content[i + 1] if i + 1 < len(content) else ""
            if nxt and nxt not in self._vocab_set and tok + nxt in self._vocab_set:
                fixed.append(tok + nxt)
                changed = True
                i += 2
                continue
            acro = self._acronyms.get(tok)
            split = None if acro else self._split(tok)
            left = fixed[-1] if fixed else ""
            mend = None if acro or split else self._mend(tok, left, nxt)
            if acro:
                fixed.extend(acro)
            elif split:
                fixed.extend(split)
            elif mend and mend[1]:
                fixed.append(mend[0])  # forms a word pair of the base: "thất nghệp" -> "nghiệp"
            elif nearest_filler(tok) is not None:
                pass  # a slip on a politeness word or particle ("đươc", "khôg"): dropped
            elif mend:
                fixed.append(mend[0])
            else:
                fixed.append(tok)
                i += 1
                continue
            changed = True
            i += 1
        if not changed:
            return a
        return Analysis(a.tokens, a.folded, tuple(fixed), a.accented)

    def mendable(self, word: str) -> bool:
        """Whether spelling correction reads a folded word as a known one, or drops it as a
        slip on a politeness word ("nhug", "duoc"): a typo, not a word of another subject."""
        if word in self._vocab_set or not word.isalpha() or is_folded_syllable(word):
            return False
        return nearest_filler(word) is not None or self._mend(word, "", "") is not None

    def _mend(self, tok: str, left: str, right: str) -> tuple[str, bool] | None:
        """The closest known word one edit away (two for long words), and whether it forms a
        word pair of the base with a neighbour; None for short words or when none is near."""
        if len(tok) < 3:
            return None
        cutoff = 2 if len(tok) >= 7 else 1
        candidates = process.extract(
            tok, self._vocab, scorer=Levenshtein.distance, score_cutoff=cutoff, limit=12
        )
        if not candidates:
            return None
        best = min(c[1] for c in candidates)
        near = [c for c in candidates if c[1] == best]
        word = max(near, key=lambda c: self._preference(c[0], left, right))[0]
        return word, self._preference(word, left, right)[0]

    def _split(self, tok: str) -> tuple[str, ...] | None:
        """Known words run together: the split into 2 or 3 known words, preferring a known pair."""
        if len(tok) < 4:
            return None
        found: list[tuple[str, ...]] = []
        for k in range(2, len(tok) - 1):
            left, right = tok[:k], tok[k:]
            if left not in self._vocab_set:
                continue
            if right in self._vocab_set:
                found.append((left, right))
            elif len(right) >= 4:
                for m in range(2, len(right) - 1):
                    if right[:m] in self._vocab_set and right[m:] in self._vocab_set:
                        found.append((left, right[:m], right[m:]))
        if not found:
            return None
        return max(
            found,
            key=lambda parts: (
                sum(f"{x}_{y}" in self._idf for x, y in itertools.pairwise(parts)),
                -len(parts),
            ),
        )

    def _preference(self, word: str, left: str, right: str) -> tuple[bool, float]:
        """Rank a spelling correction: forms a known pair with a neighbour, then commonest."""
        paired = f"{left}_{word}" in self._idf or f"{word}_{right}" in self._idf
        return (paired, -self._idf.get(word, 0.0))

    def _mismatched_marks(self, a: Analysis) -> frozenset[str]:
        """Folded words typed with diacritics that the base only has with other diacritics.

        "giá vàng" must not count as a match for "tạm vắng"; but people also slip on tone marks,
        so such words are weighed down, not dropped.
        """
        content = frozenset(a.content)
        return frozenset(
            fol
            for tok, fol, marked in zip(a.tokens, a.folded, a.accented, strict=True)
            if marked
            and fol in content
            and fol in self._vocab_set
            and "~" + tone_key(tok) not in self._idf
        )

    def rank(self, query: str, k: int = 5) -> tuple[tuple[Match, ...], np.ndarray | None]:
        """The best ``k`` candidates and the decision features of the first (see ``FEATURES``)."""
        ranking = self.rank_full(query, k)
        return ranking.matches, ranking.x

    def _procedure_scores(self, evidence: list[Evidence], top: np.ndarray) -> dict[str, float]:
        """The procedure groups of the candidates ``top`` scored as wholes, relative to the best
        of them (1.0).

        For each question word (``evidence``: its weight, posting, feature and, for a word most
        entries hold, its contributions as one row over all entries), a group takes
        the saturated term frequency of its best entry for it (the entry's contribution over
        the word's idf), weighed by the word's idf among all groups: a word every entry of one
        procedure holds and no other procedure does counts fully, a word of every procedure
        nothing. Made from the entries' postings, so an edit or a stored index needs nothing
        more; only the candidates' groups are scored (a search at 20,000 entries would
        otherwise pay for thousands)."""
        numbers, names = self._group_numbers()
        ng = len(names)
        groups = np.unique(numbers[top])
        local = np.full(ng, -1, dtype=np.int64)
        local[groups] = np.arange(len(groups))
        # each entry's candidate group (-1: none), so a posting needs one gather, not two;
        # the groups' members, where a word's row is read instead of its posting
        entry_local = local[numbers]
        members = np.flatnonzero(entry_local >= 0)
        member_groups = entry_local[members]
        total = np.zeros(len(groups), dtype=np.float64)
        best = np.empty(len(groups), dtype=np.float64)
        for q, idx, contrib, feat, row in evidence:
            if row is not None:
                # the members' contributions, 0.0 for those without the word (which adds
                # nothing to a maximum starting at 0.0)
                values, at = row[members], member_groups
                if not values.any():
                    continue
            else:
                at = entry_local[idx]
                sel = at >= 0
                if not sel.any():
                    continue
                values, at = contrib[sel], at[sel]
            idf = self._idf[feat]
            best.fill(0.0)
            np.maximum.at(best, at, values / idf if idf > 0 else values)
            df = self._group_df(feat, numbers, idx)
            total += q * math.log(1 + (ng - df + 0.5) / (df + 0.5)) * best
        high = float(total.max()) if len(total) else 0.0
        if high <= 0.0:
            return {}
        return {
            names[g]: float(v) / high
            for g, v in zip(groups.tolist(), total.tolist(), strict=True)
            if v
        }

    def _group_df(self, feat: str, numbers: np.ndarray, idx: np.ndarray) -> int:
        """How many procedure groups hold a feature (kept per feature, like ``weight``)."""
        got = self._group_dfs.get(feat)
        if got is None:
            if len(self._group_dfs) >= WEIGHTS_KEPT:
                self._group_dfs.clear()
            got = self._group_dfs[feat] = len(np.unique(numbers[idx]))
        return got

    def _group_numbers(self) -> tuple[np.ndarray, list[str]]:
        """The number of each entry's procedure group, and the groups' keys (made once)."""
        if self._groups is None:
            number: dict[str, int] = {}
            numbers = np.fromiter(
                (number.setdefault(k, len(number)) for k in self._keys), np.int64, self._n
            )
            self._groups = (numbers, list(number))
        return self._groups

    def rank_full(self, query: str, k: int = 5, exclude: str | None = None) -> Ranking:
        """Rank, and say what aspect is asked and whether the best procedure lacks it.

        ``exclude`` leaves out one procedure group (calibration uses it to see how questions
        about a procedure the base does not hold look).
        """
        raw = analyze(self.restore(query) if RESTORE else query)
        a = self._correct(raw)
        mismatched = self._mismatched_marks(a)
        feats = _features(a, aspect_model.cue_words(raw) if SPLIT_CUES else frozenset())
        feats.update(_tone_features(a))
        scores = np.zeros(self._n, dtype=np.float64)
        ceiling = 0.0
        # the question's words with their postings, for the procedures' own scores
        evidence: list[Evidence] | None = [] if self.procedure_evidence else None
        asked_feats = self._asked_part(query) if STORY_WEIGHT < 1.0 else None
        # a posting this long may be added as a whole row (Postings.dense)
        dense_from = index_state.DENSE_SHARE * max(self._n, index_state.DENSE_MIN_N)
        for feat, qtf in feats.items():
            weight = (
                TONE_WEIGHT if feat.startswith("~") else CUE_WEIGHT if feat.startswith("^") else 1.0
            )
            if asked_feats is not None and feat not in asked_feats:
                weight *= STORY_WEIGHT
            if mismatched and any(part in mismatched for part in feat.split("_")):
                weight *= MISMATCH_WEIGHT
            posting = self._postings.get(feat)
            q = weight * min(qtf, 2.0)
            if posting is None:
                # An unknown word still counts against the query's ceiling, as the rarest would.
                if not feat.startswith("~"):
                    ceiling += q * math.log(1 + (self._n + 0.5) / 0.5) * (K1 + 1) * 0.5
                continue
            idx, contrib = posting
            row = self._postings.dense(feat) if len(idx) >= dense_from else None
            if row is None:
                scores[idx] += q * contrib
            else:
                scores += q * row
            ceiling += q * self._idf[feat] * (K1 + 1) * 0.5
            if evidence is not None and feat[0] not in "^~":
                evidence.append((q, idx, contrib, feat, row))
        if self._n == 0 or ceiling <= 0:
            return Ranking((), None)
        if SYNONYM_WEIGHT > 0.0:
            # Other words for what the question holds: alternatives, so the ceiling stays.
            for feat, share in synonyms.expansions(a).items():
                posting = None if feat in feats else self._postings.get(feat)
                if posting is not None:
                    idx, contrib = posting
                    scores[idx] += SYNONYM_WEIGHT * share * contrib
        if exclude is not None:
            scores[self._group_members.get(exclude, [])] = 0.0
        depth = min(RERANK_DEPTH, self._n)
        top = np.argpartition(-scores, depth - 1)[:depth]
        procedures = self._procedure_scores(evidence, top) if evidence else {}
        qtext = " ".join(a.content)
        weights = self._asked(query, analyze(query) if RESTORE and PLAIN_CUES else raw)
        q_dist = aspect_model.distribution(weights)
        q_primary = aspect_model.primary(weights)
        q_topics = topics_of(raw) | self._query_keywords(a, frozenset(raw.content))
        # The ranking's topic terms: lexicon topics, plus keyword topics when KEYWORD_RANKING.
        rank_topics = q_topics if KEYWORD_RANKING else topics_of(raw)
        ranked: list[tuple[float, int, float, float]] = []
        proc_scores: list[tuple[float, int]] = []
        top = top[scores[top] > 0]
        for i, sim in zip(top.tolist(), self._similarities(qtext, top), strict=True):
            # How much of what the question asks this entry answers; an entry answering
            # another aspect than a clearly asked one is pushed down.
            asp = _aspect_fit(q_dist, self._aspects[i])
            if q_primary and asp == 0.0 and not self._aspects[i] <= _VAGUE:
                asp = -CONFLICT
            base = float(scores[i]) / ceiling
            named = 1.0 if rank_topics & self._group_topics[i] else 0.0
            total = base + FUZZ_WEIGHT * sim + ASPECT_WEIGHT * asp + TOPIC_WEIGHT * named
            if procedures:
                total += self.procedure_evidence * procedures.get(self._keys[i], 0.0)
            ranked.append((total, int(i), base, sim))
            # The procedure judged on its own: the same score without the aspect term.
            proc_scores.append((total - ASPECT_WEIGHT * asp, int(i)))
        if not ranked:
            return Ranking((), None)
        if GROUP_SUPPORT:
            # A procedure that several candidates belong to is better attested than one
            # matched by a single entry: every entry gains the second-best base score of its
            # own procedure among the candidates (the same for all of them, so the order
            # within a procedure stays the aspect's).
            bases: dict[str, list[float]] = {}
            for _, i, b, _ in ranked:
                bases.setdefault(self._keys[i], []).append(b)
            support = {k: sorted(v)[-2] if len(v) > 1 else 0.0 for k, v in bases.items()}
            ranked = [
                (t + GROUP_SUPPORT * support[self._keys[i]], i, b, sm) for t, i, b, sm in ranked
            ]
        lead_i = max(proc_scores)[1] if proc_scores else -1
        spelled = self._full_name(query, ranked) if FULL_NAME else -1
        if spelled >= 0:
            lead_i = spelled
        if GROUP_FIRST and lead_i >= 0 and (spelled >= 0 or self._names(a, rank_topics, lead_i)):
            # The procedure first: when the question names a procedure, its entries stay
            # ahead of other procedures' entries whatever the aspect; the aspect then orders
            # the entries within it (and among the others).
            lead = self._keys[lead_i]
            bonus = ASPECT_WEIGHT * (1.0 + CONFLICT)
            ranked = [
                (t + (bonus if self._keys[i] == lead else 0.0), i, b, sm) for t, i, b, sm in ranked
            ]
        ranked.sort(reverse=True)
        matches = tuple(Match(self.entries[i], round(s, 4)) for s, i, _, _ in ranked[:k])
        best_total, best, base, sim = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        corrected = (frozenset(a.content) - frozenset(raw.content)) | mismatched
        x = self._decision_features(
            a, corrected, q_dist, q_topics, best, base, sim, best_total - runner_up
        )
        # Scale-free procedure evidence: how far the best entry stands above the best entry of
        # any other procedure (relative to its own score), and whether the procedure judged
        # without the aspect is the best entry's own.
        other = next((t for t, i, _, _ in ranked if self._keys[i] != self._keys[best]), 0.0)
        proc_margin = max(0.0, (best_total - other) / best_total) if best_total > 0 else 0.0
        agree = 1.0 if lead_i >= 0 and self._keys[lead_i] == self._keys[best] else 0.0
        cover = self._group_cover(a, corrected, self._group_members[self._keys[best]])
        ratio = self.foreign_ratio(query) if self.foreign_ratio is not None else 0.0
        x = np.append(x, [proc_margin, agree, cover, ratio])
        # The aspect singles out the best entry within its procedure: it answers the aspect
        # asked, and no other entry of that procedure does (the procedure × aspect decision).
        same = [i for i in self._group_members[self._keys[best]] if i != best]
        unique = bool(
            q_primary
            and q_primary in self._aspects[best]
            and not any(_family(q_primary) & self._aspects[i] for i in same)
            and agree
        )
        names_procedure = bool(q_topics) or x[FEATURES.index("procedure")] >= 0.5
        # The procedure asked about, judged without the aspect: usually the best entry's; when
        # another procedure's entry won only on the aspect ("lệ phí thường trú" where the base
        # has no fee entry for thường trú), the procedure the question names.
        key = self._keys[best]
        proc_best = max(proc_scores)[1]
        if self._keys[proc_best] != key and q_topics & self._group_topics[proc_best]:
            key = self._keys[proc_best]
            named_here = True
        else:
            named_here = (
                bool(x[FEATURES.index("procedure")] >= 0.5 or x[FEATURES.index("topic_hit")] > 0)
                and x[FEATURES.index("topic_miss")] == 0
            )
        # The question names this procedure and clearly asks an aspect that none of the
        # procedure's entries answers.
        concrete = self._group_aspects[key] - _VAGUE
        dominant = (
            len(concrete) >= 3 and weights.get(q_primary, 0.0) >= 0.6 * sum(weights.values())
            if q_primary
            else False
        )
        missing = bool(
            dominant
            and weights[q_primary] >= 3.0
            and not _family(q_primary) & self._group_aspects[key]
            and named_here
        )
        if not missing:
            key = self._keys[best]
        off = not q_topics & self._group_topics[best] and any(
            t.startswith(OFF_DOMAIN) for t in q_topics
        )
        return Ranking(matches, x, q_primary, missing, key, names_procedure, unique, off)

    def _similarities(self, qtext: str, top: np.ndarray) -> list[float]:
        """Each candidate's closest phrasing to the question (``token_set_ratio`` / 100), all
        pairs scored by one rapidfuzz call (the same scores as a call per pair, in 70% of the
        time)."""
        texts: list[str] = []
        ends: list[int] = []
        for i in top.tolist():
            texts.extend(self._phrasings[i])
            ends.append(len(texts))
        if not texts:
            return [0.0] * len(ends)
        row = process.cdist([qtext], texts, scorer=fuzz.token_set_ratio, dtype=np.float64)[0]
        stops = np.asarray(ends)
        starts = np.concatenate(([0], stops[:-1]))
        some = stops > starts  # reduceat would give an entry without phrasings its neighbour's
        best = np.zeros(len(ends), dtype=np.float64)
        best[some] = np.maximum.reduceat(row, starts[some])
        return (best / 100.0).tolist()

    def _full_name(self, query: str, ranked: Sequence[tuple[float, int, float, float]]) -> int:
        """The best-ranked candidate of the procedure whose whole name (two words at least) the
        question holds as typed, the longest such name; -1 when none, or two names tie. As
        typed: "bằng lái" rewritten to "giấy phép lái xe" does not spell out "Đổi giấy phép
        lái xe" against "Đổi, cấp lại giấy phép lái xe"."""
        typed = _typed_words(query)
        best, size, tie = -1, 0, False
        seen: set[str] = set()
        for _, i, _, _ in sorted(ranked, reverse=True):
            key = self._keys[i]
            name = self.entries[i].procedure
            if key in seen or not name:
                continue
            seen.add(key)
            need = _name_words(name)
            if len(need) < 2 or not need <= typed:
                continue
            if len(need) > size:
                best, size, tie = i, len(need), False
            elif len(need) == size:
                tie = True
        return -1 if tie else best

    def _group_cover(self, a: Analysis, corrected: frozenset[str], members: Sequence[int]) -> float:
        """Share of the question's distinctive weight that the procedure group's texts hold
        anywhere (answers too; a word reached only by spelling correction counts half).

        A question about the procedure uses the procedure's vocabulary even when it words the
        aspect unlike any one entry ("81 tuổi, không có lương hưu" is in the answer on who is
        eligible); one about a neighbouring subject brings words the procedure never uses
        ("ngân hàng giữ sổ đỏ" against a procedure on issuing it)."""
        has = self._state.group_words(members)
        total = covered = 0.0
        for w in set(a.content):
            v = self.weight(w)
            if v <= 0.0:
                continue
            total += v
            if has(w):
                covered += v * (0.5 if w in corrected else 1.0)
        return covered / total if total else 1.0

    def _asked_part(self, query: str) -> frozenset[str] | None:
        """The matching features of a long message's last sentence (the question after the
        story), or None when the message is short or one sentence."""
        parts = [p for p in _SENTENCE.split(query) if p and p.strip()]
        if len(parts) < 2:
            return None
        whole = analyze(query)
        if len(whole.content) < LONG_QUESTION:
            return None
        last = parts[-1]
        if len(analyze(last).content) < 3:  # "... thì sao?" asks with the sentence before
            last = parts[-2] + " " + last
        raw = analyze(self.restore(last) if RESTORE else last)
        a = self._correct(raw)
        feats = _features(a, aspect_model.cue_words(raw) if SPLIT_CUES else frozenset())
        feats.update(_tone_features(a))
        return frozenset(feats)

    def _asked(self, query: str, raw: Analysis) -> dict[str, float]:
        """The aspect cue weights of what a question asks. A long message tells its story
        first and asks last ("Ba tôi 68 tuổi, mấy bữa nay nằm một chỗ ... Cho tôi hỏi mỗi
        tháng được nhận bao nhiêu?"): its last sentence that asks an aspect clearly is what
        is asked; the story's cues ("mấy bữa nay") are not."""

        def cue_weights(a: Analysis) -> dict[str, float]:
            return aspect_model.aspect_weights(aspect_model.as_typed(a) if MEND_SLIPS else a)

        weights = cue_weights(raw)
        if not LAST_ASKED or len(raw.content) < LONG_QUESTION:
            return weights
        text = query if PLAIN_CUES or not RESTORE else self.restore(query)
        parts = [p for p in _SENTENCE.split(text) if p]
        for part in reversed(parts[1:]):
            w = cue_weights(analyze(part))
            if max(w.values(), default=0.0) >= aspect_model.CLEAR:
                return w
        return weights

    def _query_keywords(self, a: Analysis, typed: frozenset[str]) -> frozenset[str]:
        """The base's keyword topics (see ``KEYWORD_TOPICS``) that the question contains, with
        at least one word as typed (not only made up by spelling correction: "khó khăn" must
        not become "kết hôn")."""
        if not self._keyword_topics:
            return frozenset()
        c = a.content
        return frozenset(
            self._keyword_topics[c[i : i + n]]
            for n in range(2, 6)
            for i in range(len(c) - n + 1)
            if c[i : i + n] in self._keyword_topics and typed & set(c[i : i + n])
        )

    def _names(self, a: Analysis, q_topics: frozenset[str], i: int) -> bool:
        """Whether the question names entry ``i``'s procedure: its topic, or most of the
        distinctive words of its procedure name."""
        if q_topics & self._group_topics[i]:
            return True
        return self._name_share(frozenset(a.content), i) >= 0.5

    def _name_share(self, words: frozenset[str], i: int) -> float:
        """Share of the distinctive weight of entry ``i``'s procedure name among ``words``."""
        proc = self._procedure_words[i]
        total = sum(self.weight(w) for w in proc)
        return sum(self.weight(w) for w in proc & words) / total if total else 0.0

    def name_shares(self, query: str, entries: Sequence[Entry]) -> list[float]:
        """For each of ``entries`` (of this index), the share of the distinctive weight of its
        procedure's name that ``query`` holds, the question read as ``rank_full`` reads it
        (marks restored, spelling corrected)."""
        a = self._correct(analyze(self.restore(query) if RESTORE else query))
        words = frozenset(a.content)
        if self._positions is None or self._positions[0] is not self.entries:
            self._positions = (self.entries, {e.id: i for i, e in enumerate(self.entries)})
        at = self._positions[1]
        return [self._name_share(words, at[e.id]) for e in entries]

    def _decision_features(
        self,
        a: Analysis,
        corrected: frozenset[str],
        q_dist: dict[str, float],
        q_topics: frozenset[str],
        best: int,
        base: float,
        sim: float,
        margin: float,
    ) -> np.ndarray:
        words = set(a.content)
        weights = {w: self.weight(w) for w in words}
        total = sum(weights.values())
        short = self._short_words[best]
        # Share of the query's distinctive weight that the entry's short fields explain (a word
        # reached only by spelling correction counts half), the share that no entry knows at
        # all, and the heaviest distinctive word the entry does not explain.
        covered = sum(
            v * (0.5 if w in corrected else 1.0) for w, v in weights.items() if w in short
        )
        if SYNONYM_COVER and SYNONYM_WEIGHT > 0.0:
            bridged = synonyms.bridges(a)
            covered += sum(
                v * SYNONYM_COVER
                for w, v in weights.items()
                if w not in short and any(other <= short for other in bridged.get(w, ()))
            )
        coverage = covered / total if total else 1.0
        unknown = (
            sum(v for w, v in weights.items() if w not in self._vocab_set) / total if total else 0.0
        )
        foreign = max((v for w, v in weights.items() if w not in short), default=0.0)
        # Share of the query's word pairs holding a distinctive word that the entry also has.
        qpairs = [
            (left, right)
            for left, right in itertools.pairwise(a.content)
            if weights.get(left, 0.0) + weights.get(right, 0.0) > 0
        ]
        spairs = self._short_pairs[best]
        pairs = sum(p in spairs for p in qpairs) / len(qpairs) if qpairs else 0.5

        def named(text: frozenset[str]) -> float:
            tw = sum(self.weight(w) for w in text)
            return sum(self.weight(w) for w in text & words) / tw if tw else 0.0

        topic = max((named(p) for p in self._phrasing_words[best]), default=0.0)
        procedure = named(self._procedure_words[best])
        if KEYWORD_NAMES and any(t.startswith("kw:") for t in q_topics & self._group_topics[best]):
            procedure = max(procedure, KEYWORD_NAMES)
        topic_hit = 1.0 if q_topics & self._group_topics[best] else 0.0
        topic_miss = 1.0 if q_topics and not topic_hit else 0.0
        # 1 when the entry answers what the query asks, 0 when not, 0.5 when nothing is asked.
        aspect = min(1.0, sum(q_dist.get(x, 0.0) for x in self._aspects[best])) if q_dist else 0.5
        return np.array(
            [
                min(base, 1.5),
                sim,
                min(margin, 0.5),
                coverage,
                topic,
                procedure,
                unknown,
                aspect,
                pairs,
                foreign,
                topic_hit,
                topic_miss,
            ],
            dtype=np.float64,
        )

    def search(self, query: str, k: int = 5) -> SearchResult:
        """Rank entries for a question and decide whether to answer, suggest or fall back."""
        r = self.rank_full(query, k)
        decision = Decision.FALLBACK if r.missing_aspect or r.off_domain else self.decide(r.x)
        if (
            UNIQUE_ASPECT_ANSWER
            and decision == Decision.SUGGEST
            and r.unique_aspect
            and r.x is not None
            and r.x[FEATURES.index("proc_margin")] >= UNIQUE_PROC_MARGIN
            and (
                r.x[FEATURES.index("coverage")] >= UNIQUE_COVERAGE
                or _sigmoid(self.thresholds.in_scope, r.x) >= UNIQUE_IN_SCOPE
            )
        ):
            decision = Decision.ANSWER
        if (
            decision != Decision.FALLBACK
            and self.out_of_scope is not None
            and self.out_of_scope(query)
        ):
            decision = Decision.FALLBACK
        return SearchResult(
            query, decision, r.matches, r.aspect, r.missing_aspect, r.procedure, r.named
        )

    def restore(self, text: str) -> str:
        """The text with each word typed without marks given the accented spelling the base
        (or the language resources) uses most, preferring one that forms a word pair the base
        or the language resources use with its neighbours ("thang" -> "tháng", "ho so" -> "hồ
        sơ", "o dau" -> "ở đâu" where the base writes "lần đầu" often).

        Words typed with marks are kept as typed (their marks are information; a restoration
        from a small base would often be wrong), and so is a word the base does not know. So a
        question typed without diacritics reads like the same question typed with them.
        """
        typed = words(text)
        folded = [fold(w) for w in typed]
        marked = sum(w != f for w, f in zip(typed, folded, strict=True))
        if MARKED_KEEP and typed and marked >= MARKED_KEEP * len(typed):
            # Typed with marks throughout: a word without marks was meant so ("mang theo").
            return text
        out: list[str] = []
        # Words of a phrase that is rewritten whatever its marks ("so do": "sổ đỏ") stay
        # unmarked: restored ("số đó"), they would no longer read as that phrase.
        kept = phrase_spans(folded)
        for i, (w, f) in enumerate(zip(typed, folded, strict=True)):
            options = self._spellings.get(f)
            if not options or w != f or i in kept:
                out.append(w)
                continue
            prev = out[-1] if out else ""
            nxt = typed[i + 1] if i + 1 < len(typed) else ""
            nxt_forms = list(self._spellings.get(fold(nxt), ())) if nxt == fold(nxt) else [nxt]

            def score(
                form: str,
                prev: str = prev,
                nxt_forms: list[str] = nxt_forms,
                counts: dict[str, int] = options,
            ) -> float:
                pair_score = self._spelling_pairs.get((prev, form), 0) + max(
                    (self._spelling_pairs.get((form, n), 0) for n in nxt_forms), default=0
                )
                return PAIR_FACTOR * pair_score + counts[form]

            out.append(max(options, key=score))
        return " ".join(out)

    def knows(self, word: str) -> bool:
        """Whether the base uses a word anywhere, answers included: a word without marks by
        its folded form, a word with marks as written ("lạt" of "Đà Lạt" is not "lát")."""
        folded = fold(word)
        if word == folded:
            return word in self._vocab_set
        return word in self._spellings.get(folded, ())

    def group_of(self, entry: Entry) -> str:
        """The procedure group key of an entry (its procedure, or the first part of its id)."""
        return self._group_key(entry)

    def group_entries(self, key: str) -> tuple[Entry, ...]:
        """The entries of one procedure group, in base order."""
        return tuple(self.entries[i] for i in self._group_members.get(key, ()))

    def group_name(self, key: str) -> str:
        """How to name a procedure group to a citizen: its procedure, else its first question."""
        members = self.group_entries(key)
        if not members:
            return ""
        return members[0].procedure or members[0].question.rstrip("?")

    def decide(self, x: np.ndarray | None) -> Decision:
        """The decision for the features of the best candidate (``None``: no candidate)."""
        if x is None:
            return Decision.FALLBACK
        t = self.thresholds
        if _sigmoid(t.in_scope, x) < t.suggest:
            return Decision.FALLBACK
        if (
            _sigmoid(t.correct, quadratic(x)) >= t.answer
            and x[FEATURES.index("margin")] >= t.answer_margin
        ):
            return Decision.ANSWER
        return Decision.SUGGEST
