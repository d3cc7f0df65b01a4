"""The search run before a message's transaction (``bot/prefetch.py``): handed to the handler
without running it again, one long-lived index object per index (so per-index caches such as
handlers/followup.py's id families are built once), and never seen by another message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from bot.messages import Channel, ChatRef, Incoming
from bot.prefetch import SEARCH_K, prefetched
from handlers import followup
from knowledge.entry import Entry
from knowledge.search import Index, SearchResult

QUESTION = "hồ sơ đăng ký khai sinh gồm những gì"


class CountingIndex(Index):
    """A real index that counts the searches it runs."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        super().__init__(entries)
        self.searched: list[str] = []

    def search(self, query: str, k: int = 5) -> SearchResult:
        self.searched.append(query)
        return super().search(query, k)


def _entries() -> list[Entry]:
    return [
        Entry(
            id="khai-sinh/ho-so",
            category="Hộ tịch",
            question="Hồ sơ đăng ký khai sinh gồm những gì?",
            answer="Tờ khai và giấy chứng sinh.",
            procedure="Đăng ký khai sinh",
        ),
        Entry(
            id="khai-sinh/le-phi",
            category="Hộ tịch",
            question="Lệ phí đăng ký khai sinh là bao nhiêu?",
            answer="Miễn lệ phí khi đăng ký đúng hạn.",
            procedure="Đăng ký khai sinh",
        ),
        Entry(
            id="ket-hon/ho-so",
            category="Hộ tịch",
            question="Đăng ký kết hôn cần giấy tờ gì?",
            answer="Tờ khai đăng ký kết hôn.",
            procedure="Đăng ký kết hôn",
        ),
    ]


def _message(text: str, event: str = "1", choice: str | None = None) -> Incoming:
    return Incoming(ChatRef(Channel.WEB, "c1", "u1"), event, text=text, choice=choice)


def test_the_message_search_is_answered_without_running_it_again() -> None:
    index = CountingIndex(_entries())
    handed = prefetched(index, _message(QUESTION), 2000)
    assert index.searched == [QUESTION]
    first = handed.search(QUESTION, k=SEARCH_K)
    assert index.searched == [QUESTION]  # the same search: its result, not a second run
    assert first == index.search(QUESTION, k=SEARCH_K)
    handed.search(f"{QUESTION} đăng ký khai sinh", k=SEARCH_K)  # another: run as usual
    handed.search(QUESTION, k=3)
    assert len(index.searched) == 4
    assert handed.entries == index.entries  # everything else is the index's


def test_one_handed_index_per_index_so_per_index_caches_are_built_once() -> None:
    index = CountingIndex(_entries())
    first = prefetched(index, _message(QUESTION, "1"), 2000)
    second = prefetched(index, _message("lệ phí bao nhiêu", "2"), 2000)
    assert first is second
    key = index.group_of(index.entries[0])
    related = followup.related_entries(first, key, "khai-sinh/ho-so")
    # not worked out again for the next message
    assert followup.related_entries(second, key, "khai-sinh/ho-so") is related
    other = CountingIndex(_entries())  # a rebuilt index (a knowledge edit) gets its own
    assert prefetched(other, _message(QUESTION, "3"), 2000) is not first


def test_a_button_runs_no_search_and_forgets_the_last_message() -> None:
    index = CountingIndex(_entries())
    handed = prefetched(index, _message(QUESTION, "1"), 2000)
    assert prefetched(index, _message("", "2", choice="menu:browse"), 2000) is index
    handed.search(QUESTION, k=SEARCH_K)  # the earlier message's result is not reused
    assert index.searched == [QUESTION, QUESTION]


def test_each_message_sees_only_its_own_search() -> None:
    """Concurrent messages (one task each, as aiohttp and group commit run them) never get
    another message's result for the same text."""
    index = CountingIndex(_entries())

    async def one(text: str, event: str) -> tuple[int, int]:
        handed = prefetched(index, _message(text, event), 2000)
        await asyncio.sleep(0)  # the other message prefetches meanwhile
        before = len(index.searched)
        handed.search(text, k=SEARCH_K)
        handed.search(QUESTION if text != QUESTION else "lệ phí", k=SEARCH_K)
        return before, len(index.searched)

    async def both() -> list[tuple[int, int]]:
        return await asyncio.gather(one(QUESTION, "1"), one("lệ phí bao nhiêu", "2"))

    results = asyncio.run(both())
    # Each task's own text came from its prefetch; the other text was searched afresh.
    assert [after - before for before, after in results] == [1, 1]
    assert len(index.searched) == 4


def test_related_entries_are_worked_out_once_per_index_procedure_and_family() -> None:
    """handlers/followup.py: a procedure's entries, then the rest of the id family, the same
    tuple for every message (it was worked out again, entry by entry, for each)."""
    entries = [
        *_entries(),
        Entry(
            id="khai-sinh/qua-han",
            category="Hộ tịch",
            question="Đăng ký khai sinh quá hạn cần gì?",
            answer="Tờ khai.",
            procedure="Đăng ký khai sinh quá hạn",
        ),
    ]
    index = Index(entries)
    key = index.group_of(entries[0])
    first = followup.related_entries(index, key, "khai-sinh/ho-so")
    assert [e.id for e in first] == ["khai-sinh/ho-so", "khai-sinh/le-phi", "khai-sinh/qua-han"]
    assert followup.related_entries(index, key, "khai-sinh/ho-so") is first
    assert followup.related_entries(index, key, "ho-so") == index.group_entries(key)


def test_a_full_per_base_cache_keeps_what_was_just_made() -> None:
    """Filled by other bases, the per-base cache drops the least recently used value, never
    the one made a moment before for the same base (a clear-all did)."""
    others = [CountingIndex(_entries()) for _ in range(followup.PER_BASE_SIZE)]
    index = CountingIndex(_entries())
    key = index.group_of(index.entries[0])
    followup._PER_BASE.clear()
    for n in range(followup.PER_BASE_SIZE - 1):
        followup.per_base(others[n], "filler", lambda _: object())
    related = followup.related_entries(index, key, "khai-sinh/ho-so")
    assert followup.related_entries(index, key, "khai-sinh/ho-so") is related
