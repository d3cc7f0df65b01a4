"""Short, stable button values for entries, categories and procedures.

Button values must fit Telegram's 64-byte callback data, and an entry id may be longer, so
buttons carry a short hash; a hash that no longer resolves means the button is stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from weakref import WeakKeyDictionary

from handlers.buttons import CategoryButton, EntryButton, ProcedureButton
from knowledge.entry import Entry
from knowledge.search import Index


def short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:length]


def entry_ref(entry_id: str) -> str:
    return short_hash(entry_id)


def category_ref(category: str) -> str:
    return short_hash(category, 8)


def procedure_ref(category: str, procedure: str) -> str:
    return short_hash(category + "\x1f" + procedure, 8)


def entry_value(entry: Entry) -> str:
    return EntryButton(entry_ref(entry.id)).pack()


def category_value(category: str) -> str:
    return CategoryButton(category_ref(category)).pack()


def procedure_value(category: str, procedure: str) -> str:
    return ProcedureButton(procedure_ref(category, procedure)).pack()


# Per index (rebuilt on every knowledge change): entry hash -> entry, so that a tapped button
# is resolved by one lookup instead of hashing every entry on each tap.
_BY_HASH: WeakKeyDictionary[Index, dict[str, Entry]] = WeakKeyDictionary()


def find_entry(index: Index, ref: str) -> Entry | None:
    """The entry behind an entry button's ref, or None (a stale button)."""
    table = _BY_HASH.get(index)
    if table is None:
        table = {entry_ref(e.id): e for e in index.entries}
        _BY_HASH[index] = table
    return table.get(ref)


def categories(index: Index) -> list[str]:
    return list(dict.fromkeys(e.category for e in index.entries))


def find_category(index: Index, ref: str) -> str | None:
    return next((c for c in categories(index) if category_ref(c) == ref), None)


def procedures(index: Index, category: str) -> list[str]:
    return list(dict.fromkeys(e.procedure for e in index.entries if e.category == category))


def find_procedure(index: Index, ref: str) -> tuple[str, str] | None:
    pairs: Iterable[tuple[str, str]] = dict.fromkeys(
        (e.category, e.procedure) for e in index.entries
    )
    return next((p for p in pairs if procedure_ref(*p) == ref), None)


def entries_of(index: Index, category: str, procedure: str) -> list[Entry]:
    return [e for e in index.entries if e.category == category and e.procedure == procedure]
