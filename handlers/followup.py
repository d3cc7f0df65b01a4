"""Follow-up questions read against the remembered procedure: procedure × aspect.

A follow-up such as "còn lệ phí thì sao?" names only an aspect; "còn lý lịch tư pháp thì sao"
names only a procedure. Both are resolved here with what the dialogue memory holds
(``handlers/memory.py``): the aspect asked is looked up among the entries of the remembered
procedure, and the remembered aspect among the entries of the procedure just named. An entry
is chosen because it answers that aspect (what its own phrasings ask, else what its answer
states), not because its words look like the follow-up's: a follow-up has almost no words of
its own, so plain retrieval often lands on a neighbouring aspect of the right procedure.

The result is a ``SearchResult`` as retrieval gives one, so answering, suggesting and saying
that an aspect is missing stay in one place (``handlers/faq.py``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeVar, cast

from knowledge import aspects as aspect_model
from knowledge import intents, search, selfcal
from knowledge.entry import Entry
from knowledge.lexicon import AMBIGUOUS_FOLDED, FILLERS, GENERIC
from knowledge.normalize import Analysis, ambiguous_readings, analyze, fold
from knowledge.normalize import words as split_words
from knowledge.search import Decision, Index, Match, SearchResult
from knowledge.selfcal import bundled_entries
from knowledge.topics import topic_at, topics_of

T = TypeVar("T")

VAGUE = frozenset({"how", "other"})
"""Aspects that say little about what an entry answers (as in ``knowledge/search.py``)."""
CREDIT = (frozenset({"fee", "amount"}),)
"""Aspects asked with the same words ("bao nhiêu tiền"): an entry on one answers the other when
the procedure has none on the aspect asked. Processing time and filing deadline are not such
a pair: a deadline does not answer "how long does it take"."""
ANSWER_CUE = 3.0
"""Cue weight from which an entry's answer text is taken to state an aspect (a place entry
that also says "nộp trực tuyến qua Cổng Dịch vụ công" answers "làm online được không")."""


@lru_cache(maxsize=65536)
def entry_aspects(entry: Entry) -> frozenset[str]:
    """The aspects an entry answers, from its stated aspect or its own phrasings."""
    return aspect_model.entry_aspects(
        analyze(entry.question), [analyze(a) for a in entry.alternatives], entry.aspect
    )


@lru_cache(maxsize=65536)
def _answer_weights(entry: Entry) -> dict[str, float]:
    return aspect_model.aspect_weights(analyze(entry.answer))


@lru_cache(maxsize=65536)
def keyword_aspects(entry: Entry) -> frozenset[str]:
    """The aspects an entry's keywords name on their own ("lệ phí", "nơi nộp", "điều kiện"):
    a base author's label for what the entry answers, where its phrasings say it unclearly."""
    return frozenset(
        a
        for k in entry.keywords
        if (a := aspect_model.primary(aspect_model.aspect_weights(analyze(k))))
    )


def answer_aspects(entry: Entry) -> frozenset[str]:
    """The aspects an entry's answer text clearly states (besides its own)."""
    return frozenset(a for a, v in _answer_weights(entry).items() if v >= ANSWER_CUE)


def main_aspect(entry: Entry) -> str:
    """The one concrete aspect an entry answers, or "" (several, or only vague ones)."""
    concrete = entry_aspects(entry) - VAGUE
    return next(iter(concrete)) if len(concrete) == 1 else ""


def read(index: Index, question: str) -> Analysis:
    """A message as retrieval reads it, except that a message typed with diacritics keeps its
    unmarked words as typed: "mang" in "cần mang gì theo" is "mang", not "mạng" (restoring
    marks is for messages typed without any)."""
    typed = analyze(question)
    return typed if typed.any_accented else analyze(index.restore(question))


def asked_aspect(index: Index, question: str) -> str:
    """The aspect a message clearly asks ("" when none), read as typed (see
    ``knowledge.search.PLAIN_CUES``)."""
    text = analyze(question) if search.PLAIN_CUES else read(index, question)
    if search.MEND_SLIPS:
        text = aspect_model.as_typed(text)
    return aspect_model.primary(aspect_model.aspect_weights(text))


