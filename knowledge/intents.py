"""What a message is before any knowledge-base search: small talk or a dossier question.

The phrases and replies live in ``knowledge/lang/intents.yaml`` (editable data). Matching is on
folded words, so "cam on bot nha" and "cảm ơn bot nha" are the same. A "whole" intent (greeting,
thanks, ...) matches only a message made of nothing else; other intents match a short message
that contains one of their phrases, or one phrase of every group of ``all_of`` (an intent may
have both: a few set phrases, and the combinations of a person word with a contact verb that no
list of phrases could spell out). Whole intents read ``all_of`` the same way ("bn" + "là ai").
"""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from knowledge import aspects, lang
from knowledge.normalize import analyze, fold, has_marks, nfc, words
from knowledge.topics import topics_of

SMALL_TALK_DECISION = "smalltalk"
PROGRESS_DECISION = "progress"
NON_QUESTION_DECISIONS = frozenset({SMALL_TALK_DECISION, PROGRESS_DECISION})
"""Logged decisions that are not questions: statistics and the inbox leave them out."""

# Checked in this order: a dossier question wins over a complaint about delay, which wins over
# the courtesy words around it.
_ORDER = ("progress", "human", "abuse", "complaint", "identity", "goodbye", "thanks", "greeting")
_WHOLE_FALLBACK_ORDER = ("ok",)
_QUESTION_LIKE = frozenset({"progress", "complaint"})
_TOPIC_MAKES_QUESTION = frozenset({"human"})
"""Intents whose words, once taken out, must leave no public-service topic: a person word in
a message about a named procedure is the subject of a question ("nhân viên xã có được chứng
thực không", "gặp cán bộ nào để đăng ký tạm trú"), not a call for a person."""
YIELDS_TO_ANSWER = frozenset({"complaint", "human", "abuse"})
"""Intents whose messages the knowledge base may still answer outright ("Sao làm thừa kế lâu
vậy?", "Công ty có được xin phiếu lý lịch của nhân viên không?"): the handler searches first
and replies to the intent only when the base has no confident answer. Abuse too: a slip of one
mark makes a word of a real question an insult ("điên" for "điện" in "lắp điên mới"), and a
citizen who swears while asking a question the base answers is best served by the answer."""


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    whole: bool
    phrases: tuple[tuple[str, ...], ...]
    all_of: tuple[tuple[tuple[str, ...], ...], ...]
    max_words: int
    replies: tuple[str, ...]
    none_of: tuple[tuple[str, ...], ...] = ()
    """Phrases that rule the intent out wherever they stand ("chưa có căn cước" says a paper is
    lacking, not that a dossier has no result yet), unless one of ``unless`` is there too
    ("nộp rồi mà chưa có sổ đỏ": the dossier was handed in)."""
    unless: tuple[tuple[str, ...], ...] = ()
    or_all_of: tuple[tuple[tuple[tuple[str, ...], ...], ...], ...] = ()
    """Other sets of ``all_of`` groups, any of which also matches ("hồ sơ đang ở bước nào" needs
    no "của tôi": where a dossier stands is asked only of one's own)."""
    not_asking: tuple[tuple[str, ...], ...] = ()
    """Phrases that, left over, ask nothing: how a dossier was handed in ("nộp online", "nộp
    qua bưu điện") names the aspect "online" or "result" without asking it, so it does not
    make "hồ sơ em nộp qua bưu điện tới chưa" a question."""
    exact_marks: frozenset[str] = frozenset()
    """Cue words written with their real diacritics (``exact_marks: true`` in the data): a
    typed word that carries marks must be spelled the same ("khùng" is abuse, "khủng long" is
    not); a word typed without marks still matches by its folded form."""


def _phrases(raw: list[str]) -> tuple[tuple[str, ...], ...]:
    """Folded phrases, longest first, phrases of one length in the data's order: which of two
    overlapping phrases is taken out first ("mày là ai" or "là ai vậy" in "mày là ai vậy")
    decides what is left, so the order must not depend on the process's string hashing."""
    folded = dict.fromkeys(tuple(fold(str(p)).split()) for p in raw)
    return tuple(sorted((p for p in folded if p), key=len, reverse=True))


