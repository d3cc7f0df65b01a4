"""Decision features added for bases nobody tuned for: everyday subjects outside public
services, and the foreign ratio of the out-of-scope check (with its own decision models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge import intents, kbfile, selfcal
from knowledge import search as search_module
from knowledge.search import FEATURES, Decision, Index
from tests.test_cli import motcua

ROOT = Path(__file__).resolve().parent.parent
EVAL5 = ROOT / "bench" / "eval5" / "kb.yaml"


@pytest.fixture(scope="module")
def entries() -> list:
    return kbfile.load(EVAL5)


def test_an_everyday_subject_falls_back_even_when_its_words_meet_an_entry(
    entries: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "giá heo hơi ... bao nhiêu" shares the fee words of many entries, and "bảo hiểm ô tô
    đóng bao nhiêu" the insurance and contribution words of the health and social insurance
    entries; naming subjects the lexicon marks as outside public services (pig prices, car
    insurance), they fall back. The pig prices now fall back on the decision models alone
    ("giá vàng hôm nay bao nhiêu một chỉ" too); the car insurance only by the rule."""
    assert selfcal.build(entries).search("giá heo hơi hôm nay bao nhiêu").decision is (
        Decision.FALLBACK
    )
    question = "bảo hiểm ô tô đóng bao nhiêu"
    assert selfcal.build(entries).search(question).decision is Decision.FALLBACK
    # The rule alone: without the procedure catalogue in the check, whatever it says.
    monkeypatch.setattr(selfcal, "CATALOGUE", False)
    assert selfcal.build(entries).search(question).decision is Decision.FALLBACK
    monkeypatch.setattr(search_module, "OFF_DOMAIN", "no-such-prefix-")
    assert selfcal.build(entries).search(question).decision is not Decision.FALLBACK


def test_a_base_that_mentions_the_subject_keeps_answering_it(entries: list) -> None:
    """The rule is about subjects the best procedure never mentions: an entry on the subject
    itself is answered."""
    own = entries[0].__class__(
        id="gia-vang/hom-nay",
        category="Thông tin",
        question="Giá vàng hôm nay xem ở đâu?",
        answer="Xem bảng giá vàng niêm yết của các ngân hàng và doanh nghiệp kinh doanh vàng.",
        keywords=("giá vàng",),
    )
    r = Index([*entries, own]).search("giá vàng hôm nay xem ở đâu")
    assert r.matches[0].entry.id == "gia-vang/hom-nay"
    assert r.decision is not Decision.FALLBACK


def test_the_foreign_ratio_is_a_feature_only_with_the_check(entries: list) -> None:
    at = FEATURES.index("foreign_ratio")
    question = "bao nhiêu tuổi thì được nghỉ hưu"  # the bundled base has pensions; eval5 not
    plain = Index(entries)
    checked = selfcal.build(entries)
    assert checked.out_of_scope is not None
    assert plain.rank_full(question).x[at] == 0.0
    assert checked.rank_full(question).x[at] > 1.0
    # An index with the check decides with the models fitted with the ratio.
    assert checked.thresholds == selfcal.CHECKED
    assert plain.thresholds != selfcal.CHECKED


def test_given_thresholds_are_not_replaced_by_the_checked_models(entries: list) -> None:
    mine = search_module.Thresholds(suggest=0.2, answer=0.6)
    assert selfcal.build(entries, mine).thresholds == mine


def test_a_long_message_is_asked_by_its_last_question(
    entries: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The story's "mấy bữa nay" (these past days) is not a question on processing time: the
    last sentence asks the monthly amount."""
    question = (
        "Ba tôi năm nay 68 tuổi, bị tai biến mấy bữa nay nằm một chỗ, xã đã cấp giấy xác nhận "
        "khuyết tật đặc biệt nặng. Cho tôi hỏi mỗi tháng ba tôi được nhận trợ cấp bao nhiêu "
        "và có thẻ bảo hiểm y tế không?"
    )
    index = Index(entries)
    ranking = index.rank_full(question)
    assert ranking.aspect == "amount"
    assert ranking.matches[0].entry.id == "khuyet-tat/tro-cap"
    monkeypatch.setattr(search_module, "LAST_ASKED", False)
    # Read whole, the message asks a processing time, and the entry on it comes close.
    assert index.rank_full(question).aspect == "time"


def test_a_question_in_a_complaints_words_naming_a_procedure_gets_its_entries(
    tmp_path: Path,
) -> None:
    """ "chờ lâu không" is how people vent about delays, but this message names a procedure
    and asks its processing time: its entries are offered, not the complaint's reply. A
    complaint that names nothing stays one."""
    question = "Lên công an xin giấy xác nhận cư trú thì chờ lâu không?"
    complaint = "sao chờ lâu quá vậy"
    intent = intents.detect(question)
    assert intent is not None and intent.name == "complaint"
    out = motcua(
        "ask", "--kb", str(EVAL5), "--json", cwd=tmp_path, stdin=f"{question}\n{complaint}\n"
    )
    assert out.returncode == 0, out.stderr
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["decision"] in ("suggest", "answer")
    assert "xac-nhan-cu-tru/thoi-han" in [m["id"] for m in first["matches"][:3]]
    assert second["decision"] == "fallback"
    assert intents.detect(complaint) is not None
