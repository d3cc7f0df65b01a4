"""Small talk in the forms citizens type on phones that no phrase list spells out: keyboard
emoticons, swear words masked with asterisks, "chào" that takes leave, and the "X thì sao" form
that asks a question (``knowledge/intents.py``). Transcripts run through the real dispatcher
with the bundled knowledge base."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from handlers import faq, texts_dossier
from knowledge import intents
from storage.models import MessageLog
from tests.transcript import Conversation

APOLOGY_START = "Xin lỗi, tôi chưa tìm được"


def reply_of(name: str) -> str:
    """The start of an intent's reply, as knowledge/lang/intents.yaml words it (up to the
    hotline, filled in when sent)."""
    return intents.INTENTS[name].replies[0].split("{", 1)[0][:25]


async def decisions(app: App) -> list[str]:
    async with app.sessions() as s:
        return list(await s.scalars(select(MessageLog.decision).order_by(MessageLog.id)))


async def test_keyboard_emoticons_say_what_they_show(conversation: Conversation, app: App) -> None:
    # A smile acknowledges, a frown complains, a heart thanks; the letters in ":D" and "T_T"
    # are no words. Before, every one was taken for a greeting (or searched for, ":D").
    for text, name in (
        (":))", "ok"),
        ("=)))", "ok"),
        (":D", "ok"),
        ("^^", "ok"),
        (":v", "ok"),
        (":((", "complaint"),
        ("T_T", "complaint"),
        ("<3", "thanks"),
    ):
        await conversation.say(text)
        assert conversation.text.startswith(reply_of(name)), text
        assert not conversation.text.startswith(APOLOGY_START), text
    assert set(await decisions(app)) == {"smalltalk"}


def test_emoticons_beside_words_are_not_words() -> None:
    found = intents.detect("cảm ơn nha :D")
    assert found is not None and found.name == "thanks"
    # A word that only looks like an emoticon's letters stays a word of the question.
    assert intents.detect("giấy phép xd") is None
    assert intents.detect("hồ sơ gồm những gì :)") is None


async def test_a_masked_swear_word_is_abuse(conversation: Conversation, app: App) -> None:
    await conversation.say("đ*o hiểu gì")
    assert conversation.text.startswith(reply_of("abuse"))
    await conversation.say("bot v**l")
    assert conversation.text.startswith(reply_of("abuse"))
    assert set(await decisions(app)) == {"smalltalk"}


@pytest.mark.parametrize("text", ["lưu ý* hồ sơ khai sinh", "5*3 ngày làm việc", "*hộ chiếu*"])
def test_an_asterisk_that_masks_no_letter_is_no_swear_word(text: str) -> None:
    assert intents.detect(text) is None


async def test_chao_after_what_was_said_takes_leave(conversation: Conversation) -> None:
    goodbye, greeting = reply_of("goodbye"), reply_of("greeting")
    assert goodbye != greeting
    for text, start in (
        ("thôi không hỏi nữa, chào", goodbye),
        ("cảm ơn nha, chào", goodbye),
        ("dạ em chào ad ạ", greeting),
        ("alo, chào bạn", greeting),
        ("kính chào quý cơ quan", greeting),
    ):
        await conversation.say(text)
        assert conversation.text.startswith(start), text


async def test_x_thi_sao_is_a_question_not_chatter(conversation: Conversation, app: App) -> None:
    # In a new chat nothing says who "người nước ngoài" are about: the base cannot place it,
    # but it asks something, so it is no chatter (a friendly small-talk reply would hide that
    # the question was not understood) and it is kept among unanswered questions.
    assert intents.chatter("thế người nước ngoài thì sao") is None
    await conversation.say("thế người nước ngoài thì sao")
    assert not conversation.text.startswith(intents.INTENTS["chatter"].replies[0][:20])
    assert await decisions(app) != ["smalltalk"]


async def test_a_choice_asked_is_a_question_not_chatter(
    conversation: Conversation, app: App
) -> None:
    # Two options and a question mark ask which, with no question word: after a question on
    # temporary residence, "lên phường hay lên thành phố làm?" asks where it is done. Before,
    # it got the small-talk reply. Without the mark "hay" praises, and stays chatter.
    assert intents.chatter("Lên phường hay lên thành phố làm?") is None
    assert intents.chatter("nộp bản chính hoặc bản sao?") is None
    assert intents.chatter("bot trả lời hay ghê") is not None
    await conversation.say("Đăng ký tạm trú cần giấy tờ gì?")
    await conversation.say("Lên phường hay lên thành phố làm?")
    assert await decisions(app) == ["answer", "answer"]
    assert "smalltalk" not in await decisions(app)


async def test_a_greeting_with_whom_it_greets_is_a_greeting(
    conversation: Conversation, app: App
) -> None:
    # The words after the greeting ask nothing and name no procedure: whom the citizen
    # greets or who they are. Before, the first was answered with an entry that mentions
    # the centre, the second searched for.
    for text in ("xin chào trung tâm hành chính công", "chào ad, mình ở Cái Răng"):
        await conversation.say(text)
        assert conversation.text.startswith(reply_of("greeting")), text
    assert set(await decisions(app)) == {"smalltalk"}
    # A greeting before a question is not taken for one.
    for text in ("chào bạn, mình muốn làm căn cước", "hello, lam ho chieu online duoc ko"):
        assert intents.detect(text) is None, text


async def test_an_exclamation_with_an_aspect_word_is_chatter(
    conversation: Conversation, app: App
) -> None:
    # "thời gian" is an aspect word, but "... quá" exclaims: a remark the base cannot place
    # gets a small-talk reply, not the apology, and is not an unanswered question.
    await conversation.say("tốn thời gian quá à")
    assert conversation.text.startswith(intents.INTENTS["chatter"].replies[0][:20])
    assert await decisions(app) == ["smalltalk"]
    assert intents.chatter("lệ phí bao nhiêu") is None
    assert intents.chatter("thời gian làm căn cước") is None


async def test_a_word_typed_with_other_marks_is_no_question_word(
    conversation: Conversation, app: App
) -> None:
    # "đầu" folds to "dau" as "đâu" (where) does, but typed with its marks it is another
    # word: "e mới dùng lần đầu" asks nothing, and after a greeting it is who is greeting.
    await conversation.say("e mới dùng lần đầu")
    assert conversation.text.startswith(intents.INTENTS["chatter"].replies[0][:20])
    await conversation.say("hi bot, e mới dùng lần đầu")
    assert conversation.text.startswith(reply_of("greeting"))
    assert await decisions(app) == ["smalltalk", "smalltalk"]
    # Spelled as the question word, or typed without marks, it still asks.
    for text in ("lần đầu nộp ở đâu", "lan dau nop o dau", "đầu tiên là gì", "máy mấy giờ"):
        assert intents.chatter(text) is None, text


async def test_particles_without_anyone_called_answer_the_last_reply(
    conversation: Conversation, app: App
) -> None:
    # "có ạ", "rồi", "hả" answer what was said; "bot ơi", "cô ơi", "cho hỏi" call for
    # attention. Before, all of them were greeted.
    for text, name in (
        ("có ạ", "ok"),
        ("rồi", "ok"),
        ("hả", "ok"),
        ("ừa", "ok"),
        ("bot ơi", "greeting"),
        ("cô ơi", "greeting"),
        ("cho hỏi", "greeting"),
    ):
        await conversation.say(text)
        assert conversation.text.startswith(reply_of(name)), text
    assert set(await decisions(app)) == {"smalltalk"}


async def test_emoji_say_what_their_names_say(conversation: Conversation, app: App) -> None:
    # Emoji the table does not list, read by their Unicode names; before, all were greeted.
    for text, name in (("😂", "ok"), ("😊😊", "ok"), ("😒", "complaint"), ("💔", "complaint")):
        await conversation.say(text)
        assert conversation.text.startswith(reply_of(name)), text
    assert set(await decisions(app)) == {"smalltalk"}


async def test_doubled_last_letters_and_laughs(conversation: Conversation, app: App) -> None:
    for text, name in (
        ("okk", "ok"),
        ("vângg ạ", "ok"),
        ("chàoo ad", "greeting"),
        ("cảmm ơnn", "thanks"),
        ("hahaha", "ok"),
    ):
        await conversation.say(text)
        assert conversation.text.startswith(reply_of(name)), text
    assert set(await decisions(app)) == {"smalltalk"}
    # A word with a doubled letter of its own is left as it is.
    assert intents._unstretched("see") == "see"
    assert intents._unstretched("free") == "free"


async def test_chatter_the_base_matches_only_by_everyday_words_is_chatter(
    conversation: Conversation, app: App
) -> None:
    # Asks nothing, names no procedure, topic or aspect: the entries the base found through
    # "đi", "ngủ", "lát", "hỏi" (military service, building permits) cannot be what is meant.
    for text in ("đi ngủ đây", "để lát em hỏi"):
        result = app.knowledge.index.search(text)
        assert result.best is not None and not result.named, text
        await conversation.say(text)
        assert conversation.text.startswith(intents.INTENTS["chatter"].replies[0][:20]), text
    assert await decisions(app) == ["smalltalk", "smalltalk"]


async def test_with_a_procedure_remembered_the_search_reads_chatter_as_before(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("đăng ký kết hôn cần giấy tờ gì")
    result = app.knowledge.index.search("để lát em hỏi")
    assert faq.small_talk_in_chat(result, "để lát em hỏi", remembered=True) is None
    assert faq.small_talk_in_chat(result, "để lát em hỏi", remembered=False) is not None


async def test_check_my_dossier_in_vietnamese_words_offers_the_lookup(
    conversation: Conversation, app: App
) -> None:
    # "check hồ sơ" was a progress question, "kiểm tra giúp hồ sơ" was not; "quá hạn" (past
    # the deadline) of one's own dossier is as late as "quá hẹn".
    for text in ("kiểm tra giúp hồ sơ", "sao hồ sơ tôi quá hạn rồi"):
        fresh = Conversation(app.dispatcher, chat_id=f"citizen-{len(text)}")
        await fresh.say(text)
        assert fresh.last[-1].text == texts_dossier.ASK_CODE, text
    assert await decisions(app) == ["progress", "progress"]
    # A rule about late filings stays a question.
    assert intents.detect("hồ sơ tôi nộp quá hạn thì có bị phạt không") is None


async def test_asking_for_a_way_to_reach_the_office_is_asking_for_a_person(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("cho xin email bộ phận tiếp dân")
    assert conversation.text.startswith(reply_of("human"))
    assert await decisions(app) == ["smalltalk"]
    # The number of an office named by its procedure is a question the base may answer.
    assert intents.detect("cho xin số điện thoại bảo hiểm xã hội") is None
