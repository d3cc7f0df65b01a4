"""Links in the web chat's text: web addresses and phone numbers, found in plain text.

The page (``bot/static/index.html``) does the same in JavaScript with the same patterns; this
module serves the server-rendered page without JavaScript (``bot.channels.web_form``).

Only two kinds of link are ever made: ``http(s)://`` addresses (a bare "dichvucong.gov.vn"
becomes ``https://dichvucong.gov.vn``) and ``tel:`` numbers (the hotline, "1800 1096",
"0292 3820 000"...). Everything else stays text, and all text is HTML-escaped: a reply that
contains ``<script>`` shows those characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

URL = r"https?://[^\s<>\"'«»]+"
DOMAIN = (
    r"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:gov\.vn|edu\.vn|com\.vn|org\.vn|net\.vn|vn|com|org|net)"
    r"(?:/[^\s<>\"'«»]*)?(?![\w\-])"
)
PHONE = (
    r"(?<![\w.\-/+])(?:1[89]00[ .]?\d{3,4}(?:[ .]?\d{2,3})?"
    r"|(?:\+84|0)\d{2,3}(?:[ .]?\d{3,4}){2})(?![\w\-/])"
)
LINK = re.compile(f"({URL})|({DOMAIN})|({PHONE})", re.IGNORECASE)
TRAILING = ".,;:!?)]}"


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text, with the address it links to (empty for plain text)."""

    text: str
    href: str = ""


def _trim(found: str) -> tuple[str, str]:
    """An address without the punctuation that ends the sentence around it."""
    end = len(found)
    while end and found[end - 1] in TRAILING:
        end -= 1
    return found[:end], found[end:]


def _safe_http(href: str) -> bool:
    parts = urlsplit(href)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def pieces(text: str) -> list[Piece]:
    """``text`` cut into plain runs and links."""
    out: list[Piece] = []
    pos = 0
    for match in LINK.finditer(text):
        url, domain, phone = match.groups()
        found, rest = _trim(match.group(0)) if not phone else (match.group(0), "")
        if url:
            href = found
        elif domain:
            href = "https://" + found
        else:
            href = "tel:" + re.sub(r"[^\d+]", "", found)
        if href.startswith("http") and not _safe_http(href):
            continue
        if not found:
            continue
        out.append(Piece(text[pos : match.start()]))
        out.append(Piece(found, href))
        out.append(Piece(rest))
        pos = match.end()
    out.append(Piece(text[pos:]))
    return [p for p in out if p.text]


def to_html(text: str) -> str:
    """``text`` as escaped HTML with its links; line breaks are kept by CSS (pre-wrap)."""
    html: list[str] = []
    for piece in pieces(text):
        if not piece.href:
            html.append(escape(piece.text))
        elif piece.href.startswith("tel:"):
            html.append(f'<a href="{escape(piece.href)}">{escape(piece.text)}</a>')
        else:
            html.append(
                f'<a href="{escape(piece.href)}" target="_blank" rel="noopener noreferrer">'
                f"{escape(piece.text)}</a>"
            )
    return "".join(html)
