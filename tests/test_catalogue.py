"""The procedure catalogue (knowledge/catalogue): reference entries of procedures the bundled
base lacks, used only by the out-of-scope check (knowledge/selfcal.py ``CATALOGUE``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from knowledge import kbfile, register, selfcal
from knowledge.search import Decision
from tests.test_selfcal import FOREIGN_KB, OWN, ask_json

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "knowledge" / "catalogue"
TODAY = date(2026, 12, 6)
TAIL = "Chi tiết thành phần hồ sơ, lệ phí xem trên Cổng Dịch vụ công quốc gia."

# Questions about guardianship, a procedure of the catalogue only: in the small base of
# tests/test_selfcal.py (marriage, temporary residence) the check's verdict is no without the
# catalogue (no bundled procedure outscores marriage registration by FOREIGN_RATIO), yes with it.
GUARDIANSHIP = ("đăng ký giám hộ ở đâu", "đăng ký giám hộ cho cháu ở đâu")


@pytest.fixture(autouse=True)
def _catalogue_restored() -> Iterator[None]:
    before = selfcal.CATALOGUE
    yield
    selfcal.CATALOGUE = before


@pytest.fixture(scope="module")
def foreign_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalogue") / "kb.yaml"
    path.write_text(FOREIGN_KB, encoding="utf-8")
    return path


def _files() -> list[Path]:
    return sorted(CATALOGUE.glob("*.yaml"))


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_catalogue_file_loads_and_cites_registered_documents(path: Path) -> None:
    entries = kbfile.load(path)  # raises on any problem
    assert entries
    reg = register.load_dir(ROOT / "knowledge" / "register")
    for day in (TODAY, date.today()):
        assert register.check_refs(entries, reg, day) == ([], [])
    for e in entries:
        assert e.id.endswith("/tong-quan"), e.id
        assert e.procedure and e.legal_basis and e.aspect == "other", e.id
        assert 3 <= len(e.alternatives) <= 4, e.id
        assert 4 <= len(e.keywords) <= 8, e.id
        assert e.answer.endswith(TAIL), e.id
        assert e.reviewed and e.review_by > e.reviewed, e.id


def test_the_catalogue_is_one_entry_per_procedure_none_of_them_bundled() -> None:
    catalogue = kbfile.load_dir(CATALOGUE)
    bundled = kbfile.load_dir(ROOT / "knowledge" / "data")
    assert len(catalogue) >= 440
    ids = [e.id for e in (*bundled, *catalogue)]
    assert len(ids) == len(set(ids)), "ids must be unique across the bundled base and catalogue"
    names = [e.procedure for e in catalogue]
    assert len(names) == len(set(names)), "one entry per procedure"
    bundled_names = {e.procedure for e in bundled if e.procedure}
    same = [(n, b) for n in names for b in bundled_names if selfcal.same_procedure(n, b)]
    assert same == [], same
    assert selfcal.catalogue_entries() == tuple(catalogue)


def test_the_catalogue_joins_the_check_of_a_base_that_gets_one(foreign_kb: Path) -> None:
    entries = kbfile.load(foreign_kb)
    selfcal.CATALOGUE = False
    without = selfcal.foreign_entries(entries)
    selfcal.CATALOGUE = True
    with_it = selfcal.foreign_entries(entries)
    assert with_it[: len(without)] == without
    added = with_it[len(without) :]
    assert all(e.id.startswith(selfcal.CATALOGUE_PREFIX) for e in added)
    procedures = {e.procedure for e in added}
    assert "Đăng ký giám hộ" in procedures
    # A catalogue procedure whose name only qualifies one of the base's ("thẻ tạm trú ... người
    # nước ngoài" and "Đăng ký tạm trú") is left out: the base may answer it as its own aspect.
    residence_card = "Cấp thẻ tạm trú cho người nước ngoài tại Việt Nam"
    assert residence_card in {e.procedure for e in selfcal.catalogue_entries()}
    assert residence_card not in procedures
    assert selfcal.near_procedure(residence_card, "Đăng ký tạm trú")
    assert not selfcal.same_procedure(residence_card, "Đăng ký tạm trú")
    assert not selfcal.near_procedure("Đăng ký giám hộ", "Đăng ký kết hôn")
    # Explicitly given reference entries stay exactly those: the catalogue joins the default.
    bundled = list(selfcal.bundled_entries())
    assert selfcal.foreign_entries(entries, bundled=bundled) == without
    # The bundled base holds every bundled procedure: still no check, catalogue or not.
    assert selfcal.foreign_entries(bundled) == []
    assert selfcal.build(bundled).out_of_scope is None


def test_a_catalogue_procedure_names_a_base_procedure_and_is_left_out() -> None:
    tax = [e for e in selfcal.catalogue_entries() if e.category == "Thuế"]
    foreign = selfcal.foreign_entries([*selfcal.bundled_entries()[:5], tax[0]])
    assert tax[0].procedure not in {e.procedure for e in foreign}
    assert tax[1].procedure in {e.procedure for e in foreign}


def test_the_check_says_out_of_scope_only_with_the_catalogue(foreign_kb: Path) -> None:
    entries = kbfile.load(foreign_kb)
    selfcal.CATALOGUE = False
    plain = selfcal.build(entries)
    assert plain.out_of_scope is not None
    assert not any(plain.out_of_scope(q) for q in GUARDIANSHIP)
    selfcal.CATALOGUE = True
    checked = selfcal.build(entries)
    assert checked.out_of_scope is not None
    assert all(checked.out_of_scope(q) for q in GUARDIANSHIP)
    assert all(checked.search(q).decision == Decision.FALLBACK for q in GUARDIANSHIP)
    for question, expected in OWN:
        result = checked.search(question)
        assert result.decision == Decision.ANSWER, question
        assert result.matches[0].entry.id == expected


def test_motcua_ask_never_shows_a_catalogue_entry(foreign_kb: Path, tmp_path: Path) -> None:
    lines = ask_json(foreign_kb, tmp_path, GUARDIANSHIP[0], OWN[0][0])
    assert [line["decision"] for line in lines] == ["fallback", "answer"]
    own = {e.id for e in kbfile.load(foreign_kb)}
    assert all(m["id"] in own for line in lines for m in line["matches"])
