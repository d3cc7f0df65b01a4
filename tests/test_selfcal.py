"""Decisions checked against the bundled base (knowledge/selfcal.py): a foreign base falls back
on questions about neighbouring procedures it lacks, and still answers its own."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from knowledge import kbfile, selfcal
from knowledge.entry import Entry
from knowledge.search import Decision, Thresholds
from storage.repositories import kb as kb_repo
from tests.test_cli import motcua
from tests.transcript import Conversation

ROOT = Path(__file__).resolve().parent.parent

# A small base of an operator's own: marriage and temporary-residence registration only.
FOREIGN_KB = """\
version: 1
entries:
  - id: ket-hon/ho-so
    category: Hộ tịch
    procedure: Đăng ký kết hôn
    question: Đăng ký kết hôn cần những giấy tờ gì?
    alternatives:
      - Hồ sơ đăng ký kết hôn gồm những gì?
      - Đi đăng ký kết hôn mang theo giấy tờ gì?
    answer: Tờ khai đăng ký kết hôn và giấy tờ tùy thân của hai bên nam, nữ.
  - id: ket-hon/noi-dang-ky
    category: Hộ tịch
    procedure: Đăng ký kết hôn
    question: Đăng ký kết hôn ở đâu?
    alternatives: ["Làm thủ tục kết hôn tại cơ quan nào?", "Đăng ký kết hôn ở phường nào?"]
    answer: Tại Ủy ban nhân dân cấp xã nơi cư trú của một trong hai bên.
  - id: ket-hon/le-phi
    category: Hộ tịch
    procedure: Đăng ký kết hôn
    question: Đăng ký kết hôn có mất lệ phí không?
    alternatives: ["Lệ phí đăng ký kết hôn bao nhiêu tiền?", "Kết hôn có phải đóng phí không?"]
    answer: Đăng ký kết hôn trong nước được miễn lệ phí.
  - id: tam-tru/ho-so
    category: Cư trú
    procedure: Đăng ký tạm trú
    question: Đăng ký tạm trú cần giấy tờ gì?
    alternatives: ["Hồ sơ đăng ký tạm trú gồm những gì?", "Làm tạm trú mang theo gì?"]
    answer: Tờ khai thay đổi thông tin cư trú và giấy tờ chứng minh chỗ ở hợp pháp.
  - id: tam-tru/noi-dang-ky
    category: Cư trú
    procedure: Đăng ký tạm trú
    question: Đăng ký tạm trú ở đâu?
    alternatives: ["Làm tạm trú tại cơ quan nào?", "Khai báo tạm trú ở công an nào?"]
    answer: Tại Công an cấp xã nơi bạn đến ở, hoặc trực tuyến trên VNeID.