def candidates(members: Sequence[Entry], aspect: str) -> tuple[Entry, ...]:
    """The procedure's entries that answer ``aspect``, best evidence first: entries whose
    phrasings ask it; else entries a keyword of which names it ("điều kiện" on "Người lao
    động được hưởng chế độ ốm đau khi nào?"); else entries whose answers state it; else, for
    fee and amount, entries on the other one."""
    own = tuple(e for e in members if aspect in entry_aspects(e))
    if own:
        return own
    labelled = tuple(e for e in members if aspect in keyword_aspects(e))
    if labelled:
        return labelled
    stated = [e for e in members if aspect in answer_aspects(e)]
    if stated:
        # strongest statement first; only it when clearly the strongest
        strength = {e.id: _answer_weights(e).get(aspect, 0.0) for e in stated}
        stated.sort(key=lambda e: -strength[e.id])
        if len(stated) == 1 or strength[stated[0].id] >= 1.5 * strength[stated[1].id]:
            return (stated[0],)
        return tuple(stated)
    family = next((f for f in CREDIT if aspect in f), frozenset())
    # Only entries about that family alone: "thời hạn tối đa bao nhiêu năm" reads as an amount
    # too, but an entry also on validity is no answer to "có mất phí không".
    return tuple(
        e
        for e in members
        if family & entry_aspects(e) - {aspect} and entry_aspects(e) - VAGUE <= family
    )


def decided_without_search(members: Sequence[Entry], aspect: str) -> bool:
    """Whether ``within`` decides a follow-up asking ``aspect`` from the procedure's entries
    alone: exactly one entry answers it, or none does and none is vague enough ("how to")
    to hold it. Otherwise retrieval must rank the candidates (one more search)."""
    if not aspect or aspect in VAGUE:
        return False
    found = candidates(members, aspect)
    if len(found) == 1:
        return True
    return not found and not any(entry_aspects(e) <= VAGUE for e in members)


def within(
    index: Index,
    key: str,
    aspect: str,
    question: str,
    ranked: SearchResult | None,
    entry_id: str = "",
) -> SearchResult | None:
    """The answer to ``aspect`` within procedure group ``key`` (and the id family of
    ``entry_id``, see ``related_entries``).

    One entry answers it: that entry. Several: the one retrieval ranks first among them
    (``ranked``: the follow-up searched with the procedure's words), answered when retrieval
    answered it too or it is the only one retrieval ranked, else offered with the others.
    None: the aspect is missing, unless retrieval answered with an entry of the procedure
    whose aspect is vague (a "how to" entry may well say it); ``None`` when no aspect is asked.
    """
    if not aspect or aspect in VAGUE:
        return None
    members = related_entries(index, key, entry_id)
    if not members:
        return None
    found = candidates(members, aspect)
    scores = {m.entry.id: m.score for m in ranked.matches} if ranked else {}
    if len(found) == 1:
        return _result(question, Decision.ANSWER, found, aspect, key, scores)
    if found:
        order = sorted(found, key=lambda e: -scores.get(e.id, float("-inf")))
        best = ranked.best if ranked else None
        if (
            ranked is not None
            and ranked.decision is Decision.ANSWER
            and best is not None
            and best.entry in found
        ):
            return _result(
                question, Decision.ANSWER, _first(best.entry, order), aspect, key, scores
            )
        strongest = _strongest(found, aspect)
        if strongest is not None:
            return _result(question, Decision.ANSWER, _first(strongest, order), aspect, key, scores)
        general = _general(index, members, found, question)
        if general is not None:
            return _result(question, Decision.ANSWER, _first(general, order), aspect, key, scores)
        listed = [e for e in order if e.id in scores]
        if len(listed) == 1:
            return _result(question, Decision.ANSWER, _first(listed[0], order), aspect, key, scores)
        return _result(question, Decision.SUGGEST, tuple(order), aspect, key, scores)
    if (
        ranked is not None
        and ranked.decision is Decision.ANSWER
        and ranked.best is not None
        and ranked.best.entry in members
        and entry_aspects(ranked.best.entry) <= VAGUE
    ):
        return ranked
    return SearchResult(
        question,
        Decision.FALLBACK,
        tuple(Match(e, scores.get(e.id, 0.0)) for e in members),
        aspect,
        missing_aspect=True,
        procedure=key,
        named=False,
    )


