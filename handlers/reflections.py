"""Reflections and recommendations (phản ánh, kiến nghị): citizens send them, the responsible
agency answers in the chat, the citizen says whether it resolved the matter.

Citizens start from an offer after a "Không hài lòng" rating or a low survey score, after an
unhelpful answer (👎), from the menu, or with /phananh. A reflection is about a dossier
(verified in this conversation, or the one just rated), a service point, or the assistant's
answers (sent to the city, the root of the agency tree). The text is stored with phone and
ID-like numbers masked; on channels that carry files (Telegram) one photo may go with it, kept
only after re-encoding without metadata. The citizen gets a reference number and the deadline
(working days from the settings, on the holiday calendar). Each person may send
``REFLECTION_DAILY_LIMIT`` a day.

Staff type /phananh to list the open reflections of their agency subtree (overdue ones flagged),
then answer, forward to another agency with a reason, or close one as not in scope with a
reason. Every step is a reflection event and an audit-log row. Who sees what is decided in
``storage.repositories.reflections`` (a dossier's reflection only by staff of that dossier's
agencies); the citizen's name is shown in clear only to staff of the agency that must answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import Literal

from rapidfuzz import fuzz, process
from sqlalchemy import select

from bot.domain.outbox_payload import replies_to_payload
from bot.domain.privacy import mask_name, mask_numbers
from bot.domain.reflections.photos import CleanPhoto, PhotoError, clean_photo
from bot.domain.reflections.rules import is_overdue, reference
from bot.flowstate import FlowState
from bot.messages import Attachment, Channel, ChatState, Choice, Outcome, Reply
from bot.reflections import delivery
from handlers import texts_reflections as t
from handlers.buttons import ReflectionButton, ReflectionVerdict, StaffReflection
from handlers.common import stale_outcome
from handlers.context import VN_TZ, Context, after_flow, start_flow
from knowledge.normalize import fold
from storage.models import Agency, Dossier, FeedbackResponse, utcnow
from storage.models.reflections import ANSWERED, NOT_IN_SCOPE, OPEN, Reflection
from storage.repositories import audit, outbox, roles
from storage.repositories import messages as message_repo
from storage.repositories import reflections as repo

FLOW = "reflection"
STAFF_FLOW = "reflection_staff"
MIN_TEXT, MAX_TEXT = 10, 1000
MAX_ANSWER = 2000
MIN_REASON = 5
# Channels whose adapters hand files to the dispatcher (Telegram documents).
FILE_CHANNELS = frozenset({Channel.TELEGRAM})


def _fmt(day: object) -> str:
    return day.strftime("%d/%m/%Y") if hasattr(day, "strftime") else "—"


def _megabytes(n: int) -> str:
    """A size for citizens: "5 MB", "1,5 MB", "195 KB"."""
    if n < 1024 * 1024:
        return f"{n // 1024} KB"
    return f"{n / 1024 / 1024:.1f}".removesuffix(".0").replace(".", ",") + " MB"


async def _stale(ctx: Context) -> Outcome:
    return stale_outcome(ctx)


CANCEL_VALUE = ReflectionButton("x").pack()
SEND_NOW_VALUE = ReflectionButton("s").pack()
STAFF_CANCEL_VALUE = StaffReflection("x").pack()


@dataclass(frozen=True)
class ReflectionDraft(FlowState, tag=FLOW):
    """A citizen writing a reflection: the place's name asked for, then the text, then (on
    channels that carry files) a photo."""

    step: Literal["place", "text", "photo"]
    subject: str = ""
    agency: int = 0
    dossier: int | None = None
    message: int | None = None
    text: str = ""
    name: str = ""


@dataclass(frozen=True)
class StaffDraft(FlowState, tag=STAFF_FLOW):
    """Staff acting on a reflection: its answer, a forward's target and reason, or the reason
    it is not in scope."""

    step: Literal["answer", "target", "scope", "forward"]
    reflection: int = 0
    target: int | None = None


def _draft(ctx: Context) -> ReflectionDraft | None:
    return ctx.state.flow if isinstance(ctx.state.flow, ReflectionDraft) else None


def _say(ctx: Context, text: str, *choices: Choice) -> Outcome:
    return Outcome((Reply(text, choices),), ctx.state)


def offer_reply(about: ReflectionButton) -> Reply:
    """The question offered after a low rating or an unhelpful answer; ``about`` is the
    button that takes the offer (``r`` with a rating response, ``m`` with a message)."""
    no = ReflectionButton("n").pack()
    return Reply(t.OFFER, (Choice(t.OFFER_YES, about.pack()), Choice(t.OFFER_NO, no)))


# ================================================================== citizens


async def _over_limit(ctx: Context) -> Outcome | None:
    """The daily-limit answer when this person already sent the most allowed today."""
    limit = ctx.services.reflections.daily_limit
    # Midnight in Vietnam, as UTC: SQLite keeps times as UTC wall-clock without an offset.
    since = datetime.combine(ctx.services.today(), time.min, VN_TZ).astimezone(UTC)
    if await repo.sent_since(ctx.session, ctx.user_hash, since) >= limit:
        text = t.DAILY_LIMIT.format(limit=limit, hotline=ctx.hotline)
        return Outcome((Reply(text),), after_flow(ctx.state))
    return None


async def start(ctx: Context) -> Outcome:
    """/phananh or the menu: what is the reflection about?"""
    refused = await _over_limit(ctx)
    if refused is not None:
        return refused
    verified = ctx.state.memory.verified
    choices = [
        *(
            Choice(t.ABOUT_DOSSIER.format(code=code), ReflectionButton("d", i).pack())
            for code, i in verified.items()
        ),
        Choice(t.ABOUT_PLACE, ReflectionButton("p").pack()),
        Choice(t.ABOUT_ASSISTANT, ReflectionButton("b").pack()),
        Choice(t.CANCEL, CANCEL_VALUE),
    ]
    text = t.WHAT_ABOUT if verified else f"{t.WHAT_ABOUT}\n{t.LOOKUP_FOR_DOSSIER}"
    return Outcome((Reply(text, tuple(choices)),), after_flow(ctx.state))


async def button(ctx: Context) -> Outcome:
    """The citizen's buttons ("pa:..."): subject chosen, offer taken or declined, send, cancel."""
    pressed = ReflectionButton.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    action, ident = pressed.action, pressed.ident
    if action == "n":
        return Outcome((Reply(t.OFFER_DECLINED),), ctx.state)
    if action == "x":
        return Outcome((Reply(t.CANCELLED),), after_flow(ctx.state))
    if action == "s":
        return await _send_now(ctx)
    if action == "p":
        state = start_flow(ctx.state, ReflectionDraft("place"))
        return Outcome((Reply(t.ASK_PLACE, (Choice(t.CANCEL, CANCEL_VALUE),)),), state)
    refused = await _over_limit(ctx)
    if refused is not None:
        return refused
    if action == "d" and ident is not None:
        if ident not in ctx.state.memory.verified.values():
            return await _stale(ctx)
        dossier = await ctx.session.get(Dossier, ident)
        if dossier is None:
            return await _stale(ctx)
        return await _ask_text(ctx, "dossier", dossier.handling_agency_id, dossier_id=dossier.id)
    if action == "a" and ident is not None:
        agency = await ctx.session.get(Agency, ident)
        if agency is None or not agency.active:
            return await _stale(ctx)
        return await _ask_text(ctx, "place", agency.id)
    if action == "r" and ident is not None:
        response = await ctx.session.get(FeedbackResponse, ident)
        if response is None or response.user_hash != ctx.user_hash or not response.agency_id:
            return await _stale(ctx)
        subject = "dossier" if response.dossier_id else "place"
        return await _ask_text(ctx, subject, response.agency_id, dossier_id=response.dossier_id)
    if action == "m" and ident is not None:
        owner = await message_repo.message_owner(ctx.session, ident)
        if owner is None or owner[0] != ctx.user_hash:
            return await _stale(ctx)
        return await _about_assistant(ctx, message_id=ident)
    if action == "b":
        return await _about_assistant(ctx, message_id=None)
    return await _stale(ctx)