def _combined(groups: list[list[str]]) -> list[str]:
    """The phrases ``combine`` stands for: one phrase of each group, in order, next to each
    other ("chậm" + "dữ vậy"), every combination."""
    if not groups:
        return []
    return [" ".join(str(p) for p in parts) for parts in itertools.product(*groups)]


def _exact_words(spec: dict[str, object]) -> frozenset[str]:
    raw = spec.get("phrases", [])
    assert isinstance(raw, list)
    return frozenset(w for p in raw for w in words(str(p)))


_TAGS = frozenset({"khong", "ko", "k", "hong", "hok", "hem", "phai", "chu", "z", "v"})
"""Question tags that may end a question put to the bot itself ("bạn có cảm xúc không")."""
WHOLE_EXTRA = 3
_WEAK = frozenset({"ok"})
"""Words besides its phrases and the ``ignore`` list that a whole intent tolerates ("cảm ơn nha,
dễ hiểu quá", "tuyệt vời, cảm ơn!"), when none of them asks anything or names a topic."""


def _load() -> tuple[dict[str, Intent], frozenset[str]]:
    data = lang.load("intents")
    out = {}
    for name, spec in data["intents"].items():
        out[name] = Intent(
            name=name,
            whole=bool(spec.get("whole", False)),
            phrases=_phrases([*spec.get("phrases", []), *_combined(spec.get("combine", []))]),
            all_of=tuple(_phrases(group) for group in spec.get("all_of", [])),
            or_all_of=tuple(
                tuple(_phrases(group) for group in groups) for groups in spec.get("or_all_of", [])
            ),
            max_words=int(spec.get("max_words", 0)),
            replies=tuple(str(r).strip() for r in spec["replies"]),
            none_of=_phrases(spec.get("none_of", [])),
            unless=_phrases(spec.get("unless", [])),
            not_asking=_phrases(spec.get("not_asking", [])),
            exact_marks=_exact_words(spec) if spec.get("exact_marks") else frozenset(),
        )
    return out, frozenset(fold(str(w)) for w in data["ignore"])


INTENTS, IGNORED_WORDS = _load()
"""Folded forms of address and particles (``ignore``: "bot", "ad", "ơi", "nha"): words that
carry no subject of their own."""
_DATA = lang.load("intents")
QUESTION_WORDS: tuple[tuple[str, ...], ...] = tuple(
    tuple(str(w).split()) for w in _DATA.get("question_words", [])
)
"""Folded question words ("ai", "gì", "nào", "đâu" ...; ``question_words`` in the data)."""
_SPELLED_QUESTION_WORDS = frozenset(
    nfc(str(w)).lower() for w in _DATA.get("question_words_spelled", [])
)


def _no_question_words(text: str) -> frozenset[str]:
    """Folded question words the message holds only as other words, typed with other marks
    ("lần đầu", "cái máy", "báo cáo"; ``question_words_spelled``): not questions. A word that
    the message also holds spelled as the question word, or without marks, is left a question
    word."""
    typed = words(text)
    single = {q[0] for q in QUESTION_WORDS if len(q) == 1}
    other = {fold(w) for w in typed if has_marks(w) and w not in _SPELLED_QUESTION_WORDS}
    asked = {fold(w) for w in typed if not has_marks(w) or w in _SPELLED_QUESTION_WORDS}
    return frozenset((other - asked) & single)


_ASKING: tuple[tuple[str, ...], ...] = tuple(
    tuple(q.split())
    for q in ("bao lau", "bao nhieu", "bao gio", "may ngay", "may thang", "khi nao", "o dau")
)
"""Question words that ask by themselves, unlike "báo" or "tới đâu" (how far a dossier got)."""
_EMOJI: dict[str, str] = {
    str(ch): str(name) for name, chars in (_DATA.get("emoji") or {}).items() for ch in chars
}
"""Emoji that say something on their own (a thumbs-up, folded hands, an angry face)."""


_REPEATS = re.compile(r"(.)\1+")


