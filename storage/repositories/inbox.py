"""The unanswered-questions inbox: fallbacks and "not helpful" answers, grouped by similarity.

Questions are normalised (diacritics folded, abbreviations expanded, fillers such as "cho em
hỏi" dropped, spaces collapsed) and grouped greedily with rapidfuzz: the most frequent
normalised question founds a group, and each further one joins the closest group whose
representative it matches with ``token_set_ratio`` at or above ``THRESHOLD``. Groups are
recomputed on every read, so nothing stored can go out of date; only what an admin decided is
stored, per normalised question (``InboxStatus``): "done" hides the questions asked up to that
moment (a new fallback afterwards is new evidence), "ignored" hides the question for good.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.normalize import analyze
from storage.models import AnswerFeedback, MessageLog, utcnow
from storage.models.admin import InboxStatus
from storage.repositories._upsert import insert_ignore
from storage.repositories.audit import aware

THRESHOLD = 85
WINDOW = timedelta(days=90)
MAX_ITEMS = 5000
NEW, DONE, IGNORED = "new", "done", "ignored"
STATUSES = (NEW, DONE, IGNORED)
FALLBACK, NOT_HELPFUL = "fallback", "not_helpful"


def normalise(text: str) -> str:
    """The comparable form of a question: folded content words; all words if only fillers."""
    a = analyze(text)
    return " ".join(a.content or a.folded)


def key_of(norm: str) -> str:
    return hashlib.sha1(norm.encode(), usedforsecurity=False).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Item:
    """One unanswered question as asked (numbers already masked by the message log)."""

    text: str
    norm: str
    at: datetime
    source: str


@dataclass
class Group:
    """Similar questions; ``key`` names the group by its representative (short, for buttons)."""

    representative: str
    norm: str
    newest: datetime
    count: int = 0
    variants: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # norm -> typical wording

    @property
    def key(self) -> str:
        return key_of(self.norm)[:10]

    @property
    def members(self) -> list[str]:
        return list(self.variants)


async def collect(
    session: AsyncSession, *, since: datetime | None = None, limit: int = MAX_ITEMS
) -> list[Item]:
    """Fallbacks and questions whose answer was rated not helpful, newest first."""
    since = since or utcnow() - WINDOW
    fallbacks = await session.execute(
        select(MessageLog.question, MessageLog.created_at)
        .where(MessageLog.decision == "fallback", MessageLog.created_at >= since)
        .order_by(MessageLog.id.desc())
        .limit(limit)
    )
    unhelpful = await session.execute(
        select(MessageLog.question, MessageLog.created_at)
        .join(AnswerFeedback, AnswerFeedback.message_id == MessageLog.id)
        .where(AnswerFeedback.helpful.is_(False), MessageLog.created_at >= since)
        .order_by(MessageLog.id.desc())
        .limit(limit)
    )
    items = [
        Item(text, norm, aware(at), source)
        for source, rows in ((FALLBACK, fallbacks), (NOT_HELPFUL, unhelpful))
        for text, at in rows
        if (norm := normalise(text))
    ]
    items.sort(key=lambda i: i.at, reverse=True)
    return items


def _typical(members: Sequence[Item]) -> str:
    """The wording asked most often among equal normalised questions; the newest on ties."""
    counts = Counter(i.text for i in members)
    newest = {i.text: i.at for i in sorted(members, key=lambda i: i.at)}
    return max(counts, key=lambda text: (counts[text], newest[text]))


def group(items: Iterable[Item], threshold: int = THRESHOLD) -> list[Group]:
    """Group similar questions; most asked first, newest first among equal counts."""
    by_norm: dict[str, list[Item]] = {}
    for item in items:
        by_norm.setdefault(item.norm, []).append(item)
    # Most frequent first, so each group's founder (its representative) is its most asked form.
    ordered = sorted(
        by_norm.items(), key=lambda kv: (-len(kv[1]), -max(i.at for i in kv[1]).timestamp())
    )
    groups: list[Group] = []
    reps: list[str] = []
    for norm, members in ordered:
        latest = max(members, key=lambda i: i.at)
        typical = _typical(members)
        found = process.extractOne(norm, reps, scorer=fuzz.token_set_ratio, score_cutoff=threshold)
        if found is None:
            g = Group(representative=typical, norm=norm, newest=latest.at)
            groups.append(g)
            reps.append(norm)
        else:
            g = groups[found[2]]
        g.count += len(members)
        g.newest = max(g.newest, latest.at)
        g.variants[norm] += len(members)
        g.sources.update(i.source for i in members)
        g.samples[norm] = typical
    groups.sort(key=lambda g: (-g.count, -g.newest.timestamp()))
    return groups


async def statuses(session: AsyncSession) -> dict[str, InboxStatus]:
    return {row.key: row for row in await session.scalars(select(InboxStatus))}


def is_open(item: Item, status: InboxStatus | None) -> bool:
    """Whether an admin still has to look at this question."""
    if status is None or status.status == NEW:
        return True
    if status.status == IGNORED:
        return False
    return item.at > aware(status.at)


async def open_groups(session: AsyncSession) -> list[Group]:
    """The inbox as an admin sees it: open questions only, grouped."""
    known = await statuses(session)
    items = [i for i in await collect(session) if is_open(i, known.get(key_of(i.norm)))]
    return group(items)


def find(groups: Sequence[Group], key: str) -> Group | None:
    return next((g for g in groups if g.key == key), None)


async def mark(
    session: AsyncSession,
    members: Iterable[str],
    status: str,
    *,
    actor_hash: str,
    entry_id: str | None = None,
) -> None:
    """Record a decision for every normalised question of a group (``Group.members``)."""
    if status not in STATUSES:
        raise ValueError(f"unknown inbox status {status!r}")
    now = utcnow()
    for norm in members:
        key = key_of(norm)
        values = {
            "text": norm[:500],
            "status": status,
            "actor_hash": actor_hash,
            "at": now,
            "entry_id": entry_id,
        }
        if not await insert_ignore(session, InboxStatus, key=key, **values):
            row = await session.get(InboxStatus, key)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)
    await session.flush()
