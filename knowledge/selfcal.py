"""Decision thresholds calibrated on the loaded base against near-topic questions it cannot answer.

The decision models (``search.Thresholds``) were fitted on the development set. On another base
the same probabilities mean something else: the fall-back threshold that keeps the base's own
questions and refuses the questions about procedures it lacks moves with the base. So when an
index is built, this module asks it two kinds of questions generated from text it already has:

- *in scope*: each entry's last alternative phrasing, held out of a calibration index built
  without it, asked as written, without diacritics and with a typing slip;
- *near-topic out of scope*: phrasings of the bundled base's entries (``knowledge/data``,
  500+ entries over 130+ procedures) whose procedure the loaded base does not hold, judged by
  the procedure names alone (never by the search under test); when the loaded base holds every
  bundled procedure (it is the bundled base), its own phrasings with their procedure left out.

The fall-back threshold is then moved, within a bounded window around the default, to the value
that best separates the two (kept in-scope questions whose entry is among the first three, plus
refused out-of-scope ones). Only thresholds move, never the models' weights: refitting the
weights on generated questions was measured worse (``knowledge/calibrate.py``, README).

The cost is bounded: at most ``MAX_POSITIVES`` held-out phrasings and ``MAX_NEGATIVES``
out-of-scope ones, whatever the size of the base (a few hundred searches).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge import calibrate, kbfile
from knowledge.entry import Entry
from knowledge.normalize import fold, words
from knowledge.search import Index, Thresholds, _sigmoid

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
ENABLED = True
"""Calibrate every index built by ``build`` (``motcua ask --kb``, the bot's knowledge service)."""
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
    for w in (
        "cấp lại đổi đăng ký giải quyết hưởng chế độ thủ tục xác nhận giấy phép chứng nhận "
        "hỗ trợ chi trả thay đổi bổ sung lần đầu mới và cho của về các theo tại người"
    ).split()
)


def _name_words(name: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words(name)) - _GENERIC


def same_procedure(a: str, b: str) -> bool:
    """Whether two procedure names name the same procedure: nearly all the distinctive words of
    the shorter name are in the longer one ("cấp giấy phép bán lẻ rượu" and "cấp giấy phép bán
    lẻ sản phẩm rượu"; not "đăng ký kết hôn" and "đăng ký khai sinh")."""
    wa, wb = _name_words(a), _name_words(b)
    if not wa or not wb:
        return fold(" ".join(words(a))) == fold(" ".join(words(b)))
    return len(wa & wb) / min(len(wa), len(wb)) >= 0.8


@lru_cache(maxsize=1)
def bundled_entries() -> tuple[Entry, ...]:
    """The bundled base (read once per process; empty when it cannot be read)."""
    try:
        return tuple(kbfile.load_dir(BUNDLED_DIR))
    except (OSError, kbfile.KbFileError):
        return ()


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


def build(
    entries: Sequence[Entry], thresholds: Thresholds | None = None, enabled: bool | None = None
) -> Index:
    """An index as ``calibrate.build`` makes it, with its fall-back threshold calibrated on the
    base when ``enabled`` (default ``ENABLED``) and no thresholds were given."""
    index = calibrate.build(entries, thresholds)
    if (ENABLED if enabled is None else enabled) and thresholds is None and len(index):
        index.thresholds = calibrated_thresholds(list(entries), index.thresholds)
    return index


__all__ = ["build", "calibrated_thresholds", "same_procedure", "samples"]
