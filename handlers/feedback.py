"""Ratings: the one-tap three-level rating, the optional five-aspect survey, a comment, alerts.

Every answer is stored raw (item, aspect, scale, value, valid or not), so each index is
recomputed by SQL and never kept as a running total. One rating per dossier per owner; a
"Không hài lòng" or a score of 1–2 alerts the staff of that agency who asked for alerts.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import ChatState, Choice, Outcome, Reply
from bot.privacy import mask_numbers
from handlers import texts_feedback as t
from handlers import texts_reflections as t_pakn
from handlers.context import Context
from knowledge.normalize import fold
from storage.models import (
    Agency,
    Dossier,
    FeedbackInvitation,
    FeedbackResponse,
    Procedure,
    utcnow,
)
from storage.repositories import feedback as repo
from storage.repositories import messages as message_repo
from storage.repositories import outbox, roles

FLOW = "survey"
PLACE_OFFER = "place_offer"
"""State key: the service point whose rating buttons the flow offered last."""
ASPECTS = ("tiep_can", "tthc", "cong_chuc", "ket_qua", "pakn")
MAX_COMMENT = 1000


def rating_choices(prefix: str) -> tuple[Choice, ...]:
    return tuple(Choice(label, f"{prefix}:{value}") for value, label in t.LEVEL3.items())


def invitation_reply(code: str, invitation_id: int) -> Reply:
    """The message that invites a rating when a dossier is finished."""
    return Reply(t.INVITE.format(code=code), rating_choices(f"rt:{invitation_id}"))


def _parts(ctx: Context) -> list[str]:
    return (ctx.incoming.choice or "").split(":")


async def _stale(ctx: Context) -> Outcome:
    from handlers.start import stale_choice

    return await stale_choice(ctx)


async def rate_from_invitation(ctx: Context) -> Outcome:
    """One tap on an invitation's rating ("rt:<invitation>:<level>")."""
    try:
        _, raw_id, raw_value = _parts(ctx)
        invitation_id, value = int(raw_id), int(raw_value)
    except ValueError:
        return await _stale(ctx)
    invitation = await ctx.session.get(FeedbackInvitation, invitation_id)
    if invitation is None or invitation.user_hash != ctx.user_hash or value not in t.LEVEL3:
        return await _stale(ctx)
    return await _record_rating(ctx, invitation.dossier_id, value, invitation.id)


async def rate_verified_dossier(ctx: Context) -> Outcome:
    """A rating chosen with /danhgia for a dossier verified in this conversation."""
    try:
        _, raw_id, raw_value = _parts(ctx)
        dossier_id, value = int(raw_id), int(raw_value)
    except ValueError:
        return await _stale(ctx)
    if dossier_id not in ctx.state.data.get("verified", {}).values() or value not in t.LEVEL3:
        return await _stale(ctx)
    return await _record_rating(ctx, dossier_id, value, None)


async def _record_rating(
    ctx: Context, dossier_id: int, value: int, invitation_id: int | None
) -> Outcome:
    dossier = await ctx.session.get(Dossier, dossier_id)
    if dossier is None:
        return await _stale(ctx)
    response = await repo.respond(
        ctx.session,
        kind="dossier",
        channel=ctx.incoming.chat.channel.value,
        user_hash=ctx.user_hash,
        dossier_id=dossier.id,
        agency_id=dossier.handling_agency_id,
        procedure_id=dossier.procedure_id,
        invitation_id=invitation_id,
    )
    if response is None:
        return Outcome((Reply(t.ALREADY_RATED),), ctx.state)
    return await _after_rating(ctx, response, value)


async def _after_rating(ctx: Context, response: FeedbackResponse, value: int) -> Outcome:
    await repo.answer(
        ctx.session,
        response_id=response.id,
        item_code="rating3",
        aspect="tong_the",
        scale="3",
        value=value,
    )
    if value == 1:
        await _alert(ctx.session, response, t.ALERT_RATING)
    choices = (
        Choice(t.SURVEY_YES, f"sv:{response.id}:go"),
        Choice(t.SURVEY_NO, f"sv:{response.id}:no"),
    )
    kept = {k: v for k, v in ctx.state.data.items() if k not in ("pa_low", "pa_offered")}
    state = ChatState(flow=FLOW, step="offer", data={**kept, "response": response.id})
    if value == 1:  # dissatisfied: offer a reflection that the agency must answer
        state = state.evolve(data={**state.data, "pa_offered": True})
        replies = (Reply(t.THANKS_RATING), Reply(t.ASK_SURVEY, choices), _offer(response.id))
        return Outcome(replies, state)
    return Outcome((Reply(t.THANKS_RATING), Reply(t.ASK_SURVEY, choices)), state)


def _offer(response_id: int) -> Reply:
    from handlers.reflections import offer_reply

    return offer_reply(f"r:{response_id}")


