"""Ratings: the one-tap three-level rating, the optional five-aspect survey, a comment, alerts.

Every answer is stored raw (item, aspect, scale, value, valid or not), so each index is
recomputed by SQL and never kept as a running total. One rating per dossier per owner; a
"Không hài lòng" or a score of 1–2 alerts the staff of that agency who asked for alerts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.outbox_payload import replies_to_payload
from bot.domain.privacy import mask_numbers
from bot.flowstate import FlowState
from bot.messages import ChatState, Choice, Outcome, Reply
from handlers import texts_feedback as t
from handlers import texts_reflections as t_pakn
from handlers.buttons import (
    DossierRating,
    InvitationRating,
    Menu,
    PlaceRating,
    RatingMenu,
    ReflectionButton,
    Survey,
    SurveyStep,
    TripSaved,
)
from handlers.common import stale_outcome
from handlers.context import Context, after_flow, start_flow, with_state
from handlers.reflections import offer_reply
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
ASPECTS = ("tiep_can", "tthc", "cong_chuc", "ket_qua", "pakn")
MAX_COMMENT = 1000
_STEPS: tuple[SurveyStep, ...] = ("0", "1", "2", "3", "4")  # the buttons' step of each question
_FLOW_STEPS: tuple[SurveyFlowStep, ...] = ("q0", "q1", "q2", "q3", "q4")  # the flow's steps
_QUESTION_STEPS: dict[str, int] = {step: n for n, step in enumerate(_FLOW_STEPS)}


SurveyFlowStep = Literal["offer", "q0", "q1", "q2", "q3", "q4", "comment", "place"]


@dataclass(frozen=True)
class SurveyFlow(FlowState, tag=FLOW):
    """After a rating: the survey offered, its questions, the comment; or a service point's
    name asked for (step "place")."""

    step: SurveyFlowStep
    response: int = 0
    low_score: bool = False
    """A question was scored 1-2: a reflection is offered at the end."""
    reflection_offered: bool = False
    """A reflection was offered already, after a "Không hài lòng" rating."""


def _survey(ctx: Context) -> SurveyFlow | None:
    return ctx.state.flow if isinstance(ctx.state.flow, SurveyFlow) else None


def rating_choices(
    kind: type[InvitationRating | DossierRating | PlaceRating], ident: int
) -> tuple[Choice, ...]:
    """The three levels as buttons of one rating kind, for one invitation, dossier or place."""
    return tuple(Choice(label, kind(ident, value).pack()) for value, label in t.LEVEL3.items())


def invitation_reply(code: str, invitation_id: int) -> Reply:
    """The message that invites a rating when a dossier is finished."""
    return Reply(t.INVITE.format(code=code), rating_choices(InvitationRating, invitation_id))


async def _stale(ctx: Context) -> Outcome:
    return stale_outcome(ctx)


async def rate_from_invitation(ctx: Context) -> Outcome:
    """One tap on an invitation's rating ("rt:<invitation>:<level>")."""
    pressed = InvitationRating.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    value = pressed.level
    invitation = await ctx.session.get(FeedbackInvitation, pressed.invitation)
    if invitation is None or invitation.user_hash != ctx.user_hash or value not in t.LEVEL3:
        return await _stale(ctx)
    return await _record_rating(ctx, invitation.dossier_id, value, invitation.id)


async def rate_verified_dossier(ctx: Context) -> Outcome:
    """A rating chosen with /danhgia for a dossier verified in this conversation."""
    pressed = DossierRating.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    dossier_id, value = pressed.dossier, pressed.level
    if dossier_id not in ctx.state.memory.verified.values() or value not in t.LEVEL3:
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
        Choice(t.SURVEY_YES, Survey(response.id, "go").pack()),
        Choice(t.SURVEY_NO, Survey(response.id, "no").pack()),
    )
    offered = value == 1  # dissatisfied: offer a reflection that the agency must answer
    flow = SurveyFlow("offer", response=response.id, reflection_offered=offered)
    state = start_flow(ctx.state, flow)
    if offered:
        replies = (Reply(t.THANKS_RATING), Reply(t.ASK_SURVEY, choices), _offer(response.id))
        return Outcome(replies, state)
    return Outcome((Reply(t.THANKS_RATING), Reply(t.ASK_SURVEY, choices)), state)


