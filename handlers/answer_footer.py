"""The lines under every answer: legal basis, the date it was checked, the official link.

Plain text so that every channel can show it: Telegram and Zalo turn the URL into a link, the
terminal prints it, the web page linkifies it. Kept apart from the handler so that the footer
can be tested and changed in one place.
"""

from __future__ import annotations

from datetime import date

from handlers import texts, texts_review
from handlers.context import Context
from knowledge.entry import Entry
from storage.repositories import legal


def _dmy(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def footer_lines(entry: Entry, *, caveat: bool = False) -> list[str]:
    """Basis (the text, else the cited numbers), "Cập nhật" date, official link, caveat."""
    lines: list[str] = []
    basis = entry.legal_basis or "; ".join(entry.legal_refs)
    if basis:
        lines.append(texts.LEGAL_BASIS.format(basis=basis))
    updated = _dmy(entry.reviewed)
    if updated:
        lines.append(texts_review.UPDATED.format(date=updated))
    if entry.source_url and entry.source_url not in entry.answer:  # never the same link twice
        lines.append(texts_review.OFFICIAL_LINK.format(url=entry.source_url))
    if caveat:
        lines.append(texts_review.UNDER_REVIEW)
    return lines


def answer_with_footer(entry: Entry, *, caveat: bool = False) -> str:
    """The answer followed by its footer, separated by a blank line."""
    text = entry.answer.strip()
    lines = footer_lines(entry, caveat=caveat)
    return text + ("\n\n" + "\n".join(lines) if lines else "")


async def answer_text(ctx: Context, entry: Entry) -> str:
    """The reply for an answer: the caveat only while the entry is under review and the admin
    chose to show it (everywhere by setting, or for a flagged document)."""
    caveat = await legal.caveat_applies(
        ctx.session, entry.id, everywhere=ctx.services.review_caveat
    )
    return answer_with_footer(entry, caveat=caveat)