def _survey_done(data: dict[str, object], response_id: int) -> Outcome:
    """The thanks at the end of the survey, with the offer of a reflection after a score of
    1-2 (unless it was offered already after the rating)."""
    offer = data.pop("pa_low", False) and not data.get("pa_offered")
    data.pop("pa_offered", None)
    replies = (Reply(t.THANKS_SURVEY), _offer(response_id)) if offer else (Reply(t.THANKS_SURVEY),)
    return Outcome(replies, ChatState(data=data))


def _question(response_id: int, n: int) -> Reply:
    aspect = ASPECTS[n]
    choices = (
        *tuple(Choice(label, f"sv:{response_id}:{n}:{value}") for value, label in t.LEVEL5.items()),
        Choice(t.SKIP, f"sv:{response_id}:{n}:0"),
    )
    return Reply(t.SURVEY_QUESTIONS[aspect].format(n=n + 1), choices)


def _comment_prompt(response_id: int) -> Reply:
    return Reply(t.ASK_COMMENT, (Choice(t.SKIP, f"sv:{response_id}:comment:skip"),))


async def survey_button(ctx: Context) -> Outcome:
    """Starts, answers or declines the survey; refuses buttons of another or finished survey."""
    parts = _parts(ctx)
    try:
        response_id = int(parts[1])
    except (IndexError, ValueError):
        return await _stale(ctx)
    if ctx.state.flow != FLOW or ctx.state.data.get("response") != response_id:
        return await _stale(ctx)
    data = dict(ctx.state.data)
    if parts[2:] == ["no"]:
        data.pop("response", None)
        data.pop("pa_offered", None)
        return Outcome((Reply(t.THANKS_SURVEY),), ChatState(data=data))
    if parts[2:] == ["go"] and ctx.state.step == "offer":
        return Outcome((_question(response_id, 0),), ctx.state.evolve(step="q0"))
    if parts[2:] == ["comment", "skip"] and ctx.state.step == "comment":
        data.pop("response", None)
        return _survey_done(data, response_id)
    try:
        n, value = int(parts[2]), int(parts[3])
    except (IndexError, ValueError):
        return await _stale(ctx)
    if ctx.state.step != f"q{n}" or not 0 <= value <= 5:
        return await _stale(ctx)
    response = await ctx.session.get(FeedbackResponse, response_id)
    if response is None or response.user_hash != ctx.user_hash:
        return await _stale(ctx)
    aspect = ASPECTS[n]
    await repo.answer(
        ctx.session,
        response_id=response_id,
        item_code=f"sipas.{aspect}",
        aspect=aspect,
        scale="5",
        value=value or None,
    )
    state = ctx.state
    if value in (1, 2):
        detail = t.ALERT_ASPECT.format(aspect=t.ASPECT_NAMES[aspect], value=value)
        await _alert(ctx.session, response, detail)
        state = state.evolve(data={**state.data, "pa_low": True})
    if n + 1 < len(ASPECTS):
        return Outcome((_question(response_id, n + 1),), state.evolve(step=f"q{n + 1}"))
    return Outcome((_comment_prompt(response_id),), state.evolve(step="comment"))


async def continue_flow(ctx: Context) -> Outcome:
    """Free text during the survey: the comment at its end; otherwise repeat the question."""
    response_id = int(ctx.state.data.get("response", 0))
    step = ctx.state.step or ""
    if step == "place":
        return await _place_typed(ctx)
    if step != "comment":
        if step.startswith("q"):
            return Outcome((_question(response_id, int(step[1:])),), ctx.state)
        from handlers.faq import answer_question

        return await answer_question(ctx)
    text = ctx.incoming.text.strip()
    if len(text) > MAX_COMMENT:
        return Outcome((Reply(t.COMMENT_TOO_LONG.format(length=len(text))),), ctx.state)
    await repo.set_comment(ctx.session, response_id, mask_numbers(text))
    data = {k: v for k, v in ctx.state.data.items() if k != "response"}
    return _survey_done(data, response_id)


async def start_rating(ctx: Context) -> Outcome:
    """/danhgia: rate a dossier verified in this conversation, or a service point."""
    verified: dict[str, int] = dict(ctx.state.data.get("verified", {}))
    place = Choice(t.RATE_PLACE, "dg:place")
    reflect = Choice(t_pakn.OFFER_YES_MENU, "m:pakn")  # reflections (handlers/reflections.py)
    if not verified:
        return Outcome((Reply(t.LOOKUP_FIRST, (place, reflect)),), ctx.state)
    choices = (
        *tuple(
            Choice(t.RATE_DOSSIER.format(code=code), f"dg:d:{dossier_id}")
            for code, dossier_id in verified.items()
        ),
        place,
        reflect,
    )
    return Outcome((Reply(t.WHAT_TO_RATE, choices),), ctx.state)


