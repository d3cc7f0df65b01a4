"""Southern spellings, teen code and everyday names of papers, benefits and offices
(knowledge/lang/abbreviations.yaml and phrases.yaml): each reads as the official Vietnamese the
knowledge base uses, and a key that is an ordinary word elsewhere is not rewritten."""

from __future__ import annotations

import pytest

from knowledge.lexicon import ABBREVIATIONS, PHRASES
from knowledge.normalize import analyze


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Southern spellings, matched only as typed with their marks.
        ("bịnh viện", "bệnh viện"),
        ("gãy chưn", "gãy chân"),
        ("chủ nhựt", "chủ nhật"),
        ("giấy nầy", "giấy này"),
        ("dzề quê", "về quê"),
        ("ngừi già", "người già"),
        # Teen code and phone shorthand.
        ("về wê", "về quê"),
        ("lệ fí", "lệ phí"),
        ("đăg ký", "đăng ký"),
        ("tra kq hso", "tra kết quả hồ sơ"),
        ("tgian xử lý", "thời gian xử lý"),
        ("hnay nộp lsao", "hôm nay nộp làm sao"),
        ("kbt nộp trog", "không biết nộp trong"),
        ("ktra ttin", "kiểm tra thông tin"),
        ("hdan tgia bhiem", "hướng dẫn tham gia bảo hiểm"),
        # Administrative initialisms.
        ("mst tncn", "mã số thuế thu nhập cá nhân"),
        ("thuế gtgt", "thuế giá trị gia tăng"),
        ("nộp phạt csgt", "nộp phạt cảnh sát giao thông"),
        ("giấy phép pccc", "giấy phép phòng cháy chữa cháy"),
        ("cchn dược", "chứng chỉ hành nghề dược"),
        ("cmtnd cũ", "căn cước cũ"),  # read as the new card, like "cmnd"
        # Everyday names of benefits, papers, offices and actions.
        ("tiền hưu", "lương hưu"),
        ("lên phường", "ủy ban nhân dân phường"),
        ("bên thuế", "cơ quan thuế"),
        ("tiền ốm", "chế độ ốm đau"),
        ("rút sổ bhxh", "rút bảo hiểm xã hội một lần"),
        ("bằng cấp 2", "bằng tốt nghiệp trung học cơ sở"),
        ("sao y bản chính", "chứng thực bản sao từ bản chính"),
        ("tách sổ đỏ", "tách thửa"),
        ("giấy tờ nhà", "giấy chứng nhận quyền sở hữu nhà ở"),
        ("tiền có công", "trợ cấp người có công"),
        ("nghỉ đẻ", "nghỉ sinh chế độ thai sản"),
        ("bằng lái xe máy", "giấy phép lái xe mô tô xe máy"),
        # Typed without marks, as on a phone.
        ("tien huu", "lương hưu"),
        ("giay to nha dat", "giấy chứng nhận quyền sử dụng đất quyền sở hữu nhà ở"),
    ],
)
def test_a_southern_or_teen_code_word_reads_as_official_vietnamese(
    text: str, expected: str
) -> None:
    assert analyze(text).tokens == tuple(expected.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Marked keys apply only as typed: the same letters with other marks are other words.
        ("bình thường", "bình thường"),
        ("chân dung", "chân dung"),
        ("bên đó", "bên đó"),
        # A phrase key needs all its words: "rút số" (a queue ticket) is not "rút sổ bhxh".
        ("rút số thứ tự", "rút số thứ tự"),
    ],
)
def test_ordinary_words_near_a_key_are_left_alone(text: str, expected: str) -> None:
    assert analyze(text).tokens == tuple(expected.split())


def test_no_abbreviation_key_has_a_space() -> None:
    # Abbreviations are looked up word by word: a key with a space would never match.
    assert [k for k in ABBREVIATIONS if k != k.strip() or " " in k] == []


def test_every_phrase_key_is_folded_and_has_several_words() -> None:
    from knowledge.normalize import fold

    assert [k for k in PHRASES if fold(k) != k or len(k.split()) < 2] == []
