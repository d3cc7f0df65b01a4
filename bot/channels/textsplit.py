"""Cutting long answers into messages a platform accepts, at the most natural places.

Platforms count message length in UTF-16 code units (Telegram 4,096, Zalo 2,000); counting code
points would undercount emoji. Text is composed (NFC) first, as citizens' phones may send NFD.
"""

from __future__ import annotations

import unicodedata

_SEPARATORS = ("\n\n", "\n", " ")


def utf16_length(text: str) -> int:
    """Length as the platforms count it: UTF-16 code units of the NFC text."""
    return len(unicodedata.normalize("NFC", text).encode("utf-16-le")) // 2


def _hard_cut(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        units = utf16_length(char)
        if size + units > limit and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += units
    if current:
        pieces.append("".join(current))
    return pieces


def _pack(text: str, limit: int, level: int) -> list[str]:
    if utf16_length(text) <= limit:
        return [text]
    if level == len(_SEPARATORS):
        return _hard_cut(text, limit)
    sep = _SEPARATORS[level]
    parts = [p.strip("\n") if level == 0 else p for p in text.split(sep)]
    pieces: list[str] = []
    current = ""
    for part in parts:
        if not part.strip():
            continue
        for sub in _pack(part, limit, level + 1):
            candidate = f"{current}{sep}{sub}" if current else sub
            if utf16_length(candidate) <= limit:
                current = candidate
            else:
                if current:
                    pieces.append(current)
                current = sub
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` units, cut between paragraphs when possible, then between
    lines, then between words; only a single overlong "word" is cut anywhere."""
    text = unicodedata.normalize("NFC", text).strip()
    return _pack(text, limit, 0) if text else []


def one_line(label: str, limit: int) -> str:
    """A button text a platform shows whole: one line of at most ``limit`` characters, cut at a
    word with an ellipsis."""
    label = " ".join(label.split()) or "…"
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + "…"