_PER_BASE: dict[tuple[str, int], tuple[tuple[Entry, ...], Any]] = {}
PER_BASE_SIZE = 16


def per_base(index: Index, name: str, build: Callable[[Index], T]) -> T:
    """``build(index)``, made once per base and kept while the base lives.

    Keyed by the base's tuple of entries, not by the index object: the handler gets a fresh
    wrapper around the index for each message (``bot/prefetch.py``), so a cache keyed by the
    object would be rebuilt for every message. An edit makes a new tuple, hence a new entry."""
    entries = index.entries
    slot = (name, id(entries))
    hit = _PER_BASE.pop(slot, None)
    if hit is not None and hit[0] is entries:
        _PER_BASE[slot] = hit  # the most recently used last
        return cast(T, hit[1])
    value = build(index)
    while len(_PER_BASE) >= PER_BASE_SIZE:
        # The least recently used goes; never all at once, which dropped a value made a
        # moment before for the same message ("related" while "families" was being made).
        del _PER_BASE[next(iter(_PER_BASE))]
    _PER_BASE[slot] = (entries, value)
    return value


def _families(index: Index) -> dict[str, tuple[Entry, ...]]:
    grouped: dict[str, list[Entry]] = {}
    for e in index.entries:
        if "/" in e.id:
            grouped.setdefault(e.id.split("/", 1)[0], []).append(e)
    return {k: tuple(v) for k, v in grouped.items()}


def related_entries(index: Index, key: str, entry_id: str = "") -> tuple[Entry, ...]:
    """A procedure group's entries, then the other entries of ``entry_id``'s id family
    ("can-cuoc/..."): bases name one procedure in several ways ("Cấp lại thẻ căn cước",
    "Cấp đổi, cấp lại thẻ căn cước"), and a follow-up is about the procedure as the citizen
    sees it."""
    if "/" not in entry_id:
        return index.group_entries(key)
    family = entry_id.split("/", 1)[0]
    known: dict[tuple[str, str], tuple[Entry, ...]] = per_base(index, "related", lambda _: {})
    related = known.get((key, family))
    if related is None:  # once per base, procedure and family (a message's cost otherwise)
        members = index.group_entries(key)
        own = {e.id for e in members}
        families = per_base(index, "families", _families)
        extra = [e for e in families.get(family, ()) if e.id not in own]
        related = known[(key, family)] = (*members, *extra)
    return related


def _first(entry: Entry, order: Sequence[Entry]) -> tuple[Entry, ...]:
    return (entry, *(e for e in order if e != entry))


def _strongest(found: Sequence[Entry], aspect: str) -> Entry | None:
    """The entry whose own phrasings ask the aspect far more plainly than the others' do
    ("Hồ sơ đăng ký mã số thuế gồm những gì?" against "Hồ sơ đăng ký mã số thuế được nộp tại
    cơ quan thuế nào?", which only mentions the documents), by ``STRONGER`` cue weight."""
    strength = sorted(
        (
            (max(aspect_model.aspect_weights(analyze(p)).get(aspect, 0.0) for p in e.phrasings), i)
            for i, e in enumerate(found)
        ),
        reverse=True,
    )
    (top, first), (runner_up, _) = strength[0], strength[1]
    return found[first] if top - runner_up >= STRONGER else None


def _general(
    index: Index, members: Sequence[Entry], found: Sequence[Entry], question: str
) -> Entry | None:
    """Among entries answering the same aspect of one procedure, the one for the general case
    ("Đăng ký kết hôn ở đâu?" rather than "... với người nước ngoài ở đâu?"), when the
    follow-up names none of the special cases' words.

    An entry's special words are the distinctive words of its closest-to-general phrasing
    that most of the procedure's entries do not share; the general entry has clearly fewer
    (by ``GENERAL_MARGIN`` of distinctive weight) than every other candidate.
    """
    core = _core_words(tuple(members))
    special: dict[str, frozenset[str]] = {}
    for e in found:
        options = []
        for p in e.phrasings:
            a = analyze(p)
            cues = aspect_model.cue_words(a)
            options.append(frozenset(w for w in a.content if w not in cues and w not in core))
        special[e.id] = min(options, key=lambda ws: sum(index.weight(w) for w in ws))
    asked = distinctive_words(index, question)
    if any(asked & words for words in special.values()):
        return None  # the follow-up itself says which case it is about
    weights = sorted((sum(index.weight(w) for w in special[e.id]), i) for i, e in enumerate(found))
    (low, first), (runner_up, _) = weights[0], weights[1]
    return found[first] if runner_up - low >= GENERAL_MARGIN else None


