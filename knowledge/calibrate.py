"""Decision models calibrated on the loaded base itself.

The decision (answer, suggest, fall back) rests on two logistic models over features of the best
candidate (``search.FEATURES``). Fitting them once on one evaluation set ties them to that set;
here they are fitted on every base when it is loaded, from questions the base itself implies:

- *in scope*: each entry's last alternative phrasing is held out of a calibration index and
  asked as it is, without diacritics, with typing slips, with common short forms and initialisms,
  and cut down to its content words;
- *out of scope*: the same questions with their whole procedure left out of the ranking (a
  question about a procedure the base does not hold, with the usual aspect words), and
  questions about topics of ``knowledge/lang/topics.yaml`` that the base never mentions.

The thresholds are then chosen as in ``bench/retrieval.py``: fall back as often as possible on
out-of-scope questions while keeping nearly every in-scope question's entry offered, and answer
directly only where the estimated rate of wrong answers stays small.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from knowledge import lang
from knowledge.entry import Entry
from knowledge.lexicon import ABBREVIATIONS
from knowledge.normalize import analyze, fold, words
from knowledge.search import Index, Thresholds, quadratic
from knowledge.topics import TOPICS, topics_of

# The share of out-of-scope questions assumed when the wrong-answer rate is estimated.
OOS_SHARE = 0.15
MAX_WRONG = 0.05
"""Estimated wrong-answer rate allowed on the calibration questions. They are harder than real
ones (their entry ranks first about 85% of the time, against about 90% for citizens' questions
in both evaluation sets), so this rate corresponds to about 2% on real questions."""
HIT3_FLOOR = 0.94
MAX_HELD_OUT = 120
"""At most this many held-out phrasings (a sample on large bases, so that loading stays fast)."""
ENABLED = False
"""Off by default: measured on both evaluation sets, the calibrated models answered fewer
questions than the default ones at the same wrong-answer rate (see README, Retrieval)."""
CALIBRATE = "scope"
PRIOR_L2 = 20.0
"""How strongly a base's calibration keeps the weights of the default models (fitted on the
development set's features): the base's own questions then move mainly the bias and the
thresholds, which is what differs from base to base."""
MIN_ROWS = 40
"""Fewer in-scope questions than this: too little to fit on, the default models are kept."""


@dataclass(frozen=True, slots=True)
class Row:
    """Decision features of one question's best candidate, with what the right decision was."""

    x: np.ndarray | None
    in_scope: bool
    correct: bool  # in scope and the first candidate is the expected entry
    top3: bool  # in scope and the expected entry is among the first three
    group: str  # the procedure of the question (held-out rows too), or "oos:<n>"
    kind: str