"""

# Questions about procedures of the bundled base that the small base lacks, worded close to
# marriage registration (a certificate of single status, a copy of the marriage certificate).
NEAR_TOPIC = ("giấy xác nhận độc thân để kết hôn xin ở đâu", "xin bản sao giấy chứng nhận kết hôn")
OWN = (
    ("đăng ký kết hôn cần giấy tờ gì", "ket-hon/ho-so"),
    ("dang ky ket hon o dau", "ket-hon/noi-dang-ky"),
    ("lệ phí kết hôn bao nhiêu", "ket-hon/le-phi"),
    ("làm tạm trú cần gì", "tam-tru/ho-so"),
    ("tam tru dang ky o dau", "tam-tru/noi-dang-ky"),
)


@pytest.fixture(scope="module")
def foreign_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("selfcal") / "kb.yaml"
    path.write_text(FOREIGN_KB, encoding="utf-8")
    return path


def test_procedure_names_are_compared_by_their_distinctive_words() -> None:
    assert selfcal.same_procedure("Cấp giấy phép bán lẻ rượu", "Cấp giấy phép bán lẻ sản phẩm rượu")
    assert selfcal.same_procedure("Đăng ký kết hôn", "dang ky ket hon")
    assert not selfcal.same_procedure("Đăng ký kết hôn", "Đăng ký khai sinh")
    # A shorter name inside a longer one is not enough: these are two procedures.
    assert not selfcal.same_procedure("Đổi giấy phép lái xe", "Cấp giấy phép lái xe quốc tế")
    assert not selfcal.same_procedure("Đăng ký kết hôn", "Cấp giấy xác nhận tình trạng hôn nhân")
    # A longer name that only qualifies the shorter one names the same procedure ...
    assert selfcal.same_procedure(
        "Quyết toán thuế thu nhập cá nhân",
        "Quyết toán thuế thu nhập cá nhân đối với cá nhân có thu nhập từ tiền lương, tiền công",
    )
    # ... unless it adds most of its words: another procedure built on the first.
    assert not selfcal.same_procedure(
        "Đăng ký khai sinh", "Đăng ký khai sinh kết hợp đăng ký nhận cha, mẹ, con"
    )


def test_the_check_holds_only_bundled_procedures_the_base_lacks(foreign_kb: Path) -> None:
    entries = kbfile.load(foreign_kb)
    foreign = selfcal.foreign_entries(entries)
    procedures = {e.procedure for e in foreign}
    assert "Đăng ký kết hôn" not in procedures
    assert "Đăng ký tạm trú" not in procedures
    assert "Cấp Giấy xác nhận tình trạng hôn nhân" in procedures
    # A procedure whose name says more than the base's ("có yếu tố nước ngoài") is one of its
    # own: the check then weighs it (its ratio is a decision feature, not a verdict).
    assert "Đăng ký kết hôn có yếu tố nước ngoài" in procedures
    assert all(e.id.startswith(selfcal.FOREIGN_PREFIX) for e in foreign)
    # The bundled base itself lacks none of its procedures: no check, nothing changes.
    bundled = list(selfcal.bundled_entries())
    assert len(bundled) > 500
    assert selfcal.foreign_entries(bundled) == []
    assert selfcal.build(bundled).out_of_scope is None


def test_a_foreign_base_falls_back_on_near_topic_questions_and_answers_its_own(
    foreign_kb: Path,
) -> None:
    entries = kbfile.load(foreign_kb)
    checked = selfcal.build(entries)
    plain = selfcal.build(entries, enabled=False)
    assert plain.out_of_scope is None and checked.out_of_scope is not None
    # Without the check, each near-topic question is answered or suggested from marriage
    # registration; with it, each falls back.
    assert all(plain.search(q).decision != Decision.FALLBACK for q in NEAR_TOPIC)
    assert all(checked.search(q).decision == Decision.FALLBACK for q in NEAR_TOPIC)
    for question, expected in OWN:
        result = checked.search(question)
        assert result.decision == Decision.ANSWER, question
        assert result.matches[0].entry.id == expected


def test_a_foreign_entry_weighs_less_against_a_procedure_the_question_names(
    foreign_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With every alternative phrasing of the foreign entries (see the next test)...
    monkeypatch.setattr(selfcal, "MATCH_PHRASINGS", False)
    index = selfcal.build(kbfile.load(foreign_kb))
    check = index.out_of_scope
    assert isinstance(check, selfcal.ForeignCheck)
    # ... a bundled entry on school enrolment outscores the base on "con", "nộp ở đâu"; the
    # question names temporary residence, a procedure of the base.
    question = "tạm trú cho con nhỏ mới sinh thì nộp ở đâu"
    foreign = check.index.rank_full(question).matches[0].entry
    assert foreign.id.startswith(selfcal.FOREIGN_PREFIX)
    mine = index.get("tam-tru/noi-dang-ky")
    assert mine is not None
    own, theirs = check.index.name_shares(question, (mine, foreign))
    assert own > theirs
    monkeypatch.setattr(selfcal, "NAME_DISCOUNT", 0.0)
    plain = check._ratio(question)
    monkeypatch.setattr(selfcal, "NAME_DISCOUNT", 0.5)
    discounted = check._ratio(question)
    assert plain > 1.0
    assert discounted == pytest.approx(plain / (1.0 + 0.5 * (own - theirs)))
    # A question on a procedure the base lacks names the base's procedure no better: the
    # near-topic questions still fall back (the test above), whatever the discount.
    for question in NEAR_TOPIC:
        assert check._ratio(question) >= selfcal.FOREIGN_RATIO or (
            index.search(question).decision == Decision.FALLBACK
        )


def test_foreign_entries_are_no_richer_in_phrasings_than_the_base(
    foreign_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A foreign entry keeps as many alternative phrasings as the loaded entries have on
    average: a base written with none (as agencies often write them) is compared with the
    bundled entries' questions alone, not outscored on their extra phrasings."""
    entries = kbfile.load(foreign_kb)  # two alternatives each
    bundled = selfcal.bundled_entries()
    assert max(len(e.alternatives) for e in bundled) > 2
    foreign = selfcal.foreign_entries(entries)
    assert foreign and max(len(e.alternatives) for e in foreign) == 2
    by_id = {e.id: e for e in bundled}
    for e in foreign:
        if e.id.startswith(selfcal.CATALOGUE_PREFIX):
            continue
        original = by_id[e.id.removeprefix(selfcal.FOREIGN_PREFIX)]
        assert e.alternatives == original.alternatives[:2]
        assert (e.question, e.answer, e.keywords) == (
            original.question,
            original.answer,
            original.keywords,
        )
    bare = [replace(e, alternatives=()) for e in entries]
    assert all(not e.alternatives for e in selfcal.foreign_entries(bare))
    # One alternative on average (rounded): one each.
    mixed = [replace(e, alternatives=e.alternatives[: i % 2 * 2]) for i, e in enumerate(entries)]
    assert max(len(e.alternatives) for e in selfcal.foreign_entries(mixed)) == 1
    monkeypatch.setattr(selfcal, "MATCH_PHRASINGS", False)
    assert max(len(e.alternatives) for e in selfcal.foreign_entries(bare)) > 2
    # The question of the previous test, on the base without alternatives: with the foreign
    # entries as rich as they come, school enrolment outscores temporary residence; as poor
    # as the base, the base's own entry comes first and nothing sends the question away.
    question = "tạm trú cho con nhỏ mới sinh thì nộp ở đâu"
    rich = selfcal.build(bare).out_of_scope
    assert rich is not None and rich.ratio(question) > 1.0
    monkeypatch.setattr(selfcal, "MATCH_PHRASINGS", True)
    fair = selfcal.build(bare)
    assert fair.out_of_scope is not None and fair.out_of_scope.ratio(question) == 0.0
    assert fair.search(question).matches[0].entry.id == "tam-tru/noi-dang-ky"