async def _about_assistant(ctx: Context, message_id: int | None) -> Outcome:
    """The assistant is the city's: its reflections go to the root of the agency tree."""
    root = await ctx.session.scalar(
        select(Agency).where(Agency.parent_id.is_(None), Agency.active).order_by(Agency.id)
    )
    if root is None:
        return Outcome((Reply(t.NO_AGENCY.format(hotline=ctx.hotline)),), ctx.state)
    return await _ask_text(ctx, "assistant", root.id, message_id=message_id)


async def _ask_text(
    ctx: Context,
    subject: str,
    agency_id: int,
    *,
    dossier_id: int | None = None,
    message_id: int | None = None,
) -> Outcome:
    agency = await ctx.session.get(Agency, agency_id)
    if agency is None:
        return await _stale(ctx)
    draft = ReflectionDraft("text", subject, agency_id, dossier=dossier_id, message=message_id)
    state = start_flow(ctx.state, draft)
    reply = Reply(t.ASK_TEXT.format(agency=agency.name), (Choice(t.CANCEL, CANCEL_VALUE),))
    return Outcome((reply,), state)


async def continue_flow(ctx: Context) -> Outcome:
    """Free text in the citizen's flow, by step (``TEXT_STEPS``): a place name, the
    description, or (waiting for a photo) a reminder; the description is the fallback."""
    return await TEXT_STEPS.get(ctx.state.step or "", _text_typed)(ctx)


