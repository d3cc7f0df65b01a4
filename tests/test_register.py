"""The legal-document register, the validator's checks of legal_refs, and the bundled data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from knowledge import kbfile, register
from knowledge.entry import Entry
from knowledge.kbfile import KbFileError
from knowledge.review import due_reviews

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_KB = ROOT / "knowledge" / "data"
BUNDLED_REGISTER = ROOT / "knowledge" / "register"
ASSISTANT_HELP = "Về trợ lý motcua"
TODAY = date(2026, 12, 6)

GOOD = b"""version: 1
documents:
  - number: 74/2025/QH15
    title: Lu\xe1\xba\xadt Vi\xe1\xbb\x87c l\xc3\xa0m
    issuer: Qu\xe1\xbb\x91c h\xe1\xbb\x99i
    issued: 2025-06-16
    effective: 2026-01-01
  - number: 38/2013/QH13
    title: Old law
    issuer: Quoc hoi
    effective: 2015-01-01
    expired: 2026-01-01
    replaced_by: 74/2025/QH15
    source_url: https://vbpl.vn/
"""


def problems_of(data: bytes) -> list[str]:
    with pytest.raises(KbFileError) as info:
        register.parse(data, "reg.yaml")
    return [str(p) for p in info.value.problems]


def test_a_good_register_file_is_read_with_every_field() -> None:
    new, old = register.parse(GOOD)
    assert new.title == "Luật Việc làm" and new.issued == "2025-06-16"
    assert new.in_force(TODAY)
    assert old.replaced_by == "74/2025/QH15" and old.source_url == "https://vbpl.vn/"
    assert not old.in_force(TODAY)
    assert old.in_force(date(2025, 12, 31))  # in force up to the day before its expiry


def test_every_problem_of_a_register_file_is_listed_with_its_line() -> None:
    bad = b"""version: 1
documents:
  - number: 1/2020/QH14
    title: A
    issuer: B
    effective: 2020-13-01
  - number: 'two words'
    title: A
    effective: 2020-01-01
    colour: red
  - number: 3/2020/QH14
    title: A
    issuer: B
    effective: 2021-01-01
    expired: 2020-01-01
  - number: 4/2020/QH14
    title: A
    issuer: B
    effective: 2020-01-01
    replaced_by: 4/2020/qh14
"""
    problems = problems_of(bad)
    assert "reg.yaml line 3 [effective]: must be a date written YYYY-MM-DD" in problems
    assert any("line 7 [number]" in p and "not a document number" in p for p in problems)
    assert any("line 7 [issuer]: required field is empty" in p for p in problems)
    assert any("line 7 [colour]: unknown field" in p for p in problems)
    assert any("line 11 [expired]: is before the effective date" in p for p in problems)
    assert any("line 16 [replaced_by]: a document cannot replace itself" in p for p in problems)
    twice = GOOD + GOOD.split(b"documents:\n", 1)[1].replace(b"74/2025/QH15", b"74/2025/qh15")
    assert any("line 15 [number]: '74/2025/qh15' listed twice" in p for p in problems_of(twice))
    assert problems_of(b"documents: 3") == [
        "reg.yaml [documents]: expected a mapping with a list 'documents'"
    ]


def test_a_number_in_two_files_must_agree_on_its_dates(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(GOOD)
    same = b"""version: 1
documents:
  - number: 74/2025/QH15
    title: Luat Viec lam
    issuer: Quoc hoi
    effective: 2026-01-01
    source_url: https://example.gov.vn/