def _face(token: str) -> str:
    """A space-separated token as the emoticon table keys it: lower case, every run of one
    character written once (":)))" and ":)" are one smile, "T_T" and "t_t" one tear)."""
    return _REPEATS.sub(r"\1", token.lower())


_EMOTICONS: dict[str, str] = {
    _face(str(face)): str(name)
    for name, faces in (_DATA.get("emoticons") or {}).items()
    for face in faces
}
"""Keyboard emoticons (``emoticons`` in the data), keyed by ``_face``."""


def _without_emoticons(text: str) -> tuple[str, list[str]]:
    """The message with its emoticon tokens taken out, and what those say, in order: the
    letters of ":D", "T_T" or ":v" are no words of the message."""
    kept: list[str] = []
    said: list[str] = []
    for token in text.split():
        name = _EMOTICONS.get(_face(token))
        if name is None:
            kept.append(token)
        else:
            said.append(name)
    return " ".join(kept), said


def _emoji_intent(text: str, said: Sequence[str] = ()) -> Intent | None:
    """The intent of a message without words: its first telling emoticon (``said``, what
    ``_without_emoticons`` took out) or emoji, else a greeting (a call for attention: "?")."""
    for name in said:
        if name in INTENTS:
            return INTENTS[name]
    for ch in text:
        told = _EMOJI.get(ch) or _emoji_named(ch)
        if told is not None and told in INTENTS:
            return INTENTS[told]
    return INTENTS.get("greeting") if text.strip() or said else None


_EMOJI_NAMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (str(name), re.compile(r"\b(?:" + "|".join(re.escape(str(w)) for w in cues) + r")\b"))
    for name, cues in (_DATA.get("emoji_names") or {}).items()
    if cues
)


def _emoji_named(ch: str) -> str | None:
    """The intent an emoji's Unicode name tells (``emoji_names``), for emoji the table lacks."""
    if ch.isascii() or ch.isalnum():
        return None
    described = unicodedata.name(ch, "")
    return next((name for name, cue in _EMOJI_NAMES if cue.search(described)), None)


_MASKED = re.compile(r"[^\W\d_]\*+[^\W\d_]|(?<![^\W\d_*])[^\W\d_]\*\*+(?![^\W\d_*])")
"""A word with letters masked by asterisks: "đ*o", "v**l", "c**" (not "lưu ý*", "5*3")."""
_MASKED_IS = str(_DATA.get("masked_is") or "")


_STRETCHED = re.compile(r"([a-z])\1{2,}$")


_LAUGHS = re.compile(r"([a-z]{2})\1{2,}")
_VOCABULARY = (
    frozenset(
        w
        for intent in INTENTS.values()
        for phrases in (intent.phrases, *intent.all_of)
        for phrase in phrases
        for w in phrase
    )
    | IGNORED_WORDS
)
"""Every folded word of the intents' phrases and of ``ignore``."""


def _unstretched(word: str) -> str:
    """A folded word with a last letter typed three times or more written once ("quáaa",
    "chánnn", "aiii"): chat stretches a word's end for feeling; no Vietnamese syllable ends
    with a letter tripled, and doubled ones ("cc", "pp", "kk") are cues of their own. A last
    letter typed twice is written once when only that makes a word of the intents ("okk",
    "chàoo", "dạa", "vângg"; not "see", a word itself), and a laugh's syllable said three
    times or more is said twice ("hahaha", "hihihi": "haha", "hihi")."""
    if len(word) < 3:
        return word
    if word[-1] == word[-2] == word[-3]:
        return _STRETCHED.sub(r"\1", word)
    if word[-1] == word[-2] and word not in _VOCABULARY and word[:-1] in _VOCABULARY:
        return word[:-1]
    laugh = _LAUGHS.fullmatch(word)
    return laugh.group(1) * 2 if laugh else word


def holds_any(toks: list[str], phrases: tuple[tuple[str, ...], ...]) -> bool:
    """Whether folded words hold one of the phrases."""
    return any(_find(toks, phrase) >= 0 for phrase in phrases)


def _asks_with_question_word(words: list[str]) -> bool:
    """Whether a whole message asks an aspect with a question word ("mất bao lâu vậy" asks the
    processing time, though "lâu vậy" alone vents about it)."""
    return holds_any(words, _ASKING) and _asks(words)


