"""What keeps a message cheap (docs/cost.md): retrieval outside the write transaction, Core
statements on the session's connection that still see pending ORM changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.app import App
from bot.messages import Channel, ChatRef
from knowledge.search import SearchResult
from storage.models import MessageLog, ProcessedEvent
from storage.repositories import chats
from tests.transcript import Conversation

QUESTION = "hồ sơ hưởng trợ cấp thất nghiệp gồm những gì"


@pytest.mark.commits  # about the app's own transactions: not inside the rolled-back one
async def test_the_question_is_searched_before_the_transaction_and_only_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    index = app.knowledge.index
    search = index.search

    def recording_search(query: str, k: int = 5) -> SearchResult:
        events.append("search")
        return search(query, k)

    def on_begin(_conn: Any) -> None:
        events.append("begin")

    monkeypatch.setattr(index, "search", recording_search)
    event.listen(app.engine.sync_engine, "begin", on_begin)
    try:
        replies = await Conversation(app.dispatcher).say(QUESTION)
    finally:
        event.remove(app.engine.sync_engine, "begin", on_begin)
    assert "Mẫu số 10" in replies[0].text  # the same answer as searched inside
    # Searched once, before the message's transaction opened (the write lock on SQLite, the
    # state row's lock on PostgreSQL); the handler got that result.
    assert events[:2] == ["search", "begin"]
    assert events.count("search") == 1


async def test_a_command_or_a_button_runs_no_search_before_the_transaction(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    index = app.knowledge.index
    search = index.search

    def recording_search(query: str, k: int = 5) -> SearchResult:
        calls.append(query)
        return search(query, k)

    monkeypatch.setattr(index, "search", recording_search)
    conversation = Conversation(app.dispatcher)
    await conversation.say("/menu")
    await conversation.say("1")  # a numbered choice, not a question
    assert calls == []


async def test_a_core_statement_sees_pending_orm_rows(app: App) -> None:
    """A claim after an ORM object was added in the same transaction sees it (the session
    is flushed first, as its own ``execute`` would), so the redelivery is still refused."""
    async with app.sessions() as session, session.begin():
        session.add(ProcessedEvent(channel="console", event_id="pending-1"))
        assert not await chats.claim_event(session, "console", "pending-1")
        assert await chats.claim_event(session, "console", "pending-2")
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 2


async def test_one_session_serves_several_transactions(app: App) -> None:
    """The connection kept for Core statements is the current transaction's, never a past one."""
    chat = ChatRef(Channel.CONSOLE, "c-1", "c-1")
    async with app.sessions() as session:
        async with session.begin():
            assert await chats.claim_event(session, "console", "t-1")
        async with session.begin():
            assert not await chats.claim_event(session, "console", "t-1")
            state = await chats.lock_state(session, chat)
            await chats.save_state(session, chat, state.evolve(offered=("x",)))
        async with session.begin():
            assert (await chats.lock_state(session, chat)).offered == ("x",)


async def test_a_message_writes_its_log_row_with_an_id(app: App) -> None:
    await Conversation(app.dispatcher).say(QUESTION)
    await Conversation(app.dispatcher).say(QUESTION)
    async with app.sessions() as session:
        ids = list(await session.scalars(select(MessageLog.id).order_by(MessageLog.id)))
    assert len(ids) == 2 and ids[0] < ids[1]