def _logistic(
    x: np.ndarray,
    y: np.ndarray,
    sw: np.ndarray | None = None,
    l2: float = 1.0,
    prior: Sequence[float] | None = None,
) -> np.ndarray:
    """L2-regularised weighted logistic regression by Newton's method; bias first (not
    penalised). With ``prior`` the weights are pulled toward it instead of toward zero."""
    sw = np.ones(len(y)) if sw is None else sw
    xb = np.hstack([np.ones((len(x), 1)), x])
    w0 = np.zeros(xb.shape[1]) if prior is None else np.asarray(prior, dtype=np.float64)
    w = w0.copy()
    reg = np.full(xb.shape[1], l2)
    reg[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (sw * (p - y)) + reg * (w - w0)
        hess = (xb * (sw * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


CORRECT_L2 = 20.0
"""Ridge penalty of the ``correct`` model, on its standardised features (``search.quadratic``: the
decision features, their pairwise products and squares; 152 weights over ~5,000 rows).

The linear model it replaces could not weigh features together: a small margin between two
entries of one procedure means little when the question asks no aspect and much when it asks the
candidate's. Fitted with the same recipe (``bench/retrieval.py fit``, MAX_WRONG 0.025) on
today's features, as ``motcua ask`` builds the index: held-out eval6-11 top1 / hit@3 / answer@1
/ wrong / out-of-scope fallback, linear 0.845 / 0.878 / 0.698 / 0.060 / 0.817, quadratic 0.845 /
0.878 / 0.709 / 0.060 / 0.817 (the linear models shipped before, fitted sessions earlier: 0.845
/ 0.879 / 0.686 / 0.054 / 0.817; the quadratic one with its answer threshold raised until wrong
is 0.052: answer@1 0.692); leave-one-base-out, refitted in every fold, 0.932 / 0.941 / 0.812 /
0.026 / 0.912 -> 0.932 / 0.941 / 0.821 / 0.026 / 0.912. Shipped with the recipe's wrong-answer
rate at the acceptance's 0.02 instead (``bench/retrieval.py`` DEV_MAX_WRONG): held-out 0.845 /
0.878 / 0.685 / 0.050 / 0.817, leave-one-base-out 0.932 / 0.941 / 0.806 / 0.024 / 0.912. On the
decision rows alone, at equal wrong-answer rates the held-out answer@1 rose by 0.013 to 0.021;
penalties 2 and 5 did as well there and worse leave-one-base-out."""


def _standardised_fit(x: np.ndarray, y: np.ndarray, sw: np.ndarray) -> np.ndarray:
    """Ridge logistic regression on standardised columns (so that one penalty suits products
    and plain features alike), returned as weights on the raw columns (bias first)."""
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd < 1e-9] = 1.0
    w = _logistic((x - mu) / sd, y, sw, CORRECT_L2)
    raw = w[1:] / sd
    return np.concatenate([[w[0] - float(raw @ mu)], raw])


ANSWER_FOLDS = 5
"""The answer threshold is picked on out-of-fold probabilities of the ``correct`` model: its
152 weights fit their own rows too well, and a threshold picked on them lets through more
wrong answers than ``max_wrong`` on other bases."""


def _out_of_fold(q: np.ndarray, y: np.ndarray, sw: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Each row's ``correct`` probability under the model fitted without its fold (the rows'
    procedures dealt into ``ANSWER_FOLDS`` folds by name, so a procedure's rows stay together)."""
    folds = np.array([zlib.crc32(g.encode()) % ANSWER_FOLDS for g in groups])
    p = np.empty(len(y))
    for f in range(ANSWER_FOLDS):
        test = folds == f
        if not test.any():
            continue
        if test.all():
            w = _standardised_fit(q, y, sw)
        else:
            w = _standardised_fit(q[~test], y[~test], sw[~test])
        p[test] = 1 / (1 + np.exp(-(w[0] + q[test] @ w[1:])))
    return p


def fit(
    rows: Sequence[Row],
    base: Thresholds | None = None,
    max_wrong: float | None = None,
    hit3_floor: float | None = None,
    l2_in: float = 1.0,
) -> Thresholds:
    """Fit both decision models on rows and pick their probability thresholds.

    The fallback threshold is the highest that keeps hit@3 at ``HIT3_FLOOR`` (a question that
    could be answered must rarely be refused); the answer threshold is the lowest whose
    estimated wrong-answer rate stays under ``MAX_WRONG``. Rows of kind "heldout" (a procedure
    left out) and the other out-of-scope rows weigh the same in total. ``l2_in`` is the ridge
    penalty of the in-scope model (see ``bench/retrieval.py``: a strong one transfers better to
    bases the rows do not come from).
    """
    max_wrong = MAX_WRONG if max_wrong is None else max_wrong
    hit3_floor = HIT3_FLOOR if hit3_floor is None else hit3_floor
    usable = [r for r in rows if r.x is not None]
    x = np.vstack([r.x for r in usable if r.x is not None])
    y_in = np.array([r.in_scope for r in usable], dtype=np.float64)
    y_ok = np.array([r.correct for r in usable], dtype=np.float64)
    held = np.array([r.kind == "heldout" for r in usable])
    oos = (y_in == 0) & ~held
    sw = np.ones(len(usable))
    if oos.any() and held.any():
        sw[oos] = held.sum() / oos.sum()
    prior = base or Thresholds()
    w_in = (
        _logistic(x, y_in, sw, PRIOR_L2, prior.in_scope) if base else _logistic(x, y_in, sw, l2_in)
    )
    q = quadratic(x)
    w_ok = (
        _logistic(q, y_ok, sw, PRIOR_L2, prior.correct) if base else _standardised_fit(q, y_ok, sw)
    )
    p_in = 1 / (1 + np.exp(-(w_in[0] + x @ w_in[1:])))
    p_ok = (
        1 / (1 + np.exp(-(w_ok[0] + q @ w_ok[1:])))
        if base
        else _out_of_fold(q, y_ok, sw, [r.group for r in usable])
    )
    ins = y_in == 1
    top3 = np.array([r.top3 for r in usable])
    n_ins = max(sum(r.in_scope for r in rows), 1)
    n_held = sum(r.kind == "heldout" for r in rows)
    n_oos = max(len(rows) - n_ins, 1)
    n_orig = max(n_oos - n_held, 1)
    grid = np.linspace(0.02, 0.98, 97)
    best_t, best_j = 0.02, -1.0
    for t in grid:
        keep = p_in >= t
        if (keep & top3).sum() / n_ins < hit3_floor:
            break
        j = 1 - 0.5 * ((keep & held).sum() / max(n_held, 1) + (keep & oos).sum() / n_orig)
        if j > best_j + 1e-9:
            best_t, best_j = float(t), float(j)
    suggest = best_t
    answer = 0.98
    for t in grid[::-1]:
        ans = (p_ok >= t) & (p_in >= suggest)
        wrong_ins = (ans & ins & (y_ok == 0)).sum() / n_ins
        wrong_oos = (ans & ~ins).sum() / n_oos
        if (1 - OOS_SHARE) * wrong_ins + OOS_SHARE * wrong_oos > max_wrong:
            break
        answer = float(t)
    return replace(
        base or Thresholds(),
        in_scope=tuple(round(float(v), 3) for v in w_in),
        suggest=round(suggest, 3),
        correct=tuple(round(float(v), 4) for v in w_ok),
        answer=round(answer, 3),
    )


# --- questions the base implies ---------------------------------------------------------------

# Multi-word expansions typed in their short form ("giấy tờ" -> "gt"), longest first.
_SHORT_FORMS = sorted(
    ((v, k) for k, v in ABBREVIATIONS.items() if len(k) <= 4 and k.isascii()),
    key=lambda kv: -len(kv[0]),
)


def _typo(text: str, rng: random.Random) -> str:
    """One or two slips: a letter dropped or doubled, two letters swapped, a tone mark lost."""
    ws = text.split()
    long_ones = [i for i, w in enumerate(ws) if len(w) >= 4 and w.isalpha()]
    for i in rng.sample(long_ones, min(len(long_ones), rng.choice((1, 2)))):
        w = ws[i]
        op = rng.randrange(4)
        j = rng.randrange(1, len(w) - 1)
        if op == 0:
            w = w[:j] + w[j + 1 :]
        elif op == 1:
            w = w[:j] + w[j] + w[j:]
        elif op == 2:
            w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
        else:
            w = fold(w) if w != fold(w) else w[:j] + w[j + 1 :]
        ws[i] = w
    return " ".join(ws)


def _abbreviate(text: str, initialisms: dict[str, str]) -> str:
    """Common short forms and initialisms of the base's own phrases, as people type them."""
    out = " " + " ".join(words(text)) + " "
    for phrase, short in initialisms.items():
        out = out.replace(f" {phrase} ", f" {short} ")
    for long_form, short in _SHORT_FORMS:
        out = out.replace(f" {long_form} ", f" {short} ")
    return out.strip()


def _terse(text: str) -> str:
    a = analyze(text)
    kept = [t for t, f in zip(a.tokens, a.folded, strict=True) if f in a.content]
    return " ".join(kept) or text


_MATERIAL = lang.load("calibration")
_COLLOQUIAL = sorted(
    ((str(k), str(v)) for k, v in _MATERIAL["colloquial"].items()), key=lambda kv: -len(kv[0])
)


def _colloquial(text: str) -> str:
    out = " " + " ".join(words(text)) + " "
    for standard, spoken in _COLLOQUIAL:
        out = out.replace(f" {standard} ", f" {spoken} ")
    return out.strip()


def _long(text: str, rng: random.Random) -> str:
    context = rng.choice(_MATERIAL["contexts"])
    ending = rng.choice(_MATERIAL["endings"])
    return f"{context} {text[:1].lower()}{text[1:]} {ending}".strip()


def _variants(text: str, rng: random.Random, initialisms: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("paraphrase", text),
        ("nodiacritics", fold(text)),
        ("typo", _typo(text, rng)),
        ("abbrev", _abbreviate(text, initialisms)),
        ("terse", _terse(text)),
        ("colloquial", _colloquial(text)),
        ("long", _long(text, rng)),
    ]


def _initialisms(entries: Sequence[Entry]) -> dict[str, str]:
    """Procedure names (lower-case words) and their initialisms ("đăng ký kết hôn" -> "đkkh")."""
    out: dict[str, str] = {}
    for e in entries:
        name = " ".join(words(e.procedure))
        ws = name.split()
        if 2 <= len(ws) <= 5:
            out[name] = "".join(w[0] for w in ws)
    return out


_OFF_TEMPLATES = ("{t} hôm nay thế nào", "cho hỏi {t} ở đâu", "{t} bao nhiêu vậy", "{t}")
_NEAR_TEMPLATES = ("{t} cần giấy tờ gì", "làm {t} ở đâu", "lệ phí {t} bao nhiêu", "{t} mất bao lâu")


def _uncovered_topics(index: Index, rng: random.Random, n: int) -> list[tuple[str, str]]:
    """Questions about topics the base never mentions (public services and everyday ones)."""
    covered: set[str] = set()
    for e in index.entries:
        for text in (*e.phrasings, *e.keywords, e.procedure, e.answer):
            covered.update(topics_of(analyze(text)))
    out: list[tuple[str, str]] = []
    for topic, phrases in TOPICS.items():
        if topic in covered:
            continue
        templates = _OFF_TEMPLATES if topic.startswith("off-") else _NEAR_TEMPLATES
        for phrase in phrases[:2]:
            out.append(("oos", rng.choice(templates).format(t=phrase)))
    rng.shuffle(out)
    return out[:n]


def calibration_rows(entries: Sequence[Entry], seed: int = 0) -> list[Row]:
    """Rows for fitting the decision models, from the base's own phrasings (see module doc)."""
    rng = random.Random(seed)
    live = [e for e in entries if e.enabled]
    candidates = [e for e in live if e.alternatives]
    if len(candidates) > MAX_HELD_OUT:
        candidates = rng.sample(candidates, MAX_HELD_OUT)
    held_ids = {e.id for e in candidates}
    trimmed = [
        replace(e, alternatives=e.alternatives[:-1]) if e.id in held_ids else e for e in live
    ]
    index = Index(trimmed)
    initialisms = _initialisms(live)
    rows: list[Row] = []
    for e in candidates:
        group = index.group_of(e)
        for kind, q in _variants(e.alternatives[-1], rng, initialisms):
            r = index.rank_full(q)
            ids = [m.entry.id for m in r.matches]
            rows.append(Row(r.x, True, ids[:1] == [e.id], e.id in ids[:3], group, kind))
            out = index.rank_full(q, exclude=group)
            rows.append(Row(out.x, False, False, False, group, "heldout"))
    n_oos = max(len(candidates), 20)
    for n, (kind, q) in enumerate(_uncovered_topics(index, rng, n_oos)):
        rows.append(Row(index.rank(q)[1], False, False, False, f"oos:{n}", kind))
    return rows


_CACHE: dict[int, Thresholds] = {}


def _fingerprint(entries: Sequence[Entry]) -> int:
    return hash(
        tuple(
            (e.id, e.question, e.alternatives, e.keywords, e.procedure, e.aspect, e.enabled)
            for e in entries
        )
    )


def calibrated(index: Index, seed: int = 0) -> Index:
    """The index with decision models fitted on its own base (unchanged when the base is too
    small to fit on). Results are cached per process by the entries' content."""
    key = _fingerprint(index.entries)
    if key not in _CACHE:
        rows = calibration_rows(index.entries, seed)
        if sum(r.in_scope for r in rows) < MIN_ROWS or all(r.in_scope for r in rows):
            _CACHE[key] = index.thresholds
        else:
            fitted = fit(rows, index.thresholds)
            if CALIBRATE == "scope":
                fitted = replace(index.thresholds, in_scope=fitted.in_scope, suggest=fitted.suggest)
            _CACHE[key] = fitted
    index.thresholds = _CACHE[key]
    return index


def build(
    entries: Sequence[Entry], thresholds: Thresholds | None = None, calibrate: bool = ENABLED
) -> Index:
    """An index over ``entries`` with the given decision models (default ones when None),
    calibrated on the entries themselves when ``calibrate`` and no models were given."""
    index = Index(entries, thresholds)
    return calibrated(index) if calibrate and thresholds is None else index
