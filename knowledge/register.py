"""The register of legal documents: what entries cite, and when each text stops being the law.

Register files (``knowledge/register/*.yaml``) list documents by their number as cited
("74/2025/QH15"), with title, issuer, dates and, once known, the date the text expired and the
document that replaced it::

    version: 1
    documents:
      - number: 74/2025/QH15
        title: Luật Việc làm
        issuer: Quốc hội
        issued: 2025-06-16        # optional
        effective: 2026-01-01
        expired: 2027-01-01       # optional
        replaced_by: 12/2026/QH15 # optional
        source_url: https://...   # optional

A directory may hold several files (one per writer); a number listed twice must agree on
``effective``, ``expired`` and ``replaced_by``. ``check_refs`` holds knowledge entries against a
register: an unknown number is a problem (the entry is refused), a citation of a document no
longer in force is a warning unless the entry says so (see ``mentions_expiry``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge.entry import Entry
from knowledge.kbfile import KbFileError, Problem
from knowledge.normalize import fold, nfc

FIELDS = (
    "number",
    "title",
    "issuer",
    "issued",
    "effective",
    "expired",
    "replaced_by",
    "source_url",
)
REQUIRED = ("number", "title", "issuer", "effective")
DATE_FIELDS = ("issued", "effective", "expired")
AGREEING = ("effective", "expired", "replaced_by")
"""Fields on which two files listing the same number must agree."""
MAX_NUMBER = 40
_NUMBER = re.compile(r"[0-9A-Za-zĐđ][0-9A-Za-zĐđ./-]*")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class LegalDocument:
    """One legal document of the register; dates are ISO strings ("" when not known)."""

    number: str
    title: str
    issuer: str
    effective: str
    issued: str = ""
    expired: str = ""
    replaced_by: str = ""
    source_url: str = ""
    caveat: bool = False
    """Admin's choice: answers citing this document carry a caveat while under review."""

    def in_force(self, today: date) -> bool:
        """False from the expiry date on; a replaced document without a date is not in force."""
        if self.expired:
            return date.fromisoformat(self.expired) > today
        return not self.replaced_by

    @property
    def label(self) -> str:
        """How a citizen reads it: "Luật Việc làm số 74/2025/QH15"."""
        return f"{self.title} số {self.number}" if self.title else self.number


@dataclass(frozen=True, slots=True)
class Register:
    """Documents by number; ``get`` is tolerant of case and spacing ("nđ-cp" = "NĐ-CP")."""

    documents: Mapping[str, LegalDocument]

    def get(self, number: str) -> LegalDocument | None:
        return self.documents.get(number) or self._folded().get(key_of(number))

    def _folded(self) -> dict[str, LegalDocument]:
        return {key_of(n): d for n, d in self.documents.items()}

    def __contains__(self, number: str) -> bool:
        return self.get(number) is not None

    def __len__(self) -> int:
        return len(self.documents)


def key_of(number: str) -> str:
    """A comparison key for a document number: folded, no spaces."""
    return fold(number).replace(" ", "")


def _text(value: Any) -> str:
    return "" if value is None else nfc(str(value)).strip()


