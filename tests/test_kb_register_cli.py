"""``motcua kb validate|import|register|stale`` run as a user would, on real files and SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import motcua

REGISTER = """version: 1
documents:
  - number: 1/2020/QH14
    title: Luật Thử nghiệm
    issuer: Quốc hội
    effective: 2021-01-01
  - number: 2/2026/QH15
    title: Luật Thử nghiệm mới
    issuer: Quốc hội
    effective: 2026-07-01
  - number: 3/2015/QH13
    title: Luật cũ
    issuer: Quốc hội
    effective: 2016-01-01
    expired: 2021-01-01
    replaced_by: 1/2020/QH14
"""

KB = """version: 1
entries:
  - id: thu/ho-so
    category: Hộ tịch
    question: Thủ tục thử cần hồ sơ gì?
    answer: Tờ khai thử.
    legal_refs: [1/2020/QH14]
    reviewed: 2026-11-20
    review_by: 2027-06-30
  - id: thu/le-phi
    category: Hộ tịch
    question: Lệ phí thủ tục thử?
    answer: Miễn phí.
    legal_refs: [{ref}]
    reviewed: 2026-11-20
"""


def _setup(tmp_path: Path, ref: str = "1/2020/QH14") -> tuple[Path, dict[str, str]]:
    register = tmp_path / "register"
    register.mkdir()
    (register / "r.yaml").write_text(REGISTER, encoding="utf-8")
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    kb = tmp_path / "kb.yaml"
    kb.write_text(KB.format(ref=ref), encoding="utf-8")
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'm.db'}",
        "KB_DIR": str(kb_dir),
        "KB_REGISTER_DIR": str(register),
    }
    return kb, env


def test_validate_refuses_unknown_documents_and_warns_about_expired_ones(tmp_path: Path) -> None:
    kb, env = _setup(tmp_path, ref="9/2099/QH99")
    out = motcua("kb", "validate", str(kb), cwd=tmp_path, env=env)
    assert out.returncode == 1
    assert "thu/le-phi [legal_refs]: '9/2099/QH99' is not in the register of documents" in (
        out.stderr
    )
    kb.write_text(KB.format(ref="3/2015/QH13"), encoding="utf-8")
    out = motcua("kb", "validate", str(kb), cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert "thu/le-phi [legal_refs]: cites 3/2015/QH13, replaced by 1/2020/QH14" in out.stderr
    assert "2 entries, no problems." in out.stdout
    # Importing the unknown reference is refused, and nothing is imported.
    kb.write_text(KB.format(ref="9/2099/QH99"), encoding="utf-8")
    out = motcua("kb", "import", str(kb), cwd=tmp_path, env=env)
    assert out.returncode == 1
    assert "nothing was imported" in out.stderr


def test_a_foreign_file_in_the_old_format_stays_valid_and_searchable(
    tmp_path: Path, eval_dir: Path
) -> None:
    """``../shared/eval/kb.yaml`` has no aspect, legal_refs or review dates."""
    _, env = _setup(tmp_path)
    foreign = eval_dir / "kb.yaml"
    out = motcua("kb", "validate", str(foreign), cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    out = motcua("ask", "--kb", str(foreign), "--json", "hồ sơ", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[0])["query"] == "hồ sơ"


def test_replace_then_stale_lists_the_entries_as_json(tmp_path: Path) -> None:
    kb, env = _setup(tmp_path)
    assert motcua("kb", "import", str(kb), cwd=tmp_path, env=env).returncode == 0
    out = motcua("kb", "stale", "--json", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""  # nothing to review yet
    out = motcua(
        "kb", "register", "replace", "1/2020/qh14", "--by", "2/2026/QH15", "--on", "2026-12-01",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "1/2020/QH14: no longer in force from 2026-12-01." in out.stdout
    assert "Review list: 2 new, 2 open; 0 alert(s) queued." in out.stdout
    out = motcua("kb", "stale", "--json", cwd=tmp_path, env=env)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["entry_id"], r["reason"], r["document"], r["since"]) for r in rows] == [
        ("thu/ho-so", "replaced", "1/2020/QH14", "2026-12-01"),
        ("thu/le-phi", "replaced", "1/2020/QH14", "2026-12-01"),
    ]
    assert rows[0]["question"] == "Thủ tục thử cần hồ sơ gì?"
    out = motcua("kb", "stale", cwd=tmp_path, env=env)
    assert "2 entries to review." in out.stdout
    # Bad input: an unknown document, a bad date.
    out = motcua(
        "kb", "register", "expire", "9/2099/QH99", "--on", "2027-01-01", cwd=tmp_path, env=env
    )
    assert out.returncode == 1 and "No document 9/2099/QH99 in the register." in out.stderr
    out = motcua(
        "kb", "register", "expire", "1/2020/QH14", "--on", "1/1/2027", cwd=tmp_path, env=env
    )
    assert out.returncode == 2 and "Expected a date YYYY-MM-DD" in out.stderr
    # Recording a review takes the entry off the list.
    out = motcua("kb", "reviewed", "thu/ho-so", "--by", "2099-01-01", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert "next review by 2099-01-01" in out.stdout
    out = motcua("kb", "stale", "--json", cwd=tmp_path, env=env)
    assert [json.loads(line)["entry_id"] for line in out.stdout.splitlines()] == ["thu/le-phi"]
    out = motcua("kb", "register", "list", cwd=tmp_path, env=env)
    assert "1/2020/QH14            NOT in force from 2021-01-01 until 2026-12-01 (replaced by " in (
        out.stdout
    )
    assert "2/2026/QH15            in force" in out.stdout
    # A broken register file is reported, not a traceback.
    (tmp_path / "register" / "bad.yaml").write_text("documents: 1\n", encoding="utf-8")
    out = motcua("kb", "stale", cwd=tmp_path, env=env)
    assert out.returncode == 1
    assert "bad.yaml [documents]: expected a mapping with a list 'documents'" in out.stderr
