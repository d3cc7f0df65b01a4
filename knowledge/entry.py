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
    aspect: str = ""
    """One of ``knowledge.aspects.ASPECTS``, or empty when the file does not say."""
    legal_refs: tuple[str, ...] = ()
    """Numbers of the legal documents the entry rests on, as in the register (e.g. 74/2025/QH15)."""
    reviewed: str = ""
    """ISO date on which the entry was last checked against the law in force."""
    review_by: str = ""
    """ISO date by which the entry must be checked again."""

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternatives."""
        return (self.question, *self.alternatives)
