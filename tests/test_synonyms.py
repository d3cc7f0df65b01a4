"""Soft synonyms (knowledge/synonyms.py): a question is also matched by the other words of each
synonym group of ``knowledge/lang/synonyms.yaml`` it holds, at a reduced weight, and a word so
bridged counts half toward how much of the question an entry explains."""

from __future__ import annotations

import pytest

from knowledge import kbfile, search, synonyms
from knowledge.normalize import analyze
from knowledge.search import Decision, Index
from knowledge.selfcal import BUNDLED_DIR


@pytest.fixture(scope="module")
def bundled() -> Index:
    return Index(kbfile.load_dir(BUNDLED_DIR))


def test_members_are_found_longest_first_without_overlaps() -> None:
    members = [" ".join(m) for m, _ in synonyms.found(analyze("đất bị dính quy hoạch thì sao"))]
    assert "dinh quy hoach" in members
    assert "quy hoach" not in members


def test_a_question_is_expanded_with_the_other_members_of_its_groups() -> None:
    extra = synonyms.expansions(analyze("người tàn tật"))
    # a phrase is added as such (its word pairs), not word by word: "lấy vợ" is "kết hôn",
    # "vợ" alone is not
    assert "khuyet_tat" in extra
    assert "khuyet" not in extra
    # the member typed is not added again, and plain words expand nothing
    assert "tan_tat" not in extra
    assert synonyms.expansions(analyze("xin chào")) == {}
    bridged = synonyms.bridges(analyze("người tàn tật"))
    assert frozenset({"khuyet", "tat"}) in bridged["tan"]


def test_everyday_words_reach_the_entry_that_uses_the_official_ones(bundled: Index) -> None:
    # "bằng đại học" is a "văn bằng" to the base: without the group the question lands on the
    # certification of copies and falls back
    result = bundled.search("mất bằng đại học xin cấp lại ở đâu")
    assert result.best is not None and result.best.entry.id == "van-bang/mat-bang"
    assert result.decision != Decision.FALLBACK
    # "tàn tật" is the everyday word for "khuyết tật"
    result = bundled.search("người tàn tật được trợ cấp bao nhiêu một tháng")
    assert result.best is not None and result.best.entry.id == "khuyet-tat/tro-cap"
    assert search.SYNONYM_WEIGHT > 0.0


def test_a_phrase_does_not_lend_its_words() -> None:
    # "lấy vợ" stands for "kết hôn" as a phrase; its word "vợ" alone would pull a question on
    # marriage toward every entry about spouses
    extra = synonyms.expansions(analyze("kết hôn còn hồ sơ thì cần những gì?"))
    assert "lay_vo" in extra and "vo" not in extra


def test_marks_typed_must_match_and_members_losing_a_word_are_left_out() -> None:
    # "thuế" (tax) is not "thuê" (rent), and "người thuê" would be only "thuê" once "người",
    # a filler, is dropped: such members are not in the table.
    groups = synonyms._groups()
    assert all(len(member) == len(keys) for group in groups for member, keys, _ in group)
    taxed = analyze("công ty phải nộp thuế gì")
    assert all(" ".join(m) != "thue" for m, _ in synonyms.found(taxed))
    # without marks, the reading depends on the word, so it is matched on the folded form
    assert synonyms.found(analyze("nguoi tan tat")) == synonyms.found(analyze("người tàn tật"))
