"""Admin chat commands for the legal register and the review list: /vanban and /canxem.

Marking a document replaced or expired takes effect at once: the review list is recomputed in
the same transaction and alerts are queued for the admins who asked for them. Every change is
appended to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime

from bot import kb_review
from bot.messages import Outcome, Reply
from handlers import texts_review as t
from handlers.context import Context
from knowledge.normalize import fold
from storage.repositories import audit, legal

MAX_LISTED = 20


def _dmy(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def _parse_day(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None


def _say(ctx: Context, text: str) -> Outcome:
    return Outcome((Reply(text),), ctx.state)


async def _sweep(ctx: Context) -> int:
    return (await kb_review.sweep(ctx.session, ctx.services.today())).opened


async def _reviewed(ctx: Context, words: list[str]) -> Outcome:
    if len(words) not in (1, 2):
        return _say(ctx, t.REGISTER_HELP)
    due = None
    if len(words) == 2:
        due = _parse_day(words[1])
        if due is None or due <= ctx.services.today():
            return _say(ctx, t.REGISTER_BAD_DATE.format(value=words[1]))
    entry = await kb_review.mark_reviewed(
        ctx.session, words[0], ctx.services.today(), review_by=due, actor_hash=ctx.user_hash
    )
    if entry is None:
        return _say(ctx, t.ENTRY_UNKNOWN.format(id=words[0]))
    await audit.record(
        ctx.session, ctx.user_hash, ctx.actor.role, "kb.reviewed", entry.id,
        {"review_by": entry.review_by},
    )  # fmt: skip
    return _say(ctx, t.REVIEWED.format(id=entry.id, date=_dmy(entry.review_by)))


async def register_command(ctx: Context) -> Outcome:
    """/vanban SỐ; thaythe CŨ MỚI [ngày] [canhbao]; hethan SỐ ngày [canhbao]; canhbao SỐ bat|tat."""
    words = ctx.incoming.text.split()[1:]
    if not words:
        return _say(ctx, t.REGISTER_HELP)
    sub = fold(words[0])
    flag = bool(words) and fold(words[-1]) == "canhbao"
    if flag:
        words = words[:-1]
    if sub == "thaythe" and len(words) in (3, 4):
        on = _parse_day(words[3]) if len(words) == 4 else ctx.services.today()
        if on is None:
            return _say(ctx, t.REGISTER_BAD_DATE.format(value=words[3]))
        done = await legal.mark_replaced(
            ctx.session, words[1], words[2], on, caveat=True if flag else None
        )
        action = "register.replace"
        details: dict[str, object] = {"by": words[2], "on": on.isoformat()}
    elif sub == "hethan" and len(words) == 3:
        on = _parse_day(words[2])
        if on is None:
            return _say(ctx, t.REGISTER_BAD_DATE.format(value=words[2]))
        done = await legal.mark_expired(ctx.session, words[1], on, caveat=True if flag else None)
        action, details = "register.expire", {"on": on.isoformat()}
    elif sub == "canhbao" and len(words) == 3 and fold(words[2]) in ("bat", "tat"):
        on_off = fold(words[2]) == "bat"
        done = await legal.set_caveat(ctx.session, words[1], on_off)
        action, details = "register.caveat", {"on": on_off}
    elif len(words) == 1 and sub not in ("thaythe", "hethan", "canhbao"):
        document = (await legal.register(ctx.session)).get(words[0])
        if document is None:
            return _say(ctx, t.REGISTER_UNKNOWN.format(number=words[0]))
        return _say(
            ctx,
            t.REGISTER_SHOW.format(
                number=document.number,
                title=document.title,
                issuer=document.issuer,
                effective=_dmy(document.effective),
                expired=f"\nHết hiệu lực từ: {_dmy(document.expired)}" if document.expired else "",
                replaced=f"\nĐược thay thế bởi: {document.replaced_by}"
                if document.replaced_by
                else "",
                link=f"\n{document.source_url}" if document.source_url else "",
                caveat=t.YES if document.caveat else t.NO,
            ),
        )
    else:
        return _say(ctx, t.REGISTER_HELP)
    if done is None:
        return _say(ctx, t.REGISTER_UNKNOWN.format(number=words[1]))
    await audit.record(ctx.session, ctx.user_hash, ctx.actor.role, action, done.number, details)
    opened = await _sweep(ctx)
    return _say(ctx, t.REGISTER_DONE.format(number=done.number, count=opened))


async def review_list(ctx: Context) -> Outcome:
    """/canxem: the entries to review, oldest reason first; /canxem xong ID [ngày]: reviewed."""
    words = ctx.incoming.text.split()[1:]
    if words and fold(words[0]) == "xong":
        return await _reviewed(ctx, words[1:])
    await _sweep(ctx)
    items = await legal.open_items(ctx.session)
    if not items:
        return _say(ctx, t.REVIEW_EMPTY)
    lines = [t.REVIEW_HEADER.format(count=len(items))]
    for item in items[:MAX_LISTED]:
        since = _dmy(item.since)
        if item.reason == "replaced":
            by = item.event.partition(":")[2]
            lines.append(
                t.REVIEW_REPLACED.format(
                    entry=item.entry_id, number=item.document_number, by=by, since=since
                )
            )
        elif item.reason == "expired":
            lines.append(
                t.REVIEW_EXPIRED.format(
                    entry=item.entry_id, number=item.document_number, since=since
                )
            )
        else:
            lines.append(t.REVIEW_OVERDUE.format(entry=item.entry_id, since=since))
    if len(items) > MAX_LISTED:
        lines.append(t.REVIEW_MORE.format(count=len(items) - MAX_LISTED))
    lines.append(t.REVIEW_HOW)
    return _say(ctx, "\n".join(lines))
