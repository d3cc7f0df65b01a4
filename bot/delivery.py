"""Sending queued messages (notifications) through the channels, from the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.outbox_payload import payload_to_replies
from bot.messages import Reply
from storage.repositories import outbox

log = logging.getLogger(__name__)


class Delivery(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    UNDELIVERABLE = "undeliverable"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Delivery
    error: str = ""


class Sender(Protocol):
    """What a channel adapter offers the outbox: send replies to a chat, say how it went."""

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult: ...


class OutboxWorker:
    """Claims due outbox rows for the channels it can send on and delivers them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        *,
        batch: int = 50,
        interval: float = 2.0,
        retry_base_delay: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._senders = dict(senders)
        self._batch = batch
        self._interval = interval
        self._retry_base = retry_base_delay

    async def run_once(self) -> int:
        """Deliver one batch; returns how many rows were handled."""
        if not self._senders:
            return 0
        async with self._sessions() as session, session.begin():
            rows = await outbox.claim(session, channels=self._senders.keys(), limit=self._batch)
            claimed = [(r.id, r.channel, r.chat_id, r.payload, r.attempts) for r in rows]
        sent: list[int] = []
        failures: list[tuple[int, int, DeliveryResult]] = []
        for row_id, channel, chat_id, payload, attempts in claimed:
            try:
                result = await self._senders[channel].deliver(chat_id, payload_to_replies(payload))
            except Exception as exc:  # a sender bug must not stop the others
                log.exception("outbox delivery %d on %s failed", row_id, channel)
                result = DeliveryResult(Delivery.RETRY, type(exc).__name__)
            if result.outcome is Delivery.SENT:
                sent.append(row_id)
            else:
                failures.append((row_id, attempts, result))
        async with self._sessions() as session, session.begin():
            await outbox.mark_sent(session, sent)
            for row_id, attempts, result in failures:
                if result.outcome is Delivery.UNDELIVERABLE:
                    await outbox.mark_undeliverable(session, row_id, result.error)
                else:
                    status = await outbox.mark_failed(
                        session, row_id, attempts, result.error, base_delay=self._retry_base
                    )
                    if status == "parked":
                        log.warning("outbox message %d parked after %d attempts", row_id, attempts)
        return len(claimed)

    async def run(self) -> None:
        """Deliver forever (a background task); database outages are waited out."""
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                log.warning("outbox pass failed; retrying", exc_info=True)
                handled = 0
            if handled < self._batch:
                await asyncio.sleep(self._interval)
