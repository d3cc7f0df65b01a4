"""A city's agencies and procedures from CSV or XLSX files, and back.

Used by ``motcua agencies|procedures import|export`` and meant for the staff console (admins):
``import_file`` validates a whole file against the database, returns what would be added,
changed and left alone, and saves it only if asked and only if no row has a problem. An
import merges by code and never removes anything: an agency or procedure missing from the
file stays as it is (dossiers may point at it).

Columns (first row; the order is free, names as below):

- agencies: ``code, name, parent_code`` and optionally ``level`` (``tinh``, ``so_nganh``,
  ``xa``, ``trung_tam_hcc``, ``nganh_doc``; guessed from the name when absent or empty);
- procedures: ``code, name, field, time_limit, time_unit``, with ``time_unit`` either
  ``ngay_lam_viec`` (working days) or ``ngay`` (calendar days); an empty ``time_limit`` means
  the procedure has no legal limit on record.

Problems are written in Vietnamese with their row (the header is row 1) and column, for the
staff who keep these files.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.kbfile import neutralise_cell
from knowledge.normalize import fold
from storage.repositories import registry as repo
from storage.repositories.registry import AgencyValues, ProcedureValues

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
LEVELS = ("tinh", "so_nganh", "xa", "trung_tam_hcc", "nganh_doc")
TIME_UNITS = {"ngay_lam_viec": "ngày làm việc", "ngay": "ngày"}


class Kind(StrEnum):
    """Which registry a file holds."""

    AGENCIES = "agencies"
    PROCEDURES = "procedures"

    @property
    def columns(self) -> tuple[str, ...]:
        return _COLUMNS[self]

    @property
    def required(self) -> tuple[str, ...]:
        return _REQUIRED[self]

    @property
    def noun(self) -> str:
        return "cơ quan" if self is Kind.AGENCIES else "thủ tục"


_COLUMNS = {
    Kind.AGENCIES: ("code", "name", "parent_code", "level"),
    Kind.PROCEDURES: ("code", "name", "field", "time_limit", "time_unit"),
}
_REQUIRED = {
    Kind.AGENCIES: ("code", "name", "parent_code"),
    Kind.PROCEDURES: ("code", "name", "field", "time_limit", "time_unit"),
}
_MAX = {"code": 20, "name": 200, "field": 120}
_MAX_PROCEDURE = {"code": 40, "name": 300, "field": 120}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: the row of the file (1 is the header, 0 the file itself), the
    column, and a Vietnamese sentence."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = "Tệp" if self.row == 0 else f"Dòng {self.row}"
        column = f", cột {self.column}" if self.column else ""
        return f"{where}{column}: {self.message}"


V = TypeVar("V", AgencyValues, ProcedureValues)


@dataclass(frozen=True, slots=True)
class Change(Generic[V]):
    """One code of the file: its new values, and the old ones for a change."""

    values: V
    old: V | None = None

    @property
    def code(self) -> str:
        return self.values.code


@dataclass(frozen=True, slots=True)
class Plan:
    """What an import does, or why it cannot: nothing is saved while ``problems`` is not
    empty."""

    kind: Kind
    added: tuple[Change[Any], ...] = ()
    changed: tuple[Change[Any], ...] = ()
    unchanged: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    saved: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    # Undo the apostrophe an export puts before formula-like text.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def read_table(name: str, data: bytes) -> tuple[list[list[Any]], list[Problem]]:
    """The cells of a CSV or XLSX file (first sheet), or why it cannot be read."""
    suffix = Path(name).suffix.lower()
    if len(data) > MAX_FILE_BYTES:
        return [], [Problem(0, "", "tệp lớn hơn 5 MB")]
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [Problem(0, "", "tệp không phải văn bản UTF-8; hãy lưu dạng 'CSV UTF-8'")]
        return list(csv.reader(io.StringIO(text, newline=""))), []
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            return [], [Problem(0, "", "tệp không phải bảng tính XLSX hợp lệ")]
        try:
            return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)], []
        finally:
            wb.close()
    return [], [Problem(0, "", f"không đọc được tệp '{suffix or name}': hãy dùng .csv hoặc .xlsx")]


def _table(kind: Kind, cells: list[list[Any]], problems: list[Problem]) -> _Table | None:
    rows = [(i, r) for i, r in enumerate(cells, start=1) if any(_text(c) for c in r)]
    if not rows:
        problems.append(Problem(0, "", "tệp không có dữ liệu"))
        return None
    header_row, header_cells = rows[0]
    header = [_text(c).lower() for c in header_cells]
    for column in header:
        if column and column not in kind.columns:
            problems.append(
                Problem(header_row, column, f"cột không dùng cho {kind.noun}; các cột là "
                        + ", ".join(kind.columns))
            )  # fmt: skip
    seen: set[str] = set()
    for column in header:
        if column and column in seen:
            problems.append(Problem(header_row, column, "cột bị lặp lại"))
        seen.add(column)
    for column in kind.required:
        if column not in header:
            problems.append(Problem(header_row, column, "thiếu cột bắt buộc"))
    if len(rows) - 1 > MAX_ROWS:
        problems.append(Problem(0, "", f"nhiều hơn {MAX_ROWS:,} dòng".replace(",", ".")))
    if problems:
        return None
    table = _Table(header)
    for number, row_cells in rows[1:]:
        values = {h: _text(c) for h, c in zip(header, row_cells, strict=False) if h}
        table.rows.append((number, values))
    return table


def guess_level(name: str, has_parent: bool) -> str:
    """An agency's level from its name, when the file does not say it."""
    folded = fold(name)
    if not has_parent:
        return "tinh"
    if folded.startswith(("ubnd xa", "ubnd phuong", "xa ", "phuong ")):
        return "xa"
    if "phuc vu hanh chinh cong" in folded:
        return "trung_tam_hcc"
    if folded.startswith(("cong an", "bao hiem", "bhxh", "thue", "cuc thue", "kho bac")):
        return "nganh_doc"
    return "so_nganh"