def _plain_extra(words_left: list[str], text: str) -> bool:
    """Whether words left over by a whole intent (in a message asking nothing) are only a
    remark: few, without a question word, naming no topic ("dễ hiểu quá", "giúp được nhiều
    lắm")."""
    extra = [w for w in words_left if w not in IGNORED_WORDS]
    if not extra:
        return True
    if len(extra) > WHOLE_EXTRA:
        return False
    other = _no_question_words(text)
    if holds_any([w for w in words_left if w not in other], QUESTION_WORDS):
        return False
    return not topics_of(analyze(text))


def _spelled(typed: list[str], folded: list[str], exact: frozenset[str]) -> list[str]:
    """Folded words, except that a word typed with marks that is not one of the exactly
    spelled cue words can match no cue (it is replaced by a token no phrase holds), and so
    can a word typed without marks that forms, with a neighbour, a word pair of public-service
    texts ("dien thoai" is "điện thoại", not "điên")."""
    pairs = _service_pairs()
    out = []
    for i, (w, f) in enumerate(zip(typed, folded, strict=True)):
        if has_marks(w):
            out.append(f if w in exact else "\x00")
            continue
        left = folded[i - 1] if i > 0 and not has_marks(typed[i - 1]) else ""
        right = folded[i + 1] if i + 1 < len(folded) and not has_marks(typed[i + 1]) else ""
        compound = (left not in IGNORED_WORDS and (left, f) in pairs) or (
            right not in IGNORED_WORDS and (f, right) in pairs
        )
        out.append("\x00" if compound else f)
    return out


@lru_cache(maxsize=1)
def _service_pairs() -> frozenset[tuple[str, str]]:
    """Folded word pairs of the bundled base (``knowledge/data``: 500+ entries, answers
    included): the compounds public-service texts use."""
    from knowledge.selfcal import bundled_entries  # loaded once, on the first abusive cue

    out: set[tuple[str, str]] = set()
    for e in bundled_entries():
        for text in (e.answer, *e.phrasings, *e.keywords, e.procedure):
            out.update(itertools.pairwise(fold(w) for w in words(text)))
    return frozenset(out)


class _PhraseSet:
    """A tuple of phrases (longest first) indexed by word, so that a message is only tried
    against the phrases whose every word it holds: a phrase with a word the message lacks can
    never be found in it, nor in what is left of it once other phrases are taken out (taking
    words out adds none). The phrases tried keep their order, so what ``_strip`` removes, and
    in which order, is the same as trying them all."""

    __slots__ = ("_by_word", "_needed", "_words", "phrases")

    def __init__(self, phrases: tuple[tuple[str, ...], ...]) -> None:
        self.phrases = phrases
        by_word: dict[str, list[int]] = {}
        for position, phrase in enumerate(phrases):
            for word in set(phrase):
                by_word.setdefault(word, []).append(position)
        self._by_word = {w: tuple(p) for w, p in by_word.items()}
        self._needed = tuple(len(set(phrase)) for phrase in phrases)
        self._words = frozenset(by_word)

    def candidates(self, present: set[str]) -> list[tuple[str, ...]]:
        """The phrases (in their order) whose words are all in ``present``."""
        shared = self._words.intersection(present)
        if not shared:
            return []  # (most messages hold no word of most groups)
        counts: dict[int, int] = {}
        by_word = self._by_word
        for word in shared:
            for position in by_word[word]:
                counts[position] = counts.get(position, 0) + 1
        needed = self._needed
        found = [i for i, n in counts.items() if n == needed[i]]
        found.sort()
        return [self.phrases[i] for i in found]

    def any_in(self, present: set[str]) -> bool:
        """Whether some phrase has all its words in ``present``."""
        return bool(self.candidates(present))


_PHRASE_SETS: dict[int, _PhraseSet] = {}


