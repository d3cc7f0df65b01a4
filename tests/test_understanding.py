"""Understanding citizens as they write: follow-ups, small talk, progress, scope, aspects.

Transcripts run through the real dispatcher and database with the bundled knowledge base.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.messages import ChatState
from handlers import texts_dossier
from storage.models import ChatStateRow, MessageLog
from storage.repositories import inbox
from storage.repositories import stats as stats_repo
from tests.transcript import Conversation

APOLOGY_START = "Xin lỗi, tôi chưa tìm được"


def answer_of(app: App, entry_id: str) -> str:
    entry = app.knowledge.index.get(entry_id)
    assert entry is not None, entry_id
    return entry.answer.strip()[:60]


async def fresh(app: App, chat_id: str, text: str) -> list[str]:
    """What a new citizen who spells the question out in full gets (reply texts)."""
    other = Conversation(app.dispatcher, chat_id=chat_id)
    return [r.text for r in await other.say(text)]


async def decisions(app: App) -> list[str]:
    async with app.sessions() as s:
        return list(await s.scalars(select(MessageLog.decision).order_by(MessageLog.id)))


async def test_follow_ups_stay_on_the_procedure(conversation: Conversation, app: App) -> None:
    await conversation.say("dạ cho em hỏi làm trợ cấp thất nghiệp cần giấy tờ gì ạ")
    assert conversation.last[0].text[:60] == answer_of(app, "tro-cap-that-nghiep/ho-so")

    await conversation.say("còn lệ phí thì sao?")
    assert conversation.last[0].text[:60] == answer_of(app, "tro-cap-that-nghiep/le-phi")

    await conversation.say("nộp ở đâu vậy")
    assert conversation.last[0].text[:60] == answer_of(app, "tro-cap-that-nghiep/noi-nop")

    await conversation.say("làm online được không")
    assert conversation.last[0].text[:60] == answer_of(app, "tro-cap-that-nghiep/truc-tuyen")

    # An aspect-only follow-up gets what the fully spelled-out question gets.
    await conversation.say("mất mấy ngày")
    spelled = await fresh(app, "citizen-2", "làm trợ cấp thất nghiệp mất mấy ngày")
    assert [r.text for r in conversation.last] == spelled


async def test_naming_another_procedure_switches_the_topic(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("dạ cho em hỏi làm trợ cấp thất nghiệp cần giấy tờ gì ạ")
    await conversation.say("mất cccd làm lại ở đâu")
    assert conversation.last[0].text[:60] == answer_of(app, "can-cuoc/cap-lai")
    await conversation.say("làm lại tốn bao nhiêu tiền")
    assert conversation.last[0].text[:60] == answer_of(app, "can-cuoc/le-phi")
    async with app.sessions() as s:
        row = await s.get(ChatStateRow, ("console", app.dispatcher.state_key(conversation.chat)))
        assert row is not None
        memory = ChatState.from_json(row.state).memory.dialogue
    assert memory is not None
    assert memory.entry_id == "can-cuoc/le-phi"
    assert memory.aspect == "fee"


async def test_the_memory_expires_after_fifteen_minutes(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("dạ cho em hỏi làm trợ cấp thất nghiệp cần giấy tờ gì ạ")
    async with app.sessions() as s, s.begin():
        row = await s.get(ChatStateRow, ("console", app.dispatcher.state_key(conversation.chat)))
        assert row is not None
        state = json.loads(row.state)
        state["memory"]["dialogue"]["at"] -= 16 * 60
        row.state = json.dumps(state)
    await conversation.say("còn lệ phí thì sao?")
    assert conversation.last[0].text[:60] != answer_of(app, "tro-cap-that-nghiep/le-phi")
    assert "trợ cấp thất nghiệp" not in conversation.text.lower()


async def test_small_talk_gets_a_fitting_reply_and_is_not_unanswered(
    conversation: Conversation, app: App
) -> None:
    for text, expected in (
        ("chào bot", "Chào bạn"),
        ("cảm ơn bot nhiều nha", "Không có gì"),
        ("cam on ad", "Không có gì"),
        ("ok", "Dạ"),
        ("bạn là ai", "trợ lý ảo"),
        ("cho tôi gặp người thật", "18001096"),
        ("tạm biệt", "chúc bạn"),
        ("bot ngu quá", "Xin lỗi vì tôi chưa giúp được"),
    ):
        await conversation.say(text)
        assert expected in conversation.text, text
        assert not conversation.text.startswith(APOLOGY_START), text
        assert "nằm ngoài" not in conversation.text, text
    assert set(await decisions(app)) == {"smalltalk"}

    now = datetime.now(UTC)
    f = stats_repo.Filter(date.today(), date.today(), now - timedelta(days=1), now)
    async with app.sessions() as s:
        assert await stats_repo.fallback_questions(s, f) == []
        counted, _ = await stats_repo.questions_and_entries(s, f)
        assert counted == {}
        assert await inbox.collect(s) == []


async def test_a_progress_question_offers_the_dossier_lookup(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("ủa sao hồ sơ em nộp 2 tuần rồi chưa có kết quả")
    assert "tra cứu" in conversation.text
    assert conversation.last[-1].text == texts_dossier.ASK_CODE
    async with app.sessions() as s:
        row = await s.get(ChatStateRow, ("console", app.dispatcher.state_key(conversation.chat)))
        assert row is not None and ChatState.from_json(row.state).flow_name == "dossier"
    assert await decisions(app) == ["progress"]


async def test_a_question_instead_of_a_code_leaves_the_lookup_and_is_answered(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("ủa sao hồ sơ em nộp 2 tuần rồi chưa có kết quả")
    await conversation.say("đkkh cần gì")
    assert conversation.last[0].text[:60] == answer_of(app, "ket-hon/ho-so")
    await conversation.say("tra cứu hồ sơ")
    await conversation.say("000.00.12-2601")  # digits: a mistyped code, the lookup goes on
    assert conversation.last[0].text == texts_dossier.BAD_CODE


async def test_out_of_scope_says_what_is_covered_without_unrelated_suggestions(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("giá vàng hôm nay bao nhiêu")
    assert conversation.text.startswith("Câu hỏi này nằm ngoài những gì tôi có thông tin")
    assert "Hộ tịch" in conversation.text  # the fields it does cover
    assert "18001096" in conversation.text
    assert all(not v.startswith("e:") for v in conversation.values)  # no entries offered
    assert await decisions(app) == ["fallback"]


async def test_a_missing_aspect_of_a_known_procedure_is_said_plainly(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("đăng ký tạm trú có bị phạt không")
    assert conversation.text.startswith("Về thủ tục «Đăng ký tạm trú»")
    assert "mức xử phạt" in conversation.text
    offered = [v for v in conversation.values if v.startswith("e:")]
    assert offered, "the procedure's entries are offered"
    index = app.knowledge.index
    for label in conversation.labels:
        entry = next(e for e in index.entries if e.question == label)
        assert entry.procedure == "Đăng ký tạm trú"
    # The memory now holds the procedure: the next aspect is answered for it.
    await conversation.say("còn lệ phí thì sao")
    assert conversation.last[0].text[:60] == answer_of(app, "tam-tru/le-phi")


async def test_naming_an_uncovered_procedure_clears_the_memory(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("dạ cho em hỏi làm trợ cấp thất nghiệp cần giấy tờ gì ạ")
    await conversation.say("giá vàng hôm nay bao nhiêu")
    async with app.sessions() as s:
        row = await s.get(ChatStateRow, ("console", app.dispatcher.state_key(conversation.chat)))
        assert row is not None
        assert ChatState.from_json(row.state).memory.dialogue is None