def _check_text(
    values: dict[str, str], column: str, row: int, limit: int, problems: list[Problem]
) -> str:
    text = values.get(column, "")
    if len(text) > limit:
        problems.append(Problem(row, column, f"dài quá {limit} ký tự"))
    return text


def _valid_rows(
    table: _Table,
    problems: list[Problem],
    parse: Callable[[int, dict[str, str], list[Problem]], V],
) -> list[tuple[int, V]]:
    """Each row as ``parse`` reads it; a row for which it reports a problem is left out."""
    out: list[tuple[int, V]] = []
    for row, values in table.rows:
        before = len(problems)
        parsed = parse(row, values, problems)
        if len(problems) == before:
            out.append((row, parsed))
    return out


def _code_name_and(
    values: dict[str, str],
    row: int,
    limits: dict[str, int],
    third: str,
    what: str,
    problems: list[Problem],
) -> tuple[str, str, str]:
    """The code, the name and one more column of a row, each within its length; the code and
    the name of ``what`` (an agency, a procedure) must not be empty."""
    code = _check_text(values, "code", row, limits["code"], problems)
    name = _check_text(values, "name", row, limits["name"], problems)
    other = _check_text(values, third, row, limits[third], problems)
    if not code:
        problems.append(Problem(row, "code", f"mã {what} không được để trống"))
    if not name:
        problems.append(Problem(row, "name", f"tên {what} không được để trống"))
    return code, name, other


def _agency(row: int, values: dict[str, str], problems: list[Problem]) -> AgencyValues:
    limits = {**_MAX, "parent_code": _MAX["code"]}
    code, name, parent = _code_name_and(values, row, limits, "parent_code", "cơ quan", problems)
    if code and parent == code:
        problems.append(Problem(row, "parent_code", "cơ quan không thể là cấp trên của chính nó"))
    level = values.get("level", "").lower()
    if level and level not in LEVELS:
        problems.append(Problem(row, "level", "cấp phải là một trong: " + ", ".join(LEVELS)))
    return AgencyValues(code, name, parent or None, level or guess_level(name, bool(parent)))


def _procedure(row: int, values: dict[str, str], problems: list[Problem]) -> ProcedureValues:
    code, name, field_ = _code_name_and(values, row, _MAX_PROCEDURE, "field", "thủ tục", problems)
    raw_limit = values.get("time_limit", "")
    limit: int | None = None
    if raw_limit:
        try:
            limit = int(raw_limit)
            if limit < 0 or limit > 3650:
                raise ValueError
        except ValueError:
            problems.append(
                Problem(row, "time_limit", f"'{raw_limit}' không phải số ngày hợp lệ "
                        "(số nguyên từ 0 đến 3650, để trống nếu không có)")
            )  # fmt: skip
    unit = values.get("time_unit", "").lower()
    if unit not in TIME_UNITS:
        problems.append(
            Problem(row, "time_unit", f"'{values.get('time_unit', '')}' không hợp lệ: "
                    "ghi ngay_lam_viec (ngày làm việc) hoặc ngay (ngày)")
        )  # fmt: skip
    return ProcedureValues(code, name, field_, limit, unit)


def _duplicates(table: _Table, problems: list[Problem]) -> None:
    first: dict[str, int] = {}
    for row, values in table.rows:
        code = values.get("code", "")
        if not code:
            continue
        if code in first:
            problems.append(Problem(row, "code", f"mã {code} trùng với dòng {first[code]}"))
        else:
            first[code] = row


def _agency_tree_problems(
    rows: Sequence[tuple[int, AgencyValues]], existing: dict[str, AgencyValues]
) -> list[Problem]:
    """Unknown parents and cycles, over the agencies as they would be after the import."""
    problems: list[Problem] = []
    merged = dict(existing)
    merged.update({v.code: v for _, v in rows})
    for row, v in rows:
        if v.parent_code is not None and v.parent_code not in merged:
            problems.append(
                Problem(row, "parent_code", f"không có cơ quan mã {v.parent_code} trong tệp "
                        "hay trong cơ sở dữ liệu")
            )  # fmt: skip
    if problems:
        return problems
    for row, v in rows:
        chain = [v.code]
        current = v.parent_code
        while current is not None:
            if current in chain:
                loop = " → ".join([*chain[chain.index(current) :], current])
                problems.append(Problem(row, "parent_code", f"vòng lặp cấp trên: {loop}"))
                break
            chain.append(current)
            current = merged[current].parent_code
    return problems


