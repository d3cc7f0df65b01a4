"""Retrieval done before the write transaction, handed to the handler inside it.

Searching the knowledge base for a message's text needs nothing from the database, but the
handler runs inside the message's transaction, which on PostgreSQL holds the chat's state row
locked and on SQLite the one connection (the process's write lock). The dispatcher therefore
runs the search for the message's text before it opens the transaction, and the handler gets an
index that answers that one search from the result; any other search (a follow-up read with the
remembered procedure's name) runs as usual.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, cast

from bot.messages import Incoming
from knowledge.search import Index, SearchResult

SEARCH_K = 5  # the k handlers/faq.py asks for

# The search run for the message in hand: (index, query, k, result). A context variable, so
# that each message (each task: group commit runs a message's work in a task that inherits
# it) sees its own, and the index handed to handlers can be one long-lived object.
_DONE: ContextVar[tuple[Index, str, int, SearchResult] | None] = ContextVar(
    "prefetched_search", default=None
)


class PrefetchedIndex:
    """An ``Index`` that answers the search already run for the message in hand from its
    result; any other search runs as usual.

    One per index, not one per message: what handlers keep per index (``WeakKeyDictionary``
    caches keyed by ``ctx.index``, such as a procedure's id families in handlers/followup.py)
    is then built once instead of on every message.
    """

    def __init__(self, index: Index) -> None:
        self._index = index

    def search(self, query: str, k: int = 5) -> SearchResult:
        done = _DONE.get()
        if done is not None and done[0] is self._index and done[1] == query and done[2] == k:
            return done[3]
        return self._index.search(query, k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


_current: PrefetchedIndex | None = None


def _wrapper(index: Index) -> PrefetchedIndex:
    """The long-lived wrapper of ``index`` (only the last index's is kept: an index replaced
    after a knowledge edit is not held alive)."""
    global _current
    wrapper = _current
    if wrapper is None or wrapper._index is not index:
        wrapper = _current = PrefetchedIndex(index)
    return wrapper


def worth_searching(incoming: Incoming, max_chars: int) -> str | None:
    """The text a handler is likely to search for, or None (a button, a file, a command, a
    numbered choice, empty or too long text: no search is run for those)."""
    if incoming.choice is not None or incoming.file is not None or incoming.unsupported:
        return None
    text = incoming.text.strip()
    if not text or text.startswith("/") or text.isdigit() or len(text) > max_chars:
        return None
    return text


def prefetched(index: Index, incoming: Incoming, max_chars: int) -> Index:
    """``index``, with the search for the message's text already run when it is a question
    (for the rest of the calling task, and the tasks it then starts)."""
    text = worth_searching(incoming, max_chars)
    if text is None:
        _DONE.set(None)
        return index
    result = index.search(text, k=SEARCH_K)
    _DONE.set((index, text, SEARCH_K, result))
    return cast(Index, _wrapper(index))
