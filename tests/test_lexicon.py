"""The lexicon as data (knowledge/lang/topics.yaml): catalogue fields and the names citizens give
them, everyday subjects outside public services, and words left out because their folded form
is an ordinary question word."""

from __future__ import annotations

import pytest

from knowledge.entry import Entry
from knowledge.normalize import analyze
from knowledge.search import Decision, Index
from knowledge.topics import topics_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Catalogue fields the lexicon did not name before, as citizens word them.
        ("xin giấy xác nhận cư trú ở đâu", {"xac-nhan-cu-tru"}),
        ("đất vườn lên thổ cư hết bao nhiêu", {"chuyen-muc-dich-dat"}),
        ("xóa thế chấp sổ đỏ", {"the-chap", "dat-dai"}),
        ("hàng xóm lấn ranh thì làm sao", {"tranh-chap-dat"}),
        ("thi tuyển công chức năm nay", {"cong-chuc"}),
        ("đăng ký nhãn hiệu cho cơ sở", {"so-huu-tri-tue"}),
        ("bị chồng đánh thì báo ai", {"bao-luc-gia-dinh"}),
        ("mẹ bị nhiễm chất độc da cam", {"nguoi-co-cong"}),
        ("hưu non được không", {"huu-tri"}),
        ("chốt sổ bảo hiểm", {"so-bhxh"}),
        ("mướn phòng trọ có phải đăng ký không", {"tam-tru"}),
        ("hỏa táng ở đâu", {"an-tang"}),
        ("tiền đền bù giải tỏa", {"dat-thu-hoi"}),  # "đền bù" is read "bồi thường"
        ("chích ngừa cho bé ở đâu", {"y-te"}),
        # Everyday subjects outside public services.
        ("giá sầu riêng hôm nay", {"off-gia-ca"}),
        ("soi kèo nhà cái tối nay", {"off-the-thao"}),
        ("vay nóng trong ngày", {"off-ngan-hang"}),
        ("xem bói đầu năm", {"off-tam-linh"}),
        ("tuyển nhân viên bán hàng", {"off-tuyen-dung"}),
        ("kẹt xe ở cầu", {"off-giao-thong-tin"}),
        # Words that look like a subject but are ordinary question words: no topic.
        ("nộp bên đó được không", set()),
        ("hồ sơ gửi đi chưa", set()),
        ("thông báo về số tiền lệ phí", set()),
    ],
)
def test_the_topic_lexicon_names_catalogue_fields_and_everyday_subjects(
    text: str, expected: set[str]
) -> None:
    assert topics_of(analyze(text)) == expected


def test_an_everyday_subject_falls_back_on_a_base_that_never_names_it() -> None:
    entries = [
        Entry(
            id="tam-tru/ho-so",
            category="Cư trú",
            question="Đăng ký tạm trú cần giấy tờ gì?",
            answer="Tờ khai thay đổi thông tin cư trú và giấy tờ chứng minh chỗ ở hợp pháp.",
            procedure="Đăng ký tạm trú",
        ),
        Entry(
            id="tam-tru/le-phi",
            category="Cư trú",
            question="Lệ phí đăng ký tạm trú bao nhiêu tiền?",
            answer="15.000 đồng nộp trực tiếp, 7.000 đồng nộp trực tuyến.",
            procedure="Đăng ký tạm trú",
        ),
    ]
    index = Index(entries)
    for text in ("giá sầu riêng hôm nay bao nhiêu tiền", "vay nóng lãi bao nhiêu tiền"):
        assert index.rank_full(text).off_domain, text
        assert index.search(text).decision is Decision.FALLBACK, text
    assert not index.rank_full("ở trọ đăng ký tạm trú hết bao nhiêu tiền").off_domain
    assert index.search("mướn phòng trọ đăng ký tạm trú cần giấy tờ gì").matches[0].entry.id == (
        "tam-tru/ho-so"
    )


def test_abbreviations_are_single_words_and_phrases_read_several() -> None:
    # Abbreviations are looked up word by word: a key of two words would never be read. Such
    # names ("con nít", "đứa nhỏ") belong to phrases.yaml, which reads word sequences.
    from knowledge.lexicon import ABBREVIATIONS

    assert [key for key in ABBREVIATIONS if " " in key] == []
    assert analyze("làm bảo hiểm y tế cho con nít").tokens[-2:] == ("trẻ", "em")
    assert analyze("dua nho 5 tuoi").tokens[:2] == ("trẻ", "em")


def test_a_photo_is_not_a_pronoun() -> None:
    # "ảnh" is the photo every passport, ID card and licence asks for; read as "anh" (he) it
    # was dropped as a polite filler, in questions and entries alike.
    assert "anh" in analyze("làm hộ chiếu cần mấy tấm ảnh 4x6").content


@pytest.mark.parametrize(
    "text", ["được mấy triệu một tháng vậy", "lãnh bao nhiêu triệu", "được nhiêu vậy ad"]
)
def test_amounts_asked_in_millions_or_southern_speech(text: str) -> None:
    from knowledge import aspects

    assert aspects.primary(aspects.aspect_weights(analyze(text))) == "amount"


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("được nhận mấy đồng vậy", "amount"),
        ("dc lanh may dong hen", "amount"),
        ("hưởng mấy phần trăm", "amount"),
        ("làm cái này mất mấy tiền", "fee"),
        ("nộp trễ bị phạt mấy", "penalty"),
    ],
)
def test_how_many_asked_with_may_reads_as_with_bao_nhieu(text: str, aspect: str) -> None:
    # "mấy" is the everyday "bao nhiêu": every cue written with the one matches with the other
    # (lexicon.HOW_MANY); "được nhận mấy đồng" asked nothing before.
    from knowledge import aspects
    from knowledge.lexicon import ASPECT_CUES

    assert ASPECT_CUES["amount"]["nhận mấy"] == ASPECT_CUES["amount"]["nhận bao nhiêu"]
    assert ASPECT_CUES["time"]["mấy ngày"] == 3.0  # a form the file weighs itself keeps it
    assert aspects.primary(aspects.aspect_weights(analyze(text))) == aspect


@pytest.mark.parametrize(
    "text",
    [
        "Hồ sơ trợ cấp cho trẻ mồ côi nộp lên xã hay lên thành phố?",
        "nop ho so dang ky dat thua ke o van phong dang ky dat dai hay o xa",
    ],
)
def test_filing_at_an_office_asks_where(text: str) -> None:
    # "nộp lên xã" is read "nộp ủy ban nhân dân xã" (phrases.yaml): the cue is the rewritten form.
    from knowledge import aspects

    weights = aspects.aspect_weights(analyze(text))
    assert weights.get("place", 0.0) > weights.get("documents", 0.0)


def test_never_is_not_when() -> None:
    from knowledge import aspects

    assert "time" in aspects.aspect_weights(analyze("bao giờ có kết quả"))
    assert "time" not in aspects.aspect_weights(analyze("chưa bao giờ có kết quả"))


def test_a_heavier_cue_starting_inside_a_lighter_one_wins() -> None:
    # "thì có" (time, 1) and "có được" (condition, 2) overlap on "có": whether one is entitled
    # is asked, not when (aspects.OVERLAP_HEAVIER).
    from knowledge import aspects

    weights = aspects.aspect_weights(
        analyze("Tôi tự xin nghỉ việc thì có được nhận trợ cấp thất nghiệp không?")
    )
    assert weights.get("condition", 0.0) > weights.get("time", 0.0)
    assert "time" in aspects.aspect_weights(analyze("nộp hôm nay thì có liền không"))


@pytest.mark.parametrize("text", ["thời gian xử lý mất mấy ngày", "thoi gian xu ly bao lau"])
def test_processing_time_as_one_stop_portals_name_it(text: str) -> None:
    # "xử lý" here asks how long, it does not name "Tiếp nhận, xử lý phản ánh, kiến nghị".
    from knowledge import aspects

    a = analyze(text)
    assert aspects.primary(aspects.aspect_weights(a)) == "time"
    assert {"xu", "ly"} <= aspects.cue_words(a)


@pytest.mark.parametrize("text", ["hồ sơ do ai cấp", "giấy tờ do cơ quan nước ngoài cấp"])
def test_a_dossier_issued_by_someone_is_no_land_certificate(text: str) -> None:
    # "sơ do" of "hồ sơ do ..." once read "sổ đỏ" and became the land-use certificate.
    assert "quyen" not in analyze(text).content
    assert "giay chung nhan quyen su dung dat" in " ".join(analyze("lam so do o dau").content)
