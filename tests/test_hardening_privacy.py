"""Hardening of personal state and privacy (issue 14): M1 (state belongs to the person, lookups
only in private chats), L6 (no platform ids in clear where they are not needed, none in logs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.app import App
from bot.messages import Channel, ChatRef
from handlers import texts_dossier
from storage.models import ChatStateRow
from tests.dossier_fixtures import CODE, OWNER_ID, build_city
from tests.transcript import Conversation

GROUP = "-1001234567890"
ALICE = "5550001111"
BOB = "5550002222"


@dataclass
class Member(Conversation):
    """A person writing in a Telegram chat that may be a group."""

    user_id: str = ALICE

    @property
    def chat(self) -> ChatRef:
        return ChatRef(
            self.channel, self.chat_id, self.user_id, is_group=self.chat_id != self.user_id
        )


def member(app: App, chat_id: str, user_id: str) -> Member:
    return Member(app.dispatcher, channel=Channel.TELEGRAM, chat_id=chat_id, user_id=user_id)


async def test_in_a_group_a_dossier_lookup_moves_to_a_private_chat(app: App) -> None:
    await build_city(app)
    alice, bob = member(app, GROUP, ALICE), member(app, GROUP, BOB)
    await alice.say(CODE)
    assert alice.text == texts_dossier.PRIVATE_ONLY
    await alice.say(OWNER_ID)
    assert "Hồ sơ" not in alice.text and "Chủ hồ sơ" not in alice.text
    await alice.say("/tracuu")
    assert alice.text == texts_dossier.PRIVATE_ONLY
    await bob.say(CODE)
    assert bob.text == texts_dossier.PRIVATE_ONLY
    # In her private chat Alice verifies as usual...
    private = member(app, ALICE, ALICE)
    await private.say(CODE)
    await private.say(OWNER_ID)
    assert f"Hồ sơ {CODE}" in private.text
    dossier_id = next(v for v in private.values if v.startswith("ds:on:")).rsplit(":", 1)[1]
    # ...and nobody in the group, herself included, can use that verification there.
    for person in (alice, bob):
        await person.tap(f"rd:{dossier_id}:1")
        assert "Hồ sơ" not in person.text
        await person.tap(f"ds:on:{dossier_id}")
        assert person.text == texts_dossier.PRIVATE_ONLY


async def test_each_group_member_has_a_state_of_their_own(app: App) -> None:
    await build_city(app)
    alice, bob = member(app, GROUP, ALICE), member(app, GROUP, BOB)
    await alice.tap("dg:place")  # Alice starts rating a service point: asked which one
    await bob.say("lệ phí đăng ký tạm trú")  # Bob's question is his, not Alice's answer
    assert "UBND" not in bob.text
    await alice.say("phường Ninh Kiều")
    assert "UBND phường Ninh Kiều" in alice.labels


@pytest.mark.commits  # SQL logging is decided when a connection opens: after DEBUG is set
async def test_chat_state_rows_hold_no_platform_ids_and_sql_parameters_are_not_logged(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # what LOG_LEVEL=DEBUG gives every logger
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    alice = member(app, GROUP, ALICE)
    await alice.say("/start")
    await member(app, ALICE, ALICE).say("lệ phí đăng ký tạm trú")
    async with app.sessions() as s:
        rows = list(await s.execute(select(ChatStateRow.chat_id, ChatStateRow.user_hash)))
    assert len(rows) == 2
    for chat_id, user_hash in rows:
        assert ALICE not in chat_id and GROUP not in chat_id and len(chat_id) == 64
        assert user_hash == app.dispatcher.user_hash_of(Channel.TELEGRAM, ALICE)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "SELECT" in logged or "INSERT" in logged  # SQL was logged at DEBUG...
    assert ALICE not in logged and GROUP not in logged  # ...but never its parameters


async def test_rating_invitations_keep_no_platform_chat_id(app: App) -> None:
    from storage.models import FeedbackInvitation
    from tests.dossier_fixtures import ingest

    await build_city(app)
    private = member(app, ALICE, ALICE)
    await private.say(CODE)
    await private.say(OWNER_ID)
    await private.tap_label("Báo tôi khi có thay đổi")
    event = {"id": "done", "dossier_code": CODE, "at": "2026-01-20T09:00:00+07:00", "status": 9}
    await ingest(app, {"events": [event]})
    async with app.sessions() as s:
        chat_ids = list(await s.scalars(select(FeedbackInvitation.chat_id)))
    assert len(chat_ids) == 1 and ALICE not in chat_ids[0]