def _phrase_set(phrases: tuple[tuple[str, ...], ...]) -> _PhraseSet:
    """The word index of a tuple of phrases, built once per tuple (an intent's phrases and
    its ``all_of`` groups live as long as the process)."""
    compiled = _PHRASE_SETS.get(id(phrases))
    if compiled is None or compiled.phrases is not phrases:
        if len(_PHRASE_SETS) > 1000:  # tuples made per call (tests) would grow it forever
            _PHRASE_SETS.clear()
        compiled = _PHRASE_SETS[id(phrases)] = _PhraseSet(phrases)
    return compiled


def _find(toks: list[str], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    first = phrase[0]
    last = len(toks) - n
    i = -1
    while True:
        try:
            i = toks.index(first, i + 1, last + 1)
        except ValueError:
            return -1
        if n == 1 or tuple(toks[i : i + n]) == phrase:
            return i


def _strip(toks: list[str], phrases: tuple[tuple[str, ...], ...]) -> tuple[list[str], bool]:
    """Remove every occurrence of the phrases (longest first); whether any was found."""
    found = False
    for phrase in _phrase_set(phrases).candidates(set(toks)):
        while (i := _find(toks, phrase)) >= 0:
            toks = toks[:i] + toks[i + len(phrase) :]
            found = True
    return toks, found


def _may_match(intent: Intent, present: set[str]) -> bool:
    """Whether the words ``present`` hold some phrase of the intent, or some phrase of every
    group of one of its ``all_of`` sets: a cheap test that ``_matched`` can only pass when this
    does."""
    if intent.phrases and _phrase_set(intent.phrases).any_in(present):
        return True
    return any(
        groups and all(_phrase_set(group).any_in(present) for group in groups)
        for groups in (intent.all_of, *intent.or_all_of)
    )


def _matched(intent: Intent, toks: list[str]) -> list[str] | None:
    """The words left once the intent's matched phrases are taken out, or None when the
    intent does not match (one of its phrases, or one phrase of every group of its ``all_of``
    or of one ``or_all_of`` set; none of ``none_of``). Both are taken out when both are there
    ("trợ lý ảo" + "là gì"): what is left must be only what the intent does not explain."""
    if (
        intent.none_of
        and _strip(toks, intent.none_of)[1]
        and not (intent.unless and _strip(toks, intent.unless)[1])
    ):
        return None
    rest, found = _strip(toks, intent.phrases) if intent.phrases else (toks, False)
    # (from the whole message too: a phrase may hold a word of a group, "trợ lý ảo")
    for start in (rest, toks) if found else (toks,):
        left = _groups_rest(intent, start)
        if left is not None:
            return _strip(left, intent.phrases)[0] if found else left
    return rest if found else None


def _groups_rest(intent: Intent, toks: list[str]) -> list[str] | None:
    """The words left once a phrase of every group of the intent's ``all_of`` (or of one
    ``or_all_of`` set) is taken out, or None when no set is found whole."""
    if not intent.all_of:
        return None
    for groups in (intent.all_of, *intent.or_all_of):
        left = toks
        for group in groups:
            left, in_group = _strip(left, group)
            if not in_group:
                break
        else:
            return left
    return None


def _asks_besides(words_left: list[str], message: list[str]) -> bool:
    """Whether the words a complaint's cues leave ask something of their own: a question word
    ("chậm trễ giải quyết hồ sơ thì bị xử lý thế nào") or a yes/no question ("thủ tục đăng ký
    hộ kinh doanh có phiền hà không"). After a negation anywhere in the message "gì", "ai",
    "đâu" mean "nothing", "nobody", "nowhere" ("chờ mãi không thấy gì", "chẳng thấy đâu"); "báo"
    and "máy" fold to "bao" and "may", so neither counts; and the venting forms that hold a
    question word are cues themselves ("kiểu gì vậy", "gì mà")."""
    left = [w for w in words_left if w != "\x00"]
    if not left:
        return False
    asking = _COMPLAINT_ASKING
    if any(w in _NEGATIONS for w in message):
        asking = tuple(q for q in asking if q not in _INDEFINITE)
    if holds_any(left, asking):
        return True
    return left[-1] in _NEGATIONS and holds_any(left[:-1], (("co",), ("duoc",)))


_INDEFINITE = frozenset({("gi",), ("ai",), ("dau",), ("nao",)})
"""Question words that, after a negation, mean "nothing", "nobody", "nowhere", "none"."""
_NEGATIONS = frozenset({"khong", "ko", "k", "hong", "hok", "hem", "chang", "cha", "chua"})
_COMPLAINT_ASKING: tuple[tuple[str, ...], ...] = (
    *_ASKING,
    ("the", "nao"),
    ("ntn",),
    ("nao",),
    ("gi",),
    ("ai",),
    ("dau",),
)


def _names_topic(words_left: list[str]) -> bool:
    """Whether words name a topic of ``topics.yaml`` (a procedure or its field)."""
    text = " ".join(w for w in words_left if w != "\x00")
    return bool(text) and bool(topics_of(analyze(text)))


def _asks(words_left: list[str]) -> bool:
    """Whether words clearly ask an aspect of a procedure ("gửi ở đâu", "mất bao lâu")."""
    text = " ".join(w for w in words_left if w != "\x00")
    return bool(text) and bool(aspects.primary(aspects.aspect_weights(analyze(text))))


def detect(text: str) -> Intent | None:
    """The intent of a message, or None for a question to search the knowledge base for."""
    text, said = _without_emoticons(text)
    typed = words(text)
    toks = [_unstretched(fold(w)) for w in typed]
    if not toks:
        # An emoji, ":))", "?": what the emoticon or emoji says, else a call for attention.
        return _emoji_intent(text, said)
    masked = _MASKED.search(text) is not None
    # The same words with abbreviations and teen code written out ("hs" -> "hồ sơ").
    expanded = [_unstretched(w) for w in analyze(text).folded if w]
    readings = [toks] if expanded == toks else [toks, expanded]
    for name in _ORDER:
        intent = INTENTS.get(name)
        if intent is None or intent.whole:
            continue
        if intent.max_words and len(toks) > intent.max_words:
            continue
        if masked and name == _MASKED_IS:
            return intent  # (a hidden swear word: "đ*o hiểu gì", "bot v*l")
        for reading in readings:
            if intent.exact_marks:
                if reading is not toks or not _may_match(intent, set(toks)):
                    continue  # (the spelled reading only masks words: no phrase, no match)
                reading = _spelled(typed, toks, intent.exact_marks)
            rest = _matched(intent, reading)
            if rest is None:
                continue
            # A message that, besides the intent's own words, clearly asks something about a
            # procedure ("muốn phản ánh thì gửi ở đâu", "hồ sơ đã nộp rồi có rút lại được
            # không") is a question even when it also vents about delays or names a dossier.
            if name in _QUESTION_LIKE and _asks(_strip(rest, intent.not_asking)[0]):
                continue
            if name == "complaint" and _asks_with_question_word(reading):
                continue  # (a dossier question says whose it is: "sổ đỏ của tôi bao giờ có")
            if name in _TOPIC_MAKES_QUESTION and _names_topic(rest):
                continue
            if name == "complaint" and _asks_besides(rest, reading):
                continue
            return intent
    # Whole intents: the message is only courtesy words.
    whole = [INTENTS[n] for n in (*_ORDER, *_WHOLE_FALLBACK_ORDER) if n in INTENTS]
    whole = [i for i in whole if i.whole]
    # Asked of the bot itself in a word of each group and nothing else ("bạn sống ở đâu",
    # "bạn mấy tuổi", "bạn thuộc cơ quan nào"): the aspect words are about the bot.
    for reading in readings:
        for intent in whole:
            left = _groups_rest(intent, reading)
            if left is not None and all(w in IGNORED_WORDS or w in _TAGS for w in left):
                return intent
    # Read with the marks typed: "giúp được nhiều lắm" is no "được nhiêu" (how much).
    if aspects.primary(aspects.aspect_weights(analyze(text))):
        readings = []
    for reading in readings:
        rest = reading
        matched: list[Intent] = []
        for intent in whole:
            left = _matched(intent, rest)
            if left is not None:
                rest = left
                matched.append(intent)
        if not matched:
            continue
        if all(w in IGNORED_WORDS for w in rest):
            return _taking_leave(matched[0], matched, reading)
        # A remark besides the courtesy ("cảm ơn nha, dễ hiểu quá"), but not besides words as
        # weak as "được", "không" or "ok", which end many a question ("... được hông").
        strong = [i for i in matched if i.name not in _WEAK]
        if strong and _plain_extra(rest, text):
            return _taking_leave(strong[0], matched, reading)
    if all(w in IGNORED_WORDS for w in toks):
        # Forms of address and particles only ("bot ơi", "ad ơi", "cho hỏi"): a greeting;
        # particles without anyone called ("có ạ", "rồi", "hả"): an answer to the last reply.
        if not any(_calls(w) for w in typed) and "ok" in INTENTS:
            return INTENTS["ok"]
        return INTENTS.get("greeting")
    return _greeting_and_remark(typed, toks)


_ADDRESSES = frozenset(nfc(str(w)).lower() for w in _DATA.get("addresses", []))
_ADDRESSES_FOLDED = frozenset(fold(w) for w in _ADDRESSES)


def _calls(word: str) -> bool:
    """Whether a typed word calls someone (``addresses``): spelled so, or without marks."""
    if has_marks(word):
        return word in _ADDRESSES
    return fold(word) in _ADDRESSES_FOLDED


def _greeting_and_remark(typed: list[str], toks: list[str]) -> Intent | None:
    """A greeting that opens the message, then words that ask nothing and name no subject
    (``chatter``: no question word, aspect or topic): whom the citizen greets or who they are
    ("xin chào trung tâm hành chính công", "hi bot, e mới dùng lần đầu", "chào ad, mình ở
    Cái Răng"), too many words for the remark a whole intent tolerates besides its phrases."""
    greeting = INTENTS.get("greeting")
    if greeting is None:
        return None
    at, greeted = 0, False
    while at < len(toks):
        phrase = next((p for p in greeting.phrases if tuple(toks[at : at + len(p)]) == p), None)
        if phrase is not None:
            at += len(phrase)
            greeted = True
        elif toks[at] in IGNORED_WORDS:
            at += 1
        else:
            break
    if not greeted or at == len(toks):
        return None
    return greeting if chatter(" ".join(typed[at:])) is not None else None


def _last_at(toks: list[str], phrases: tuple[tuple[str, ...], ...]) -> int:
    """Where the last occurrence of any of the phrases starts, or -1."""
    return max(
        (i for i in range(len(toks)) for p in phrases if tuple(toks[i : i + len(p)]) == p),
        default=-1,
    )


_CLOSING = _phrases(
    [str(p) for p in ((_DATA.get("intents") or {}).get("greeting") or {}).get("closing", [])]
)
"""Greeting words that, said after something else, take leave (``closing`` in the data)."""


def _taking_leave(chosen: Intent, matched: list[Intent], reading: list[str]) -> Intent:
    """``goodbye`` instead of what a courtesy-only message was read as, when a greeting word
    comes after what the citizen had to say: "chào" opens a chat ("dạ em chào ad ạ", "alo,
    chào bạn") but, after thanks or a remark, closes it ("cảm ơn nha, chào", "thôi không hỏi
    nữa, chào"; the closing act wins, as "cảm ơn, tạm biệt" is a goodbye)."""
    greeting = INTENTS.get("greeting")
    goodbye = INTENTS.get("goodbye")
    if greeting is None or goodbye is None or greeting not in matched or not _CLOSING:
        return chosen
    at = _last_at(reading, _CLOSING)
    if at <= 0:
        return chosen
    # Words of a greeting phrase ("kính chào", "alo") are no remark, even one that holds the
    # closing word itself ("kính chào quý cơ quan").
    spans = [
        (i, i + len(p))
        for p in greeting.phrases
        for i in range(len(reading))
        if tuple(reading[i : i + len(p)]) == p
    ]
    if any(start < at < end for start, end in spans):
        return chosen
    greeted = {i for start, end in spans for i in range(start, end)}
    said = [w for i, w in enumerate(reading[:at]) if i not in greeted and w not in IGNORED_WORDS]
    return goodbye if said else chosen


_CHATTER = (_DATA.get("intents") or {}).get("chatter") or {}
_NOT_CHATTER: tuple[tuple[str, ...], ...] = (
    *_ASKING,
    *(tuple(str(p).split()) for p in _CHATTER.get("asks", [])),
)
_YES_NO_ENDS = frozenset(str(w) for w in _CHATTER.get("yes_no", []))
_YES_NO_VERBS: tuple[tuple[str, ...], ...] = (("co",), ("duoc",), ("phai",))
_EXCLAIMS = _phrases([str(p) for p in _CHATTER.get("exclaims", [])])


def _exclaims(toks: list[str]) -> bool:
    """Whether folded words end with an intensifier (``chatter.exclaims``): an exclamation."""
    end = len(toks)
    while end > 1 and toks[end - 1] in IGNORED_WORDS and (toks[end - 1],) not in _EXCLAIMS:
        end -= 1  # (particles after it: "lâu quá à", "rắc rối dữ vậy nè")
    return any(end > len(p) and tuple(toks[end - len(p) : end]) == p for p in _EXCLAIMS)


CHATTER_MAX_WORDS = 8
"""Words from which a message the knowledge base cannot place is taken for a question after
all, not for chatter (``chatter``)."""


def chatter(text: str) -> Intent | None:
    """The ``chatter`` intent for a short message that asks nothing and names no subject:
    no question word, no aspect cue, no topic of ``topics.yaml`` (public service or everyday),
    at most ``CHATTER_MAX_WORDS`` words ("dạ rõ", "phục vụ dân mà như ban ơn", "hẹn bữa khác
    nha"). Small talk in words the intents do not list still gets a friendly reply, not the
    "not covered" one, once the knowledge base found nothing for it (``handlers/faq.py``)."""
    intent = INTENTS.get("chatter")
    toks = [fold(w) for w in words(text)]
    if intent is None or not toks or len(toks) > CHATTER_MAX_WORDS:
        return None
    a = analyze(text)
    expanded = [w for w in a.folded if w]
    other = _no_question_words(text)
    if any(
        holds_any(r, _NOT_CHATTER) or holds_any([w for w in r if w not in other], QUESTION_WORDS)
        for r in (toks, expanded)
    ):
        return None  # a question word, or "cách", "thủ tục", "đăng ký" ...
    if topics_of(a) or (aspects.aspect_weights(a) and not _exclaims(toks)):
        return None
    if expanded[-1] in _YES_NO_ENDS and holds_any(expanded[:-1], _YES_NO_VERBS):
        return None  # "nuôi chim yến có cần xin phép không"
    if CHOICE_ASKS and _asks_a_choice(text, toks):
        return None  # "lên phường hay lên thành phố làm?"
    return intent


CHOICE_ASKS = True
"""A message that offers two options and ends with a question mark ("lên phường hay lên thành
phố làm?", "nộp bản chính hoặc bản sao?") asks which, though it holds no question word: it is
not chatter. Without the mark "hay" is as often "good" or "often" ("bot trả lời hay ghê")."""
CHOICE_WORDS = frozenset({"hay", "hoac"})


def _asks_a_choice(text: str, toks: list[str]) -> bool:
    """Whether folded words hold "hay"/"hoặc" between two others and the text ends with "?"."""
    return text.rstrip().endswith("?") and any(w in CHOICE_WORDS for w in toks[1:-1])


def applies(intent: Intent | None, answered: bool, offered: bool = False) -> Intent | None:
    """The intent to act on once the knowledge base was searched: none when the base answers
    a message whose intent yields to an answer (``YIELDS_TO_ANSWER``), or offers entries of a
    procedure the message names (``offered``: "xin giấy xác nhận cư trú thì chờ lâu không?"
    asks the processing time in a complaint's words)."""
    if intent is not None and (answered or offered) and intent.name in YIELDS_TO_ANSWER:
        return None
    return intent


def reply(intent: Intent, hotline: str, rng: random.Random | None = None) -> str:
    """One of the intent's replies, with the hotline filled in."""
    text = (rng or random).choice(intent.replies)
    return text.format(hotline=hotline)
