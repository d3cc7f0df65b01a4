"""Named public-service topics: which procedure a question is about.

Lexical matching cannot tell "đăng ký kết hôn cần giấy tờ gì" (a procedure this knowledge base
may not cover) from "đăng ký xe cần giấy tờ gì" (one it does): both share every aspect word. What
tells them apart is knowing that "kết hôn" *names a procedure*. This table names the procedures
and services Vietnamese citizens ask about most, with the ways they are commonly written
(folded: no diacritics). A question that names a topic the best entry's group never mentions is
probably about something the base does not cover; one that names the group's topic probably is
covered, however it words the rest.

The list (``knowledge/lang/topics.yaml``) is domain knowledge about Vietnamese public
services, not about any knowledge base: it is meant to cover far more topics than any one
base holds.
"""

from __future__ import annotations

from knowledge import lang
from knowledge.normalize import Analysis

TOPICS: dict[str, tuple[str, ...]] = {
    str(topic): tuple(str(p) for p in phrases) for topic, phrases in lang.load("topics").items()
}
"""Topic slug -> folded phrases naming it (``knowledge/lang/topics.yaml``)."""

_PHRASES: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): topic for topic, phrases in TOPICS.items() for phrase in phrases
}
_LENGTHS: dict[str, tuple[int, ...]] = {
    first: tuple(sorted({len(p) for p in _PHRASES if p and p[0] == first}, reverse=True))
    for first in {p[0] for p in _PHRASES if p}
}
"""First word -> the lengths of the phrases starting with it, longest first: the only lengths
worth trying there (an index build reads every text of a base through ``topics_of``)."""


def _phrase_at(words: tuple[str, ...] | list[str], at: int) -> tuple[str, int]:
    """The topic of the longest phrase starting at word ``at`` and its length; ("", 0) if none."""
    for n in _LENGTHS.get(words[at], ()):
        if n <= len(words) - at:
            topic = _PHRASES.get(tuple(words[at : at + n]))
            if topic is not None:
                return topic, n
    return "", 0


def topics_of(a: Analysis) -> frozenset[str]:
    """The topics an analysed text names (longest phrase first at each position)."""
    toks = a.folded
    found: set[str] = set()
    i = 0
    for at in [j for j, t in enumerate(toks) if t in _LENGTHS]:  # no phrase starts elsewhere
        if at < i:
            continue
        topic, n = _phrase_at(toks, at)
        if topic:
            found.add(topic)
            i = at + n
        else:
            i = at + 1
    return frozenset(found)


def topic_at(words: tuple[str, ...], at: int) -> str:
    """The topic whose longest phrase starts at folded word ``at`` of ``words``; "" if none."""
    return _phrase_at(words, at)[0] if at < len(words) else ""
