"""Soft synonyms: a question is also matched by the other words of each synonym group it holds.

Citizens ask in their own words ("tàn tật", "bằng đại học", "dính quy hoạch") while entries use
official ones ("khuyết tật", "văn bằng", "thuộc quy hoạch"). ``knowledge/lang/synonyms.yaml``
lists groups of words and short phrases used for the same thing in questions to a public
service. A question holding one member of a group is also matched by the group's other members,
at a reduced weight and without raising the question's ceiling (``search.SYNONYM_WEIGHT``): they
are alternatives to what was typed, not more of it. Only the question is expanded, so the index
is untouched.

Members are analysed like any text (rewrites of ``phrases.yaml`` and ``abbreviations.yaml``
included) and found in a question's content words, longest first, without overlaps. A word the
person typed with marks must carry the member's marks ("thuê" is not "thuế"). A member that
loses a word to the fillers ("người thuê", "giấy tờ nhà") is left out: what remains ("thuê",
"giấy tờ") would stand for something else.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache, lru_cache

from knowledge import aspects as aspect_model
from knowledge import lang
from knowledge.features import _features
from knowledge.normalize import Analysis, analyze, tone_key

Member = tuple[str, ...]
"""A member's folded content words."""


@cache
def _groups() -> tuple[tuple[tuple[Member, tuple[str, ...], dict[str, float]], ...], ...]:
    """Each group's members: folded words, tone keys, matching features."""
    try:
        data = lang.load("synonyms")
    except FileNotFoundError:
        return ()
    groups = []
    for raw in (data or {}).get("groups", ()):
        members: dict[Member, tuple[Member, tuple[str, ...], dict[str, float]]] = {}
        for phrase in raw:
            a = analyze(str(phrase))
            if not a.content or len(a.content) != len(a.tokens) or a.content in members:
                continue
            keys = tuple(tone_key(t) for t in a.tokens)
            feats = _features(a, aspect_model.cue_words(a))
            if len(a.content) > 1:
                # a phrase stands for the thing as a whole: its word pairs, not its words
                # ("lấy vợ" is "kết hôn"; "vợ" alone is not, and would pull "kết hôn" toward
                # any entry on spouses)
                feats = {f: 1.0 for f in feats if "_" in f}
            else:
                feats = dict.fromkeys(feats, 1.0)
            members[a.content] = (a.content, keys, feats)
        if len(members) >= 2:
            groups.append(tuple(members.values()))
    return tuple(groups)


@cache
def _by_first() -> dict[str, tuple[tuple[Member, tuple[str, ...], int], ...]]:
    """Members by their first word, longest first, with the index of their group."""
    found: dict[str, list[tuple[Member, tuple[str, ...], int]]] = defaultdict(list)
    for g, group in enumerate(_groups()):
        for member, keys, _ in group:
            found[member[0]].append((member, keys, g))
    return {w: tuple(sorted(ms, key=lambda m: -len(m[0]))) for w, ms in found.items()}


def _content_positions(a: Analysis) -> list[int]:
    """The token position of each content word (fillers are skipped in order)."""
    out: list[int] = []
    at = 0
    for i, f in enumerate(a.folded):
        if at < len(a.content) and a.content[at] == f:
            out.append(i)
            at += 1
    return out if at == len(a.content) else []


@lru_cache(maxsize=4096)
def found(a: Analysis) -> tuple[tuple[Member, int], ...]:
    """The members a text holds, with their groups."""
    first = _by_first()
    content = a.content
    pos = _content_positions(a)
    out: list[tuple[Member, int]] = []
    n = len(content)
    i = 0
    while i < n:
        step = 1
        for member, keys, g in first.get(content[i], ()):
            m = len(member)
            if (
                i + m <= n
                and content[i : i + m] == member
                and all(
                    not a.accented[pos[i + j]] or tone_key(a.tokens[pos[i + j]]) == keys[j]
                    for j in range(m)
                    if pos
                )
            ):
                out.append((member, g))
                step = m
                break
        i += step
    return tuple(out)


def expansions(a: Analysis) -> dict[str, float]:
    """The matching features of the other members of every group the text holds, with their
    share of the weight (each feature counted once, whatever the number of groups giving it)."""
    hits = found(a)
    if not hits:
        return {}
    present = {member for member, _ in hits}
    groups = _groups()
    out: dict[str, float] = {}
    for _, g in hits:
        for other, _, feats in groups[g]:
            if other in present:
                continue
            for feat, share in feats.items():
                if share > out.get(feat, 0.0):
                    out[feat] = share
    return out


def bridges(a: Analysis) -> dict[str, tuple[frozenset[str], ...]]:
    """Each word of a member the text holds -> the words of each other member of its group
    (an entry holding all the words of one of them explains the word)."""
    out: dict[str, list[frozenset[str]]] = {}
    groups = _groups()
    for member, g in found(a):
        others = [frozenset(other) for other, _, _ in groups[g] if other != member]
        for w in member:
            out.setdefault(w, []).extend(others)
    return {w: tuple(v) for w, v in out.items()}
