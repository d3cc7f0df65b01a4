"""The intents' phrase matching: indexed by word (``knowledge/intents.py``), it must take out
exactly what trying every phrase in order takes out, and find the same intents."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
from pathlib import Path

from knowledge import intents
from knowledge.normalize import fold, words

ROOT = Path(__file__).resolve().parent.parent


def _find_every_position(toks: list[str], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    for i in range(len(toks) - n + 1):
        if tuple(toks[i : i + n]) == phrase:
            return i
    return -1


def _strip_trying_all(
    toks: list[str], phrases: tuple[tuple[str, ...], ...]
) -> tuple[list[str], bool]:
    """The matching as it was before the word index: every phrase, longest first."""
    found = False
    for phrase in phrases:
        while (i := _find_every_position(toks, phrase)) >= 0:
            toks = toks[:i] + toks[i + len(phrase) :]
            found = True
    return toks, found


def _phrase_groups() -> list[tuple[tuple[str, ...], ...]]:
    groups = []
    for intent in intents.INTENTS.values():
        groups.append(intent.phrases)
        groups.extend(intent.all_of)
    return [g for g in groups if g]


def test_strip_takes_out_what_trying_every_phrase_takes_out() -> None:
    rng = random.Random(22)
    groups = _phrase_groups()
    vocabulary = sorted({w for g in groups for p in g for w in p} | {"ho", "so", "\x00"})
    for group in groups:
        for _ in range(60):
            # Phrases of the group glued together (overlaps, repeats, a phrase split by the
            # removal of another), with words around them.
            parts: list[str] = []
            for _ in range(rng.randint(1, 4)):
                parts += list(rng.choice(group))
                parts += rng.sample(vocabulary, rng.randint(0, 2))
            assert intents._strip(list(parts), group) == _strip_trying_all(list(parts), group)


def test_a_phrase_found_only_once_another_is_taken_out() -> None:
    group = (("xin", "cam", "on"), ("cam", "on"), ("xin",))
    toks = ["xin", "xin", "cam", "on", "on"]
    assert intents._strip(toks, group) == _strip_trying_all(toks, group) == (["on"], True)
    assert intents._strip(["ban", "oi"], group) == (["ban", "oi"], False)


def test_an_empty_phrase_in_the_data_is_left_out() -> None:
    """An empty phrase (a blank line in intents.yaml) used to match everywhere without taking
    anything out: the matching never ended. It is now dropped when the data is loaded."""
    assert intents._phrases(["", "  ", "cảm ơn"]) == (("cam", "on"),)


def test_detect_is_unchanged_on_the_data_phrases_and_their_mixtures() -> None:
    """Each intent's own phrases, alone and around a question, read as before (compared with
    the matching that tries every phrase)."""
    questions = ["hồ sơ gồm những gì", "lệ phí bao nhiêu", "làm ở đâu"]
    seen = set()
    for intent in intents.INTENTS.values():
        for phrase in itertools.chain(intent.phrases, *intent.all_of):
            text = " ".join(phrase)
            for message in (text, f"{text} {questions[0]}", f"{questions[1]} {text} nha"):
                toks = [fold(w) for w in words(message)]
                for group in (intent.phrases, *intent.all_of):
                    assert intents._strip(toks, group) == _strip_trying_all(toks, group)
                seen.add(intents.detect(message) is not None)
    assert seen == {True, False}


def test_detect_small_talk_and_questions() -> None:
    thanks = intents.detect("cảm ơn bạn nhiều nha")
    assert thanks is not None and thanks.name == "thanks"
    assert intents.detect("hồ sơ trợ cấp thất nghiệp gồm những gì") is None
    progress = intents.detect("hồ sơ của tôi đến đâu rồi")
    assert progress is not None and progress.name == "progress"


def test_lacking_a_paper_is_a_question_not_a_dossier_progress_question() -> None:
    """The words "chưa có" + a paper say what the citizen lacks (a condition of a
    procedure); it is a progress question only when the dossier was handed in."""
    for text in (
        "tui chưa có cccd thì làm hộ chiếu được hông",
        "em chưa có sổ đỏ thì thế chấp được không",
        "tui chua co can cuoc co lam giay phep lai xe duoc ko",
    ):
        assert intents.detect(text) is None, text
    for text in (
        "em nộp hồ sơ cấp sổ đỏ 2 tháng rồi mà chưa có sổ đỏ",
        "ủa sao hồ sơ em nộp 2 tuần rồi chưa có kết quả",
        "sao hồ sơ cấp sổ đỏ của tui lâu quá chưa có",
    ):
        found = intents.detect(text)
        assert found is not None and found.name == "progress", text


def test_emoji_courtesy_remarks_and_own_dossier_stages() -> None:
    def name(text: str) -> str | None:
        found = intents.detect(text)
        return found.name if found else None

    # an emoji alone says what it says; any other, or punctuation, calls for attention
    assert name("👍") == "ok"
    assert name("🙏") == "thanks"
    assert name("😡😡") == "complaint"
    assert name("🌵") == "greeting"
    assert name("?") == "greeting"
    # a short remark besides the courtesy words, asking nothing and naming no topic
    assert name("cảm ơn nha, dễ hiểu quá") == "thanks"
    assert name("tuyệt vời, cảm ơn!") == "thanks"
    # ... but not besides words as weak as "được" or "hông", which end many questions
    assert name("nộp thay được hông") is None
    # nor a remark that names a procedure or asks something
    assert name("cảm ơn, làm hộ chiếu ở đâu") is None
    assert name("cảm ơn nha, căn cước gắn chip") is None
    # where a dossier stands is asked only of one's own, "của tôi" or not
    assert name("hồ sơ đang ở bước nào") == "progress"
    assert name("kq hồ sơ có chưa ad") == "progress"
    assert name("hồ sơ bị trả về thì phải làm lại từ đầu không") is None


def test_a_complaint_word_in_a_question_with_a_question_word() -> None:
    def name(text: str) -> str | None:
        found = intents.detect(text)
        return found.name if found else None

    assert name("mất bao lâu vậy") is None  # asks the processing time
    assert name("sao lâu vậy") == "complaint"  # vents about it
    assert name("cho trễ hẹn mà cũng ko thèm báo") == "complaint"  # "báo" is no "bao lâu"


def test_a_remark_is_read_with_its_marks() -> None:
    # folded, "được nhiều" would be "được nhiêu" (how much?), a question on an amount
    found = intents.detect("cảm ơn bot nha, giúp được nhiều lắm")
    assert found is not None and found.name == "thanks"
    assert intents.detect("cảm ơn, được nhiêu vậy ad") is None


def test_phrases_of_one_length_keep_the_datas_order() -> None:
    # Taken from a set, ties came out in the order of the process's string hashing, so "mày là
    # ai vậy" was identity in some processes ("mày là ai" out first) and nothing in others
    # ("là ai vậy" out first, "mày" left over).
    assert intents._phrases(["la ai vay", "may la ai", "ai"]) == (
        ("la", "ai", "vay"),
        ("may", "la", "ai"),
        ("ai",),
    )
    for seed in ("1", "4", "6"):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from knowledge import intents as i; print(i.detect('mày là ai vậy').name)",
            ],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        assert out.stdout.strip() == "identity"


def _name(text: str) -> str | None:
    found = intents.detect(text)
    return found.name if found else None


def test_small_talk_as_people_type_it_on_a_phone() -> None:
    """Phrasings of bench/smalltalk/messages3.jsonl's kind, none of them in it, that the
    intents missed or misread: a person word with a contact verb, the bot's name for itself
    with what is asked of it, southern and teen-code venting, one's own paper and when it
    comes."""
    cases = {
        "human": [
            "chuyển máy qua cán bộ giùm em",
            "hông muốn chat với máy đâu",
            "gọi giùm một cán bộ đi",
            "xin sđt để gọi hỏi",
            "có người thật không ad",  # asks for one ("người thật không" alone: identity)
        ],
        "identity": [
            "trang web này là gì vậy",
            "mày là cái gì thế",
            "tên em là gì",
            "bạn là máy hay người vậy",
            "bạn hiểu tiếng việt không",
            "tôi có thể hỏi bot những gì",
            "trợ lý ảo là gì",  # a phrase ("trợ lý ảo") and a group ("là gì") together
        ],
        "complaint": [
            "sao lâu dữ vậy trời",
            "bức xúc ghê",
            "gọi tổng đài hoài không ai bắt máy",  # "tổng đài" in a complaint: not human
            "nhân viên thái độ kiểu gì vậy",
            "hỏi một đằng bot trả lời một nẻo",
            "thủ tục gì mà rắc rối quá vậy",
            "đợi mỏi mòn",  # was "thanks": "mòn" is also a misspelt "cám mơn"
        ],
        "progress": [
            "chừng nào em lấy được căn cước",
            "bao giờ thì có sổ đỏ của nhà tôi",
            "hồ sơ của em bị trả lại là sao",
            "sao hồ sơ tui bị yêu cầu bổ sung hoài",
            "hồ sơ của tôi bị từ chối à",
            "giấy hẹn ghi thứ 6 mà giờ chưa có",
        ],
    }
    for name, texts in cases.items():
        for text in texts:
            assert _name(text) == name, text


def test_questions_that_look_like_small_talk_stay_questions() -> None:
    """A person word that is the subject of a question about a named procedure, or a future
    application's "khi nào có", is no call for a person nor a dossier's progress: the
    knowledge base gets the question."""
    for text in (
        "nhân viên xã có được chứng thực không",
        "gặp cán bộ nào để đăng ký tạm trú",
        "gặp cán bộ nào để làm giấy khai sinh",
        "có cần gặp cán bộ địa chính khi làm sổ đỏ không",
        "có cần gặp cán bộ địa chính khi tách thửa không",
        "nhân viên công ty có được nộp hồ sơ thay không",
        "nhân viên công ty có được làm hộ chiếu hộ không",
        "nhân viên hợp đồng có được cấp thẻ bhyt không",
        "nhân viên hợp đồng có được đóng bảo hiểm xã hội không",
        "liên hệ cán bộ nào để đăng ký thường trú",
        "người khuyết tật có được hỗ trợ trực tiếp tiền không",
        "em muốn làm căn cước thì khi nào có",
        "tôi muốn xin giấy phép xây dựng thì bao giờ có",
    ):
        assert _name(text) is None, text
    # and what the new words must not take ("gặp lỗi", "chuyển trường", "là gì" of a paper)
    for text in (
        "em gặp lỗi khi nộp hồ sơ online",
        "ad ơi cho em hỏi thủ tục chuyển trường cho con",
        "căn cước là gì",
        "bạn là người nước ngoài thì làm căn cước sao",
        "hồ sơ bị từ chối thì khiếu nại ở đâu",
    ):
        assert _name(text) is None, text


def test_phrases_and_all_of_groups_of_one_intent() -> None:
    """An intent matches by one of its phrases or by a phrase of every ``all_of`` group, and
    both are taken out when both are there: a whole intent then leaves nothing ("trợ lý ảo" is
    a phrase, "là gì" a group's)."""
    both = intents.Intent(
        name="t",
        whole=True,
        phrases=intents._phrases(["tro ly ao"]),
        all_of=(intents._phrases(["bot", "tro ly ao"]), intents._phrases(["la gi"])),
        max_words=0,
        replies=("x",),
    )
    assert intents._matched(both, ["tro", "ly", "ao", "la", "gi"]) == []
    assert intents._matched(both, ["bot", "la", "gi", "vay"]) == ["vay"]
    assert intents._matched(both, ["tro", "ly", "ao", "oi"]) == ["oi"]
    assert intents._matched(both, ["can", "cuoc", "la", "gi"]) is None


def test_a_question_put_to_the_bot_itself_in_aspect_words() -> None:
    """ "ở đâu", "tuổi", "cơ quan nào" are aspect words of procedures (place, eligibility); put
    to the bot ("bạn" + the question, a tag at most), they ask who it is. Said of a citizen
    or with anything more, they stay a question."""
    for text in (
        "bạn sống ở đâu",
        "bạn mấy tuổi",
        "bạn thuộc cơ quan nào",
        "bot này của cơ quan nào",
    ):
        assert _name(text) == "identity", text
    for text in (
        "em mấy tuổi thì làm căn cước",
        "bạn bao nhiêu tuổi thì được làm căn cước",
        "con tôi mấy tuổi thì làm căn cước",
    ):
        assert _name(text) is None, text


def test_how_a_dossier_was_handed_in_asks_nothing() -> None:
    """ "nộp online", "nộp qua bưu điện" name an aspect (online, result) but only say how the
    citizen's own dossier went in: the message still asks where it stands. A message that
    asks something besides stays a question."""
    assert _name("hồ sơ em nộp qua bưu điện tới chưa") == "progress"
    assert _name("hồ sơ nộp online của tôi đã được tiếp nhận chưa") == "progress"
    assert _name("em nộp hồ sơ online rồi giờ làm sao biết kết quả") == "progress"
    assert _name("hồ sơ em nộp online rồi có phải lên nộp bản giấy không") is None
    assert _name("tôi nộp hồ sơ online rồi có cần đến nộp bản gốc không") is None


def test_a_complaint_that_asks_something_besides_is_a_question() -> None:
    """Venting words around a question word or a yes/no question leave it a question; "gì"
    and "ai" after a negation ("không thấy gì", "không ai nghe máy") ask nothing."""
    for text in (
        "cơ quan chậm trễ giải quyết hồ sơ thì bị xử lý thế nào",
        "thủ tục đăng ký hộ kinh doanh có phiền hà không",
        "tôi không hài lòng với kết quả giải quyết thì khiếu nại thế nào",
        "thủ tục trễ hẹn thì có được bồi thường không",
    ):
        assert _name(text) is None, text
    for text in (
        "chờ mãi không thấy gì",
        "trả lời chẳng đúng gì cả",
        "gọi hoài không ai nghe",
        "tôi không hài lòng",
        "cán bộ không nhiệt tình",  # was thanks ("nhiệt tình" praises)
    ):
        assert _name(text) == "complaint", text


def test_formal_register() -> None:
    """How older citizens write to an office."""
    assert _name("xin hỏi đây là hệ thống gì") == "identity"
    assert _name("bạn có phải nhân viên ubnd không") == "identity"  # was human
    assert _name("xin được gặp trực tiếp") == "human"
    assert _name("xin cho gặp đồng chí phụ trách") == "human"
    assert _name("cảm ơn cán bộ đã hướng dẫn tận tình") == "thanks"
    assert _name("đã hết hạn hẹn mà chưa nhận được kết quả") == "progress"


def test_a_stretched_word_end() -> None:
    """Chat stretches a word's last letter ("quáaa", "nhiềuuu"); doubled letters that are cues
    of their own ("cc") and numbers stay as typed."""
    assert _name("lâu quáaa") == "complaint"
    assert _name("bạn là aiii") == "identity"
    assert _name("cảm ơn nhiềuuu, dễ hiểu quáaa") == "thanks"
    assert intents._unstretched("cc") == "cc"
    assert intents._unstretched("1000") == "1000"


def test_thanking_the_bot_by_its_name() -> None:
    """ "chatbot", "trợ lý ảo" alone name the bot; only asked about ("chatbot hả", "đây có
    phải chatbot không") are they identity."""
    assert _name("cảm ơn chatbot") == "thanks"
    assert _name("cảm ơn trợ lý ảo") == "thanks"
    assert _name("chatbot hả") == "identity"
    assert _name("đây có phải chatbot không") == "identity"


def test_nowhere_after_a_negation_and_central_words() -> None:
    """ "chẳng thấy đâu" is "nowhere to be seen", not "where"; "tên chi" is central speech for
    "tên gì"; "có người không" asks for a person."""
    assert _name("đợi hoài mà chẳng thấy đâu") == "complaint"
    assert _name("bạn tên chi") == "identity"
    assert _name("ad ơi có người không") == "human"
    assert _name("mình cần người tư vấn") == "human"


def test_english_teen_code_and_southern_sighs() -> None:
    for text, name in (
        ("can i talk to someone", "human"),
        ("nc vs người thật đc k", "human"),  # nc = nói chuyện
        ("mấy anh chị cán bộ đâu rồi", "human"),
        ("who r u", "identity"),
        ("is this a bot", "identity"),
        ("bạn làm gì được cho tui", "identity"),
        ("lâu thấy mồ", "complaint"),
        ("sao mà khổ vầy nè", "complaint"),
        ("tệ hết sức", "complaint"),
        ("hồ sơ của tui bị gì vậy", "progress"),
    ):
        assert _name(text) == name, text
    # a yes/no question on the time a procedure takes is no complaint
    assert _name("làm hộ chiếu mất thời gian không") is None


def test_a_word_of_vexation_and_an_intensifier_next_to_it() -> None:
    """``combine`` makes every pair a phrase ("chậm" + "dữ vậy"); words too ambiguous once
    folded are left out ("tục thất" of "tiếp tục hưởng trợ cấp thất nghiệp" is no "tức thật",
    "chấm" + "muốn" no "chậm muộn")."""
    assert intents._combined([["a", "b c"], ["d"]]) == ["a d", "b c d"]
    assert intents._combined([]) == []
    for text in ("chậm dữ vậy trời", "bực ghê á", "nản thiệt chứ", "thủ tục này phiền quá vậy"):
        assert _name(text) == "complaint", text
    for text in (
        "Thủ tục tiếp tục hưởng trợ cấp thất nghiệp",
        "Tôi muốn chấm điểm cán bộ giải quyết hồ sơ",
        "gửi qua bưu điện có chậm quá không",
        "làm sổ đỏ có khó quá không",
    ):
        assert _name(text) is None, text


def test_em_is_also_the_citizen_saying_i() -> None:
    """Younger citizens say "em" for "I": "em" with what could be asked of the bot is the
    citizen's own question ("vậy em làm được gì", "em biết làm gì bây giờ"); the bot is "em"
    only in its own phrases ("em là ai", "em tên gì")."""
    assert _name("vậy em làm được gì") is None
    assert _name("em biết làm gì bây giờ") is None
    assert _name("em làm ở đâu") is None
    assert _name("em tên gì") == "identity"
    assert _name("em có hiểu tiếng việt không") == "identity"


def test_more_ways_to_ask_where_ones_own_result_is() -> None:
    assert _name("muốn xem tiến độ giải quyết hồ sơ") == "progress"
    assert _name("kết quả của tôi đâu") == "progress"
    assert _name("hôm trước có hẹn thứ 5 trả mà chưa có") == "progress"
    # a project's progress, or a paper to look at, is no dossier of one's own
    assert _name("muốn biết tiến độ giải phóng mặt bằng dự án") is None
    assert _name("tôi muốn xem hồ sơ địa chính của thửa đất") is None