async def _photo_awaited(ctx: Context) -> Outcome:
    return _say(
        ctx, t.WAITING_PHOTO, Choice(t.SEND_NOW, SEND_NOW_VALUE), Choice(t.CANCEL, CANCEL_VALUE)
    )


async def _text_typed(ctx: Context) -> Outcome:
    text = " ".join(ctx.incoming.text.split())
    if len(text) < MIN_TEXT:
        return _say(ctx, t.TEXT_TOO_SHORT, Choice(t.CANCEL, CANCEL_VALUE))
    if len(text) > MAX_TEXT:
        return _say(ctx, t.TEXT_TOO_LONG.format(length=len(text)), Choice(t.CANCEL, CANCEL_VALUE))
    draft = replace(
        _draft(ctx) or ReflectionDraft("text"),
        text=mask_numbers(text),
        name=ctx.incoming.display_name[:120],
    )
    if ctx.incoming.chat.channel in FILE_CHANNELS:
        limit = _megabytes(ctx.services.reflections.max_photo_bytes)
        reply = Reply(
            t.ASK_PHOTO.format(limit=limit),
            (Choice(t.SEND_NOW, SEND_NOW_VALUE), Choice(t.CANCEL, CANCEL_VALUE)),
        )
        return Outcome((reply,), start_flow(ctx.state, replace(draft, step="photo")))
    return await _submit(ctx, draft, photo=None)


async def _place_typed(ctx: Context) -> Outcome:
    names = {a.id: a.name for a in await ctx.session.scalars(select(Agency).where(Agency.active))}
    found = process.extract(
        fold(ctx.incoming.text),
        {i: fold(n) for i, n in names.items()},
        scorer=fuzz.WRatio,
        limit=5,
        score_cutoff=60,
    )
    if not found:
        return _say(ctx, t.NO_PLACE, Choice(t.CANCEL, CANCEL_VALUE))
    choices = tuple(Choice(names[key], ReflectionButton("a", key).pack()) for _, _, key in found)
    return Outcome((Reply(t.PICK_PLACE, choices),), ctx.state)


