"""What a handler receives besides the message: state, knowledge, storage, settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.workdays import WorkCalendar
from bot.domain.privacy import mask_numbers, owner_id_hash, owner_phone_hash
from bot.domain.reflections.rules import ReflectionRules
from bot.domain.vietnam_time import VN_TZ
from bot.flowstate import FlowState
from bot.messages import ChatState, Incoming
from knowledge.search import Index
from storage.repositories import messages as message_repo
from storage.repositories.roles import Actor


@dataclass(frozen=True)
class Services:
    """What handlers need beyond the database: the server secret's hashes, the calendar, today."""

    secret: bytes
    calendar: WorkCalendar
    today: Callable[[], date]
    reflections: ReflectionRules = field(default_factory=ReflectionRules)
    review_caveat: bool = False
    """Answers from entries under review carry a caveat (KB_REVIEW_CAVEAT)."""
    #: Where the staff console's sign-in links point (``Settings.staff_base_url``).
    staff_base_url: str = "http://127.0.0.1:8080"

    def owner_id_hash(self, number: str) -> str:
        return owner_id_hash(self.secret, number)

    def owner_phone_hash(self, phone: str) -> str:
        return owner_phone_hash(self.secret, phone)


def vietnam_today() -> date:
    return datetime.now(VN_TZ).date()


@dataclass(frozen=True)
class Context:
    """Per-update context, read-only: handlers return the new state (and the decision taken)
    in their ``Outcome``. The session is inside the dispatcher's transaction: never commit."""

    session: AsyncSession
    incoming: Incoming
    state: ChatState
    index: Index
    user_hash: str
    hotline: str
    max_message_chars: int
    services: Services
    actor: Actor = field(default_factory=Actor)
    started: float = field(default_factory=time.perf_counter)
    prepared: object | None = None
    """Work done before the transaction (an admin's parsed upload: ``admin.ParsedUpload``)."""

    async def record_question(
        self, question: str, decision: str, entry_id: str | None, score: float | None
    ) -> int:
        """Log a question (numbers masked) with the decision taken; returns the log id.

        The decision also goes back in the handler's ``Outcome`` (``decision``) for the metrics.
        """
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


def with_state(ctx: Context, state: ChatState) -> Context:
    """The same update seen in another state (a flow that stepped aside, for instance)."""
    return replace(ctx, state=state)


def after_flow(state: ChatState) -> ChatState:
    """The state once a flow is over: no flow, the memory kept but the dialogue topic (a flow
    in between ends the follow-up questions)."""
    return ChatState(memory=replace(state.memory, dialogue=None))


def start_flow(state: ChatState, flow: FlowState) -> ChatState:
    """The state at a flow's first (or next) step, as ``after_flow`` but in ``flow``."""
    return ChatState(flow=flow, memory=replace(state.memory, dialogue=None))