def asks_own_question(question: str) -> bool:
    """Whether a message holds a question word ("ai", "gì", "nào", "đâu" ...; see
    ``knowledge/lang/intents.yaml``)."""
    return intents.holds_any([fold(w) for w in split_words(question)], intents.QUESTION_WORDS)


def special_weight(index: Index, question: str, members: tuple[Entry, ...]) -> float:
    """The distinctive weight of a question's words that some of the procedure's entries use
    and most do not: the words of a special case ("nước ngoài" in "đăng ký kết hôn với người
    nước ngoài"; nothing in "còn đăng ký kết hôn thì sao"). A word typed with marks counts as
    typed: "còn" in "thế còn khuyết tật" is not the "con" of a case about children."""
    core = _core_words(members)
    own = group_words(members)
    return sum(
        weight
        for form, _marked, weight in _weighed_words(index, question)
        if form in own and fold(form) not in core
    )


@lru_cache(maxsize=4096)
def _core_words(members: tuple[Entry, ...]) -> frozenset[str]:
    """Words that at least half of a procedure's entries use in their phrasings or name."""
    counts: dict[str, int] = {}
    for e in members:
        texts = [t for t in (e.procedure, *e.phrasings) if t]
        for w in {w for t in texts for w in analyze(t).content}:
            counts[w] = counts.get(w, 0) + 1
    return frozenset(w for w, n in counts.items() if 2 * n >= len(members))


def _result(
    question: str,
    decision: Decision,
    entries: Sequence[Entry],
    aspect: str,
    key: str,
    scores: dict[str, float],
) -> SearchResult:
    matches = tuple(Match(e, scores.get(e.id, 0.0)) for e in entries)
    return SearchResult(question, decision, matches, aspect, procedure=key, named=False)