async def photo_received(ctx: Context) -> Outcome:
    """A file while writing a reflection: the photo, cleaned, then the reflection is sent."""
    if ctx.state.step != "photo" or ctx.incoming.file is None:
        return _say(ctx, t.PHOTO_NOT_NOW)
    limit = ctx.services.reflections.max_photo_bytes
    buttons = (Choice(t.SEND_NOW, SEND_NOW_VALUE), Choice(t.CANCEL, CANCEL_VALUE))
    try:
        photo = await asyncio.to_thread(clean_photo, ctx.incoming.file.content, limit)
    except PhotoError as exc:
        return _say(ctx, t.PHOTO_REFUSED[exc.reason].format(limit=_megabytes(limit)), *buttons)
    return await _submit(ctx, _draft(ctx), photo=photo)


async def unsupported_in_flow(ctx: Context) -> Outcome:
    """A sticker, a compressed photo... while writing: say what the flow takes; nothing lost."""
    buttons = (Choice(t.SEND_NOW, SEND_NOW_VALUE), Choice(t.CANCEL, CANCEL_VALUE))
    if ctx.state.step == "photo":
        return _say(ctx, t.PHOTO_AS_FILE, *buttons)
    return _say(ctx, t.TEXT_ONLY, Choice(t.CANCEL, CANCEL_VALUE))


async def _send_now(ctx: Context) -> Outcome:
    draft = _draft(ctx)
    if draft is None or draft.step != "photo":
        return await _stale(ctx)
    return await _submit(ctx, draft, photo=None)


async def _submit(ctx: Context, draft: ReflectionDraft | None, photo: CleanPhoto | None) -> Outcome:
    """Store the reflection, tell the agency's staff, give the reference and the deadline."""
    refused = await _over_limit(ctx)
    if refused is not None:
        return refused
    if draft is None or not draft.text:
        return await _stale(ctx)
    agency = await ctx.session.get(Agency, draft.agency)
    if agency is None:
        return await _stale(ctx)
    rules = ctx.services.reflections
    received = ctx.services.today()
    due = rules.due_date(ctx.services.calendar, received)
    reflection = await repo.create(
        ctx.session,
        subject=draft.subject,
        agency_id=agency.id,
        dossier_id=draft.dossier,
        message_id=draft.message,
        channel=ctx.incoming.chat.channel.value,
        chat_id=ctx.incoming.chat.chat_id,
        user_hash=ctx.user_hash,
        display_name=ctx.incoming.display_name or draft.name,
        text=draft.text,
        received=received,
        due=due,
    )
    if photo is not None:
        await repo.add_attachment(
            ctx.session,
            reflection.id,
            content=photo.content,
            mime_type=photo.mime_type,
            width=photo.width,
            height=photo.height,
        )
    await _tell_staff(ctx, reflection, agency, key="new")
    text = t.RECEIVED.format(
        ref=reference(reflection.id),
        agency=agency.name,
        due=_fmt(due),
        days=rules.answer_workdays,
    )
    return Outcome((Reply(text),), after_flow(ctx.state))


async def _about(ctx: Context, reflection: Reflection) -> str:
    if reflection.subject == "dossier" and reflection.dossier_id:
        dossier = await ctx.session.get(Dossier, reflection.dossier_id)
        return t.ABOUT_DOSSIER_STAFF.format(code=dossier.code if dossier else "—")
    if reflection.subject == "assistant":
        return t.ABOUT_ASSISTANT_STAFF
    return t.ABOUT_PLACE_STAFF


async def _tell_staff(ctx: Context, reflection: Reflection, agency: Agency, key: str) -> None:
    """Queue a note for the staff who asked for alerts and may see this reflection; no name."""
    scope = await repo.scope_of(ctx.session, reflection)
    text = t.NEW.format(
        ref=reference(reflection.id),
        agency=agency.name,
        about=await _about(ctx, reflection),
        due=_fmt(reflection.due_date),
    )
    for grant in await roles.alert_recipients(ctx.session, agency):
        viewer = await roles.actor_of(ctx.session, grant.user_hash)
        if not repo.visible_in(scope, viewer):
            continue
        await outbox.enqueue(
            ctx.session,
            dedupe_key=f"pakn:{reflection.id}:{key}:{agency.id}:{grant.user_hash}",
            channel=grant.channel,
            chat_id=grant.user_id,
            payload=replies_to_payload([Reply(text)]),
        )