def test_given_thresholds_are_kept_and_the_check_still_applies(foreign_kb: Path) -> None:
    entries = kbfile.load(foreign_kb)
    mine = Thresholds(suggest=0.2, answer=0.6)
    index = selfcal.build(entries, mine, thresholds_too=True)
    assert index.thresholds == mine
    assert index.search(NEAR_TOPIC[0]).decision == Decision.FALLBACK


def test_threshold_calibration_is_deterministic_and_moves_with_the_base() -> None:
    eval3 = kbfile.load(ROOT / "bench" / "eval3" / "kb.yaml")
    eval4 = kbfile.load(ROOT / "bench" / "eval4" / "kb.yaml")
    first = selfcal.samples(eval3)
    assert first == selfcal.samples(eval3)
    assert any(not s.in_scope for s in first) and any(s.in_scope for s in first)
    default = Thresholds().suggest
    t3 = selfcal.choose_suggest(first, default)
    t4 = selfcal.choose_suggest(selfcal.samples(eval4), default)
    assert t3 != t4
    low, high = default * selfcal.WINDOW[0], default * selfcal.WINDOW[1]
    assert low - 1e-9 <= min(t3, t4) and max(t3, t4) <= high + 1e-9
    assert selfcal.build(eval3, thresholds_too=True).thresholds.suggest == t3


def test_threshold_calibration_keeps_the_default_without_negatives() -> None:
    rows = [selfcal.Sample(0.9, True, True, "heldin")] * 30
    assert selfcal.choose_suggest(rows, 0.33) == 0.33


