"""A city's agencies and procedures from files: merge by code, all or nothing, problems by
row and column in Vietnamese; the sample files; the commands; period words unquoted."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import registry_import as ri
from storage.db import create_engine, session_factory
from storage.models import Agency, Procedure
from tests import cli_runner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
AGENCIES = (SAMPLES / "agencies.csv").read_bytes()
PROCEDURES = (SAMPLES / "procedures.csv").read_bytes()


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as s:
            yield s
    finally:
        await engine.dispose()


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def imported(
    session: AsyncSession, kind: ri.Kind, name: str, data: bytes, dry_run: bool = False
) -> ri.Plan:
    if session.in_transaction():
        await session.commit()  # end the reads' transaction: each import is its own
    async with session.begin():
        return await ri.import_file(session, kind, name, data, dry_run=dry_run)


async def test_the_samples_import_once_and_then_change_nothing(session: AsyncSession) -> None:
    dry = await imported(session, ri.Kind.AGENCIES, "agencies.csv", AGENCIES, dry_run=True)
    assert dry.ok and not dry.saved and len(dry.added) == 31
    assert await count(session, Agency) == 0  # a dry run saves nothing
    done = await imported(session, ri.Kind.AGENCIES, "agencies.csv", AGENCIES)
    assert done.saved and len(done.added) == 31
    assert ri.render(done, "agencies.csv").startswith(
        "Đã nhập agencies.csv: thêm 31, sửa 0, giữ nguyên 0 cơ quan."
    )
    procs = await imported(session, ri.Kind.PROCEDURES, "procedures.csv", PROCEDURES)
    assert procs.saved and len(procs.added) == 12
    again = await imported(session, ri.Kind.AGENCIES, "agencies.csv", AGENCIES, dry_run=True)
    assert (len(again.added), len(again.changed), len(again.unchanged)) == (0, 0, 31)
    agencies = {a.code: a for a in await session.scalars(select(Agency))}
    city, ward = agencies["000.00.00.H13"], agencies["000.00.12.H13"]
    assert city.path == f"/{city.id}/" and city.level == "tinh"
    assert ward.path == f"/{city.id}/{ward.id}/" and ward.level == "xa"
    tctn = await session.scalar(select(Procedure).where(Procedure.code == "VL.TCTN"))
    assert tctn is not None and (tctn.time_limit, tctn.time_unit) == (20, "ngay_lam_viec")
    gpxd = await session.scalar(select(Procedure).where(Procedure.code == "XD.GPXD"))
    assert gpxd is not None and gpxd.time_unit == "ngay"  # calendar days


async def test_a_merge_changes_by_code_and_moves_subtrees(session: AsyncSession) -> None:
    await imported(session, ri.Kind.AGENCIES, "agencies.csv", AGENCIES)
    # A department moves under the centre, a team appears under it, a ward is renamed;
    # agencies missing from the file stay as they are.
    edit = (
        "code,name,parent_code\n"
        "000.02.00.H13,Sở Tư pháp,000.00.01.H13\n"
        "000.02.01.H13,Phòng Hộ tịch,000.02.00.H13\n"
        "000.00.13.H13,UBND phường Cái Khế mới,000.00.00.H13\n"
        "000.00.14.H13,UBND phường Tân An,000.00.00.H13\n"
    ).encode()
    plan = await imported(session, ri.Kind.AGENCIES, "edit.csv", edit, dry_run=True)
    assert [c.code for c in plan.added] == ["000.02.01.H13"]
    assert [c.code for c in plan.changed] == ["000.02.00.H13", "000.00.13.H13"]
    assert plan.unchanged == ("000.00.14.H13",)
    text = ri.render(plan, "edit.csv")
    assert "Sửa: 000.02.00.H13 (parent_code: 000.00.00.H13 → 000.00.01.H13)" in text
    assert "name: UBND phường Cái Khế → UBND phường Cái Khế mới" in text
    assert "Phòng Hộ tịch" in text and text.startswith("Chạy thử, chưa lưu gì.")
    await imported(session, ri.Kind.AGENCIES, "edit.csv", edit)
    agencies = {a.code: a for a in await session.scalars(select(Agency))}
    centre, dept, team = (agencies[c] for c in ("000.00.01.H13", "000.02.00.H13", "000.02.01.H13"))
    assert dept.path == f"{centre.path}{dept.id}/"
    assert team.path == f"{dept.path}{team.id}/"  # the subtree moved with its head
    assert team.level == "so_nganh"  # guessed from the name: no level column
    assert len(agencies) == 32


async def test_a_wrong_file_is_refused_whole_with_rows_and_columns_in_vietnamese(
    session: AsyncSession,
) -> None:
    await imported(session, ri.Kind.AGENCIES, "agencies.csv", AGENCIES)
    bad = (
        "code,name,parent_code,level\n"
        "000.00.30.H13,UBND xã Mới,000.00.00.H13,xa\n"  # fine alone
        ",Không mã,000.00.00.H13,xa\n"
        "000.00.31.H13,UBND xã Lạ,999.99.99.H13,xa\n"
        "000.00.30.H13,Trùng,000.00.00.H13,huyen\n"
    ).encode()
    plan = await imported(session, ri.Kind.AGENCIES, "bad.csv", bad)
    assert not plan.ok and not plan.saved
    lines = [str(p) for p in plan.problems]
    assert "Dòng 3, cột code: mã cơ quan không được để trống" in lines
    assert any(line.startswith("Dòng 5, cột level: cấp phải là một trong") for line in lines)
    assert "Dòng 5, cột code: mã 000.00.30.H13 trùng với dòng 2" in lines
    assert await count(session, Agency) == 31  # not even the good first row
    unknown = "code,name,parent_code\n000.00.31.H13,UBND xã Lạ,999.99.99.H13\n".encode()
    plan = await imported(session, ri.Kind.AGENCIES, "bad.csv", unknown)
    assert [str(p) for p in plan.problems] == [
        "Dòng 2, cột parent_code: không có cơ quan mã 999.99.99.H13 trong tệp hay trong cơ sở "
        "dữ liệu"
    ]
    cycle = ("code,name,parent_code\nA,Sở A,B\nB,Sở B,A\n").encode()
    plan = await imported(session, ri.Kind.AGENCIES, "cycle.csv", cycle)
    assert "Dòng 2, cột parent_code: vòng lặp cấp trên: A → B → A" in [
        str(p) for p in plan.problems
    ]
    assert await count(session, Agency) == 31


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"code,name,field,time_limit,time_unit\nX,Thu tuc,Linh vuc,5,gio\n",
            "Dòng 2, cột time_unit: 'gio' không hợp lệ: ghi ngay_lam_viec (ngày làm việc) "
            "hoặc ngay (ngày)",
        ),
        (
            b"code,name,field,time_limit,time_unit\nX,Thu tuc,Linh vuc,nam,ngay\n",
            "Dòng 2, cột time_limit: 'nam' không phải số ngày hợp lệ (số nguyên từ 0 đến 3650, "
            "để trống nếu không có)",
        ),
        (b"code,name,field,time_limit\nX,T,L,5\n", "Dòng 1, cột time_unit: thiếu cột bắt buộc"),
        (
            b"code,name,field,time_limit,time_unit,fee\nX,T,L,5,ngay\n",
            "Dòng 1, cột fee: cột không dùng cho thủ tục; các cột là code, name, field, "
            "time_limit, time_unit",
        ),
        (b"code,name,field,time_limit,time_unit\n", "Tệp: tệp chỉ có dòng tiêu đề"),
        ("code,name\nX,Thủ tục\n".encode("utf-16"), "Tệp: tệp không phải văn bản UTF-8"),
    ],
)
async def test_procedure_file_problems(session: AsyncSession, data: bytes, expected: str) -> None:
    plan = await imported(session, ri.Kind.PROCEDURES, "p.csv", data)
    assert any(str(p).startswith(expected) for p in plan.problems), plan.problems
    assert await count(session, Procedure) == 0


async def test_xlsx_round_trips_and_formulas_are_neutralised(session: AsyncSession) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "name", "field", "time_limit", "time_unit"])
    ws.append(["HT.KS", "Đăng ký khai sinh", "Hộ tịch", 1, "ngay_lam_viec"])
    ws.append(["X.1", "+84 thủ tục thử", "Khác", None, "ngay"])
    buffer = io.BytesIO()
    wb.save(buffer)
    plan = await imported(session, ri.Kind.PROCEDURES, "p.xlsx", buffer.getvalue())
    assert plan.saved and len(plan.added) == 2
    data = await ri.export_file(session, ri.Kind.PROCEDURES, "out.xlsx")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["code", "name", "field", "time_limit", "time_unit"]
    assert rows[2][1] == "'+84 thủ tục thử"  # a spreadsheet would not run it
    assert rows[2][3] is None  # no legal limit on record
    again = await imported(session, ri.Kind.PROCEDURES, "out.xlsx", data, dry_run=True)
    assert (len(again.added), len(again.changed), len(again.unchanged)) == (0, 0, 2)
    # A live formula has no text to import: the row is refused, not saved as empty.
    ws.append(["X.2", '=HYPERLINK("http://x")', "Khác", 1, "ngay"])
    buffer = io.BytesIO()
    wb.save(buffer)
    plan = await imported(session, ri.Kind.PROCEDURES, "p.xlsx", buffer.getvalue())
    assert [str(p) for p in plan.problems] == ["Dòng 4, cột name: tên thủ tục không được để trống"]


# --------------------------------------------------------------------------- the commands


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # In this process (tests/cli_runner.py): the same arguments, environment and directory.
    return cli_runner.run(*args, cwd=cwd, env={**os.environ, **env})


def test_the_commands_and_period_words_typed_unquoted(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/r.db",
        "SECRET_KEY": "registry-test-key-" + "0" * 32,
    }
    out = run_cli("agencies", "import", str(SAMPLES / "agencies.csv"), "--dry-run", env=env,
                  cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Chạy thử, chưa lưu gì." in out.stdout and "thêm 31" in out.stdout
    out = run_cli("agencies", "import", str(SAMPLES / "agencies.csv"), env=env, cwd=tmp_path)
    assert out.returncode == 0 and "Đã nhập" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,field,time_limit,time_unit\nX,T,L,5,tuan\n", encoding="utf-8")
    out = run_cli("procedures", "import", str(bad), env=env, cwd=tmp_path)
    assert out.returncode == 1
    assert "1 lỗi, chưa nhập gì." in out.stderr and "Dòng 2, cột time_unit" in out.stderr
    out = run_cli("procedures", "import", str(SAMPLES / "procedures.csv"), env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    out = run_cli("agencies", "export", str(tmp_path / "a.xlsx"), env=env, cwd=tmp_path)
    assert out.returncode == 0 and (tmp_path / "a.xlsx").exists()
    out = run_cli("procedures", "export", str(tmp_path / "p.txt"), env=env, cwd=tmp_path)
    assert out.returncode == 1 and "use .csv or .xlsx" in out.stderr

    for words, label in (
        (["năm", "2025"], "năm 2025"),
        (["tháng", "9/2025"], "tháng 9/2025"),
        (["quý", "3", "2025"], "quý 3/2025"),
        (["tuần", "này"], "tuần này"),
    ):
        out = run_cli("stats", *words, "--json", env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["period"]["label"] == label
    report = tmp_path / "q3.xlsx"
    out = run_cli("report", str(report), "quý", "3", "2025", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "quý 3/2025" in out.stdout and report.exists()