async def verdict(ctx: Context) -> Outcome:
    """ "pv:<reflection>:<1|0>": whether the answer resolved the matter, once per reflection."""
    pressed = ReflectionVerdict.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    value = 1 if pressed.resolved else 0
    reflection = await ctx.session.get(Reflection, pressed.reflection)
    if reflection is None or reflection.user_hash != ctx.user_hash:
        return await _stale(ctx)
    if reflection.status != ANSWERED:
        return await _stale(ctx)
    if reflection.resolved is not None:
        return Outcome((Reply(t.VERDICT_ALREADY),), ctx.state)
    reflection.resolved = value == 1
    reflection.verdict_at = utcnow()
    await repo.add_event(ctx.session, reflection.id, "verdict", ctx.user_hash, note=str(value))
    text = t.VERDICT_THANKS if value == 1 else t.VERDICT_THANKS_NO.format(hotline=ctx.hotline)
    return Outcome((Reply(text),), ctx.state)


# ================================================================== staff


def _staff_state(ctx: Context, draft: StaffDraft | None) -> ChatState:
    return after_flow(ctx.state) if draft is None else start_flow(ctx.state, draft)


async def staff_list(ctx: Context) -> Outcome:
    """/phananh for staff: the open reflections of their subtree, most urgent first."""
    rows = await repo.open_for(ctx.session, ctx.actor)
    await audit.record(ctx.session, ctx.user_hash, ctx.actor.role, "reflection.list", "", {})
    if not rows:
        return Outcome((Reply(t.LIST_EMPTY),), _staff_state(ctx, None))
    today = ctx.services.today()
    choices = tuple(
        Choice(
            t.LIST_ITEM.format(
                flag="⏰ " if is_overdue(r.due_date, today) else "",
                ref=reference(r.id),
                due=_fmt(r.due_date),
            ),
            StaffReflection("v", r.id).pack(),
        )
        for r in rows
    )
    return Outcome((Reply(t.LIST_HEAD.format(count=len(rows)), choices),), _staff_state(ctx, None))


async def _visible(ctx: Context, ident: int | None) -> Reflection | None:
    if ident is None:
        return None
    return await repo.visible(ctx.session, ident, ctx.actor)


async def staff_button(ctx: Context) -> Outcome:
    """Staff buttons ("ps:..."): view, answer, forward (pick a target), not in scope, cancel."""
    pressed = StaffReflection.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    action = pressed.action
    if action == "x":
        return Outcome((Reply(t.STAFF_CANCELLED),), _staff_state(ctx, None))
    reflection = await _visible(ctx, pressed.reflection)
    if reflection is None:
        return Outcome((Reply(t.GONE),), _staff_state(ctx, None))
    ref = reference(reflection.id)
    if action == "v":
        return await _detail(ctx, reflection)
    if reflection.status != OPEN:
        return Outcome((Reply(t.NOT_OPEN.format(ref=ref)),), _staff_state(ctx, None))
    cancel = (Choice(t.CANCEL, STAFF_CANCEL_VALUE),)
    if action == "a":
        draft = StaffDraft("answer", reflection.id)
        return Outcome((Reply(t.ASK_ANSWER, cancel),), _staff_state(ctx, draft))
    if action == "f":
        draft = StaffDraft("target", reflection.id)
        return Outcome((Reply(t.ASK_TARGET, cancel),), _staff_state(ctx, draft))
    if action == "n":
        draft = StaffDraft("scope", reflection.id)
        return Outcome((Reply(t.ASK_SCOPE_REASON, cancel),), _staff_state(ctx, draft))
    if action == "t":
        target = await ctx.session.get(Agency, pressed.target or 0)
        if target is None or target.id == reflection.agency_id or not target.active:
            return await _stale(ctx)
        if not repo.may_hold(await repo.scope_of(ctx.session, reflection), target):
            return Outcome((Reply(t.TARGET_NOT_ALLOWED, cancel),), ctx.state)
        reply = Reply(t.ASK_FORWARD_REASON.format(agency=target.name), cancel)
        draft = StaffDraft("forward", reflection.id, target.id)
        return Outcome((reply,), _staff_state(ctx, draft))
    return await _stale(ctx)


