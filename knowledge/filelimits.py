"""Limits on uploaded and imported spreadsheet files, the same for the chat and the command line.

An XLSX file is a zip archive: a 2 MB workbook can unpack to gigabytes and exhaust memory while
it is parsed. Its declared unpacked size is read from the archive's directory (cheap, nothing is
decompressed) and checked before any parser opens it.
"""

from __future__ import annotations

import io
import zipfile

MAX_UNPACKED_XLSX = 100 * 1024 * 1024


def unpacked_size(content: bytes) -> int:
    """The total declared size of a zip archive's members; 0 for something that is not a zip
    (the parser then says what is wrong in its own words)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0


def xlsx_too_large(content: bytes) -> bool:
    """True when a workbook would unpack beyond ``MAX_UNPACKED_XLSX``."""
    return unpacked_size(content) > MAX_UNPACKED_XLSX
