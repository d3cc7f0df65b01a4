"""The live knowledge base of one process: an index rebuilt whenever the database revision moves."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge import kbfile, selfcal
from knowledge.search import Index, Thresholds
from storage.repositories import kb as kb_repo

log = logging.getLogger(__name__)


class KnowledgeService:
    """Holds the current index; ``refresh`` rebuilds it only when ``kb_revision`` changed."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], thresholds: Thresholds | None = None
    ) -> None:
        self._sessions = sessions
        self._thresholds = thresholds
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
        """Rebuild the index if the database revision moved; True when it was rebuilt."""
        async with self._lock:
            async with self._sessions() as session:
                rev = await kb_repo.revision(session)
                if rev == self.revision:
                    return False
                entries = await kb_repo.all_entries(session)
            self.index = await asyncio.to_thread(selfcal.build, entries, self._thresholds)
            self.revision = rev
            log.info("knowledge index built: revision %d, %d entries", rev, len(self.index))
            return True

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
