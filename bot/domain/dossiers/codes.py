"""Dossier codes: ``{agency ID}-{yyMMdd}-{NNNN}``, e.g. ``000.00.12.H13-260115-0042``.

The agency ID follows QCVN 102:2016/BTTTT (at most 13 characters, e.g. ``000.00.12.H13``), the
date is the day the receiving agency took the dossier, and the counter runs per receiving agency
and resets daily (domain.md §3.1). Citizens copy codes from receipts, SMS and Zalo into free
text, often in lower case, with spaces around the dashes or with a phone's typographic dash, so
``find_codes`` accepts those and returns the canonical upper-case form that the database stores.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

MAX_AGENCY_ID_LENGTH = 13
_AGENCY = r"[A-Z0-9]+(?:\.[A-Z0-9]+)*"
# ASCII hyphen-minus plus what phones and word processors turn it into.
_DASH = r"[ \t]*[-\u2010\u2011\u2012\u2013\u2014\u2212][ \t]*"
_CANONICAL = re.compile(rf"(?P<agency>{_AGENCY})-(?P<date>\d{{6}})-(?P<counter>\d{{4}})")
_IN_TEXT = re.compile(
    rf"(?<![A-Z0-9.])(?P<agency>{_AGENCY}){_DASH}(?P<date>\d{{6}}){_DASH}(?P<counter>\d{{4}})"
    r"(?![A-Z0-9])",
    re.IGNORECASE,
)


class InvalidCodeError(ValueError):
    """A string that is not a valid dossier code; the message says why (English, for logs)."""


@dataclass(frozen=True, slots=True)
class DossierCode:
    """A parsed dossier code.

    ``date`` is the receiving day encoded in the code; it is what lets a lookup refuse an
    impossible code (a 30 February) before touching the database.
    """

    agency_id: str
    date: date
    counter: int

    @property
    def code(self) -> str:
        """The canonical form, as stored and as printed on the receipt."""
        return f"{self.agency_id}-{self.date:%y%m%d}-{self.counter:04d}"

    def __str__(self) -> str:
        return self.code


def _normalise(text: str) -> str:
    # NFKC turns full-width digits and letters (some Vietnamese IMEs produce them) into ASCII.
    return unicodedata.normalize("NFKC", text)


def _build(agency: str, yymmdd: str, counter: str) -> DossierCode:
    agency = agency.upper()
    if len(agency) > MAX_AGENCY_ID_LENGTH:
        raise InvalidCodeError(
            f"agency ID '{agency}' is longer than {MAX_AGENCY_ID_LENGTH} characters"
        )
    try:
        day = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError as exc:
        raise InvalidCodeError(f"'{yymmdd}' is not a real date (yyMMdd)") from exc
    return DossierCode(agency_id=agency, date=day, counter=int(counter))


def parse_code(code: str) -> DossierCode:
    """Parse and validate one code; raise ``InvalidCodeError`` saying what is wrong.

    Surrounding whitespace, lower case and spaces around the dashes are accepted, as in
    ``find_codes``; anything else around the code is not.
    """
    text = _normalise(code).strip()
    match = _IN_TEXT.fullmatch(text)
    if match is None:
        raise InvalidCodeError(
            f"'{code}' does not have the form AGENCY-yyMMdd-NNNN (e.g. 000.00.12.H13-260115-0042)"
        )
    return _build(match["agency"], match["date"], match["counter"])


def is_canonical(code: str) -> bool:
    """Whether ``code`` is already in the canonical stored form (upper case, plain dashes)."""
    match = _CANONICAL.fullmatch(code)
    if match is None:
        return False
    try:
        return parse_code(code).code == code
    except InvalidCodeError:
        return False


def find_codes(text: str) -> list[str]:
    """Every valid dossier code in free text, canonical and in order of first appearance.

    Candidates with an impossible date or an over-long agency ID are skipped rather than
    reported, because the lookup flow then simply asks for the code again.
    """
    found: list[str] = []
    for match in _IN_TEXT.finditer(_normalise(text)):
        try:
            code = _build(match["agency"], match["date"], match["counter"]).code
        except InvalidCodeError:
            continue
        if code not in found:
            found.append(code)
    return found