def _offer(response_id: int) -> Reply:
    return offer_reply(ReflectionButton("r", response_id))


def _survey_done(state: ChatState, flow: SurveyFlow) -> Outcome:
    """The thanks at the end of the survey, with the offer of a reflection after a score of
    1-2 (unless it was offered already after the rating)."""
    thanks = Reply(t.THANKS_SURVEY)
    offer = flow.low_score and not flow.reflection_offered
    replies = (thanks, _offer(flow.response)) if offer else (thanks,)
    return Outcome(replies, after_flow(state))


def _question(response_id: int, n: int) -> Reply:
    aspect = ASPECTS[n]
    choices = (
        *tuple(
            Choice(label, Survey(response_id, _STEPS[n], str(value)).pack())
            for value, label in t.LEVEL5.items()
        ),
        Choice(t.SKIP, Survey(response_id, _STEPS[n], "0").pack()),
    )
    return Reply(t.SURVEY_QUESTIONS[aspect].format(n=n + 1), choices)


def _comment_prompt(response_id: int) -> Reply:
    return Reply(t.ASK_COMMENT, (Choice(t.SKIP, Survey(response_id, "comment", "skip").pack()),))


async def survey_button(ctx: Context) -> Outcome:
    """Starts, answers or declines the survey; refuses buttons of another or finished survey."""
    pressed = Survey.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    response_id = pressed.response
    flow = _survey(ctx)
    if flow is None or flow.response != response_id:
        return await _stale(ctx)
    parts = [pressed.step] + ([pressed.value] if pressed.value is not None else [])
    if parts == ["no"]:
        return Outcome((Reply(t.THANKS_SURVEY),), after_flow(ctx.state))
    if parts == ["go"] and flow.step == "offer":
        return Outcome((_question(response_id, 0),), _at(ctx, flow, "q0"))
    if parts == ["comment", "skip"] and flow.step == "comment":
        return _survey_done(ctx.state, flow)
    try:
        n, value = int(pressed.step), int(pressed.value or "")
    except ValueError:
        return await _stale(ctx)
    if flow.step != f"q{n}" or not 0 <= value <= 5:
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
    if value in (1, 2):
        detail = t.ALERT_ASPECT.format(aspect=t.ASPECT_NAMES[aspect], value=value)
        await _alert(ctx.session, response, detail)
        flow = replace(flow, low_score=True)
    if n + 1 < len(ASPECTS):
        return Outcome((_question(response_id, n + 1),), _at(ctx, flow, _FLOW_STEPS[n + 1]))
    return Outcome((_comment_prompt(response_id),), _at(ctx, flow, "comment"))


def _at(ctx: Context, flow: SurveyFlow, step: SurveyFlowStep) -> ChatState:
    return ctx.state.evolve(flow=replace(flow, step=step))


async def continue_flow(ctx: Context) -> Outcome:
    """Free text during the survey, routed by the step (``TEXT_STEPS``): the place's name, the
    comment at the end, or the question repeated; at any other step (the survey offered) the
    flow steps aside and the message is answered as a question."""
    step = ctx.state.step or ""
    handler = TEXT_STEPS.get(step, _step_aside)
    return await handler(ctx)


async def _step_aside(ctx: Context) -> Outcome:
    return Outcome((), ctx.state, reroute=True)


async def _repeat_question(ctx: Context) -> Outcome:
    flow = _survey(ctx)
    response_id = flow.response if flow else 0
    n = _QUESTION_STEPS[ctx.state.step or ""]
    return Outcome((_question(response_id, n),), ctx.state)


