"""The command line, run as a user would, with real files: one real process, the other
commands in this process (tests/cli_runner.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests import cli_runner

ROOT = Path(__file__).resolve().parent.parent


def motcua(
    *args: str,
    cwd: Path,
    stdin: str = "",
    env: dict[str, str] | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """The command with these arguments; in this process (tests/cli_runner.py) unless
    ``process``: a real ``python -m bot``, for what only a process shows."""
    full_env = {
        **os.environ,
        "SECRET_KEY": "cli-test-key-0123456789abcdef0123456789",
        **(env or {}),
    }
    if not process:
        return cli_runner.run(*args, cwd=cwd, stdin=stdin, env=full_env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
        check=False,
    )


def test_ask_json_reads_questions_from_stdin(tmp_path: Path) -> None:
    kb = tmp_path / "kb.yaml"
    kb.write_text(
        "version: 1\nentries:\n"
        "  - {id: a/ho-so, category: Hộ tịch, answer: Tờ khai.,\n"
        "     question: 'Hồ sơ đăng ký khai sinh gồm gì?'}\n"
        "  - {id: a/le-phi, category: Hộ tịch, answer: Miễn phí.,\n"
        "     question: 'Lệ phí đăng ký khai sinh?'}\n",
        encoding="utf-8",
    )
    out = motcua(
        "ask",
        "--kb",
        str(kb),
        "--json",
        "-k",
        "2",
        cwd=tmp_path,
        stdin="ho so dang ky khai sinh gom gi\nle phi khai sinh\n",
        process=True,  # the one real process: stdin, stdout and the exit code of python -m bot
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["query"] for line in lines] == [
        "ho so dang ky khai sinh gom gi",
        "le phi khai sinh",
    ]
    assert lines[0]["matches"][0]["id"] == "a/ho-so"
    assert lines[1]["matches"][0]["id"] == "a/le-phi"
    assert all(line["decision"] in ("answer", "suggest", "fallback") for line in lines)
    assert all(len(line["matches"]) <= 2 for line in lines)


def test_kb_validate_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,category,question,answer\nBAD ID,Hộ tịch,,x\nok/1,,Hỏi?,Đáp\n", encoding="utf-8"
    )
    out = motcua("kb", "validate", str(bad), cwd=tmp_path)
    assert out.returncode == 1
    assert "row 2 [id]" in out.stderr
    assert "row 2 [question]" in out.stderr
    assert "row 3 [category]" in out.stderr
    assert "nothing was imported" in out.stderr


def test_kb_import_dry_run_then_import_then_export(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db",
        "KB_DIR": str(ROOT / "knowledge" / "data"),
    }
    new = tmp_path / "new.yaml"
    new.write_text(
        "version: 1\nentries:\n"
        "  - {id: moi/mot, category: Hộ tịch, question: 'Câu hỏi mới?', answer: Trả lời mới.}\n",
        encoding="utf-8",
    )
    dry = motcua("kb", "import", str(new), "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "Would add 1" in dry.stdout
    assert "+ moi/mot" in dry.stdout
    done = motcua("kb", "import", str(new), cwd=tmp_path, env=env)
    assert "Added 1" in done.stdout
    again = motcua("kb", "import", str(new), cwd=tmp_path, env=env)
    assert "Added 0, change 0, remove 0; 1 unchanged" in again.stdout
    out = tmp_path / "export.xlsx"
    exported = motcua("kb", "export", str(out), cwd=tmp_path, env=env)
    assert exported.returncode == 0
    assert out.stat().st_size > 1000


def test_a_missing_file_gets_a_clear_message(tmp_path: Path) -> None:
    out = motcua("kb", "validate", str(tmp_path / "missing.yaml"), cwd=tmp_path)
    assert out.returncode == 1
    assert "cannot read the file" in out.stderr
