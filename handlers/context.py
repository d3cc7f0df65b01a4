"""What a handler receives besides the message: state, knowledge, storage, settings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import ChatState, Incoming
from bot.privacy import mask_numbers
from knowledge.search import Index
from storage.repositories import messages as message_repo


@dataclass
class Context:
    """Per-update context. The session is inside the dispatcher's transaction: never commit."""

    session: AsyncSession
    incoming: Incoming
    state: ChatState
    index: Index
    user_hash: str
    hotline: str
    max_message_chars: int
    started: float = field(default_factory=time.perf_counter)
    decision: str | None = None

    async def record_question(
        self, question: str, decision: str, entry_id: str | None, score: float | None
    ) -> int:
        """Log a question (numbers masked) with the decision taken; returns the log id."""
        self.decision = decision
        return await message_repo.log_question(
            self.session,
            channel=self.incoming.chat.channel.value,
            user_hash=self.user_hash,
            question=mask_numbers(question)[:4000],
            decision=decision,
            entry_id=entry_id,
            score=score,
            latency_ms=(time.perf_counter() - self.started) * 1000,
        )
