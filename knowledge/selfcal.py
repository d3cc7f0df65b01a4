"""Decisions checked against the bundled base: questions about procedures the loaded base lacks.

A base loaded from a file (``motcua ask --kb``) or an operator's own base holds a few
procedures. A citizen's question about a neighbouring procedure it lacks ("xin giấy xác nhận
độc thân" in a base without that procedure) still finds words in common with some entry, and
the decision models, fitted on the development set, often suggest or even answer it. The
bundled base (``knowledge/data``: 500+ entries over 130+ procedures) knows many of those
neighbouring procedures. So when an index is built, ``build`` gives it an out-of-scope check:
an index over the loaded entries plus the bundled entries of every procedure the loaded base
does not hold (judged by the procedure names alone, ``same_procedure``). A question whose best
candidate there is such a foreign entry, scoring at least ``FOREIGN_RATIO`` times the loaded
base's best, falls back. When the loaded base holds every bundled procedure (it is the bundled
base), there is nothing to check against and nothing changes. The procedure catalogue
(``knowledge/catalogue``, ``CATALOGUE``) adds 440+ procedures the bundled base lacks to that
reference; its entries serve the check only and are never answered.

Measured first, and kept off (``THRESHOLDS``, ``bench/retrieval.py accuracy --selfcal
thresholds``): moving the fall-back threshold on questions generated from the base (held-out
phrasings, plain, without diacritics and with a slip) against the same bundled near-topic
questions. The generated in-scope questions are far easier than citizens' ones, so the
threshold rose on every set and bought out-of-scope fallbacks with the same number of in-scope
questions refused (README, Retrieval), as the default threshold already sits near the best
trade of that single number. The check above trades far better.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge import calibrate, kbfile
from knowledge.entry import Entry
from knowledge.normalize import fold, words
from knowledge.search import Index, Thresholds, _sigmoid, shipped_models

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
ENABLED = True
"""Give every index built by ``build`` (``motcua ask --kb``, the bot's knowledge service) the
out-of-scope check against the bundled base."""
CATALOGUE = True
"""Also check against the procedure catalogue (``knowledge/catalogue``: one overview entry for
each of 444 procedures of the national catalogue the bundled base lacks, from land and building
permits to nationality, veterinary and tourism licences): its entries join the foreign
reference of a base that already gets the check (``foreign_entries``), so that a question about
one of those procedures is recognised as out of scope too. They are never served: they only sit
in the check's own index (``ForeignCheck``), whose best match yields a ratio, never an answer.
The bundled base itself holds every bundled procedure and still gets no check, so the bot's
default base is unchanged. Cost: the check's index of a small base grows from about 500 to
about 700 entries, +0.2 to 0.3 s CPU per base build (5-entry base: 0.47 -> 0.78 s median of
five, loaded machine). Measured leave-one-base-out (``bench/retrieval.py lobo --catalogue
on|off``, models refitted in every fold with or without it): top1 0.929 either way, hit@3
0.943 -> 0.940, answer@1 0.810 -> 0.808, wrong 0.029 either way, out-of-scope fallback 0.902 ->
0.898; with the models fitted without it, as the shipped ``CHECKED`` ones are: hit@3 0.939,
answer@1 0.806, wrong 0.027, out-of-scope fallback 0.912. The fitted sets hold few questions
about catalogue procedures; the held-out sets decide whether it stays on. They did: on eval6-11
(``bench/retrieval.py heldout``) the first 204 procedures took out-of-scope fallback from 0.763
to 0.823 for hit@3 0.904 -> 0.893; 240 more (the ``*-2.yaml`` files, written without seeing any
evaluation set) took it to 0.850 for hit@3 0.891, answer@1 0.672 -> 0.671, wrong 0.046 ->
0.045; leave-one-base-out hit@3 0.940 -> 0.942, the rest unchanged. Cost of the second batch:
the check's index of a 13-entry base grows from 718 to 955 entries, +0.16 s CPU per base build
(0.38 -> 0.54 s), +0.06 ms per search (1.53 -> 1.58 ms)."""
CATALOGUE_NEAR = 0.4
"""A catalogue procedure is left out of a base's check also when its distinctive name words
contain, or are contained in, those of one of the base's procedures, or share this much of them
(``near_procedure``): the catalogue splits procedures finer than a base does ("Gia hạn giấy
phép xây dựng"), and a base may answer such a neighbour as an aspect of its own procedure.
Measured leave-one-base-out with the catalogue, models fitted without it: hit@3 0.935 -> 0.939,
answer@1 0.802 -> 0.806, wrong 0.027 and out-of-scope fallback 0.912 unchanged; models refitted
with it: 0.938 -> 0.940, 0.805 -> 0.808, 0.030 -> 0.029, 0.893 -> 0.898 (0.25 and 0.15: within
one question of 0.4)."""
FOREIGN_RATIO = 1.4
"""How far a foreign entry must outscore the loaded base's best candidate for a fall-back
whatever the decision models say. The ratio itself is a feature of the models (``ratio``), which
fall back on it earlier when the rest of the evidence is weak. 1.8 rather than 2.0 since names
that only qualify another are one procedure (``SAME_CONTAINED``): leave-one-base-out
out-of-scope fallback 0.893 -> 0.898, hit@3 0.942 -> 0.941; held-out eval6 and eval7 fallback
0.752 -> 0.761, the rest unchanged (1.7: 0.788 there, but hit@3 -0.004 and -0.006 in-sample).
1.4 since the foreign entries are no richer than the base's (``MATCH_PHRASINGS``), which lowers
every ratio: leave-one-base-out at 1.8 / 1.5 / 1.4 / 1.3: hit@3 0.940 / 0.938 / 0.938 / 0.935,
out-of-scope fallback 0.902 / 0.907 / 0.912 / 0.912, answer@1 0.809 / 0.808 / 0.808 / 0.807;
held-out eval6-11 at 1.8 -> 1.4: hit@3 0.895 either way, out-of-scope fallback 0.808 -> 0.817,
wrong 0.048 -> 0.047."""
SAME_NAME = 0.6
"""Share of the two names' distinctive words (of all of them) for one procedure. Measured
leave-one-base-out over five sets: out-of-scope fallback 0.844 -> 0.868 against the former
rule (0.8 of the shorter name's words), hit@3 0.940 -> 0.937."""
SAME_CONTAINED = 0.4
"""The same share suffices when one name's distinctive words are all in the other's: the longer
name only qualifies the shorter ("Quyết toán thuế thu nhập cá nhân" and "Quyết toán thuế thu
nhập cá nhân đối với cá nhân có thu nhập từ tiền lương, tiền công"), which the bundled base
must then not offer as a foreign procedure. Measured: leave-one-base-out hit@3 0.941 -> 0.942,
answer@1 and wrong unchanged; held-out eval6 and eval7 answer@1 0.682 -> 0.696, hit@3 0.898 ->
0.900, wrong 0.052 -> 0.054, out-of-scope fallback unchanged."""
NAME_DISCOUNT = 0.5
"""The foreign ratio is divided by 1 + this x how much more of the loaded procedure's name than
of the foreign one's the question holds (shares of the names' distinctive weight): a foreign
entry that outscores the base on the aspect and everyday words ("ổng 40 tuổi chưa có khai
sinh, giờ đi làm thì nộp ở đâu" against "Nộp hồ sơ cải chính, thay đổi hộ tịch ở đâu?") weighs
less against a procedure the question names. Measured with the models refitted both ways
(``bench/retrieval.py fit`` on the five fitted sets): held-out eval6-11 0.843 / 0.875 / 0.685 /
0.058 / 0.802 -> 0.843 / 0.876 / 0.688 / 0.061 / 0.817; leave-one-base-out (refitted in every
fold) 0.932 / 0.941 / 0.812 / 0.028 / 0.902 -> 0.932 / 0.942 / 0.810 / 0.026 / 0.912. With the
shipped ``CHECKED`` models (fitted before it, kept): held-out 0.843 / 0.869 / 0.677 / 0.051 /
0.820 -> 0.843 / 0.878 / 0.679 / 0.053 / 0.817. 1.0 and 3.0 did worse leave-one-base-out
(hit@3 0.937-0.938, answer@1 0.802-0.804 against 0.942, 0.811 at 0.5; measured with extra
aspect cues since dropped)."""
RATIO_CAP = 3.0
"""The foreign ratio given to the decision models is cut here (beyond, it says nothing more)."""
MATCH_PHRASINGS = True
"""The foreign entries of the check keep only as many alternative phrasings as the loaded
base's entries have on average (rounded; ``as_rich_as``). A bundled entry carries 2.3 of them
on average, a base written by an agency often none: each phrasing is one more way to match a
citizen's words, so a foreign entry outscored a loaded one on richness alone, and in-scope
questions fell back. Trimmed, the ratio compares like with like, on any base. Measured (decision
rows, in-scope model refitted, fall-back rate of out-of-scope questions at equal hit@3):
held-out eval6-11 at hit@3 0.86 / 0.88 / 0.90 / 0.92: 0.823 / 0.799 / 0.754 / 0.698 -> 0.865 /
0.841 / 0.787 / 0.719; leave-one-base-out at 0.92 / 0.94 / 0.96: 0.858 / 0.833 / 0.809 ->
0.873 / 0.833 / 0.804. Every foreign entry with no alternatives at all, and the loaded ones
too, did worse (held-out 0.853 / 0.817 / 0.781 / 0.692). Trimming the answers or keywords to
the base's average length as well changed nothing."""
OWN_QUESTION = True
"""A question's ratio is divided by the one the loaded candidate's own question gets, when
that is above 1: an entry written thinly (no procedure name, few keywords) is outscored by a
rich foreign entry even on its own words ("Quy trình cấp giấy phép xây dựng nhà ở riêng lẻ
gồm những bước nào?", asked verbatim, against the bundled building-permit entries: 1.6), and
the base's own question must never be sent away. Each entry's ratio is worked out once, the
first time a question with a ratio above 1 lands on it. Measured: held-out eval6-11
unchanged (their entries name their procedures); leave-one-base-out hit@3 0.938 -> 0.940,
answer@1 0.808 -> 0.812, wrong 0.026 -> 0.027, out-of-scope fallback 0.912 either way."""
FOREIGN_DEPTH = 30
"""Candidates of the combined index looked at for the loaded base's best."""
CHECKED = shipped_models("checked")
"""The decision models of an index with the check, when no thresholds were given: fitted like
the default ones on the same rows (``bench/retrieval.py fit`` prints both), with the foreign
ratio as a feature; the default models never see it (it is 0 without the check)."""
THRESHOLDS = False
"""Also move the fall-back threshold (measured worse; see the module doc)."""
MAX_POSITIVES = 60
"""Held-out phrasings asked (a sample on larger bases); each is asked in three forms."""
MAX_NEGATIVES = 150
"""Out-of-scope phrasings asked (a sample); each is asked as written and without diacritics."""
MIN_POSITIVES = 8
"""Fewer held-out phrasings than this: too little to move a threshold, the default is kept."""
WINDOW = (0.5, 1.6)
"""The fall-back threshold moves at most to these multiples of the default one."""
OOS_WEIGHT = 1.0
"""Weight of a refused out-of-scope question against a kept in-scope one."""

# Words of procedure names that say what is done rather than about what ("cấp", "đăng ký").
_GENERIC = frozenset(
    fold(w)
    for phrase in (
        "cấp lại đổi đăng ký giải quyết hưởng chế độ thủ tục xác nhận giấy phép chứng nhận",
        "hỗ trợ chi trả thay đổi bổ sung lần đầu mới và cho của về các theo tại người",
    )
    for w in phrase.split()
)


def name_words(name: str) -> frozenset[str]:
    """The folded words of a procedure name that say which procedure ("kết hôn" of "đăng ký
    kết hôn"), without those saying what is done ("cấp", "lại", "đổi", "đăng ký")."""
    return frozenset(fold(w) for w in words(name)) - _GENERIC


def near_procedure(a: str, b: str) -> bool:
    """Whether a catalogue procedure ``a`` is close enough to a base's procedure ``b`` to be left
    out of its check (``CATALOGUE_NEAR``)."""
    if same_procedure(a, b):
        return True
    wa, wb = name_words(a), name_words(b)
    if not wa or not wb:
        return False
    share = len(wa & wb) / len(wa | wb)
    return wa <= wb or wb <= wa or (CATALOGUE_NEAR > 0 and share >= CATALOGUE_NEAR)


def same_procedure(a: str, b: str) -> bool:
    """Whether two procedure names name the same procedure: most of the distinctive words of
    both names are shared ("cấp giấy phép bán lẻ rượu" and "cấp giấy phép bán lẻ sản phẩm
    rượu"; not "đăng ký kết hôn" and "đăng ký khai sinh", nor "cấp giấy phép lái xe quốc tế"
    and "đổi giấy phép lái xe", whose shorter name is all in the longer one)."""
    wa, wb = name_words(a), name_words(b)
    if not wa or not wb:
        return fold(" ".join(words(a))) == fold(" ".join(words(b)))
    share = len(wa & wb) / len(wa | wb)
    if (wa <= wb or wb <= wa) and share >= SAME_CONTAINED:
        return True
    return share >= SAME_NAME


def _read_base(path: Path) -> tuple[Entry, ...]:
    """A directory of knowledge files, or nothing when it cannot be read."""
    try:
        return tuple(kbfile.load_dir(path))
    except (OSError, kbfile.KbFileError):
        return ()


@lru_cache(maxsize=1)
def bundled_entries() -> tuple[Entry, ...]:
    """The bundled base (read once per process; empty when it cannot be read)."""
    return _read_base(BUNDLED_DIR)


@lru_cache(maxsize=1)
def catalogue_entries() -> tuple[Entry, ...]:
    """The procedure catalogue (read once per process; empty when it cannot be read)."""
    return _read_base(CATALOGUE_DIR)


@dataclass(frozen=True, slots=True)
class Sample:
    """One calibration question's in-scope probability under the default model."""

    p_in: float
    in_scope: bool
    top3: bool  # in scope and its entry is among the first three candidates
    kind: str


def _p(index: Index, x: np.ndarray | None) -> float:
    return 0.0 if x is None else _sigmoid(index.thresholds.in_scope, x)


def samples(
    entries: Sequence[Entry], bundled: Sequence[Entry] | None = None, seed: int = 0
) -> list[Sample]:
    """The calibration questions of a base and how the default in-scope model rates them."""
    rng = random.Random(seed)
    bundled = bundled_entries() if bundled is None else bundled
    live = [e for e in entries if e.enabled]
    candidates = [e for e in live if e.alternatives]
    if len(candidates) > MAX_POSITIVES:
        candidates = rng.sample(candidates, MAX_POSITIVES)
    held = {e.id for e in candidates}
    trimmed = Index(
        [replace(e, alternatives=e.alternatives[:-1]) if e.id in held else e for e in live]
    )
    out: list[Sample] = []
    for e in candidates:
        q = e.alternatives[-1]
        for kind, text in (("heldin", q), ("nodiacritics", fold(q)), ("typo", _typo(q, rng))):
            r = trimmed.rank_full(text)
            ids = [m.entry.id for m in r.matches[:3]]
            out.append(Sample(_p(trimmed, r.x), True, e.id in ids, kind))
    names = {e.procedure or trimmed.group_of(e) for e in live}
    foreign = [
        e
        for e in bundled
        if e.enabled and not any(same_procedure(e.procedure or e.id, n) for n in names)
    ]
    full = Index(live)
    questions = [(p, "foreign") for e in foreign for p in e.phrasings]
    if questions:
        questions = rng.sample(questions, min(len(questions), MAX_NEGATIVES))
        for q, kind in questions:
            for text in (q, fold(q)):
                out.append(Sample(_p(full, full.rank_full(text).x), False, False, kind))
    else:
        # The loaded base holds every bundled procedure: its own phrasings, procedure left out.
        for e in candidates:
            r = trimmed.rank_full(e.alternatives[-1], exclude=trimmed.group_of(e))
            out.append(Sample(_p(trimmed, r.x), False, False, "heldout"))
    return out


def _typo(text: str, rng: random.Random) -> str:
    return calibrate._typo(text, rng)


def choose_suggest(rows: Sequence[Sample], default: float) -> float:
    """The fall-back threshold, within ``WINDOW`` around ``default``, that keeps the most
    in-scope questions (entry among the first three) plus refused out-of-scope ones; ties go to
    the value nearest the default."""
    pos = np.array([r.p_in for r in rows if r.in_scope and r.top3])
    n_pos = max(sum(r.in_scope for r in rows), 1)
    neg = np.array([r.p_in for r in rows if not r.in_scope])
    if not len(neg):
        return default
    lo, hi = default * WINDOW[0], min(default * WINDOW[1], 0.95)
    best, best_j = default, -1.0
    for t in sorted(np.linspace(lo, hi, 45), key=lambda v: abs(v - default)):
        j = float((pos >= t).sum()) / n_pos + OOS_WEIGHT * float((neg < t).mean())
        if j > best_j + 1e-9:
            best, best_j = float(t), j
    return round(best, 3)


_CACHE: dict[int, Thresholds] = {}


def calibrated_thresholds(entries: Sequence[Entry], base: Thresholds | None = None) -> Thresholds:
    """``base`` (default models) with the fall-back threshold calibrated on ``entries``."""
    base = base or Thresholds()
    key = hash((calibrate._fingerprint(entries), base))
    if key not in _CACHE:
        rows = samples(entries)
        if sum(r.in_scope for r in rows) < 3 * MIN_POSITIVES:
            _CACHE[key] = base
        else:
            _CACHE[key] = replace(base, suggest=choose_suggest(rows, base.suggest))
    return _CACHE[key]


FOREIGN_PREFIX = "bundled:"
CATALOGUE_PREFIX = FOREIGN_PREFIX + "catalogue:"


def foreign_entries(
    entries: Sequence[Entry],
    bundled: Sequence[Entry] | None = None,
    catalogue: Sequence[Entry] | None = None,
) -> list[Entry]:
    """The bundled entries whose procedure none of ``entries`` holds (ids prefixed, so they
    never collide with the loaded ones); when there are any, the catalogue's entries of
    procedures ``entries`` lacks too (``catalogue``, by default the catalogue when
    ``CATALOGUE`` and the bundled base is the default one, else none)."""
    if catalogue is None:
        catalogue = catalogue_entries() if CATALOGUE and bundled is None else ()
    bundled = bundled_entries() if bundled is None else bundled
    names = {e.procedure or Index._group_key(e) for e in entries if e.enabled}

    def lacked(pool: Sequence[Entry], prefix: str, same: Callable[[str, str], bool]) -> list[Entry]:
        return [
            replace(e, id=prefix + e.id)
            for e in pool
            if e.enabled and not any(same(e.procedure or e.id, n) for n in names)
        ]

    foreign = lacked(bundled, FOREIGN_PREFIX, same_procedure)
    if not foreign:
        return foreign
    return as_rich_as([*foreign, *lacked(catalogue, CATALOGUE_PREFIX, near_procedure)], entries)


def as_rich_as(foreign: Sequence[Entry], entries: Sequence[Entry]) -> list[Entry]:
    """The foreign entries with no more alternative phrasings each than the loaded entries
    have on average (``MATCH_PHRASINGS``)."""
    live = [e for e in entries if e.enabled]
    if not MATCH_PHRASINGS or not live:
        return list(foreign)
    keep = round(sum(len(e.alternatives) for e in live) / len(live))
    return [
        replace(e, alternatives=e.alternatives[:keep]) if len(e.alternatives) > keep else e
        for e in foreign
    ]


class ForeignCheck:
    """Whether a question is about a bundled procedure the loaded base lacks (see module doc)."""

    def __init__(
        self, entries: Sequence[Entry], foreign: Sequence[Entry], index: Index | None = None
    ) -> None:
        self.foreign = tuple(foreign)
        self.index = index if index is not None else Index([*entries, *foreign])
        # Entry against entry: the procedures' own evidence (``search.PROCEDURE_EVIDENCE``)
        # cost held-out out-of-scope fallback 0.03 here.
        self.index.procedure_evidence = 0.0
        self.n_foreign = len(foreign)
        # The last question's ratio: a search asks it twice (the decision feature, then the
        # fall-back rule), and the combined index is the costly part of the check.
        self._last: tuple[str, float] = ("", 0.0)
        self._own: dict[str, float] = {}

    def updated(self, entries: Sequence[Entry], foreign: Sequence[Entry]) -> ForeignCheck:
        """The check over an edited base: its index edited like the base's own
        (``Index.updated``) when the foreign entries are the same, built again otherwise."""
        if tuple(foreign) != self.foreign:
            return ForeignCheck(entries, foreign)
        return ForeignCheck(entries, foreign, self.index.updated([*entries, *foreign]))

    def __call__(self, query: str) -> bool:
        return self.ratio(query) >= FOREIGN_RATIO

    def ratio(self, query: str) -> float:
        """How far the best foreign entry outscores the loaded base's best candidate in the
        combined index (0 when a loaded entry ranks first; at most ``RATIO_CAP``)."""
        if self._last[0] == query and query:
            return self._last[1]
        value = self._ratio(query)
        self._last = (query, value)
        return value

    def _ratio(self, query: str) -> float:
        ratio, mine = self._raw_ratio(query)
        if ratio > 1.0 and mine is not None and OWN_QUESTION:
            ratio /= max(1.0, self._entry_ratio(mine))
        return min(ratio, RATIO_CAP)

    def _entry_ratio(self, entry: Entry) -> float:
        """The ratio the entry's own question gets (worked out once, when first needed)."""
        if entry.id not in self._own:
            self._own[entry.id] = self._raw_ratio(entry.question)[0]
        return self._own[entry.id]

    def _raw_ratio(self, query: str) -> tuple[float, Entry | None]:
        matches = self.index.rank_full(query, k=FOREIGN_DEPTH).matches
        if not matches or not matches[0].entry.id.startswith(FOREIGN_PREFIX):
            return 0.0, None
        mine = next((m for m in matches if not m.entry.id.startswith(FOREIGN_PREFIX)), None)
        if mine is None or mine.score <= 0.0:
            return RATIO_CAP, None
        ratio = matches[0].score / mine.score
        if NAME_DISCOUNT:
            own_name, their_name = self.index.name_shares(query, (mine.entry, matches[0].entry))
            ratio /= 1.0 + NAME_DISCOUNT * max(0.0, own_name - their_name)
        return ratio, mine.entry


MAX_CHECKED_BASE = 2000
"""Bases larger than this get no check: its second index would double their build time and
memory, and a base that large holds most neighbouring procedures itself."""


_last: (
    tuple[tuple[Entry, ...], tuple[Entry, ...] | None, bool, bool, ForeignCheck | None] | None
) = None
"""The last base's check: a rebuild of the same base reuses it, an admin's edit edits it."""


def _check(entries: tuple[Entry, ...], bundled: tuple[Entry, ...] | None) -> ForeignCheck | None:
    global _last
    key = (entries, bundled, CATALOGUE, MATCH_PHRASINGS)
    if _last is not None and _last[:4] == key:
        return _last[4]
    foreign = foreign_entries(entries, bundled)
    previous = _last[4] if _last is not None else None
    check: ForeignCheck | None = None
    if foreign:
        check = (
            previous.updated(entries, foreign)
            if previous is not None
            else ForeignCheck(entries, foreign)
        )
    _last = (*key, check)
    return check


def build(
    entries: Sequence[Entry],
    thresholds: Thresholds | None = None,
    enabled: bool | None = None,
    bundled: Sequence[Entry] | None = None,
    thresholds_too: bool | None = None,
) -> Index:
    """An index as ``calibrate.build`` makes it, given the out-of-scope check against the
    bundled base (or ``bundled``) when ``enabled`` (default ``ENABLED``) and the loaded base
    lacks some bundled procedure; with ``thresholds_too`` (default ``THRESHOLDS``) and no
    thresholds given, the fall-back threshold is also calibrated on the base.

    The index ``calibrate.build`` returned is never changed (it may be shared): a shallow copy
    carries the check and the thresholds. The check of the last base is kept (a rebuild of
    the same base reuses it).
    """
    return checked(
        calibrate.build(entries, thresholds), thresholds, enabled, bundled, thresholds_too
    )


def checked(
    index: Index,
    thresholds: Thresholds | None = None,
    enabled: bool | None = None,
    bundled: Sequence[Entry] | None = None,
    thresholds_too: bool | None = None,
) -> Index:
    """``index`` given the out-of-scope check (see ``build``), for an index built or edited
    elsewhere (the knowledge service edits its index instead of rebuilding it)."""
    if not len(index) or len(index) > MAX_CHECKED_BASE:
        return index
    out = copy.copy(index)
    if (THRESHOLDS if thresholds_too is None else thresholds_too) and thresholds is None:
        out.thresholds = calibrated_thresholds(list(index.entries), index.thresholds)
    if ENABLED if enabled is None else enabled:
        out.out_of_scope = _check(index.entries, None if bundled is None else tuple(bundled))
        if out.out_of_scope is not None:
            out.foreign_ratio = out.out_of_scope.ratio
        if (
            out.out_of_scope is not None
            and thresholds is None
            and out.thresholds == index.thresholds
        ):
            out.thresholds = CHECKED
    return out