async def _detail(ctx: Context, reflection: Reflection) -> Outcome:
    agency = await ctx.session.get(Agency, reflection.agency_id)
    name = reflection.display_name or "—"
    who = name if repo.handles(reflection, ctx.actor) else mask_name(name) or "—"
    overdue = reflection.status == OPEN and is_overdue(reflection.due_date, ctx.services.today())
    text = t.DETAIL.format(
        ref=reference(reflection.id),
        flag=t.OVERDUE_FLAG if overdue else "",
        who=who,
        agency=agency.name if agency else "—",
        about=await _about(ctx, reflection),
        received=_fmt(reflection.received_date),
        due=_fmt(reflection.due_date),
        text=reflection.text,
    )
    photos = await repo.attachments_of(ctx.session, reflection.id)
    replies: list[Reply] = []
    if photos:
        name = f"{reference(reflection.id)}.{photos[0].mime_type.rpartition('/')[2]}"
        image = Attachment(name, photos[0].content, photos[0].mime_type)
        replies.append(Reply(t.DETAIL_PHOTOS.format(count=len(photos)), image=image))
    actions: tuple[Choice, ...] = ()
    if reflection.status == OPEN:
        actions = (
            Choice(t.DO_ANSWER, StaffReflection("a", reflection.id).pack()),
            Choice(t.DO_FORWARD, StaffReflection("f", reflection.id).pack()),
            Choice(t.DO_NOT_IN_SCOPE, StaffReflection("n", reflection.id).pack()),
        )
    replies.append(Reply(text, actions))
    await audit.record(
        ctx.session, ctx.user_hash, ctx.actor.role, "reflection.view", reference(reflection.id)
    )
    return Outcome(tuple(replies), _staff_state(ctx, None))


async def staff_continue(ctx: Context) -> Outcome:
    """Free text in the staff flow: the answer, a forward's target or reason, a closure's reason."""
    draft = ctx.state.flow if isinstance(ctx.state.flow, StaffDraft) else StaffDraft("answer")
    reflection = await _visible(ctx, draft.reflection)
    if reflection is None:
        return Outcome((Reply(t.GONE),), _staff_state(ctx, None))
    if reflection.status != OPEN:
        ref = reference(reflection.id)
        return Outcome((Reply(t.NOT_OPEN.format(ref=ref)),), _staff_state(ctx, None))
    text = ctx.incoming.text.strip()
    cancel = Choice(t.CANCEL, STAFF_CANCEL_VALUE)
    step = draft.step
    if step == "target":
        return await _targets(ctx, reflection, text)
    if step == "answer":
        if len(text) > MAX_ANSWER:
            return _say(ctx, t.ANSWER_TOO_LONG.format(length=len(text)), cancel)
        if len(text) < 2:
            return _say(ctx, t.ASK_ANSWER, cancel)
        return await _close(ctx, reflection, ANSWERED, text)
    if len(text) < MIN_REASON:
        return _say(ctx, t.REASON_TOO_SHORT, cancel)
    if step == "scope":
        return await _close(ctx, reflection, NOT_IN_SCOPE, text[:MAX_ANSWER])
    if step == "forward":
        target = await ctx.session.get(Agency, draft.target or 0)
        if target is None:
            return await _stale(ctx)
        return await _forward(ctx, reflection, target, text[:MAX_ANSWER])
    return await _stale(ctx)


