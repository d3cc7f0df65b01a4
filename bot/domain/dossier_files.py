"""Dossier exports (CSV, XLSX) from the one-stop system, read into ingest batches.

Columns are the fields of ``bot.domain.ingest.DossierIn``; dates may be ISO (2026-01-15) or as
Vietnamese exports write them (15/01/2026). Problems are reported by row and column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.domain.ingest import DossierIn, ItemError

COLUMNS = tuple(DossierIn.model_fields)
_VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class DossierFileError(Exception):
    def __init__(self, problems: list[ItemError]) -> None:
        super().__init__("; ".join(f"{p.item} [{p.field}]: {p.message}" for p in problems))
        self.problems = problems


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    match = _VN_DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    return text


def _rows(header: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    names = [str(h or "").strip().lower() for h in header]
    unknown = [n for n in names if n and n not in COLUMNS]
    problems = [ItemError("row 1", n, "unknown column") for n in unknown]
    problems += [
        ItemError("row 1", c, "required column is missing")
        for c in ("code", "procedure_code", "receiving_agency", "status")
        if c not in names
    ]
    if problems:
        raise DossierFileError(problems)
    out = []
    for row in rows:
        values = {n: _cell(v) for n, v in zip(names, row, strict=False) if n}
        out.append({k: v for k, v in values.items() if v is not None})
    return out


def read(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV or XLSX dossier export as ingest items (row n of the file is item n-2)."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DossierFileError([ItemError("file", "", f"cannot read: {exc.strerror}")]) from exc
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DossierFileError(
                [ItemError("file", "", "not UTF-8: save as 'CSV UTF-8'")]
            ) from exc
        table = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        from knowledge.filelimits import MAX_UNPACKED_XLSX, xlsx_too_large

        if xlsx_too_large(data):
            limit = MAX_UNPACKED_XLSX // (1024 * 1024)
            raise DossierFileError(
                [ItemError("file", "", f"unpacks to more than {limit} MB: not read (a zip bomb?)")]
            )
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise DossierFileError([ItemError("file", "", "not a valid XLSX workbook")]) from exc
        ws = wb.worksheets[0]
        table = [list(r) for r in ws.iter_rows(values_only=True) if any(c is not None for c in r)]
        wb.close()
    else:
        raise DossierFileError(
            [ItemError("file", "", f"unknown type '{suffix}': use .csv or .xlsx")]
        )
    if not table:
        raise DossierFileError([ItemError("file", "", "the file is empty")])
    return _rows([str(h) for h in table[0]], table[1:])