async def plan(session: AsyncSession, kind: Kind, name: str, data: bytes) -> Plan:
    """Read and check a whole file against the database; nothing is written."""
    cells, problems = read_table(name, data)
    table = _table(kind, cells, problems) if not problems else None
    if table is None:
        return Plan(kind, problems=tuple(problems))
    if kind is Kind.AGENCIES:
        agencies = await repo.all_agencies(session)
        codes = {a.id: a.code for a in agencies}
        existing: dict[str, Any] = {a.code: repo.agency_values(a, codes) for a in agencies}
        rows: list[tuple[int, Any]] = list(_valid_rows(table, problems, _agency))
        _duplicates(table, problems)
        if not problems:
            problems += _agency_tree_problems(rows, existing)
    else:
        existing = {p.code: repo.procedure_values(p) for p in await repo.all_procedures(session)}
        rows = list(_valid_rows(table, problems, _procedure))
        _duplicates(table, problems)
    if not rows and not problems:
        problems.append(Problem(0, "", "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu"))
    if problems:
        return Plan(kind, problems=tuple(sorted(problems, key=lambda p: p.row)))
    added: list[Change[Any]] = []
    changed: list[Change[Any]] = []
    unchanged: list[str] = []
    for _, values in rows:
        old = existing.get(values.code)
        if old is None:
            added.append(Change(values))
        elif old != values:
            changed.append(Change(values, old))
        else:
            unchanged.append(values.code)
    return Plan(kind, tuple(added), tuple(changed), tuple(unchanged))


async def import_file(
    session: AsyncSession, kind: Kind, name: str, data: bytes, *, dry_run: bool = False
) -> Plan:
    """Check a file and, unless ``dry_run`` or any problem, save it in the caller's
    transaction (the caller commits). All or nothing: with a problem nothing is written."""
    result = await plan(session, kind, name, data)
    if not result.ok or dry_run:
        return result
    values = [c.values for c in (*result.added, *result.changed)]
    if kind is Kind.AGENCIES:
        await repo.save_agencies(session, values)
    else:
        await repo.save_procedures(session, values)
    return Plan(kind, result.added, result.changed, result.unchanged, saved=True)


async def export_file(session: AsyncSession, kind: Kind, name: str) -> bytes:
    """The registry as a CSV or XLSX file that imports back unchanged; formula-like cells
    are neutralised."""
    rows: list[list[Any]] = []
    if kind is Kind.AGENCIES:
        agencies = await repo.all_agencies(session)
        codes = {a.id: a.code for a in agencies}
        for a in agencies:
            v = repo.agency_values(a, codes)
            rows.append([v.code, v.name, v.parent_code or "", v.level])
    else:
        for p in await repo.all_procedures(session):
            limit = "" if p.time_limit is None else p.time_limit
            rows.append([p.code, p.name, p.field, limit, p.time_unit])
    header = list(kind.columns)
    safe = [[neutralise_cell(c) if isinstance(c, str) else c for c in r] for r in rows]
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(safe)
        return out.getvalue().encode("utf-8")
    if suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "Cơ quan" if kind is Kind.AGENCIES else "Thủ tục"
        ws.append(header)
        for r in safe:
            ws.append(r)
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown file type '{suffix}': use .csv or .xlsx")


def _describe(change: Change[Any]) -> str:
    if change.old is None:
        return f"{change.code} – {change.values.name}"
    fields = [
        f"{k}: {getattr(change.old, k)!s} → {getattr(change.values, k)!s}"
        for k in change.values.__dataclass_fields__
        if getattr(change.old, k) != getattr(change.values, k)
    ]
    return f"{change.code} ({'; '.join(fields)})"


def render(plan_: Plan, name: str, *, limit: int = 50) -> str:
    """The plan in Vietnamese, for the command line and the staff console."""
    noun = plan_.kind.noun
    if not plan_.ok:
        lines = [f"{name}: {len(plan_.problems)} lỗi, chưa nhập gì."]
        lines += [f"  {p}" for p in plan_.problems[:limit]]
        if len(plan_.problems) > limit:
            lines.append(f"  … và {len(plan_.problems) - limit} lỗi khác")
        return "\n".join(lines)
    head = "Đã nhập" if plan_.saved else "Chạy thử, chưa lưu gì. Nếu nhập,"
    lines = [
        f"{head} {name}: thêm {len(plan_.added)}, sửa {len(plan_.changed)}, "
        f"giữ nguyên {len(plan_.unchanged)} {noun}."
    ]
    for title, items in (("Thêm", plan_.added), ("Sửa", plan_.changed)):
        for change in items[:limit]:
            lines.append(f"  {title}: {_describe(change)}")
        if len(items) > limit:
            lines.append(f"  … và {len(items) - limit} {noun} khác")
    return "\n".join(lines)
