"""Looking up a dossier: code, then proof of ownership, then the status; notifications.

Nothing about a dossier is shown before its owner is verified by the ID number (CCCD) or the
registered phone number, and an unknown code gets exactly the same reply as a wrong
verification, so that nobody can learn whether a code exists. Every attempt is audited without
what was typed.

Failed attempts are limited per source (the person: a keyed hash of channel and user), so that
a stranger cannot lock the real owner out (docs/security.md, "Lookup lockout"):
- 5 failures in an hour lock the source out of every lookup for an hour;
- 3 failures on one dossier in a day lock the source out of that dossier for a day;
- 10 failures on one dossier in a day, from any sources, put the dossier "under attack": every
  source that has already failed on it is then locked out of it for the day, and a source
  that has not failed gets one attempt, so the owner's correct answer still passes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.codes import find_codes
from bot.domain.dossiers.status import DossierStatus
from bot.domain.dossiers.timeliness import DossierTimes, Timeliness, timeliness
from bot.domain.privacy import normalise_id_number, normalise_phone
from bot.flowstate import FlowState, Memory
from bot.messages import ChatState, Choice, Outcome, Reply
from handlers import texts_dossier as t
from handlers.buttons import Menu, Subscription
from handlers.common import main_menu_choices, menu_choice, stale_outcome
from handlers.context import VN_TZ, Context
from storage.models import Agency, Dossier, Procedure
from storage.repositories import dossiers as repo
from storage.repositories import subscriptions

FLOW = "dossier"
USER_FAILURES = (5, timedelta(hours=1))
SOURCE_DOSSIER_FAILURES = (3, timedelta(days=1))
DOSSIER_FAILURES = (10, timedelta(days=1))
_INTENT = re.compile(
    r"\b(tra\s*c[uứ]u|ki[eể]m\s*tra|xem)\s+(t[iì]nh\s*tr[aạ]ng\s+)?h[oồ]\s*s[oơ]\b"
    r"|\bh[oồ]\s*s[oơ]\s+c[uủ]a\s+(t[oô]i|em|m[iì]nh)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Lookup(FlowState, tag=FLOW):
    """A dossier lookup under way: waiting for the code, or for who the citizen is."""

    step: Literal["code", "verify"]
    code: str = ""


def _code(ctx: Context) -> str:
    return ctx.state.flow.code if isinstance(ctx.state.flow, Lookup) else ""


def mentions_code(text: str) -> bool:
    """True when free text contains a dossier code (the citizen pasted it)."""
    return bool(find_codes(text))


def asks_for_lookup(text: str) -> bool:
    """True for "tra cứu hồ sơ", "kiểm tra hồ sơ", "hồ sơ của tôi"... without diacritics too."""
    return bool(_INTENT.search(text))


def _fmt(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "—"


def _in_group(ctx: Context) -> Outcome | None:
    """In a group chat a lookup is declined and moved to a private chat: what a dossier shows
    (status, masked name, reasons) belongs to its owner, not to everyone in the group."""
    if not ctx.incoming.chat.is_group:
        return None
    return Outcome((Reply(t.PRIVATE_ONLY),), ChatState())


async def ask_code(ctx: Context) -> Outcome:
    """Starts a lookup by asking for the dossier code (or uses the one already given)."""
    if (declined := _in_group(ctx)) is not None:
        return declined
    codes = find_codes(ctx.incoming.text)
    if codes:
        return await _ask_verification(ctx, codes[0])
    return Outcome((Reply(t.ASK_CODE),), ChatState(flow=Lookup("code")))


async def code_given(ctx: Context) -> Outcome:
    """Takes a pasted code from free text and asks who the citizen is."""
    if (declined := _in_group(ctx)) is not None:
        return declined
    return await _ask_verification(ctx, find_codes(ctx.incoming.text)[0])


async def _ask_verification(ctx: Context, code: str) -> Outcome:
    verified = dict(ctx.state.memory.verified)
    if code in verified:
        return await _show(ctx, code, verified)
    state = ChatState(flow=Lookup("verify", code), memory=Memory(verified=verified))
    return Outcome((Reply(t.ASK_VERIFICATION.format(code=code)),), state)


async def continue_flow(ctx: Context) -> Outcome:
    """Continues the lookup, routed by the step (``TEXT_STEPS``): a code at step "code", an ID
    number or phone at step "verify" (also the fallback of an unknown step)."""
    if (declined := _in_group(ctx)) is not None:
        return declined
    return await TEXT_STEPS.get(ctx.state.step or "", _identity_typed)(ctx)


async def _code_typed(ctx: Context) -> Outcome:
    text = ctx.incoming.text.strip()
    codes = find_codes(text)
    if not codes and not any(ch.isdigit() for ch in text):
        # No attempt at a code ("giá vàng hôm nay", "đkkh cần gì"): the citizen has moved
        # on, so the lookup steps aside and the message is answered as a question.
        # What the lookup knew (verified dossiers) is left behind with it.
        state = ctx.state.evolve(
            flow=None, memory=replace(ctx.state.memory, verified={}, place_offer=None)
        )
        return Outcome((), state, reroute=True)
    if not codes:
        return Outcome((Reply(t.BAD_CODE, _cancel_choices()),), ctx.state)
    return await _ask_verification(ctx, codes[0])


async def _identity_typed(ctx: Context) -> Outcome:
    text = ctx.incoming.text.strip()
    codes = find_codes(text)
    if codes and codes[0] != _code(ctx):
        return await _ask_verification(ctx, codes[0])
    return await _verify(ctx, text)


TEXT_STEPS: dict[str, Callable[[Context], Awaitable[Outcome]]] = {
    "code": _code_typed,
    "verify": _identity_typed,
}


def _cancel_choices() -> tuple[Choice, ...]:
    return (menu_choice(t.CANCEL),)


async def _locked_until(ctx: Context, code: str) -> datetime | None:
    """Until when this source may not try this dossier, or None (see the module's docstring)."""
    limit, window = USER_FAILURES
    count, oldest = await repo.failed_lookups(ctx.session, window=window, user_hash=ctx.user_hash)
    if count >= limit and oldest is not None:
        return oldest + window
    limit, window = SOURCE_DOSSIER_FAILURES
    mine, my_oldest = await repo.failed_lookups(
        ctx.session, window=window, user_hash=ctx.user_hash, code=code
    )
    if mine >= limit and my_oldest is not None:
        return my_oldest + window
    if mine == 0:
        return None  # a source that has not failed on this dossier always gets its attempt
    limit, window = DOSSIER_FAILURES
    count, oldest = await repo.failed_lookups(ctx.session, window=window, code=code)
    if count >= limit and my_oldest is not None:
        return my_oldest + window
    return None


def _until_text(moment: datetime, today: date) -> str:
    local = moment.astimezone(VN_TZ)
    if local.date() == today:
        return local.strftime("%H:%M")
    return local.strftime("%H:%M ngày %d/%m/%Y")


async def _verify(ctx: Context, typed: str) -> Outcome:
    code = _code(ctx)
    channel = ctx.incoming.chat.channel.value
    locked = await _locked_until(ctx, code)
    if locked is not None:
        await repo.record_lookup(
            ctx.session,
            channel=channel,
            user_hash=ctx.user_hash,
            code=code,
            dossier_id=None,
            outcome="locked",
        )
        until = _until_text(locked, ctx.services.today())
        return Outcome((Reply(t.LOCKED.format(until=until), main_menu_choices()),), ChatState())
    number = normalise_id_number(typed)
    phone = normalise_phone(typed)
    if number is None and phone is None:
        return Outcome((Reply(t.BAD_IDENTIFIER, _cancel_choices()),), ctx.state)
    dossier = await repo.dossier_by_code(ctx.session, code)
    matches = dossier is not None and (
        (number is not None and dossier.owner_id_hmac == ctx.services.owner_id_hash(number))
        or (phone is not None and dossier.owner_phone_hmac == ctx.services.owner_phone_hash(phone))
    )
    if not matches or dossier is None:
        await repo.record_lookup(
            ctx.session,
            channel=channel,
            user_hash=ctx.user_hash,
            code=code,
            dossier_id=None,
            outcome="failed",
        )
        return Outcome((Reply(t.NOT_MATCHED, _cancel_choices()),), ctx.state)
    await repo.record_lookup(
        ctx.session,
        channel=channel,
        user_hash=ctx.user_hash,
        code=code,
        dossier_id=dossier.id,
        outcome="ok",
    )
    verified = {**ctx.state.memory.verified, code: dossier.id}
    return await _show(ctx, code, verified)


async def _show(ctx: Context, code: str, verified: dict[str, int]) -> Outcome:
    dossier = await ctx.session.get(Dossier, verified[code])
    if dossier is None:
        return Outcome((Reply(t.NOT_MATCHED, main_menu_choices()),), ChatState())
    text = await describe(ctx.session, dossier, ctx)
    subscribed = await subscriptions.is_subscribed(
        ctx.session,
        dossier_id=dossier.id,
        channel=ctx.incoming.chat.channel.value,
        chat_id=ctx.incoming.chat.chat_id,
    )
    choices = (
        Choice(t.UNSUBSCRIBE, Subscription("off", dossier.id).pack())
        if subscribed
        else Choice(t.SUBSCRIBE, Subscription("on", dossier.id).pack()),
        Choice(t.ANOTHER, Menu("dossier").pack()),
        menu_choice(t.MENU),
    )
    return Outcome((Reply(text, choices),), ChatState(memory=Memory(verified=verified)))


async def _names(session: AsyncSession, dossier: Dossier) -> tuple[str, str]:
    procedure = await session.get(Procedure, dossier.procedure_id)
    agency = await session.get(Agency, dossier.receiving_agency_id)
    return (procedure.name if procedure else "—", agency.name if agency else "—")


def _timeliness(
    ctx: Context | None,
    dossier: Dossier,
    pauses: list[tuple[date, date | None]],
    legal_days: int | None,
) -> Timeliness | None:
    if dossier.received_date is None or ctx is None:
        return None
    try:
        times = DossierTimes(
            received=dossier.received_date,
            due=dossier.due_date,
            rescheduled_due=dossier.rescheduled_due_date,
            finished=dossier.finished_date,
            status=DossierStatus(dossier.status),
            supplement_requests=dossier.supplement_count,
            pauses=tuple(pauses),
            legal_days=legal_days,
        )
        return timeliness(times, ctx.services.calendar, ctx.services.today())
    except ValueError:
        return None


async def describe(session: AsyncSession, dossier: Dossier, ctx: Context | None = None) -> str:
    """The dossier as its verified owner sees it: plain Vietnamese, no personal data in clear."""
    status = DossierStatus(dossier.status)
    procedure_name, agency_name = await _names(session, dossier)
    procedure = await session.get(Procedure, dossier.procedure_id)
    pauses = await repo.pauses_of(session, dossier.id)
    lines = [
        t.HEADER.format(code=dossier.code),
        t.PROCEDURE.format(name=procedure_name),
        t.AGENCY.format(name=agency_name),
    ]
    if dossier.owner_name_masked:
        lines.append(t.OWNER.format(name=dossier.owner_name_masked))
    lines.append(t.STATUS.format(label=status.label))
    lines.append(t.RECEIVED.format(day=_fmt(dossier.received_date)))
    due_line = t.DUE.format(day=_fmt(dossier.due_date))
    if dossier.rescheduled_due_date:
        due_line += t.RESCHEDULED.format(day=_fmt(dossier.rescheduled_due_date))
    lines.append(due_line)
    legal_days = (
        procedure.time_limit if procedure and procedure.time_unit == "ngay_lam_viec" else None
    )
    state = _timeliness(ctx, dossier, pauses, legal_days)
    if state is not None:
        lines.append(t.TIMELINESS.format(label=state.label))
    if status == DossierStatus.YEU_CAU_BO_SUNG and dossier.supplement_reason:
        lines.append(t.SUPPLEMENT.format(reason=dossier.supplement_reason))
    if status in (DossierStatus.KHONG_DUOC_TIEP_NHAN, DossierStatus.DUNG_XU_LY) and (
        dossier.refusal_reason
    ):
        lines.append(t.REFUSAL.format(reason=dossier.refusal_reason))
    lines.append("")
    lines.append(status.next_step)
    if status == DossierStatus.DA_XU_LY_XONG:
        lines.append(t.COLLECT.format(agency=agency_name))
    return "\n".join(lines)


async def status_change_replies(session: AsyncSession, dossier: Dossier) -> list[Reply]:
    """The notification a subscriber gets when the status changes."""
    status = DossierStatus(dossier.status)
    procedure_name, agency_name = await _names(session, dossier)
    text = t.NOTIFY.format(code=dossier.code, procedure=procedure_name, label=status.label)
    text += "\n" + status.next_step
    if status == DossierStatus.YEU_CAU_BO_SUNG and dossier.supplement_reason:
        text += "\n" + t.SUPPLEMENT.format(reason=dossier.supplement_reason)
    if status == DossierStatus.DA_XU_LY_XONG:
        text += "\n" + t.COLLECT.format(agency=agency_name)
    return [Reply(text, (Choice(t.UNSUBSCRIBE, Subscription("off", dossier.id).pack()),))]


async def subscription_button(ctx: Context) -> Outcome:
    """Turns notifications for a verified dossier on or off."""
    pressed = Subscription.parse(ctx.incoming.choice)
    if pressed is None:
        return stale_outcome(ctx)
    chat = ctx.incoming.chat
    if pressed.action == "off":
        done = await subscriptions.unsubscribe(
            ctx.session,
            dossier_id=pressed.dossier,
            channel=chat.channel.value,
            chat_id=chat.chat_id,
        )
        return Outcome((Reply(t.UNSUBSCRIBED if done else t.NOT_SUBSCRIBED),), ctx.state)
    if (declined := _in_group(ctx)) is not None:
        return declined
    if pressed.dossier not in ctx.state.memory.verified.values():
        return stale_outcome(ctx)
    verified_id = pressed.dossier
    await subscriptions.subscribe(
        ctx.session,
        dossier_id=verified_id,
        channel=chat.channel.value,
        chat_id=chat.chat_id,
        user_hash=ctx.user_hash,
    )
    return Outcome((Reply(t.SUBSCRIBED),), ctx.state)


async def unsubscribe_all(ctx: Context) -> Outcome:
    """Stops every dossier notification to this chat (/huythongbao)."""
    chat = ctx.incoming.chat
    count = await subscriptions.unsubscribe_all(
        ctx.session, channel=chat.channel.value, chat_id=chat.chat_id
    )
    return Outcome((Reply(t.UNSUBSCRIBED_ALL if count else t.NOT_SUBSCRIBED),), ctx.state)
