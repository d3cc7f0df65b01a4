"""Retrieval done before the write transaction, handed to the handler inside it.

Searching the knowledge base for a message's text needs nothing from the database, but the
handler runs inside the message's transaction, which on PostgreSQL holds the chat's state row
locked and on SQLite the one connection (the process's write lock). The dispatcher therefore
runs the search for the message's text before it opens the transaction, and the handler gets an
index that answers that one search from the result; any other search (a follow-up read with the
remembered procedure's name) runs as usual.
"""

from __future__ import annotations

from typing import Any, cast

from bot.messages import Incoming
from knowledge.search import Index, SearchResult

SEARCH_K = 5  # the k handlers/faq.py asks for


class PrefetchedIndex:
    """An ``Index`` whose search for one question has already been run."""

    def __init__(self, index: Index, query: str, k: int, result: SearchResult) -> None:
        self._index = index
        self._query = query
        self._k = k
        self._result = result

    def search(self, query: str, k: int = 5) -> SearchResult:
        if query == self._query and k == self._k:
            return self._result
        return self._index.search(query, k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


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
    """``index``, with the search for the message's text already run when it is a question."""
    text = worth_searching(incoming, max_chars)
    if text is None:
        return index
    result = index.search(text, k=SEARCH_K)
    return cast(Index, PrefetchedIndex(index, text, SEARCH_K, result))
