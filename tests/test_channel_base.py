"""The shared parts of every channel adapter (``bot/channels/base.py``) and the lifecycle
events the dispatcher applies in the update's transaction (``bot/lifecycle.py``)."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import make_mocked_request
from sqlalchemy import select

from bot.app import App
from bot.channels.base import (
    Backoff,
    ChannelAdapter,
    ChatLocks,
    TaskSet,
    menu_text,
    numbered_turn,
    secret_matches,
)
from bot.channels.console import render as console_render
from bot.channels.registry import PLATFORMS
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_bot import render as bot_render
from bot.messages import Channel, ChatRef, Choice, EventKind, Incoming, Reply
from storage.models import Subscription
from storage.repositories import dossiers as dossier_repo
from storage.repositories import recipients, subscriptions
from tests.dossier_fixtures import CODE, build_city

A, B, C = Choice("Một", "a"), Choice("Hai", "b"), Choice("Ba", "c")


def test_numbering_continues_across_the_turn() -> None:
    turn = numbered_turn([Reply("x", (A, B)), Reply("y"), Reply("z", (C,))])
    assert [[(n.number, n.choice) for n in items] for _, items in turn] == [
        [(1, A), (2, B)],
        [],
        [(3, C)],
    ]
    # Buttons elsewhere still take their numbers (the dispatcher counts every choice)...
    shown = numbered_turn([Reply("x", (A, B)), Reply("y", (C,))], listed=lambda r: r.text == "y")
    assert [n.number for n in shown[1][1]] == [3]
    # ...unless the channel resolves what is typed itself (the terminal).
    own = numbered_turn(
        [Reply("x", (A, B)), Reply("y", (C,))],
        listed=lambda r: r.text == "y",
        count_unlisted=False,
    )
    assert [n.number for n in own[1][1]] == [1]


def test_one_menu_text_for_every_channel_without_buttons() -> None:
    (_, items), *_ = numbered_turn([Reply("", (A, Choice("Bốn\nnăm", "d")))])
    assert menu_text("Chọn:", items, hint="Gõ số.") == "Chọn:\n\n1. Một\n2. Bốn năm\nGõ số."
    assert menu_text("", items, title="Mời bạn chọn:") == "Mời bạn chọn:\n1. Một\n2. Bốn năm"
    assert menu_text("  Chỉ chữ  ", ()) == "Chỉ chữ"
    # The Zalo Bot and the terminal number the same turn alike.
    replies = [Reply("Tra cứu", (A, B)), Reply("Thêm", (C,))]
    assert "3. Ba" in "\n".join(bot_render(replies))
    text, keys = console_render(replies)
    assert "3. Ba" in text and keys.numbered == [A, B, C]


def test_backoff_doubles_up_to_its_cap_and_gives_up_after_its_retries() -> None:
    policy = Backoff(base=1.0, cap=5.0, retries=3)
    for failures, plain in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        assert plain <= policy.delay(failures) <= plain * 1.25
    assert not policy.exhausted(3) and policy.exhausted(4)
    assert policy.after(1.0) == 2.0 and policy.after(4.0) == 5.0


async def test_a_chat_lock_keeps_arrival_order_and_the_task_set_drains() -> None:
    locks, order = ChatLocks(), []

    async def handle(n: int) -> None:
        async with locks("chat-1"):
            await asyncio.sleep(0.01 * (5 - n))  # later ones would finish first if unordered
            order.append(n)

    sending = TaskSet("test")
    for n in range(5):
        sending.spawn(handle(n))
    await sending.drain(5)
    assert order == [0, 1, 2, 3, 4] and not sending.tasks

    stuck = TaskSet("test")
    stuck.spawn(asyncio.sleep(60))
    await stuck.drain(0.05)  # bounded: the rest is cancelled, and said so in the log
    assert not stuck.tasks


def test_the_webhook_secret_is_compared_whole_and_never_empty() -> None:
    def request(value: str | None) -> object:
        headers = {} if value is None else {"X-Secret": value}
        return make_mocked_request("POST", "/hook", headers=headers)

    assert secret_matches(request("s3cret"), "X-Secret", b"s3cret")  # type: ignore[arg-type]
    assert not secret_matches(request("s3cre"), "X-Secret", b"s3cret")  # type: ignore[arg-type]
    assert not secret_matches(request(None), "X-Secret", b"s3cret")  # type: ignore[arg-type]
    assert not secret_matches(request(""), "X-Secret", b"")  # type: ignore[arg-type]


def test_every_platform_channel_has_the_adapter_shape() -> None:
    assert [p.name for p in PLATFORMS] == ["telegram", "zalo_oa", "zalo_bot"]
    bot = ZaloBotChannel(None, None, token="t", secret=b"s")  # type: ignore[arg-type]
    assert isinstance(bot, ChannelAdapter) and bot.channel is Channel.ZALO_BOT


async def _unreachable(app: App, channel: Channel, chat_id: str) -> bool:
    async with app.sessions() as s:
        return await recipients.is_unreachable(s, channel.value, chat_id)


async def test_lifecycle_events_are_the_dispatchers_in_one_transaction(app: App) -> None:
    await build_city(app)
    chat = ChatRef(Channel.ZALO_OA, "u-1", "u-1")
    async with app.sessions() as s, s.begin():
        dossier = await dossier_repo.dossier_by_code(s, CODE)
        assert dossier is not None
        await subscriptions.subscribe(
            s, dossier_id=dossier.id, channel="zalo_oa", chat_id="u-1", user_hash="h"
        )

    # Unfollow: unreachable, subscriptions stopped, nothing answered.
    handle = app.dispatcher.handle
    assert await handle(Incoming(chat, "e-1", kind=EventKind.UNFOLLOW)) == []
    assert await _unreachable(app, Channel.ZALO_OA, "u-1")
    async with app.sessions() as s:
        assert await s.scalar(select(Subscription.active)) is False
    # A redelivery of the same event is dropped as a duplicate, like any other.
    assert await handle(Incoming(chat, "e-1", kind=EventKind.UNFOLLOW)) == []

    # A message makes the chat reachable again, and is answered as usual.
    replies = await handle(Incoming(chat, "e-2", text="/help"))
    assert replies and not await _unreachable(app, Channel.ZALO_OA, "u-1")

    # Blocked in a group, then unblocked: marked and cleared, never answered.
    group = ChatRef(Channel.TELEGRAM, "-100", "7", is_group=True)
    assert await handle(Incoming(group, "e-3", kind=EventKind.BLOCKED)) == []
    async with app.sessions() as s:
        row = recipients.ChannelRecipient
        reason = await s.scalar(select(row.reason).where(row.channel == "telegram"))
    assert reason == "removed from the group"
    assert await handle(Incoming(group, "e-4", kind=EventKind.REACHABLE)) == []
    assert not await _unreachable(app, Channel.TELEGRAM, "-100")

    # Content the adapter refused is answered with its refusal, through the same claim.
    refused = Incoming(group, "e-5", refusal="Tệp quá lớn.")
    assert [r.text for r in await handle(refused)] == ["Tệp quá lớn."]
    assert await handle(refused) == []

    # The web chat cannot become unreachable: nothing is written for it.
    web = ChatRef(Channel.WEB, "w", "w")
    assert await handle(Incoming(web, "e-6", kind=EventKind.BLOCKED)) == []
    assert not await _unreachable(app, Channel.WEB, "w")
