"""Short, stable button values for entries, categories and procedures.

Button values must fit Telegram's 64-byte callback data, and an entry id may be longer, so
buttons carry a short hash; a hash that no longer resolves means the button is stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from weakref import WeakKeyDictionary

from knowledge.entry import Entry
from knowledge.search import Index


def short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:length]


def entry_value(entry: Entry) -> str:
    return "e:" + short_hash(entry.id)


def category_value(category: str) -> str:
    return "c:" + short_hash(category, 8)


def procedure_value(category: str, procedure: str) -> str:
    return "p:" + short_hash(category + "\x1f" + procedure, 8)


# Per index (rebuilt on every knowledge change): entry hash -> entry, so that a tapped button
# is resolved by one lookup instead of hashing every entry on each tap.
_BY_HASH: WeakKeyDictionary[Index, dict[str, Entry]] = WeakKeyDictionary()


def find_entry(index: Index, value: str) -> Entry | None:
    table = _BY_HASH.get(index)
    if table is None:
        table = {short_hash(e.id): e for e in index.entries}
        _BY_HASH[index] = table
    return table.get(value.removeprefix("e:"))


def categories(index: Index) -> list[str]:
    return list(dict.fromkeys(e.category for e in index.entries))


def find_category(index: Index, value: str) -> str | None:
    return next((c for c in categories(index) if category_value(c) == value), None)


def procedures(index: Index, category: str) -> list[str]:
    return list(dict.fromkeys(e.procedure for e in index.entries if e.category == category))


def find_procedure(index: Index, value: str) -> tuple[str, str] | None:
    pairs: Iterable[tuple[str, str]] = dict.fromkeys(
        (e.category, e.procedure) for e in index.entries
    )
    return next((p for p in pairs if procedure_value(*p) == value), None)


def entries_of(index: Index, category: str, procedure: str) -> list[Entry]:
    return [e for e in index.entries if e.category == category and e.procedure == procedure]
