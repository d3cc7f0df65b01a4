"""Keyed hashing and masking of citizens' personal data before it is stored or logged."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

# A run of digits, possibly grouped by spaces, dots, dashes or underscores ("0925 470 1957",
# "0925_0470_1957"), wherever it stands: glued to letters ("cccd092504701957",
# "sđt0912345678", "092504701957ạ") too. Runs of ``MIN_MASKED_DIGITS`` digits or more have
# the shape of a phone (10, or 11 with 84), a CCCD (12) or an old CMND (9) and are masked.
_DIGIT_RUN = re.compile(r"\d(?:[\s._\-]{0,3}\d)*")
MIN_MASKED_DIGITS = 8


def keyed_hash(secret: bytes, *parts: str) -> str:
    """A stable, non-reversible identifier: HMAC-SHA256 of the parts with the server secret."""
    msg = "\x1f".join(parts).encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


# A dossier code ("000.00.12.H13-260115-0042") is not personal data and must stay readable:
# a dotted agency code (QCVN 102), a real date (yymmdd) and a counter. Anything looser would let
# a number typed with dashes ("AA0-000000-0000 0") pass as a code.
DOSSIER_CODE = re.compile(
    r"(?<![\w.])(?P<agency>[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+)-(?P<date>\d{6})-\d{4}(?![\w])"
)


def _is_dossier_code(match: re.Match[str]) -> bool:
    yymmdd = match.group("date")
    try:
        date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        return False
    return True


MASK = "[số đã ẩn]"


def mask_numbers(text: str) -> str:
    """Replace phone and ID-like numbers (8 or more digits, separators allowed, even glued to
    letters) with a placeholder; dossier codes stay readable."""
    out: list[str] = []
    pos = 0
    for code in DOSSIER_CODE.finditer(text):
        if not _is_dossier_code(code):
            continue
        out.append(_mask(text[pos : code.start()]))
        out.append(code.group(0))
        pos = code.end()
    out.append(_mask(text[pos:]))
    return "".join(out)


def _mask(text: str) -> str:
    return _DIGIT_RUN.sub(_mask_run, text)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return MASK if sum(c.isdigit() for c in run) >= MIN_MASKED_DIGITS else run


def mask_name(full_name: str) -> str:
    """A Vietnamese name shown to its verified owner: family name, then initials.

    "Nguyễn Văn An" -> "Nguyễn V. A."; a single word keeps only its initial.
    """
    parts = full_name.split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0][0].upper() + "."
    return " ".join([parts[0].capitalize(), *(p[0].upper() + "." for p in parts[1:])])


def normalise_phone(raw: str) -> str | None:
    """A Vietnamese phone number as 10 digits starting with 0, or None if it is not one."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 10 and digits.startswith("0"):
        return digits
    return None


def normalise_id_number(raw: str) -> str | None:
    """A CCCD (12 digits) or old CMND (9 digits) number, or None."""
    digits = re.sub(r"\D", "", raw)
    return digits if len(digits) in (9, 12) else None


def owner_id_hash(secret: bytes, number: str) -> str:
    """The stored form of a dossier owner's ID number (normalised digits)."""
    return keyed_hash(secret, "owner-id", number)


def owner_phone_hash(secret: bytes, phone: str) -> str:
    """The stored form of a dossier owner's phone number (normalised, 0xxxxxxxxx)."""
    return keyed_hash(secret, "owner-phone", phone)
