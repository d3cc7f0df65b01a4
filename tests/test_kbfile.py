"""Knowledge files: YAML, CSV and XLSX read and written; the bundled base."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.kbfile import KbFileError

GOOD_YAML = """\
version: 1
entries:
  - id: khai-sinh/ho-so
    category: Hộ tịch
    procedure: Đăng ký khai sinh
    question: Đăng ký khai sinh cần giấy tờ gì?
    alternatives: ["Làm giấy khai sinh cho con cần mang gì?"]
    keywords: [khai sinh, giấy chứng sinh]
    answer: |
      - Tờ khai đăng ký khai sinh;
      - Giấy chứng sinh.
    legal_basis: Luật Hộ tịch 2014
  - id: khai-sinh/le-phi
    category: Hộ tịch
    question: Đăng ký khai sinh có mất phí không?
    answer: Miễn lệ phí khi đăng ký đúng hạn.
"""


def problems_of(data: bytes, fmt: str) -> list[str]:
    with pytest.raises(KbFileError) as info:
        kbfile.parse(data, fmt)
    return [str(p) for p in info.value.problems]


def test_yaml_is_read_with_every_field() -> None:
    entries = kbfile.parse(GOOD_YAML.encode(), "yaml")
    assert [e.id for e in entries] == ["khai-sinh/ho-so", "khai-sinh/le-phi"]
    first = entries[0]
    assert first.alternatives == ("Làm giấy khai sinh cho con cần mang gì?",)
    assert first.keywords == ("khai sinh", "giấy chứng sinh")
    assert first.answer.startswith("- Tờ khai")
    assert first.legal_basis == "Luật Hộ tịch 2014"


@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_every_format_round_trips(fmt: str) -> None:
    entries = kbfile.parse(GOOD_YAML.encode(), "yaml")
    assert kbfile.parse(kbfile.dump(entries, fmt), fmt) == entries


def test_every_problem_is_listed_with_its_line_and_field() -> None:
    bad = """\
version: 1
entries:
  - id: Bad Id!
    category: Hộ tịch
    question: Câu hỏi?
    answer: Trả lời.
  - id: ok/one
    category: ""
    question: Câu hỏi?
    answer: ""
    colour: blue
  - id: ok/one
    category: Hộ tịch
    question: Lặp lại?
    answer: Có.
"""
    found = problems_of(bad.encode(), "yaml")
    assert any(p.startswith("line 3 [id]") for p in found)
    assert "line 7 [category]: required field is empty" in found
    assert "line 7 [answer]: required field is empty" in found
    assert "line 7 [colour]: unknown field" in found
    assert not any("duplicate" in p for p in found)  # the first ok/one was itself invalid


def test_duplicate_ids_are_reported_with_both_places() -> None:
    dup = (
        GOOD_YAML
        + """\
  - id: khai-sinh/ho-so
    category: Hộ tịch
    question: Lặp?
    answer: Có.
"""
    )
    (only,) = problems_of(dup.encode(), "yaml")
    assert "duplicate id 'khai-sinh/ho-so'" in only
    assert "line 3" in only


def test_invalid_yaml_gives_the_line() -> None:
    (only,) = problems_of(b"version: 1\nentries:\n  - id: [unclosed\n", "yaml")
    assert only.startswith("line ")
    assert "invalid YAML" in only


def test_yaml_aliases_are_refused_so_a_billion_laughs_cannot_expand() -> None:
    bomb = b'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nentries: [*c]\n'
    (only,) = problems_of(bomb, "yaml")
    assert "aliases" in only


def test_a_file_that_is_not_utf8_is_refused_clearly() -> None:
    data = "id,category,question,answer\nx/y,Hộ tịch,Hỏi?,Đáp\n".encode("utf-16")
    (only,) = problems_of(data, "csv")
    assert "UTF-8" in only


def test_csv_reports_rows_and_unknown_columns() -> None:
    data = b"id,category,question,answer,colour\n"
    assert problems_of(data, "csv") == ["row 1 [colour]: unknown column"]
    data = "id,category,question,answer\nx/y,Hộ tịch,,Đáp\n".encode()
    assert problems_of(data, "csv") == ["row 2 [question]: required field is empty"]


def test_broken_xlsx_is_refused() -> None:
    (only,) = problems_of(b"PK\x03\x04 not really a zip", "xlsx")
    assert "not a valid XLSX" in only


def test_xlsx_lists_are_split_on_the_pipe() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["id", "category", "question", "answer", "alternatives", "keywords"])
    ws.append(["a/b", "Hộ tịch", "Hỏi?", "Đáp.", "Một | Hai", "k1|k2"])
    buf = io.BytesIO()
    wb.save(buf)
    (entry,) = kbfile.parse(buf.getvalue(), "xlsx")
    assert entry.alternatives == ("Một", "Hai")
    assert entry.keywords == ("k1", "k2")


def test_export_neutralises_formula_like_cells() -> None:
    entry = Entry(id="x/y", category="=HYPERLINK(1)", question="+1?", answer="@SUM(A1)")
    wb = load_workbook(io.BytesIO(kbfile.dump([entry], "xlsx")))
    ws = wb.active
    assert ws is not None
    row = [c.value for c in ws[2]]
    assert row[1] == "'=HYPERLINK(1)"
    assert row[3] == "'+1?"
    assert row[6] == "'@SUM(A1)"
    assert kbfile.parse(kbfile.dump([entry], "csv"), "csv") == [entry]


def test_oversized_file_is_refused() -> None:
    (only,) = problems_of(b"x" * (kbfile.MAX_FILE_BYTES + 1), "yaml")
    assert "larger than" in only


def test_unknown_file_type() -> None:
    with pytest.raises(KbFileError, match="unknown file type"):
        kbfile.detect_format("base.json")


BUNDLED = Path(__file__).resolve().parent.parent / "knowledge" / "data"


def test_the_bundled_base_is_valid_and_large_enough() -> None:
    entries = kbfile.load_dir(BUNDLED)
    procedures = Counter(e.procedure for e in entries if e.category != "Về trợ lý motcua")
    assert len(entries) >= 250
    assert len(procedures) >= 30
    assert sum(1 for e in entries if e.id.startswith("tro-cap-that-nghiep/")) >= 15
    assert all(e.legal_basis for e in entries), [e.id for e in entries if not e.legal_basis]
    assert any(e.category == "Về trợ lý motcua" for e in entries)


def test_a_deeply_nested_document_is_refused_not_crashing() -> None:
    (only,) = problems_of(b"[" * 50_000, "yaml")
    assert "nested too deeply" in only