def ask_json(kb: Path, cwd: Path, *questions: str) -> list[dict[str, Any]]:
    """``motcua ask --kb KB --json`` on ``questions``: one decoded line per question."""
    out = motcua(
        "ask", "--kb", str(kb), "--json", cwd=cwd, stdin="".join(f"{q}\n" for q in questions)
    )
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_motcua_ask_json_applies_the_check_and_keeps_its_format(
    foreign_kb: Path, tmp_path: Path
) -> None:
    lines = ask_json(foreign_kb, tmp_path, NEAR_TOPIC[0], OWN[0][0])
    assert [set(line) for line in lines] == [{"query", "decision", "matches"}] * 2
    assert [line["decision"] for line in lines] == ["fallback", "answer"]
    # Matches come from the loaded base only, never from the bundled entries of the check.
    assert lines[1]["matches"][0]["id"] == OWN[0][1]
    assert all(
        not m["id"].startswith(selfcal.FOREIGN_PREFIX) for line in lines for m in line["matches"]
    )


async def test_the_bot_checks_an_operators_own_base(app: App, foreign_kb: Path) -> None:
    """The knowledge service builds its index with the check: once the operator's base
    replaces the bundled one, a citizen's near-topic question falls back, their own questions
    are still answered."""
    assert app.knowledge.index.out_of_scope is None  # the bundled base lacks none of its own
    async with app.sessions() as session, session.begin():
        await kb_repo.apply_import(session, kbfile.load(foreign_kb), replace=True)
    assert await app.knowledge.refresh()
    index = app.knowledge.index
    assert {e.id for e in index.entries} == {e.id for e in kbfile.load(foreign_kb)}
    assert index.out_of_scope is not None
    assert index.search(NEAR_TOPIC[0]).decision == Decision.FALLBACK
    assert index.search(OWN[0][0]).decision == Decision.ANSWER
    person = Conversation(app.dispatcher)
    await person.say(NEAR_TOPIC[0])
    assert person.last[0].text.startswith("Câu hỏi này nằm ngoài")


def test_the_base_s_own_question_is_never_sent_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry written thinly (no procedure name, two keywords, a long answer of generic
    steps: the web chat's test base) is outscored by the bundled building-permit entries even
    on its own question; the ratio of a question is measured against the one that entry's own
    question gets, so the verbatim question is answered."""
    own = Entry(
        id="thu-nghiem/quy-trinh",
        category="Thử nghiệm",
        question="Quy trình cấp giấy phép xây dựng nhà ở riêng lẻ gồm những bước nào?",
        answer="\n".join(
            f"Bước {i}: nội dung hướng dẫn số {i} của thủ tục dài." for i in range(1, 61)
        ),
        keywords=("giấy phép xây dựng", "quy trình"),
    )
    other = Entry(
        id="thu-nghiem/lien-ket",
        category="Thử nghiệm",
        question="Nộp hồ sơ trực tuyến ở đâu?",
        answer="Trên Cổng Dịch vụ công quốc gia.",
        keywords=("nộp trực tuyến", "cổng dịch vụ công"),
    )
    question = own.question
    monkeypatch.setattr(selfcal, "OWN_QUESTION", False)
    unscaled = selfcal.build([own, other])
    assert unscaled.out_of_scope is not None
    assert unscaled.out_of_scope.ratio(question) >= selfcal.FOREIGN_RATIO
    assert unscaled.search(question).decision is Decision.FALLBACK
    monkeypatch.setattr(selfcal, "OWN_QUESTION", True)
    # The check (and its last ratio) is kept per base: build it again with the scaling.
    monkeypatch.setattr(selfcal, "_last", None)
    index = selfcal.build([own, other])
    assert index.out_of_scope is not None
    assert index.out_of_scope.ratio(question) <= 1.0
    result = index.search(question)
    assert result.decision is Decision.ANSWER
    assert result.matches[0].entry.id == own.id
    # A question on a procedure the base lacks still falls back.
    assert index.search("giấy xác nhận độc thân để kết hôn xin ở đâu").decision is (
        Decision.FALLBACK
    )