@lru_cache(maxsize=4096)
def citizen_name(members: tuple[Entry, ...]) -> str:
    """How citizens name a procedure, to spell a follow-up out ("" when unclear).

    The base's own keyword for it, when most of its entries carry the same one ("trợ cấp thất
    nghiệp"; several words rather than an initialism); else the words of its official name
    that most of its own phrasings repeat: an official name carries administrative words
    ("Giải quyết hưởng trợ cấp thất nghiệp") that cue some of its entries more than others.
    """
    if not members:
        return ""
    counts: dict[str, int] = {}
    for e in members:
        for k in {k.strip().lower() for k in e.keywords if k.strip()}:
            counts[k] = counts.get(k, 0) + 1
    # Shared by most of at least three entries: two entries sharing "trẻ em" or "đại lý thu"
    # say what they are about, not what the procedure is called.
    enough = max(3, (len(members) + 1) // 2)
    shared = [
        (len(k.split()) > 1, n, k) for k, n in counts.items() if n >= enough and _says_which(k)
    ]
    if shared:
        return max(shared)[2]
    name = members[0].procedure
    phrasings = [set(analyze(p).folded) for e in members for p in e.phrasings]
    if not name or not phrasings:
        return name
    core = [
        w for w in split_words(name) if sum(fold(w) in p for p in phrasings) >= 0.6 * len(phrasings)
    ]
    return " ".join(core) if core and _says_which(" ".join(core)) else name


def _says_which(name: str) -> bool:
    """Whether a name holds a word that says which procedure, not only what is done: "cấp lại"
    and "cấp đổi" name a dozen procedures ("cấp lại sổ đỏ", "cấp lại thẻ bảo hiểm y tế")."""
    return bool(selfcal.name_words(name) - GENERIC)


def named_procedure(index: Index, question: str) -> str:
    """The procedure group whose citizen name (``citizen_name``, two words or more) a
    question spells out word for word, folded and with short forms spelled out ("vậy tiền già
    thì sao ạ", "bhyt hộ gia đình"); the longest when several do, "" when none (or two of the
    same length)."""
    names = per_base(index, "citizen names", _citizen_names)
    folded = list(analyze(question).folded)  # short forms spelled out ("bhyt")
    hits = sorted(
        (
            (len(name), key)
            for i, first in enumerate(folded)
            for name, key in names.get(first, ())
            if tuple(folded[i : i + len(name)]) == name
        ),
        reverse=True,
    )
    if not hits or (len(hits) > 1 and hits[1][0] == hits[0][0] and hits[1][1] != hits[0][1]):
        return ""
    return hits[0][1]


def _citizen_names(index: Index) -> dict[str, tuple[tuple[tuple[str, ...], str], ...]]:
    """Each group's citizen name of two words or more that says which procedure it is,
    folded, by its first word. A name that is only aspect words ("lệ phí"), or that the texts
    of more than ``NAME_SHARED_BY`` other groups also use ("đăng ký", "trẻ em"), names none;
    one within another's name ("giấy phép lái xe" in "giấy phép lái xe quốc tế") is kept, the
    longest match wins."""
    groups: dict[str, tuple[Entry, ...]] = {}
    for e in index.entries:
        key = index.group_of(e)
        if key not in groups:
            groups[key] = index.group_entries(key)
    written: dict[tuple[str, ...], str] = {}
    for key, members in groups.items():
        name = citizen_name(members)
        a = analyze(name)
        if len(a.folded) < 2 or set(a.content) <= aspect_model.cue_words(a):
            continue
        words = tuple(w.lower() for w in split_words(name))
        written[words] = "" if words in written else key
    lengths = {len(w) for w in written}
    users: dict[tuple[str, ...], set[str]] = {}
    for key, members in groups.items():
        for ws in _lowered_texts(members):
            for n in lengths:
                for i in range(len(ws) - n + 1):
                    if (gram := tuple(ws[i : i + n])) in written:
                        users.setdefault(gram, set()).add(key)
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for words, key in written.items():
        if key and len(users.get(words, set()) - {key}) <= NAME_SHARED_BY:
            folded = analyze(" ".join(words)).folded
            by_first.setdefault(folded[0], []).append((folded, key))
    return {k: tuple(v) for k, v in by_first.items()}


def says(members: tuple[Entry, ...], phrase: str) -> bool:
    """Whether one of the procedure's phrasings or keywords holds ``phrase`` word for word, as
    written (lower case): "người nước ngoài" is a case of marriage registration, "tiền già"
    is not in "tiền mai táng" and "gia đình"."""
    wanted = tuple(w.lower() for w in split_words(phrase))
    if not wanted:
        return False
    return any(
        tuple(ws[i : i + len(wanted)]) == wanted
        for ws in _lowered_texts(members)
        for i in range(len(ws) - len(wanted) + 1)
    )


@lru_cache(maxsize=4096)
def _lowered_texts(members: tuple[Entry, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(
        tuple(w.lower() for w in split_words(t))
        for e in members
        for t in (e.procedure, *e.phrasings, *e.keywords)
        if t
    )


@lru_cache(maxsize=4096)
def group_words(members: tuple[Entry, ...], names_only: bool = False) -> frozenset[str]:
    """The content words of a procedure's names, phrasings and keywords (``names_only``: its
    name and keywords, the words that name it): folded, and also as written (with marks), so
    that a word typed with marks is matched as typed ("tử" of "khai tử" is not "từ")."""
    texts = [
        t
        for e in members
        for t in (e.procedure, *(() if names_only else e.phrasings), *e.keywords)
        if t
    ]
    return frozenset(w for t in texts for w in _words(analyze(t)))


def _words(a: Analysis) -> Iterator[str]:
    content = set(a.content)
    for tok, f in zip(a.tokens, a.folded, strict=True):
        if f in content:
            yield f
            yield tok.lower()


KNOWN_ONLY = True
"""A word no entry of the base uses ("sẵn", "khỏi" in "chuẩn bị sẵn ... để khỏi phải đi lại")
names none of its other procedures either: it is weighed by ``unknown_weight``."""


def foreign_weight(
    index: Index, question: str, members: tuple[Entry, ...], rival: Entry | None
) -> float:
    """How much a question is about another procedure than ``members``: the distinctive
    weight (``Index.weight``) of its words that the procedure does not use (and that
    ``rival``, when given, does: the entry retrieval ranks first for the question alone). A
    word typed with marks counts as typed ("còn" is not the "con" of birth registration;
    "tử" of "khai tử" is not "từ")."""
    own = group_words(members)
    # Words of the rival's name and keywords: "đáp ứng" in the rival entry's question does not
    # name its procedure.
    theirs = group_words((rival,), names_only=True) if rival is not None else frozenset()
    named = 0.0
    count = 0
    for form, _marked, weight in _weighed_words(index, question):
        if form in own or (KNOWN_ONLY and not index.knows(form)):
            continue
        if rival is None or form in theirs:
            named += weight
            count += 1
    # One word shared with another procedure is too little to name it: "con" typed without
    # marks is "còn" as often as the "con" of birth registration; procedure names are made
    # of several words ("xe máy", "hộ chiếu").
    return named if rival is None or count >= 2 else 0.0


OPENERS = frozenset({"còn"})
"""Words that open a follow-up ("còn thủ tục thì sao"): typed with marks, never a topic word,
whatever their folded form weighs in the base ("con", a child)."""


AGAIN = frozenset({"lại", "lai"})
""""lại" (again), as read (or typed without marks and left so): a content word for retrieval,
since it tells a re-issue entry from a first issue ("cấp lại"), but in a follow-up it qualifies
the action asked ("bao lâu thì phải làm lại", "làm lại tốn bao nhiêu") and names no other
procedure. Matched as written, not folded: "lái" of "bằng lái" does name one."""


def _weighed_words(index: Index, question: str) -> Iterator[tuple[str, bool, float]]:
    """Each distinctive content word of a question once (not an aspect cue, ``Index.weight`` at
    least ``MIN_WEIGHT``): its form (as typed when typed with marks, else folded), whether it
    was typed with marks, and its weight."""
    a = read(index, question)
    cues = aspect_model.cue_words(a)
    # A phrase typed without marks that may be either of two ("giay do": the land-use
    # certificate, or "giấy đó", that paper) names no other procedure in a follow-up: there
    # it is far more often the paper just talked about.
    seen: set[str] = set(ambiguous_readings(question))
    content = set(a.content)
    # A message opening with a word typed without marks whose folded form is also a filler
    # opens it with the filler ("the giay do ...": "thế", so; "con ... thi sao": "còn"), even
    # where restoring the marks from the base read another word ("thể" of "có thể").
    restored = not analyze(question).any_accented
    for at, (tok, f, marked) in enumerate(zip(a.tokens, a.folded, a.accented, strict=True)):
        if (
            (at == 0 and (restored or not marked) and f in AMBIGUOUS_FOLDED)
            or f not in content
            or f in cues
            or f in seen
            or tok.lower() in AGAIN
            or (marked and tok.lower() in OPENERS)
            or (search.MEND_SLIPS and aspect_model.mended_word(tok, f, marked))
        ):
            continue
        seen.add(f)
        weight = index.weight(f)
        if weight >= MIN_WEIGHT:
            yield (tok.lower() if marked else f), marked, weight


DOING_IT_BEFORE = frozenset({"muon", "duoc", "phai", "di", "ra", "can", "nen", "the", "moi"})
"""Folded words before a "làm" that has no object ("muốn làm thì", "có được làm không", "giờ mới đi
làm thì"): the citizen means doing the procedure talked about."""

HOW_WORDS = frozenset({"sao", "gi", "the", "nhu", "nao"})
"""Folded words after "làm" that ask how ("phải làm sao", "làm gì", "làm thế nào")."""

CLAUSE_OPENERS = frozenset({"thi", "ma", "nhung", "gio"})
"""Folded words that open the clause a "làm" without object stands in ("..., giờ muốn làm thì",
"... thì có được làm không")."""


def refers_back(index: Index, question: str) -> bool:
    """Whether the message speaks of doing "it", the procedure talked about: a "làm" with no
    object after a modal, in a clause that names nothing before it ("bả không có hộ khẩu ở đây
    thì có được làm không"). What the rest of the message names is the citizen's situation,
    not another procedure asked about; "tạm trú phải làm ở đâu" names what is to be done."""
    whole = read(index, question)
    if "lam" not in whole.folded:
        return False
    if any(f == "lam" and nxt in whole.content for f, nxt in itertools.pairwise(whole.folded)):
        return False  # "muốn làm hộ chiếu thì phải làm sao": the message says what is done
    for clause in re.split(r"[,.;:!?]", question):
        a = read(index, clause)
        content = set(a.content) - aspect_model.cue_words(a)
        folded = a.folded
        start = 0
        for at, f in enumerate(folded):
            if f in CLAUSE_OPENERS:
                start = at + 1
            if f != "lam" or at == 0 or folded[at - 1] not in DOING_IT_BEFORE:
                continue
            if at + 1 < len(folded) and folded[at + 1] in HOW_WORDS:
                continue  # "phải làm sao": how, not what
            if not any(w in content and index.weight(w) >= MIN_WEIGHT for w in folded[start:at]):
                return True
    return False


ASKER = frozenset({"tui", "toi", "em", "minh"})
"""Folded first-person pronouns a citizen speaks of themself with."""

BEING = frozenset({"la", "thuoc", "dien"})
"""Folded words between the asker and what they are ("tôi là", "tui thuộc diện")."""


def describes_asker(index: Index, question: str) -> bool:
    """Whether the message says what the asker is and asks an aspect ("Tui hộ nghèo có được
    miễn lệ phí không?", "tôi là người khuyết tật thì có phải đóng tiền không"): a first-person
    pronoun followed at once (or after "là", "thuộc diện") by a named topic. That topic is the
    citizen's status, not another procedure asked about; "tôi mất căn cước thì làm lại ở đâu"
    (a verb after the pronoun) still names one."""
    if not asked_aspect(index, question):
        return False
    a = read(index, question)
    words, content = a.folded, set(a.content)
    for at, word in enumerate(words):
        if word not in ASKER or (at and words[at - 1] in content):
            continue  # "trẻ em mồ côi": no pronoun after a word of the topic
        after = at + 1
        while after < len(words) and words[after] in BEING:
            after += 1
        topic = topic_at(words, after)
        if topic and not topic.startswith(search.OFF_DOMAIN):  # "em bị sốt": everyday subject
            return True
    return False


def unknown_weight(index: Index, question: str) -> float:
    """The distinctive weight of a question's words that neither the base (answers included)
    nor the bundled base ever uses ("xăng", "lít" in "xăng bao nhiêu một lít"): a follow-up is
    written in the words of public-service texts ("chờ", "đáp ứng"), a question about
    something else is not. A word typed with marks is looked up as typed in the bundled base
    (folded, "tết" would be "tệ", "tế", ...). A short form without a vowel ("kq", "dc") is
    not a word of another subject: it is how people shorten the ones they mean."""
    accented, folded = public_service_words()
    total = 0.0
    for form, marked, weight in _weighed_words(index, question):
        if (
            not index.knows(form)
            and form not in (accented if marked else folded)
            and (marked or VOWELS.intersection(form))
            and not (TYPOS_KNOWN and index.mendable(fold(form)))
        ):
            total += weight
    return total


VOWELS = frozenset("aeiouy")
TYPOS_KNOWN = True
"""A typo that spelling correction reads as a known word ("nhữg", "gom nhug") is not a word of
another subject either: only real words the texts never use count."""


def off_topic_weight(index: Index, question: str, members: tuple[Entry, ...]) -> float:
    """The distinctive weight of a question's words that the remembered procedure never uses
    (answers included) and that are not the common language of public-service texts (used by
    fewer than ``COMMON_SHARE`` of the bundled base's procedures): "ăn", "tết" in "đổi tiền
    mới ăn tết ở đâu". A follow-up brings few such words: "chờ", "gửi", "nhà" are common
    there, and a word of the procedure is its own; a form of address ("bot", "ad":
    ``intents.IGNORED_WORDS``) is about no subject. Words typed with marks count as typed."""
    own = _group_vocab(members)
    spread, groups = public_service_spread()
    common = COMMON_SHARE * groups
    return sum(
        weight
        for form, marked, weight in _weighed_words(index, question)
        if form not in own
        and (marked or (form not in FOLDED_FILLERS and form not in intents.IGNORED_WORDS))
        and spread.get(form, 0) < common
    )


@lru_cache(maxsize=4096)
def _group_vocab(members: tuple[Entry, ...]) -> frozenset[str]:
    """Every word of a procedure's texts, answers included: folded, and as written."""
    out: set[str] = set()
    for e in members:
        for text in (e.category, e.procedure, *e.phrasings, *e.keywords, e.answer):
            if text:
                out.update(_all_words(analyze(text)))
    return frozenset(out)


def _all_words(a: Analysis) -> Iterator[str]:
    for tok, f in zip(a.tokens, a.folded, strict=True):
        yield f
        yield tok.lower()


@lru_cache(maxsize=1)
def public_service_spread() -> tuple[dict[str, int], int]:
    """For each word of the bundled base (as written, lower case, and folded), how many of its
    procedures use it; and how many procedures it has."""
    seen: dict[str, set[str]] = {}
    keys: set[str] = set()
    for e in bundled_entries():
        key = e.procedure or e.id.split("/", 1)[0]
        keys.add(key)
        for text in (e.procedure, e.category, e.answer, *e.phrasings, *e.keywords):
            for w in split_words(text or ""):
                seen.setdefault(w.lower(), set()).add(key)
                seen.setdefault(fold(w), set()).add(key)
    return {w: len(k) for w, k in seen.items()}, len(keys)


@lru_cache(maxsize=1)
def public_service_words() -> tuple[frozenset[str], frozenset[str]]:
    """Words of the bundled base (``knowledge/data``, 500+ entries over 130+ procedures,
    answers included), as written (lower case) and folded: the vocabulary of public-service
    texts."""
    out: set[str] = set()
    for e in bundled_entries():
        for text in (e.procedure, e.category, e.answer, *e.phrasings, *e.keywords):
            out.update(w.lower() for w in split_words(text))
    return frozenset(out), frozenset(fold(w) for w in out)


FOLDED_FILLERS = frozenset(fold(w) for w in FILLERS)
"""Politeness words, pronouns and particles without marks: "co" typed without marks is "có"
as often as "cơ" of "cơ quan"."""


def tells_a_story(index: Index, question: str) -> bool:
    """Whether a message is long (``search.LONG_QUESTION`` content words), asks an aspect
    clearly and names no everyday subject outside public services (``topics.yaml``, prefix
    "off-"): "tuần sau em đi công tác rồi, nộp hôm nay thì khoảng bao lâu mới xong, có kịp
    trước khi em đi không ạ". Such a message tells the citizen's situation in everyday words
    ("công tác", "kịp") that no public-service text uses; they say nothing of another subject."""
    a = analyze(question)
    if len(a.content) < search.LONG_QUESTION or not asked_aspect(index, question):
        return False
    return not names_everyday_subject(question)


def names_everyday_subject(question: str) -> bool:
    """Whether a message names an everyday subject outside public services (``topics.yaml``,
    prefix "off-": "giá vàng", "bóng đá")."""
    return any(t.startswith(search.OFF_DOMAIN) for t in topics_of(analyze(question)))


def names_a_topic(index: Index, question: str) -> bool:
    """Whether a message holds a word about a topic at all: a distinctive word that is not an
    aspect cue, not generic, and not a filler typed without marks ("co" in "co nop qua mang
    duoc khong"). "có nộp qua mạng được không" holds none, whatever base keyword it matches:
    it asks an aspect of the procedure being discussed."""
    return any(
        marked or form not in FOLDED_FILLERS for form, marked, _w in _weighed_words(index, question)
    )


def distinctive_words(index: Index, question: str) -> frozenset[str]:
    """The content words of a question that say something about its topic: not aspect cues,
    not generic words (``Index.weight`` above ``MIN_WEIGHT``)."""
    a = read(index, question)
    cues = aspect_model.cue_words(a)
    return frozenset(w for w in a.content if w not in cues and index.weight(w) >= MIN_WEIGHT)


MIN_WEIGHT = 0.3
NAME_SHARED_BY = 2
COMMON_SHARE = 0.07
"""Share of the bundled base's procedures from which a word is common public-service language
(about 10 of 139: "chờ" 13, "gửi" 36; "tết" 4, "ăn" 7)."""
GENERAL_MARGIN = 0.5
STRONGER = 1.5
