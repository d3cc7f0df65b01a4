"""Storage on SQLite and PostgreSQL: events, state rows, knowledge imports and live reload."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import App
from bot.messages import Channel, ChatRef, ChatState
from handlers.dossier import Lookup
from knowledge.entry import Entry
from storage.repositories import chats
from storage.repositories import kb as kb_repo
from tests.conftest import make_settings

CHAT = ChatRef(Channel.TELEGRAM, "100", "100")


async def test_an_event_is_claimed_once_per_channel(app: App) -> None:
    async with app.sessions() as s, s.begin():
        assert await chats.claim_event(s, "telegram", "1")
        assert not await chats.claim_event(s, "telegram", "1")
        assert await chats.claim_event(s, "web", "1")


async def test_state_round_trips(app: App) -> None:
    async with app.sessions() as s, s.begin():
        assert await chats.lock_state(s, CHAT) == ChatState()
        saved = ChatState(flow=Lookup("verify", "X"), offered=("a", "b"))
        await chats.save_state(s, CHAT, saved)
    async with app.sessions() as s, s.begin():
        state = await chats.lock_state(s, CHAT)
    assert (state.flow, state.offered) == (Lookup("verify", "X"), ("a", "b"))


@pytest.mark.commits  # transactions race on separate connections
async def test_concurrent_duplicate_deliveries_are_processed_once(app: App) -> None:
    """Transactions race to claim one event: one wins (real commits, separate connections)."""

    async def claim() -> bool:
        async with app.sessions() as s, s.begin():
            won = await chats.claim_event(s, "telegram", "race")
            await asyncio.sleep(0.05)
            return won

    results = await asyncio.gather(*(claim() for _ in range(4)))
    assert sorted(results) == [False, False, False, True]


def entry(eid: str, answer: str = "Trả lời.") -> Entry:
    return Entry(id=eid, category="Hộ tịch", question=f"Câu hỏi {eid}?", answer=answer)


async def test_import_merges_by_id_and_replace_removes_the_rest(app: App) -> None:
    async with app.sessions() as s, s.begin():
        base = await kb_repo.all_entries(s)
        rev = await kb_repo.revision(s)
        plan = await kb_repo.apply_import(s, [entry("moi/mot"), base[0]], replace=False)
        assert plan.added == ("moi/mot",)
        assert not plan.removed
        assert not plan.changed
        assert plan.unchanged == 1
        assert await kb_repo.revision(s) == rev + 1
    async with app.sessions() as s, s.begin():
        dry = await kb_repo.apply_import(s, [entry("moi/mot", "Khác.")], replace=True, dry_run=True)
        assert dry.changed == ("moi/mot",)
        assert len(dry.removed) == len(base)
        assert await kb_repo.count(s) == len(base) + 1  # a dry run changes nothing
        await kb_repo.apply_import(s, [entry("moi/mot", "Khác.")], replace=True)
    async with app.sessions() as s:
        (only,) = await kb_repo.all_entries(s)
    assert only.answer == "Khác."


async def test_an_edit_is_live_in_another_process_after_a_refresh(
    app: App, database_url: str, tmp_path: Path
) -> None:
    other = App.build(make_settings(database_url, tmp_path))
    await other.start(migrate_db=False, watch=False)
    try:
        before = other.knowledge.index.search("nuôi chim bồ câu đưa thư đăng ký ở đâu").best
        assert before is None or before.entry.id != "thu-nghiem/bo-cau"
        async with app.sessions() as s, s.begin():
            await kb_repo.apply_import(
                s,
                [
                    Entry(
                        id="thu-nghiem/bo-cau",
                        category="Khác",
                        question="Nuôi chim bồ câu đưa thư cần đăng ký ở đâu?",
                        keywords=("chim bồ câu đưa thư",),
                        answer="Không cần đăng ký.",
                    )
                ],
                replace=False,
            )
        assert await other.knowledge.refresh()
        assert not await other.knowledge.refresh()  # nothing new: no rebuild
        best = other.knowledge.index.search("nuôi chim bồ câu đưa thư đăng ký ở đâu").best
        assert best is not None
        assert best.entry.id == "thu-nghiem/bo-cau"
    finally:
        await other.close()


async def test_the_bundled_base_is_seeded_only_into_an_empty_database(app: App) -> None:
    assert await app.knowledge.seed_if_empty(app.settings.kb_dir) == 0


async def test_the_migrations_create_exactly_what_the_models_describe(database_url: str) -> None:
    """A model changed without a migration (or the reverse) fails here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import storage.models.admin  # registers its tables
    import storage.models.channels  # registers its table
    import storage.models.register  # registers its tables
    import storage.models.staff  # registers its tables
    import storage.models.web  # registers its table
    import storage.models.zalo  # noqa: F401
    from storage.db import create_engine
    from storage.models import Base

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []
