"""The syllable dictionary: real Vietnamese words are never spelling-corrected into base words."""

from __future__ import annotations

import pytest

from knowledge import search
from knowledge.entry import Entry
from knowledge.normalize import analyze
from knowledge.search import Decision, Index
from knowledge.syllables import is_folded_syllable, is_syllable, real_words


def test_attested_syllables_with_and_without_marks() -> None:
    for word in ("vàng", "khuyết", "tật", "học", "bổng", "nghiệp", "người", "gộp", "y"):
        assert is_syllable(word), word
    assert is_syllable("hoá") and is_syllable("hóa")  # old and new tone placement
    assert is_syllable("VÀNG")
    assert is_syllable("vang") and is_folded_syllable("khuyet")


def test_typos_telex_and_initialisms_are_not_syllables() -> None:
    for word in ("nghệp", "gòm", "ngừoi", "dzậy", "ddawngf", "bhxh", "cccd", "attp", "nghep"):
        assert not is_syllable(word), word


def test_real_words_are_the_content_words_typed_as_syllables() -> None:
    assert real_words(analyze("trợ cấp thất nghệp")) == frozenset({"tro", "cap", "that"})


ENTRIES = [
    Entry(
        id="tctn/ho-so",
        category="Lao động",
        procedure="Trợ cấp thất nghiệp",
        question="Hồ sơ hưởng trợ cấp thất nghiệp gồm những gì?",
        alternatives=("Làm trợ cấp thất nghiệp cần giấy tờ gì?",),
        answer="Đơn đề nghị và quyết định thôi việc hoặc hợp đồng lao động đã hết hạn.",
    ),
    Entry(
        id="tctn/noi-nop",
        category="Lao động",
        procedure="Trợ cấp thất nghiệp",
        question="Nộp hồ sơ trợ cấp thất nghiệp ở đâu?",
        answer="Tại trung tâm dịch vụ việc làm, hoặc nộp trực tuyến.",
    ),
]


def test_a_real_word_the_base_lacks_stays_unknown() -> None:
    index = Index(ENTRIES)
    corrected = index._correct(analyze("xin học bổng cho con ở đâu"))
    assert "hoc" in corrected.content and "hoac" not in corrected.content
    assert index.search("xin học bổng cho con ở đâu").decision == Decision.FALLBACK


def test_a_typo_is_still_corrected() -> None:
    """A typo forming a word pair of the base is mended before it could pass for a slip on a
    filler ("nghệp" is one letter from "nghe")."""
    index = Index(ENTRIES)
    assert "nghiep" in index._correct(analyze("trợ cấp thất nghệp nộp ở đâu")).content
    assert index.search("trợ cấp thất nghệp nộp ở đâu").best.entry.id == "tctn/noi-nop"  # type: ignore[union-attr]


def test_without_the_dictionary_real_words_were_corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure the dictionary prevents: "học bổng cho con" was mended into base words."""
    monkeypatch.setattr(search, "REAL_WORDS_KEPT", False)
    corrected = Index(ENTRIES)._correct(analyze("xin học bổng cho con ở đâu"))
    assert "hoc" not in corrected.content and "ho" in corrected.content


def test_an_entry_on_a_neighbouring_aspect_partly_answers() -> None:
    """A fee question ("đóng bao nhiêu tiền") is partly answered by an entry on the amount to
    pay, never pushed down as a conflicting aspect; an unrelated aspect earns nothing."""
    assert search._aspect_fit({"fee": 1.0}, frozenset({"amount"})) == search.FAMILY_CREDIT > 0
    assert search._aspect_fit({"fee": 1.0}, frozenset({"fee"})) == 1.0
    assert search._aspect_fit({"fee": 1.0}, frozenset({"place"})) == 0.0


LAND = [
    Entry(
        id="dat/ho-so",
        category="Đất đai",
        procedure="Cấp sổ đỏ lần đầu",
        question="Cấp sổ đỏ lần đầu cần giấy tờ gì?",
        alternatives=("Làm sổ đỏ lần đầu cần gì?", "Đăng ký đất lần đầu cần gì?"),
        answer="Đơn đăng ký lần đầu và giấy tờ về đất.",
    ),
    Entry(
        id="dat/noi-nop",
        category="Đất đai",
        procedure="Cấp sổ đỏ lần đầu",
        question="Nộp hồ sơ cấp sổ đỏ tại đâu?",
        answer="Bộ phận một cửa cấp xã.",
    ),
]


def test_restoration_knows_the_word_pairs_of_the_language() -> None:
    """ "o dau" is "ở đâu" though the base writes "đầu" far more often and never "ở đâu"."""
    assert Index(LAND).restore("nop ho so o dau") == "nộp hồ sơ ở đâu"


def test_without_the_language_pairs_the_commoner_spelling_won(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search, "GENERAL_PAIRS_USED", False)
    assert Index(LAND).restore("nop ho so o dau") == "nộp hồ sơ ở đầu"
