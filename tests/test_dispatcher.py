"""Conversation transcripts through the dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from bot.messages import Channel, ChatRef, Incoming, Outcome, Reply
from handlers import ROUTES, Route
from handlers.context import Context
from storage.models import AnswerFeedback, ChatStateRow, MessageLog
from tests.transcript import Conversation


async def count(app: App, model: type) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_start_greets_and_shows_the_main_menu(conversation: Conversation) -> None:
    await conversation.say("/start")
    assert "Xin chào" in conversation.text
    assert "có dấu hay không dấu" in conversation.text
    assert conversation.labels == [
        "❓ Hỏi về thủ tục",
        "📚 Thủ tục theo lĩnh vực",
        "🔎 Tra cứu hồ sơ",
        "⭐ Đánh giá, phản ánh",
        "ℹ️ Hướng dẫn",
    ]


async def test_a_question_is_answered_with_related_questions_and_a_helpfulness_prompt(
    conversation: Conversation, app: App
) -> None:
    replies = await conversation.say("cho em hỏi làm trợ cấp thất nghiệp cần giấy tờ gì ạ")
    assert "Mẫu số 10" in replies[0].text  # the application form of Decree 374/2025
    assert "Căn cứ:" in replies[0].text
    assert replies[1].text == "Câu hỏi liên quan:"
    assert 1 <= len(replies[1].choices) <= 3
    assert replies[-1].text == "Câu trả lời có hữu ích không?"
    assert [c.label for c in replies[-1].choices] == ["👍 Có", "👎 Chưa"]
    async with app.sessions() as s:
        row = (await s.scalars(select(MessageLog))).one()
    assert (row.decision, row.entry_id) == ("answer", "tro-cap-that-nghiep/ho-so")
    assert row.channel == "console"
    assert row.user_hash != "citizen-1"


async def test_the_same_question_without_diacritics_and_abbreviated(
    conversation: Conversation,
) -> None:
    first = (await conversation.say("cho em hỏi làm trợ cấp thất nghiệp cần giấy tờ gì ạ"))[0].text
    for variant in (
        "cho em hoi lam tro cap that nghiep can giay to gi a",
        "ho so tctn gom nhung gi",
    ):
        assert (await conversation.say(variant))[0].text == first


async def test_helpfulness_is_stored_once(conversation: Conversation, app: App) -> None:
    await conversation.say("hồ sơ hưởng trợ cấp thất nghiệp gồm những gì")
    yes = next(v for v in conversation.values if v.endswith(":1"))
    await conversation.tap(yes)
    assert conversation.last[0].text == "Cảm ơn bạn đã phản hồi!"
    assert "đỡ phải đi lại" in conversation.last[1].text
    trip = conversation.values[0]
    await conversation.tap(yes.rsplit(":", 1)[0] + ":0")
    assert "đã góp ý" in conversation.text
    await conversation.tap(trip)
    assert conversation.text == "Cảm ơn bạn!"
    async with app.sessions() as s:
        feedback = (await s.scalars(select(AnswerFeedback))).one()
    assert feedback.helpful
    assert feedback.entry_id == "tro-cap-that-nghiep/ho-so"
    assert feedback.trip_saved is True


async def test_nobody_can_rate_someone_elses_answer(conversation: Conversation, app: App) -> None:
    await conversation.say("hồ sơ hưởng trợ cấp thất nghiệp gồm những gì")
    yes = next(v for v in conversation.values if v.startswith("hf:"))
    stranger = Conversation(app.dispatcher, chat_id="someone-else")
    await stranger.tap(yes)
    assert "đã cũ" in stranger.text
    assert await count(app, AnswerFeedback) == 0


async def test_numbered_replies_pick_the_choices_offered_last(conversation: Conversation) -> None:
    await conversation.say("/menu")
    await conversation.say("2")  # "📚 Thủ tục theo lĩnh vực"
    assert conversation.text == "Mời bạn chọn lĩnh vực:"
    assert "Lao động – Việc làm" in conversation.labels


async def test_browsing_goes_field_then_procedure_then_topic(conversation: Conversation) -> None:
    await conversation.tap("m:browse")
    await conversation.tap_label("Lao động – Việc làm")
    assert "Mời bạn chọn thủ tục" in conversation.text
    await conversation.tap_label("Giải quyết hưởng trợ cấp thất nghiệp")
    assert "Bạn muốn biết điều gì?" in conversation.text
    assert len(conversation.labels) >= 15
    await conversation.tap(conversation.values[0])
    assert conversation.last[-1].text == "Câu trả lời có hữu ích không?"


async def test_an_unclear_question_gets_suggestions_and_nonsense_falls_back(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("trận bóng đá tối qua tỉ số bao nhiêu")
    assert "nằm ngoài những gì tôi có thông tin" in conversation.text
    assert "Bảo hiểm xã hội" in conversation.text  # it says what it does cover
    assert "18001096" in conversation.text or app.settings.hotline in conversation.text
    async with app.sessions() as s:
        row = (await s.scalars(select(MessageLog))).one()
    assert row.decision == "fallback"


async def test_numbers_are_masked_in_the_message_log(conversation: Conversation, app: App) -> None:
    await conversation.say(
        "số điện thoại của tôi là 0912 345 678, cccd 079123456789, trợ cấp thất nghiệp"
    )
    async with app.sessions() as s:
        question = (await s.scalars(select(MessageLog.question))).one()
    assert "0912" not in question
    assert "079123456789" not in question
    assert "[số đã ẩn]" in question


async def test_unknown_commands_stale_buttons_long_and_odd_messages(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("/xoahet")
    assert "chưa hiểu lệnh này" in conversation.text
    await conversation.tap("e:0000000000")
    assert "đã cũ" in conversation.text
    await conversation.tap("zz:whatever")
    assert "đã cũ" in conversation.text
    await conversation.say("a" * (app.settings.max_message_chars + 1))
    assert "dài quá" in conversation.text
    await conversation.say("   ")
    assert "gõ câu hỏi" in conversation.text
    await conversation.send(Incoming(conversation.chat, "sticker-1", unsupported="sticker"))
    assert "tin nhắn chữ" in conversation.text


async def test_a_redelivered_event_is_processed_once(conversation: Conversation, app: App) -> None:
    first = await conversation.say("lệ phí đăng ký tạm trú", event_id="update-42")
    again = await conversation.say("lệ phí đăng ký tạm trú", event_id="update-42")
    assert first
    assert again == []
    assert await count(app, MessageLog) == 1
    other_channel = Conversation(app.dispatcher, channel=Channel.WEB)
    assert await other_channel.say("lệ phí đăng ký tạm trú", event_id="update-42")


async def test_state_survives_in_the_database_between_updates(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("/menu")
    async with app.sessions() as s:
        state = await s.scalar(select(ChatStateRow.state))
    assert state is not None
    assert "m:browse" in state


async def test_a_failing_handler_rolls_everything_back_and_apologises(app: App) -> None:
    async def broken(ctx: Context) -> Outcome:
        await ctx.record_question("câu hỏi", "answer", None, None)  # written, then undone
        raise RuntimeError("boom")

    routes = (Route("command", "boom", broken), *ROUTES)
    dispatcher = type(app.dispatcher)(
        app.sessions,
        app.knowledge,
        secret=b"k",
        hotline=app.settings.hotline,
        max_message_chars=2000,
        routes=routes,
    )
    chat = ChatRef(Channel.CONSOLE, "c", "c")
    replies = await dispatcher.handle(Incoming(chat, "boom-1", text="/boom"))
    assert replies == [
        Reply(
            "Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được. "
            "Bạn vui lòng thử lại sau ít phút."
        )
    ]
    assert await count(app, MessageLog) == 0
    assert await count(app, ChatStateRow) == 0
    # The event was not marked processed: a redelivery is tried again.
    assert await dispatcher.handle(Incoming(chat, "boom-1", text="/start"))


def test_user_and_state_hashes_are_the_keyed_hashes_per_secret() -> None:
    """Remembered per chat (bot/dispatcher.py), the hashes stay the keyed hashes of the
    secret in use: two dispatchers with different secrets never share one."""
    from bot.dispatcher import _keyed_hash
    from bot.domain.privacy import keyed_hash

    assert _keyed_hash(b"s1", "web", "u1") == keyed_hash(b"s1", "web", "u1")
    assert _keyed_hash(b"s1", "web", "u1") is _keyed_hash(b"s1", "web", "u1")
    assert _keyed_hash(b"s2", "web", "u1") != _keyed_hash(b"s1", "web", "u1")