async def _comment_typed(ctx: Context) -> Outcome:
    flow = _survey(ctx) or SurveyFlow("comment")
    text = ctx.incoming.text.strip()
    if len(text) > MAX_COMMENT:
        return Outcome((Reply(t.COMMENT_TOO_LONG.format(length=len(text))),), ctx.state)
    await repo.set_comment(ctx.session, flow.response, mask_numbers(text))
    return _survey_done(ctx.state, flow)


async def start_rating(ctx: Context) -> Outcome:
    """/danhgia: rate a dossier verified in this conversation, or a service point."""
    verified = ctx.state.memory.verified
    place = Choice(t.RATE_PLACE, RatingMenu("place").pack())
    reflect = Choice(
        t_pakn.OFFER_YES_MENU, Menu("pakn").pack()
    )  # reflections (handlers/reflections.py)
    if not verified:
        return Outcome((Reply(t.LOOKUP_FIRST, (place, reflect)),), ctx.state)
    choices = (
        *tuple(
            Choice(t.RATE_DOSSIER.format(code=code), RatingMenu("d", dossier_id).pack())
            for code, dossier_id in verified.items()
        ),
        place,
        reflect,
    )
    return Outcome((Reply(t.WHAT_TO_RATE, choices),), ctx.state)


async def rating_menu_button(ctx: Context) -> Outcome:
    """The choices of /danhgia: a verified dossier, a service point, an agency found by name."""
    pressed = RatingMenu.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    if pressed.kind == "place" and pressed.ident is None:
        return Outcome((Reply(t.ASK_PLACE),), ctx.state.evolve(flow=SurveyFlow("place")))
    ident = pressed.ident
    if ident is None:
        return await _stale(ctx)
    if pressed.kind == "d":
        if ident not in ctx.state.memory.verified.values():
            return await _stale(ctx)
        dossier = await ctx.session.get(Dossier, ident)
        if dossier is None:
            return await _stale(ctx)
        if await repo.already_rated(ctx.session, dossier.id, ctx.user_hash):
            return Outcome((Reply(t.ALREADY_RATED),), ctx.state)
        prompt = t.RATE_DOSSIER_PROMPT.format(code=dossier.code)
        return Outcome((Reply(prompt, rating_choices(DossierRating, dossier.id)),), ctx.state)
    if pressed.kind == "a":
        if ctx.incoming.choice not in ctx.state.offered:
            return await _stale(ctx)  # a place is chosen among those the flow just offered
        agency = await ctx.session.get(Agency, ident)
        if agency is None:
            return await _stale(ctx)
        prompt = t.RATE_PLACE_PROMPT.format(agency=agency.name)
        # The rating buttons are valid only for the place this flow offered (rate_place).
        state = ctx.state.evolve(memory=replace(ctx.state.memory, place_offer=agency.id))
        return Outcome((Reply(prompt, rating_choices(PlaceRating, agency.id)),), state)
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
    choices = tuple(Choice(names[key], RatingMenu("a", key).pack()) for _, _, key in found)
    return Outcome((Reply(t.PICK_PLACE, choices),), ctx.state.evolve(flow=None))


async def rate_place(ctx: Context) -> Outcome:
    """A rating of a service point without a dossier ("ra:<agency>:<level>")."""
    pressed = PlaceRating.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    agency_id, value = pressed.agency, pressed.level
    if ctx.state.memory.place_offer != agency_id:
        return await _stale(ctx)  # not offered by the rating flow: a forged or old button
    agency = await ctx.session.get(Agency, agency_id)
    if agency is None or value not in t.LEVEL3:
        return await _stale(ctx)
    ctx = with_state(ctx, ctx.state.evolve(memory=replace(ctx.state.memory, place_offer=None)))
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
    pressed = TripSaved.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    updated = await message_repo.set_trip_saved(
        ctx.session, message_id=pressed.message, user_hash=ctx.user_hash, saved=pressed.saved
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


TEXT_STEPS: dict[str, Callable[[Context], Awaitable[Outcome]]] = {
    "place": _place_typed,
    "comment": _comment_typed,
    **dict.fromkeys(_QUESTION_STEPS, _repeat_question),
}
"""The survey flow's steps that take free text; any other step steps aside."""