async def _targets(ctx: Context, reflection: Reflection, text: str) -> Outcome:
    """Agencies matching a typed code or name, the current one left out."""
    agencies = [
        a
        for a in await ctx.session.scalars(select(Agency).where(Agency.active))
        if a.id != reflection.agency_id
    ]
    cancel = Choice(t.CANCEL, STAFF_CANCEL_VALUE)
    exact = [a for a in agencies if a.code.lower() == text.lower()]
    if exact:
        found = exact
    else:
        names = {a.id: fold(a.name) for a in agencies}
        by_id = {a.id: a for a in agencies}
        hits = process.extract(fold(text), names, scorer=fuzz.WRatio, limit=5, score_cutoff=60)
        found = [by_id[key] for _, _, key in hits]
    if not found:
        return _say(ctx, t.NO_TARGET, cancel)
    choices = tuple(Choice(a.name, StaffReflection("t", reflection.id, a.id).pack()) for a in found)
    return Outcome((Reply(t.PICK_TARGET, (*choices, cancel)),), ctx.state)


async def _close(ctx: Context, reflection: Reflection, status: str, text: str) -> Outcome:
    """Answer, or close as not in scope; the citizen gets it now, or when they next write."""
    reflection.status = status
    reflection.answer = text
    reflection.handled_date = ctx.services.today()
    kind = "answered" if status == ANSWERED else "closed"
    await repo.add_event(
        ctx.session,
        reflection.id,
        kind,
        ctx.user_hash,
        from_agency_id=reflection.agency_id,
        note=text,
    )
    ref = reference(reflection.id)
    await audit.record(
        ctx.session,
        ctx.user_hash,
        ctx.actor.role,
        f"reflection.{kind}",
        ref,
        {"agency": reflection.agency_id, "chars": len(text)},
    )
    agency = await ctx.session.get(Agency, reflection.agency_id)
    assert agency is not None
    sent = await delivery.send_or_hold(
        ctx.session, reflection, delivery.closing_replies(reflection, agency), "closing"
    )
    if not sent:
        await repo.add_event(ctx.session, reflection.id, "held", ctx.user_hash)
        return Outcome((Reply(t.ANSWER_HELD.format(ref=ref)),), _staff_state(ctx, None))
    done = t.ANSWERED if status == ANSWERED else t.CLOSED_DONE
    return Outcome((Reply(done.format(ref=ref)),), _staff_state(ctx, None))


async def _forward(ctx: Context, reflection: Reflection, target: Agency, reason: str) -> Outcome:
    scope = await repo.scope_of(ctx.session, reflection)
    if not repo.may_hold(scope, target):
        return Outcome((Reply(t.TARGET_NOT_ALLOWED),), _staff_state(ctx, None))
    source = reflection.agency_id
    reflection.agency_id = target.id
    reflection.escalated_at = None  # the new agency's superiors are told if it stays overdue
    await repo.add_event(
        ctx.session,
        reflection.id,
        "forwarded",
        ctx.user_hash,
        from_agency_id=source,
        to_agency_id=target.id,
        note=reason,
    )
    ref = reference(reflection.id)
    await audit.record(
        ctx.session,
        ctx.user_hash,
        ctx.actor.role,
        "reflection.forward",
        ref,
        {"from": source, "to": target.id, "reason": mask_numbers(reason)},
    )
    await _tell_staff(ctx, reflection, target, key=f"fwd{source}")
    note = t.FORWARDED.format(ref=ref, agency=target.name, due=_fmt(reflection.due_date))
    await delivery.notify_if_open(ctx.session, reflection, [Reply(note)], f"fwd:{target.id}")
    reply = Reply(t.FORWARD_DONE.format(ref=ref, agency=target.name))
    return Outcome((reply,), _staff_state(ctx, None))


TEXT_STEPS: dict[str, Callable[[Context], Awaitable[Outcome]]] = {
    "place": _place_typed,
    "photo": _photo_awaited,
    "text": _text_typed,
}
"""The citizen's flow steps that take free text; an unknown step takes the description."""
