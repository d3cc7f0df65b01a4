"""Knowledge files: YAML, CSV and XLSX with the same fields; read, validate and write.

A file is read whole and validated before anything uses it: every problem is reported with the
line (YAML), or row (CSV, XLSX), and the field, so that an admin can fix them all in one go.
Nothing is imported from a file with any problem.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge.aspects import ASPECTS, is_aspect
from knowledge.entry import ID_PATTERN, MAX_ID_LENGTH, Entry
from knowledge.filelimits import MAX_UNPACKED_XLSX, xlsx_too_large
from knowledge.normalize import nfc

FIELDS = (
    "id",
    "category",
    "procedure",
    "question",
    "alternatives",
    "keywords",
    "answer",
    "legal_basis",
    "source_url",
    "aspect",
    "legal_refs",
    "reviewed",
    "review_by",
)
REQUIRED = ("id", "category", "question", "answer")
LIST_FIELDS = ("alternatives", "keywords", "legal_refs")
DATE_FIELDS = ("reviewed", "review_by")
LIST_SEPARATOR = "|"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 20_000
MAX_TEXT = {"question": 500, "answer": 6000, "category": 120, "procedure": 300}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_URL = re.compile(r"https?://\S+")


class KbFileError(Exception):
    """A knowledge file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file: where it is, which field, and what."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        field = f" [{self.field}]" if self.field else ""
        return f"{self.where}{field}: {self.message}"


_FastSafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_FastSafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader (libyaml's when installed: ten times faster) that remembers the line of
    each mapping, and refuses aliases.

    Aliases are refused because a few nested ones expand into gigabytes ("billion laughs"); a
    knowledge file never needs them. An alias makes the composer reuse one node, so a walk that
    meets a node twice finds every alias before anything is constructed or expanded.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        _refuse_aliases(node)
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _refuse_aliases(root: yaml.Node) -> None:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not allowed", node.start_mark
            )
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


# Dates stay the text written: "2026-13-01" must be reported as a bad date, not crash the parser.
def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value).strip()]


