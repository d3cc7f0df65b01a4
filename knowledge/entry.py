"""The knowledge-base entry, shared by files, storage and the search index."""

from __future__ import annotations

import re
from dataclasses import dataclass

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*")
MAX_ID_LENGTH = 80


@dataclass(frozen=True, slots=True)
class Entry:
    """One FAQ entry: a question, its other phrasings and its answer."""

    id: str
    category: str
    question: str
    answer: str
    procedure: str = ""
    alternatives: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    legal_basis: str = ""
    source_url: str = ""
    enabled: bool = True

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternatives."""
        return (self.question, *self.alternatives)