def _valid_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def parse(data: bytes, name: str = "file") -> list[LegalDocument]:
    """Parse and validate one register file; raise ``KbFileError`` listing every problem."""
    from knowledge.kbfile import _LineLoader

    try:
        doc = yaml.load(data.decode("utf-8-sig"), Loader=_LineLoader)  # noqa: S506 - safe subclass
    except UnicodeDecodeError as exc:
        raise KbFileError([Problem(name, "", f"not UTF-8 text ({exc.reason})")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name} line {mark.line + 1}" if mark else name
        raise KbFileError([Problem(where, "", f"invalid YAML: {exc}")]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("documents"), list):
        raise KbFileError(
            [Problem(name, "documents", "expected a mapping with a list 'documents'")]
        )
    if doc.get("version", 1) != 1:
        raise KbFileError([Problem(name, "version", "only version 1 is supported")])
    problems: list[Problem] = []
    out: list[LegalDocument] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(doc["documents"], start=1):
        if not isinstance(item, dict):
            problems.append(Problem(f"{name} document {i}", "", "must be a mapping of fields"))
            continue
        where = f"{name} line {item.pop('__line__', '?')}"
        document = _document(where, item, problems)
        if document is None:
            continue
        key = key_of(document.number)
        if key in seen:
            problems.append(
                Problem(where, "number", f"'{document.number}' listed twice (also {seen[key]})")
            )
            continue
        seen[key] = where
        out.append(document)
    if problems:
        raise KbFileError(problems)
    return out


def _document(where: str, rec: dict[str, Any], problems: list[Problem]) -> LegalDocument | None:
    before = len(problems)
    for key in rec:
        if key not in FIELDS:
            problems.append(Problem(where, str(key), "unknown field"))
    values = {f: _text(rec.get(f)) for f in FIELDS}
    for f in REQUIRED:
        if not values[f]:
            problems.append(Problem(where, f, "required field is empty"))
    for f in ("number", "replaced_by"):
        v = values[f]
        if v and (not _NUMBER.fullmatch(v) or len(v) > MAX_NUMBER):
            problems.append(Problem(where, f, f"'{v}' is not a document number like 74/2025/QH15"))
    for f in DATE_FIELDS:
        if values[f] and not _valid_date(values[f]):
            problems.append(Problem(where, f, "must be a date written YYYY-MM-DD"))
    if values["source_url"] and not _URL.fullmatch(values["source_url"]):
        problems.append(Problem(where, "source_url", "must be an http(s) address"))
    if (
        len(problems) == before
        and values["expired"]
        and values["effective"]
        and values["expired"] < values["effective"]
    ):
        problems.append(Problem(where, "expired", "is before the effective date"))
    if values["replaced_by"] and key_of(values["replaced_by"]) == key_of(values["number"]):
        problems.append(Problem(where, "replaced_by", "a document cannot replace itself"))
    if len(problems) > before:
        return None
    return LegalDocument(
        number=values["number"],
        title=values["title"],
        issuer=values["issuer"],
        effective=values["effective"],
        issued=values["issued"],
        expired=values["expired"],
        replaced_by=values["replaced_by"],
        source_url=values["source_url"],
    )


def load(path: str | Path) -> list[LegalDocument]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise KbFileError([Problem(str(p), "", f"cannot read the file: {exc.strerror}")]) from exc
    return parse(data, p.name)


def merge(sources: Iterable[tuple[str, Sequence[LegalDocument]]]) -> Register:
    """Documents of several files; one number in two files must agree on its dates."""
    problems: list[Problem] = []
    documents: dict[str, LegalDocument] = {}
    origin: dict[str, str] = {}
    for name, docs in sources:
        for d in docs:
            key = key_of(d.number)
            other = documents.get(key)
            if other is None:
                documents[key] = d
                origin[key] = name
                continue
            for f in AGREEING:
                if getattr(other, f) != getattr(d, f):
                    problems.append(
                        Problem(
                            name,
                            f,
                            f"{d.number}: '{getattr(d, f)}' here but '{getattr(other, f)}' "
                            f"in {origin[key]}",
                        )
                    )
            # The fuller record wins for the descriptive fields.
            documents[key] = replace(
                other,
                issued=other.issued or d.issued,
                source_url=other.source_url or d.source_url,
            )
    if problems:
        raise KbFileError(problems)
    return Register({d.number: d for d in documents.values()})


def load_dir(directory: str | Path) -> Register:
    """Every ``*.yaml`` of a register directory, checked file by file and across files."""
    problems: list[Problem] = []
    sources: list[tuple[str, Sequence[LegalDocument]]] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            sources.append((path.name, load(path)))
        except KbFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise KbFileError(problems)
    return merge(sources)


# ------------------------------------------------------------------ entries against a register

_EXPIRY_WORDS = ("het hieu luc", "duoc thay the", "da bi thay the", "khong con hieu luc")


def mentions_expiry(entry: Entry, document: LegalDocument) -> bool:
    """Whether the entry itself says the cited document is no longer in force."""
    text = fold(" ".join((entry.answer, entry.legal_basis)))
    if any(w in text for w in _EXPIRY_WORDS):
        return True
    return bool(document.replaced_by) and key_of(document.replaced_by) in {
        key_of(r) for r in entry.legal_refs
    }


def check_refs(
    entries: Sequence[Entry], register: Register, today: date
) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings): unknown documents refuse a file; expired citations warn."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for e in entries:
        for number in e.legal_refs:
            document = register.get(number)
            if document is None:
                problems.append(
                    Problem(e.id, "legal_refs", f"'{number}' is not in the register of documents")
                )
            elif not document.in_force(today) and not mentions_expiry(e, document):
                why = (
                    f"replaced by {document.replaced_by}"
                    if document.replaced_by
                    else f"expired on {document.expired}"
                )
                warnings.append(Problem(e.id, "legal_refs", f"cites {document.number}, {why}"))
    return problems, warnings
