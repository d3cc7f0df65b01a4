"""The live knowledge base of one process: an index brought up to date whenever the database
revision moves.

An admin's edit changes one entry (or a few): the index is then edited entry by entry
(``Index.updated``), reusing everything the other entries contribute, instead of being rebuilt.
The current index keeps answering while the new one is made in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge import calibrate, index_cache, kbfile, selfcal
from knowledge.entry import Entry
from knowledge.search import Index, Thresholds
from storage.repositories import kb as kb_repo

log = logging.getLogger(__name__)


class KnowledgeService:
    """Holds the current index; ``refresh`` updates it only when ``kb_revision`` changed."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        thresholds: Thresholds | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._sessions = sessions
        self._thresholds = thresholds
        self._cache_dir = cache_dir
        self.index = Index((), thresholds)
        self.revision = -1
        self._lock = asyncio.Lock()

    async def seed_if_empty(self, directory: Path) -> int:
        """Load the bundled files into an empty database (first start); returns entries added."""
        entries = kbfile.load_dir(directory)
        async with self._sessions() as session, session.begin():
            if await kb_repo.count(session):
                return 0
            plan = await kb_repo.apply_import(session, entries, replace=False)
        log.info("knowledge base seeded from %s: %d entries", directory, len(plan.added))
        return len(plan.added)

    async def refresh(self) -> bool:
        """Update the index if the database revision moved; True when it was updated."""
        async with self._lock:
            async with self._sessions() as session:
                rev = await kb_repo.revision(session)
                if rev == self.revision:
                    return False
                entries = await kb_repo.all_entries(session)
            started = time.perf_counter()
            first = self.revision < 0
            self.index = await asyncio.to_thread(self._next_index, entries, first)
            self.revision = rev
            log.info(
                "knowledge index %s: revision %d, %d entries, %.0f ms",
                "built" if first else "updated",
                rev,
                len(self.index),
                (time.perf_counter() - started) * 1000,
            )
            return True

    def _next_index(self, entries: list[Entry], first: bool) -> Index:
        """The index over ``entries``: at first loaded from the index cache or built (and then
        stored there), afterwards edited from the current one (which builds at once when too
        much changed, see ``Index.updated``; edited indexes are not stored: pickling a large
        one would hold the interpreter while this worker is answering)."""
        if first:
            index = index_cache.load_or_build(entries, self._thresholds, self._cache_dir)
            if calibrate.ENABLED and self._thresholds is None:
                index = calibrate.calibrated(index)
            return selfcal.checked(index, self._thresholds)
        index = self.index.updated(entries)
        if index is self.index:
            return index
        if calibrate.ENABLED and self._thresholds is None:
            index = calibrate.calibrated(index)
        # Questions about a bundled procedure this base lacks fall back (knowledge/selfcal.py).
        return selfcal.checked(index, self._thresholds)

    async def watch(self, interval: float) -> None:
        """Poll the revision forever (a background task); errors are logged, never fatal."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:
                log.warning(
                    "knowledge refresh failed; keeping revision %d", self.revision, exc_info=True
                )
