"""Conversations that hold: follow-ups, topic switches, small talk and dossier questions.

Transcripts in Vietnamese through the real dispatcher and database with the bundled knowledge
base (the same path as the web chat). Each turn is checked by what the assistant logged (its
decision and entry) and by what it said. The phrasings here are not those of
``bench/conversations.yaml``: the bench measures, these pin down behaviour.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from handlers import followup, texts, texts_dossier
from knowledge import intents, kbfile
from knowledge.intents import detect
from knowledge.search import Index
from storage.models import MessageLog
from tests import cli_runner
from tests.transcript import Conversation

ROOT = Path(__file__).resolve().parent.parent

APOLOGY = texts.FALLBACK.split("\n", 1)[0]


async def last_logged(app: App) -> tuple[str, str | None]:
    """The decision and entry of the last message the assistant logged."""
    async with app.sessions() as s:
        row = (
            await s.execute(
                select(MessageLog.decision, MessageLog.entry_id)
                .order_by(MessageLog.id.desc())
                .limit(1)
            )
        ).one()
    return row[0], row[1]


async def said(conversation: Conversation, app: App, text: str) -> tuple[str, str | None]:
    await conversation.say(text)
    return await last_logged(app)


async def test_an_aspect_only_follow_up_is_answered_for_the_remembered_procedure(
    conversation: Conversation, app: App
) -> None:
    # Retrieval alone answers "làm ở đâu" with the entry on who needs the certificate (the
    # procedure's first entry by its words); the procedure's place entry is what was asked.
    assert await said(
        conversation, app, "Mở quán ăn, tiệm bánh có cần giấy chứng nhận an toàn thực phẩm không?"
    ) == ("answer", "attp/khi-nao-can")
    assert await said(conversation, app, "làm ở đâu") == ("answer", "attp/noi-nop")
    assert conversation.last[0].text.startswith("Thẩm quyền cấp")
    assert await said(conversation, app, "mất mấy ngày") == ("answer", "attp/thoi-han")


async def test_a_follow_up_with_a_question_word_is_not_small_talk(
    conversation: Conversation, app: App
) -> None:
    # "được" alone means "ok"; "ai thì được làm" asks who may marry.
    await conversation.say("Đăng ký kết hôn có mất lệ phí không?")
    decision, entry = await said(conversation, app, "ai thì được làm")
    assert decision != "smalltalk"
    assert entry is not None and entry.startswith("ket-hon/")
    assert not conversation.text.startswith("Dạ. Bạn cần hỏi thêm")


async def test_naming_only_another_procedure_keeps_the_aspect(
    conversation: Conversation, app: App
) -> None:
    assert await said(conversation, app, "lệ phí đăng ký kết hôn bao nhiêu") == (
        "answer",
        "ket-hon/le-phi",
    )
    # Without the memory this is read as a question on birth registration in general.
    assert await said(conversation, app, "còn khai sinh thì sao") == ("answer", "khai-sinh/le-phi")
    # A question that says which case it is about is read as asked, not as a fee question: the
    # case's entry comes first (offered rather than answered since the decision models of the
    # nineteenth session, which answer only where wrong answers stay rarer).
    await conversation.say("Đăng ký kết hôn cần giấy tờ gì")
    decision, entry = await said(conversation, app, "còn người nước ngoài thì sao")
    assert (decision, entry) in {
        ("answer", "ket-hon/yeu-to-nuoc-ngoai"),
        ("suggest", "ket-hon/yeu-to-nuoc-ngoai"),
    }


async def test_a_follow_up_for_an_aspect_the_procedure_lacks_says_so(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("Đăng ký tạm trú cần giấy tờ gì")
    await conversation.say("thế có bị phạt không")
    assert conversation.text.startswith("Về thủ tục «Đăng ký tạm trú»")
    assert "mức xử phạt" in conversation.text
    index = app.knowledge.index
    offered = [index.get(v) for v in conversation.labels]  # labels are questions, not ids
    assert offered == [None] * len(offered)
    for label in conversation.labels:
        entry = next(e for e in index.entries if e.question == label)
        assert entry.id.startswith("tam-tru/")
    assert (await last_logged(app))[0] == "fallback"


async def test_an_unrelated_question_mid_conversation_is_not_answered_as_a_follow_up(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("Đăng ký khai sinh cần giấy tờ gì")
    # Words no public-service text uses: not the birth registration's fee or time.
    for text in ("xăng bao nhiêu một lít", "đi Đà Lạt mất mấy ngày"):
        decision, entry = await said(conversation, app, text)
        assert not (decision == "answer" and entry is not None and entry.startswith("khai-sinh/"))


async def test_a_marked_follow_up_word_is_not_its_folded_twin(
    conversation: Conversation, app: App
) -> None:
    # "còn" folds to "con", a word of birth registration: typed with marks, it is "còn".
    await conversation.say("Đăng ký kết hôn ở đâu?")
    assert await said(conversation, app, "còn hồ sơ thì cần những gì?") == (
        "answer",
        "ket-hon/ho-so",
    )


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("oke bạn", "Dạ."),
        ("dạ vâng em cảm ơn ạ", "Không có gì"),
        ("chào buổi chiều", "Chào bạn"),
        ("thôi em chào ad nhé", "Chào bạn"),
        ("bye bye bot", "chúc bạn"),
        ("đợi mãi chưa thấy ai trả lời, bực mình quá", "Tôi rất tiếc"),
        ("bạn là người thật hay máy vậy", "trợ lý ảo"),
        # calls for attention: forms of address only, or no word or telling emoji at all
        ("bot ơi", "Chào bạn"),
        ("ad ơi cho hỏi", "Chào bạn"),
        ("🤔", "Chào bạn"),
        ("?", "Chào bạn"),
        # a smile acknowledges, as ":)" does (its Unicode name: "GRINNING FACE")
        ("😀", "Dạ."),
        ("mày là người hay máy", "trợ lý ảo"),
        ("ai tạo ra bạn vậy", "trợ lý ảo"),
        ("bạn làm được gì", "trợ lý ảo"),
        ("chờ hoài không thấy ai trả lời", "Tôi rất tiếc"),
        ("bot dở ẹc", "Xin lỗi vì tôi chưa giúp được"),
        ("cảm ơn bạn đã giúp", "Không có gì"),
        ("có phải máy trả lời không", "trợ lý ảo"),
        ("thôi không cần", "Dạ."),
    ],
)
async def test_small_talk_in_other_words_gets_its_own_reply(
    conversation: Conversation, app: App, text: str, reply: str
) -> None:
    await conversation.say(text)
    assert reply in conversation.text
    assert not conversation.text.startswith(APOLOGY)
    assert (await last_logged(app))[0] == "smalltalk"


async def test_asking_for_the_hotline_gets_it_from_the_base_or_the_intent(
    conversation: Conversation, app: App
) -> None:
    # Asking for a person yields to a confident answer of the base (intents.YIELDS_TO_ANSWER),
    # and the bundled base has the entry on whom to contact: either reply gives the hotline.
    await conversation.say("số điện thoại hỗ trợ là gì")
    assert "tổng đài" in conversation.text
    assert not conversation.text.startswith(APOLOGY)
    assert await last_logged(app) in {("answer", "tro-ly/lien-he"), ("smalltalk", None)}


@pytest.mark.parametrize(
    "text",
    [
        "hs cua toi sao lau qua vay",  # "hs": hồ sơ
        "giấy tờ em nộp bên phường sao chưa thấy trả",
        "hồ sơ của mình nộp tuần trước xử lý tới đâu rồi ạ",
        "cho hỏi hồ sơ em nộp hôm thứ hai giờ sao rồi",
        "sổ đỏ của tôi bao giờ mới có",
    ],
)
async def test_a_dossier_question_in_other_words_offers_the_lookup(
    conversation: Conversation, app: App, text: str
) -> None:
    await conversation.say("lệ phí đăng ký kết hôn bao nhiêu")  # mid-conversation
    await conversation.say(text)
    assert conversation.last[-1].text == texts_dossier.ASK_CODE
    assert not conversation.text.startswith(APOLOGY)


async def test_a_vented_question_the_base_answers_is_answered(
    conversation: Conversation, app: App
) -> None:
    # "lâu vậy" is a complaint phrase, but the base answers why inheritance takes time.
    assert await said(conversation, app, "Sao làm thừa kế lâu vậy?") == (
        "answer",
        "phan-chia-di-san/niem-yet",
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ai thì được làm", None),
        ("lam tren dien thoai duoc khong", None),  # "dien thoai" is not "điên"
        ("dai dien theo phap luat la ai", None),
        ("may khung a", "abuse"),
        ("nộp giấy tờ từ tháng trước mà giờ chưa thấy gì", "progress"),
        ("trễ hẹn mấy lần rồi đó", "complaint"),
        ("em nộp hồ sơ kết hôn rồi thì bao lâu có kết quả", None),  # asks the time
        ("chào bot, làm khai sinh ở đâu", None),
    ],
)
def test_intents_read_words_as_typed(text: str, intent: str | None) -> None:
    found = detect(text)
    assert (found.name if found else None) == intent


def test_ask_reports_what_the_chat_does_with_a_vented_question(tmp_path: Path) -> None:
    """``motcua ask --json`` scores the chat's behaviour: a complaint the base answers is an
    answer there too; one it does not answer is the complaint (not a question)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "SECRET_KEY": "conversations-test-key-0123456789abcdef",
    }
    done = cli_runner.run(
        "ask",
        "--kb",
        str(ROOT / "knowledge" / "data" / "cong-chung.yaml"),
        "--json",
        cwd=tmp_path,
        env=env,
        stdin="Sao làm thừa kế lâu vậy?\nlàm gì mà lâu thế\n",
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["decision"] == "answer" and "intent" not in lines[0]
    assert lines[1]["decision"] == "fallback" and lines[1]["intent"] == "complaint"


def test_words_of_another_entrys_question_do_not_name_its_procedure() -> None:
    """After a question on voluntary social insurance, "cần đáp ứng điều kiện gì" shares
    "đáp ứng" with the adoption entry's question, not with its name or keywords: it is a
    follow-up, not a question on adoption. "nhận con nuôi" names adoption."""
    entries = kbfile.load(ROOT / "bench" / "eval5" / "kb.yaml")
    index = Index(entries)
    members = tuple(e for e in entries if e.id.startswith("bhxh-tu-nguyen/"))
    rival = next(e for e in entries if e.id == "con-nuoi/dieu-kien")
    assert followup.foreign_weight(index, "cần đáp ứng điều kiện gì", members, rival) == 0.0
    named = followup.foreign_weight(index, "nhận con nuôi cần điều kiện gì", members, rival)
    assert named >= 0.5


async def test_chatter_no_intent_lists_gets_a_friendly_reply_not_the_fallback(app: App) -> None:
    # "dạ rõ", "hẹn bữa khác nha": small talk in words no intent lists. The base finds
    # nothing and no procedure is named, so the citizen gets the small-talk reply, and the
    # message is not an unanswered question; a real question is still searched.
    for text in ("dạ rõ", "hẹn bữa khác nha", "phục vụ dân mà như ban ơn"):
        assert intents.chatter(text) is not None
        conversation = Conversation(app.dispatcher, chat_id=f"chatter-{text}")
        assert await said(conversation, app, text) == (intents.SMALL_TALK_DECISION, None)
    assert intents.chatter("lệ phí khai sinh bao nhiêu") is None
    assert intents.chatter("giá vàng hôm nay") is None  # an everyday subject: not covered
    # questions without a question word: "cách ...", a yes/no question
    assert intents.chatter("cách đăng ký nuôi khủng long cảnh") is None
    assert intents.chatter("nuôi chim yến trong nhà có cần xin phép không") is None


async def test_asking_for_a_person_mid_conversation_gets_the_hotline(
    conversation: Conversation, app: App
) -> None:
    # The dialogue memory reads "cho em gặp nhân viên" against the ID-card question before it
    # and finds ID-card entries to offer; the message itself names no procedure, so the
    # request for a person is what it gets a reply to.
    await conversation.say("làm căn cước cho con 5 tuổi ở đâu")
    await conversation.say("cho em gặp nhân viên")
    assert "tổng đài" in conversation.text
    assert (await last_logged(app))[0] == "smalltalk"
