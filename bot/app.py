"""Composition root: engine, knowledge, dispatcher and channels, with their lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery import OutboxWorker, Sender
from bot.dispatcher import Dispatcher
from bot.domain.dossiers.workdays import load_calendar
from bot.domain.reflections.rules import ReflectionRules
from bot.gc_tuning import freeze_long_lived
from bot.kb_service import KnowledgeService
from bot.messages import Channel
from bot.metrics import Metrics
from bot.reflections.escalation import EscalationWorker
from bot.update_inbox import InboxTuning, UpdateInbox
from handlers.context import Services, vietnam_today
from knowledge.search import Thresholds
from storage import migrate
from storage.db import create_engine, session_factory
from storage.group_commit import GroupCommit
from storage.repositories.retention import Retention
from storage.sqlite_checkpoint import BackgroundCheckpoint

if TYPE_CHECKING:
    from bot.channels.base import ChannelAdapter
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo_bot import ZaloBotChannel
    from bot.channels.zalo_oa import ZaloOaChannel

log = logging.getLogger(__name__)


def thresholds_from(settings: Settings) -> Thresholds | None:
    """Decision thresholds overridden by settings, or None for the calibrated defaults."""
    if settings.answer_threshold is None and settings.suggest_threshold is None:
        return None
    base = Thresholds()
    changes: dict[str, Any] = {}
    if settings.answer_threshold is not None:
        changes["answer"] = settings.answer_threshold
    if settings.suggest_threshold is not None:
        changes["suggest"] = settings.suggest_threshold
    from dataclasses import replace

    return replace(base, **changes)


def reflection_rules_from(settings: Settings) -> ReflectionRules:
    """The reflection settings handlers need (deadline, daily limit, photo size)."""
    return ReflectionRules(
        answer_workdays=settings.reflection_answer_workdays,
        daily_limit=settings.reflection_daily_limit,
        max_photo_bytes=settings.reflection_max_photo_bytes,
    )


@dataclass
class App:
    """Everything one process runs, built from settings."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    knowledge: KnowledgeService
    dispatcher: Dispatcher
    metrics: Metrics
    telegram: TelegramChannel | None = None
    outbox: OutboxWorker | None = None
    zalo_oa: ZaloOaChannel | None = None
    zalo_bot: ZaloBotChannel | None = None
    inbox: UpdateInbox | None = None  # webhook updates, stored before acknowledged
    channels: list[ChannelAdapter] = field(default_factory=list)  # bot/channels/registry.py
    stopping: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _checkpoint: BackgroundCheckpoint | None = None  # storage/sqlite_checkpoint.py

    @classmethod
    def build(cls, settings: Settings) -> App:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            sqlite_inline=settings.sqlite_inline,
        )
        sessions = session_factory(engine)
        knowledge = KnowledgeService(
            sessions, thresholds_from(settings), cache_dir=settings.index_cache_dir
        )
        metrics = Metrics()
        secret = settings.resolved_secret()
        extra = [settings.holidays_file] if settings.holidays_file else []
        services = Services(
            secret,
            load_calendar(*extra),
            vietnam_today,
            reflection_rules_from(settings),
            review_caveat=settings.kb_review_caveat,
            staff_base_url=settings.staff_base_url,
        )
        dispatcher = Dispatcher(
            sessions,
            knowledge,
            secret=secret,
            hotline=settings.hotline,
            max_message_chars=settings.max_message_chars,
            metrics=metrics,
            services=services,
            # SQLite, one writer: web messages committed a batch at a time (docs/cost.md).
            group_commit=(
                GroupCommit(sessions)
                if settings.is_sqlite and settings.sqlite_group_commit
                else None
            ),
        )
        inbox = UpdateInbox(  # one worker for every webhook channel (bot/update_inbox.py)
            sessions,
            secret=secret,
            # Half the connections a pool can open: webhooks always find one to store with.
            tuning=InboxTuning(
                lease_seconds=settings.webhook_lease_seconds,
                concurrency=max(2, settings.db_pool_size),
            ),
        )
        # The platform channels the settings turn on (bot/channels/registry.py).
        from bot.channels.registry import build_channels

        channels = build_channels(settings, dispatcher, sessions, inbox)
        senders: dict[str, Sender] = {c.channel.value: c for c in channels}
        worker = OutboxWorker(sessions, senders, interval=settings.outbox_interval_seconds)
        by_name: dict[str, Any] = dict(senders)
        return cls(
            settings,
            engine,
            sessions,
            knowledge,
            dispatcher,
            metrics,
            telegram=by_name.get(Channel.TELEGRAM.value),
            outbox=worker,
            zalo_oa=by_name.get(Channel.ZALO_OA.value),
            zalo_bot=by_name.get(Channel.ZALO_BOT.value),
            inbox=inbox,
            channels=channels,
        )

    async def start(
        self, *, migrate_db: bool | None = None, watch: bool = True, channels: bool | None = None
    ) -> None:
        """Migrate (on SQLite by default), seed an empty base, build the index, start polling.

        ``channels`` (default: same as ``watch``) starts the Telegram channel when a token is
        set, so one-shot commands (chat, ask, kb: ``watch=False``) never poll or touch the
        webhook.
        """
        if migrate_db if migrate_db is not None else self.settings.is_sqlite:
            await migrate.upgrade_async(self.settings.database_url)
        await self.knowledge.seed_if_empty(self.settings.kb_dir)
        await self.bootstrap_admins()
        await self.review_sweep(sync_register=True)
        await self.knowledge.refresh()
        if watch:  # serving: the index built, keep full GC passes off it (bot/gc_tuning.py)
            freeze_long_lived()
        if watch and self.settings.is_sqlite:  # WAL checkpoints off the loop's thread
            checkpoint = BackgroundCheckpoint(self.engine)
            if await checkpoint.start():
                self._checkpoint = checkpoint
        if watch:
            self._tasks.append(
                asyncio.create_task(self.knowledge.watch(self.settings.kb_reload_seconds))
            )
        if watch if channels is None else channels:
            for channel in self.channels:
                await channel.start()  # polls, or sets up the webhook, in the background
        if watch:
            self._tasks.append(asyncio.create_task(self._purge_daily(), name="purge"))
            self._tasks.append(asyncio.create_task(self._review_regularly(), name="kb-review"))
        if self.outbox is not None and (watch if channels is None else channels):
            self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        if watch:  # overdue reflections to the parent agency (bot/reflections/escalation.py)
            self._tasks.append(
                asyncio.create_task(self.reflection_escalation().run(), name="reflections")
            )

    def reflection_escalation(self) -> EscalationWorker:
        """The job that escalates overdue reflections (run by every process that watches)."""
        return EscalationWorker(
            self.sessions,
            self.dispatcher.services.today,
            interval=self.settings.reflection_check_minutes * 60,
        )

    def retention(self) -> Retention:
        s = self.settings
        return Retention(
            message_log=s.message_log_retention_days,
            audit=s.audit_retention_days,
            lookup_audit=s.lookup_audit_retention_days,
            processed_events=s.processed_events_retention_days,
            web_sessions=s.web_session_days,
        )

    async def purge(self) -> dict[str, int]:
        """Delete what is past its retention (see ``storage.repositories.retention``)."""
        from storage.repositories import retention

        async with self.sessions() as session, session.begin():
            deleted = await retention.purge(session, self.retention())
        log.info("retention purge: %s", deleted)
        return deleted

    async def _purge_daily(self) -> None:
        while True:
            await asyncio.sleep(self.settings.purge_interval_hours * 3600)
            try:
                await self.purge()
            except Exception:
                log.warning("retention purge failed; will try again", exc_info=True)

    async def review_sweep(self, *, sync_register: bool = False) -> Any:
        """Load the bundled register (at start) and recompute the review list; see
        ``bot.kb_review``."""
        from bot import kb_review

        async with self.sessions() as session, session.begin():
            if sync_register:
                await kb_review.sync_bundled(session, self.settings.kb_register_dir)
            return await kb_review.sweep(session, self.dispatcher.services.today())

    async def _review_regularly(self) -> None:
        from bot.kb_review import SWEEP_INTERVAL_SECONDS

        while True:
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
            try:
                await self.review_sweep()
            except Exception:
                log.warning("review sweep failed; will try again", exc_info=True)

    async def bootstrap_admins(self) -> None:
        """Grant the admin role to the users named in the ADMINS setting."""
        from storage.repositories import roles

        entries = [e.strip() for e in self.settings.admins.split(",") if e.strip()]
        if not entries:
            return
        async with self.sessions() as session, session.begin():
            for entry in entries:
                channel, _, user_id = entry.partition(":")
                if not user_id or channel not in {c.value for c in Channel}:
                    log.warning("ADMINS: ignoring %r (expected CHANNEL:USER_ID)", entry)
                    continue
                user_hash = self.dispatcher.user_hash_of(Channel(channel), user_id)
                await roles.grant(
                    session,
                    user_hash=user_hash,
                    channel=channel,
                    user_id=user_id,
                    role=roles.ADMIN,
                    agency=None,
                    alerts=True,
                )

    async def healthy(self) -> bool:
        """True when the database answers and accepts writes.

        A read-only database (a replica promoted wrongly, a full disk, a file made read-only)
        answers SELECT but loses every message, so the check writes a row in a transaction
        that is always rolled back.
        """
        try:
            await asyncio.wait_for(self._probe_write(), timeout=3)
        except Exception as exc:
            log.warning("health check: database unreachable or read-only (%s)", type(exc).__name__)
            return False
        return True

    async def _probe_write(self) -> None:
        from sqlalchemy import insert

        from storage.models import ProcessedEvent, utcnow

        async with self.engine.connect() as conn:
            trans = await conn.begin()
            try:
                await conn.execute(text("SELECT 1"))
                await conn.execute(
                    insert(ProcessedEvent).values(
                        channel="health", event_id="probe", processed_at=utcnow()
                    )
                )
            finally:
                await trans.rollback()

    async def close(self) -> None:
        """Stop background work (the outbox may be sending through Telegram), then Telegram
        (its last replies may still touch the database), then the database."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for channel in self.channels:
            await channel.stop()
        if self.dispatcher.group_commit is not None:
            await self.dispatcher.group_commit.close()  # the batch in hand commits first
        if self._checkpoint is not None:
            await self._checkpoint.close()
        await self.engine.dispose()
