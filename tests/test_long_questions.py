"""A long message tells a story, then asks: the question in its last sentence is what counts.

Words the story alone holds (a marriage registered last year, a lost ID card, an unemployment
benefit being drawn) weigh ``search.STORY_WEIGHT`` of their usual weight, so they no longer pull
the answer toward their own procedure.
"""

from __future__ import annotations

import pytest

from knowledge import kbfile, search
from knowledge.search import Decision, Index
from knowledge.selfcal import BUNDLED_DIR


@pytest.fixture(scope="module")
def bundled() -> Index:
    return Index(kbfile.load_dir(BUNDLED_DIR))


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Vợ chồng tôi đăng ký kết hôn năm ngoái ở phường Cái Khế, giấy kết hôn vẫn còn giữ. "
            "Nay con tôi mới sinh được một tuần. Cho tôi hỏi làm giấy khai sinh cho bé cần "
            "những giấy tờ gì?",
            "khai-sinh/ho-so",
        ),
        (
            "Năm ngoái tôi bị mất thẻ căn cước, đã làm lại rồi. Giờ tôi muốn đi du lịch Thái Lan "
            "với gia đình. Làm hộ chiếu thì nộp ở đâu ạ?",
            "ho-chieu/noi-nop",
        ),
        (
            "Tôi đã nghỉ việc ở công ty được hai tháng và đang hưởng trợ cấp thất nghiệp. Vợ tôi "
            "mới sinh con. Cho hỏi đăng ký khai sinh cho con thì lệ phí bao nhiêu?",
            "khai-sinh/le-phi",
        ),
    ],
)
def test_the_last_sentence_decides(bundled: Index, message: str, expected: str) -> None:
    result = bundled.search(message)
    assert result.best is not None and result.best.entry.id == expected
    # The story leaves the passport question less sure of itself than the others: its entry is
    # offered first, not answered, since the decision models of the nineteenth session.
    confident = expected != "ho-chieu/noi-nop"
    assert result.decision == (Decision.ANSWER if confident else Decision.SUGGEST)


def test_short_and_one_sentence_messages_are_weighed_as_a_whole(bundled: Index) -> None:
    # Under LONG_QUESTION content words, or a single sentence, nothing is a story.
    assert bundled._asked_part("mất căn cước làm lại ở đâu. lệ phí bao nhiêu") is None
    long_one = (
        "tôi ở phường Cái Khế muốn hỏi làm hộ chiếu lần đầu cho con nhỏ dưới mười bốn tuổi "
        "thì cần mang theo những giấy tờ gì và nộp ở đâu"
    )
    assert bundled._asked_part(long_one) is None
    assert search.STORY_WEIGHT < 1.0