"""
    (tmp_path / "b.yaml").write_bytes(same)
    reg = register.load_dir(tmp_path)
    assert len(reg) == 2
    assert reg.get("74/2025/qh15") is not None  # case-insensitive lookup
    (tmp_path / "c.yaml").write_bytes(same.replace(b"2026-01-01", b"2026-07-01"))
    with pytest.raises(KbFileError) as info:
        register.load_dir(tmp_path)
    (only,) = info.value.problems
    assert only.where == "c.yaml" and only.field == "effective"
    assert "74/2025/QH15: '2026-07-01' here but '2026-01-01' in a.yaml" in only.message


def _entry(eid: str, *refs: str, **fields: str) -> Entry:
    values = {"category": "Lao động – Việc làm", "question": "Hỏi?", "answer": "Đáp.", **fields}
    return Entry(id=eid, legal_refs=refs, **values)


def test_refs_unknown_are_problems_and_expired_ones_warnings() -> None:
    reg = register.merge([("a.yaml", register.parse(GOOD))])
    entries = [
        _entry("a/ok", "74/2025/QH15"),
        _entry("a/unknown", "99/2099/QH99"),
        _entry("a/old", "38/2013/QH13"),
        _entry("a/old-said", "38/2013/QH13", answer="Luật cũ đã hết hiệu lực từ 01/01/2026."),
        _entry("a/old-and-new", "38/2013/QH13", "74/2025/QH15"),
    ]
    problems, warnings = register.check_refs(entries, reg, TODAY)
    assert [str(p) for p in problems] == [
        "a/unknown [legal_refs]: '99/2099/QH99' is not in the register of documents"
    ]
    assert [str(w) for w in warnings] == [
        "a/old [legal_refs]: cites 38/2013/QH13, replaced by 74/2025/QH15"
    ]
    # Before the expiry date nothing is wrong.
    assert register.check_refs(entries[2:3], reg, date(2025, 6, 1)) == ([], [])


def test_review_needs_follow_the_register_and_the_review_by_date() -> None:
    reg = register.merge([("a.yaml", register.parse(GOOD))])
    entries = [
        _entry("a/old", "38/2013/QH13", reviewed="2025-10-01"),
        _entry("a/reviewed-since", "38/2013/QH13", reviewed="2026-02-01"),
        _entry("a/new", "74/2025/QH15", review_by="2026-12-01"),
        _entry("a/fine", "74/2025/QH15", review_by="2027-06-30"),
    ]
    needs = due_reviews(entries, reg, TODAY)
    assert [(n.entry_id, n.reason, n.event, n.since) for n in needs] == [
        ("a/old", "replaced", "replaced:74/2025/QH15", "2026-01-01"),
        ("a/new", "overdue", "overdue:2026-12-01", "2026-12-01"),
    ]


# ------------------------------------------------------------------ the bundled data


def test_the_bundled_register_is_valid() -> None:
    reg = register.load_dir(BUNDLED_REGISTER)
    assert len(reg) >= 80
    for d in reg.documents.values():
        if d.replaced_by:
            assert d.replaced_by in reg, f"{d.number} replaced by an unregistered document"


def test_every_bundled_entry_cites_registered_documents_and_has_a_reviewed_date() -> None:
    reg = register.load_dir(BUNDLED_REGISTER)
    entries = kbfile.load_dir(BUNDLED_KB)
    for e in entries:
        assert e.reviewed, f"{e.id} has no reviewed date"
        assert e.review_by > e.reviewed, f"{e.id}: review_by must follow reviewed"
        assert e.aspect, f"{e.id} has no aspect"
        if e.category != ASSISTANT_HELP:  # the assistant's own help rests on no law
            assert e.legal_refs, f"{e.id} cites no document of the register"
    problems, _ = register.check_refs(entries, reg, TODAY)
    assert problems == []


@pytest.mark.parametrize("day", [TODAY, date.today()])
def test_no_bundled_entry_cites_an_expired_document_without_saying_so(day: date) -> None:
    reg = register.load_dir(BUNDLED_REGISTER)
    _, warnings = register.check_refs(kbfile.load_dir(BUNDLED_KB), reg, day)
    assert warnings == [], "\n".join(str(w) for w in warnings)


def test_decimal_commas_in_flow_lists_are_quoted_so_yaml_does_not_split_them() -> None:
    """In ``[a, 1,5 tháng]`` YAML reads two items, "1" and "5 tháng": such items are quoted,
    and every list item reads back as text."""
    import re

    import yaml

    flow = re.compile(r"^    (keywords|alternatives|legal_refs): \[(.*)\]$")
    for path in BUNDLED_KB.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), start=1):
            m = flow.match(line)
            if m:
                unquoted = re.sub(r'"[^"]*"', "", m.group(2))
                assert not re.search(r"\d,\d", unquoted), f"{path.name} line {n}: quote {line}"
        for e in yaml.safe_load(text)["entries"]:
            for field in ("keywords", "alternatives", "legal_refs"):
                for item in e.get(field) or []:
                    assert isinstance(item, str), f"{path.name} {e['id']} {field}: {item!r}"