def _records_from_yaml(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KbFileError([Problem("file", "", f"not UTF-8 text ({exc.reason})")]) from exc
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError as exc:  # "[[[[..." nested deeper than Python's stack
        problem = Problem("file", "", "nested too deeply to be a knowledge file")
        raise KbFileError([problem]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        reason = getattr(exc, "problem", None) or str(exc)
        if "nesting depth" in reason:  # libyaml's own guard against "[[[[..."
            problem = Problem("file", "", "nested too deeply to be a knowledge file")
            raise KbFileError([problem]) from exc
        raise KbFileError([Problem(where, "", f"invalid YAML: {reason}")]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise KbFileError([Problem("file", "entries", "expected a mapping with a list 'entries'")])
    if doc.get("version", 1) != 1:
        raise KbFileError([Problem("file", "version", "only version 1 is supported")])
    out = []
    for i, item in enumerate(doc["entries"], start=1):
        if not isinstance(item, dict):
            out.append((f"entry {i}", {"__invalid__": True}))
            continue
        out.append((f"line {item.pop('__line__', '?')}", item))
    return out


def _records_from_rows(
    rows: Iterable[Sequence[Any]], first_row: int
) -> list[tuple[str, dict[str, Any]]]:
    it = iter(rows)
    try:
        header = [str(h or "").strip().lower() for h in next(it)]
    except StopIteration as exc:
        raise KbFileError([Problem("file", "", "the file is empty")]) from exc
    unknown = [h for h in header if h and h not in (*FIELDS, "enabled")]
    missing = [f for f in REQUIRED if f not in header]
    problems = [Problem(f"row {first_row}", h, "unknown column") for h in unknown]
    problems += [Problem(f"row {first_row}", f, "required column is missing") for f in missing]
    if problems:
        raise KbFileError(problems)
    out = []
    for n, row in enumerate(it, start=first_row + 1):
        values = [_unneutralise("" if v is None else str(v)) for v in row]
        if not any(v.strip() for v in values):
            continue
        out.append((f"row {n}", {h: v for h, v in zip(header, values, strict=False) if h}))
    return out


def _records_from_csv(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KbFileError(
            [Problem("file", "", "not UTF-8 text: save the CSV as 'CSV UTF-8' and try again")]
        ) from exc
    try:
        return _records_from_rows(csv.reader(io.StringIO(text, newline="")), first_row=1)
    except csv.Error as exc:
        raise KbFileError([Problem("file", "", f"invalid CSV: {exc}")]) from exc


def _records_from_xlsx(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise KbFileError([Problem("file", "", f"not a valid XLSX workbook ({exc})")]) from exc
    try:
        ws = wb.worksheets[0]
        return _records_from_rows(ws.iter_rows(values_only=True), first_row=1)
    finally:
        wb.close()


def _entry_from_record(where: str, rec: dict[str, Any], problems: list[Problem]) -> Entry | None:
    if rec.get("__invalid__"):
        problems.append(Problem(where, "", "each entry must be a mapping of fields"))
        return None
    before = len(problems)
    for key in rec:
        if key not in FIELDS and key != "enabled":
            problems.append(Problem(where, str(key), "unknown field"))
    values: dict[str, Any] = {}
    for f in FIELDS:
        raw = rec.get(f)
        if f in LIST_FIELDS:
            values[f] = tuple(nfc(v) for v in _as_list(raw))
        else:
            values[f] = nfc("" if raw is None else str(raw)).strip()
    for f in REQUIRED:
        if not values[f]:
            problems.append(Problem(where, f, "required field is empty"))
    eid = values["id"]
    if eid and (not ID_PATTERN.fullmatch(eid) or len(eid) > MAX_ID_LENGTH):
        problems.append(
            Problem(
                where,
                "id",
                f"'{eid}' must be a slug of a-z, 0-9, '-' and '/', at most "
                f"{MAX_ID_LENGTH} characters",
            )
        )
    for f, limit in MAX_TEXT.items():
        if len(values[f]) > limit:
            problems.append(Problem(where, f, f"longer than {limit} characters"))
    if values["source_url"] and not _URL.fullmatch(values["source_url"]):
        problems.append(Problem(where, "source_url", "must be an http(s) address"))
    if values["aspect"] and not is_aspect(values["aspect"]):
        problems.append(Problem(where, "aspect", f"must be one of: {', '.join(ASPECTS)}"))
    for f in DATE_FIELDS:
        if values[f] and not _valid_date(values[f]):
            problems.append(Problem(where, f, "must be a date written YYYY-MM-DD"))
    if len(problems) > before:
        return None
    enabled = rec.get("enabled", True)
    return Entry(
        id=eid,
        category=values["category"],
        procedure=values["procedure"],
        question=values["question"],
        alternatives=values["alternatives"],
        keywords=values["keywords"],
        answer=values["answer"],
        legal_basis=values["legal_basis"],
        source_url=values["source_url"],
        aspect=values["aspect"],
        legal_refs=values["legal_refs"],
        reviewed=values["reviewed"],
        review_by=values["review_by"],
        enabled=str(enabled).strip().lower() not in ("false", "0", "no", "khong", "không"),
    )


def _valid_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def detect_format(name: str) -> str:
    """The file format from its name: yaml, csv or xlsx."""
    suffix = Path(name).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix in (".csv", ".xlsx"):
        return suffix[1:]
    raise KbFileError(
        [Problem("file", "", f"unknown file type '{suffix or name}': use .yaml, .csv or .xlsx")]
    )


def parse(data: bytes, fmt: str) -> list[Entry]:
    """Parse and validate a whole file; raise ``KbFileError`` listing every problem."""
    if len(data) > MAX_FILE_BYTES:
        raise KbFileError(
            [Problem("file", "", f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")]
        )
    if fmt == "xlsx" and xlsx_too_large(data):
        limit = MAX_UNPACKED_XLSX // (1024 * 1024)
        raise KbFileError(
            [Problem("file", "", f"unpacks to more than {limit} MB: not read (a zip bomb?)")]
        )
    readers = {"yaml": _records_from_yaml, "csv": _records_from_csv, "xlsx": _records_from_xlsx}
    records = readers[fmt](data)
    if len(records) > MAX_ENTRIES:
        raise KbFileError([Problem("file", "", f"more than {MAX_ENTRIES} entries")])
    problems: list[Problem] = []
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for where, rec in records:
        entry = _entry_from_record(where, rec, problems)
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(
                Problem(where, "id", f"duplicate id '{entry.id}' (first at {seen[entry.id]})")
            )
            continue
        seen[entry.id] = where
        entries.append(entry)
    if problems:
        raise KbFileError(problems)
    return entries


def load(path: str | Path) -> list[Entry]:
    """Read and validate one knowledge file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise KbFileError([Problem(str(p), "", f"cannot read the file: {exc.strerror}")]) from exc
    return parse(data, detect_format(p.name))


def load_dir(directory: str | Path) -> list[Entry]:
    """Read every YAML file of a directory (the bundled base), checking ids across files."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            for e in load(path):
                if e.id in seen:
                    problems.append(
                        Problem(path.name, "id", f"duplicate id '{e.id}' (also in {seen[e.id]})")
                    )
                seen[e.id] = path.name
                entries.append(e)
        except KbFileError as exc:
            problems.extend(
                Problem(f"{path.name} {p.where}", p.field, p.message) for p in exc.problems
            )
    if problems:
        raise KbFileError(problems)
    return entries


def _record(entry: Entry) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": entry.id,
        "category": entry.category,
        "procedure": entry.procedure,
        "question": entry.question,
        "alternatives": list(entry.alternatives),
        "keywords": list(entry.keywords),
        "answer": entry.answer,
        "legal_basis": entry.legal_basis,
        "source_url": entry.source_url,
        "aspect": entry.aspect,
        "legal_refs": list(entry.legal_refs),
        "reviewed": entry.reviewed,
        "review_by": entry.review_by,
    }
    if not entry.enabled:
        rec["enabled"] = False
    return {k: v for k, v in rec.items() if v not in ("", []) or k in REQUIRED}


def _unneutralise(value: str) -> str:
    """Undo ``neutralise_cell`` so that an exported file imports back unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def neutralise_cell(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def dump(entries: Sequence[Entry], fmt: str) -> bytes:
    """Serialise entries as a knowledge file."""
    if fmt == "yaml":

        class _Dumper(yaml.SafeDumper):
            pass

        def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        _Dumper.add_representer(str, _str)
        doc = {"version": 1, "entries": [_record(e) for e in entries]}
        return yaml.dump(
            doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
        ).encode()
    columns = [*FIELDS, "enabled"]
    rows = []
    for e in entries:
        rows.append(
            [
                e.id,
                e.category,
                e.procedure,
                e.question,
                LIST_SEPARATOR.join(e.alternatives),
                LIST_SEPARATOR.join(e.keywords),
                e.answer,
                e.legal_basis,
                e.source_url,
                e.aspect,
                LIST_SEPARATOR.join(e.legal_refs),
                e.reviewed,
                e.review_by,
                "true" if e.enabled else "false",
            ]
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        writer.writerows([[neutralise_cell(v) for v in r] for r in rows])
        return buf.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "FAQ"
        ws.append(columns)
        for r in rows:
            ws.append([neutralise_cell(v) for v in r])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise KbFileError([Problem("file", "", f"unknown format '{fmt}'")])