async def rating_menu_button(ctx: Context) -> Outcome:
    """The choices of /danhgia: a verified dossier, a service point, an agency found by name."""
    parts = _parts(ctx)
    if parts[1:] == ["place"]:
        return Outcome((Reply(t.ASK_PLACE),), ctx.state.evolve(flow=FLOW, step="place"))
    try:
        ident = int(parts[2])
    except (IndexError, ValueError):
        return await _stale(ctx)
    if parts[1] == "d":
        if ident not in ctx.state.data.get("verified", {}).values():
            return await _stale(ctx)
        dossier = await ctx.session.get(Dossier, ident)
        if dossier is None:
            return await _stale(ctx)
        if await repo.already_rated(ctx.session, dossier.id, ctx.user_hash):
            return Outcome((Reply(t.ALREADY_RATED),), ctx.state)
        prompt = t.RATE_DOSSIER_PROMPT.format(code=dossier.code)
        return Outcome((Reply(prompt, rating_choices(f"rd:{dossier.id}")),), ctx.state)
    if parts[1] == "a":
        if ctx.incoming.choice not in ctx.state.offered:
            return await _stale(ctx)  # a place is chosen among those the flow just offered
        agency = await ctx.session.get(Agency, ident)
        if agency is None:
            return await _stale(ctx)
        prompt = t.RATE_PLACE_PROMPT.format(agency=agency.name)
        # The rating buttons are valid only for the place this flow offered (rate_place).
        state = ctx.state.evolve(data={**ctx.state.data, PLACE_OFFER: agency.id})
        return Outcome((Reply(prompt, rating_choices(f"ra:{agency.id}")),), state)
    return await _stale(ctx)


async def _place_typed(ctx: Context) -> Outcome:
    names = {a.id: a.name for a in await ctx.session.scalars(select(Agency).where(Agency.active))}
    if not names:
        return Outcome((Reply(t.NO_PLACE),), ctx.state)
    found = process.extract(
        fold(ctx.incoming.text),
        {i: fold(n) for i, n in names.items()},
        scorer=fuzz.WRatio,
        limit=5,
        score_cutoff=60,
    )
    if not found:
        return Outcome((Reply(t.NO_PLACE),), ctx.state)
    choices = tuple(Choice(names[key], f"dg:a:{key}") for _, _, key in found)
    return Outcome((Reply(t.PICK_PLACE, choices),), ctx.state.evolve(flow=None, step=None))


async def rate_place(ctx: Context) -> Outcome:
    """A rating of a service point without a dossier ("ra:<agency>:<level>")."""
    try:
        _, raw_id, raw_value = _parts(ctx)
        agency_id, value = int(raw_id), int(raw_value)
    except ValueError:
        return await _stale(ctx)
    if ctx.state.data.get(PLACE_OFFER) != agency_id:
        return await _stale(ctx)  # not offered by the rating flow: a forged or old button
    agency = await ctx.session.get(Agency, agency_id)
    if agency is None or value not in t.LEVEL3:
        return await _stale(ctx)
    data = {k: v for k, v in ctx.state.data.items() if k != PLACE_OFFER}
    ctx.state = ctx.state.evolve(data=data)
    today = ctx.services.today().isoformat()
    response = await repo.respond(
        ctx.session,
        kind="service_point",
        channel=ctx.incoming.chat.channel.value,
        user_hash=ctx.user_hash,
        dossier_id=None,
        agency_id=agency.id,
        procedure_id=None,
        invitation_id=None,
        dedupe_key=f"place:{agency.id}:{today}:{ctx.user_hash}",
    )
    if response is None:
        return Outcome((Reply(t.ALREADY_RATED_PLACE),), ctx.state)
    return await _after_rating(ctx, response, value)


async def trip_saved(ctx: Context) -> Outcome:
    """Whether an answer saved the citizen a trip ("tr:<message>:<0|1>")."""
    try:
        _, raw_id, raw_value = _parts(ctx)
        message_id = int(raw_id)
    except ValueError:
        return await _stale(ctx)
    updated = await message_repo.set_trip_saved(
        ctx.session, message_id=message_id, user_hash=ctx.user_hash, saved=raw_value == "1"
    )
    if not updated:
        return await _stale(ctx)
    return Outcome((Reply(t.THANKS_TRIP),), ctx.state)


async def _alert(session: AsyncSession, response: FeedbackResponse, detail: str) -> None:
    """Queue an alert for the staff of the rated agency who asked for alerts."""
    agency = await session.get(Agency, response.agency_id) if response.agency_id else None
    procedure = (
        await session.get(Procedure, response.procedure_id) if response.procedure_id else None
    )
    dossier = await session.get(Dossier, response.dossier_id) if response.dossier_id else None
    text = t.ALERT.format(
        agency=agency.name if agency else "—",
        procedure=procedure.name if procedure else "—",
        code=dossier.code if dossier else "—",
        detail=detail,
    )
    from bot.domain.outbox_payload import replies_to_payload

    # Service-point ratings carry no proof of a visit: their alerts are grouped, one per place
    # and hour for each staff member, so that a flood of them cannot flood the staff.
    source = (
        f"place:{response.agency_id}:{utcnow():%Y%m%d%H}"
        if response.kind == "service_point"
        else str(response.id)
    )
    for staff in await roles.alert_recipients(session, agency):
        await outbox.enqueue(
            session,
            dedupe_key=f"alert:{source}:{detail}:{staff.user_hash}"[:160],
            channel=staff.channel,
            chat_id=staff.user_id,
            payload=replies_to_payload([Reply(text)]),
        )
