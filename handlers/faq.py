"""Answering questions from the knowledge base, and the citizen's verdict on an answer."""

from __future__ import annotations

from bot.messages import Choice, Outcome, Reply
from handlers import answer_footer, catalog, texts
from handlers.context import Context
from knowledge.entry import Entry
from knowledge.search import Decision, SearchResult
from storage.repositories import messages as message_repo

MAX_RELATED = 3
MAX_SUGGESTIONS = 3


def _related(ctx: Context, entry: Entry, result: SearchResult | None) -> list[Entry]:
    """Other matches first (they are what the question was near), then the same procedure."""
    found: list[Entry] = []
    if result is not None:
        floor = ctx.index.thresholds.suggest
        found += [m.entry for m in result.matches[1:] if m.score >= floor]
    if entry.procedure:
        found += [e for e in ctx.index.entries if e.procedure == entry.procedure]
    unique = [e for e in dict.fromkeys(found) if e.id != entry.id]
    return unique[:MAX_RELATED]


async def _answer(
    ctx: Context, entry: Entry, question: str, score: float | None, result: SearchResult | None
) -> Outcome:
    message_id = await ctx.record_question(question, Decision.ANSWER.value, entry.id, score)
    related = tuple(
        Choice(e.question, catalog.entry_value(e)) for e in _related(ctx, entry, result)
    )
    replies = [Reply(await answer_footer.answer_text(ctx, entry))]
    if related:
        replies.append(Reply(texts.RELATED, related))
    replies.append(
        Reply(
            texts.WAS_IT_HELPFUL,
            (
                Choice(texts.HELPFUL_YES, f"hf:{message_id}:1"),
                Choice(texts.HELPFUL_NO, f"hf:{message_id}:0"),
            ),
        )
    )
    # Answering a question ends any flow (a lookup left half-way, for instance).
    return Outcome(tuple(replies), ctx.state.evolve(last_entry=entry.id, flow=None, step=None))


async def answer_question(ctx: Context) -> Outcome:
    """Searches the knowledge base and answers, suggests close questions, or falls back."""
    question = ctx.incoming.text.strip()
    result = ctx.index.search(question, k=5)
    best = result.best
    if result.decision is Decision.ANSWER and best is not None:
        return await _answer(ctx, best.entry, question, best.score, result)
    if result.decision is Decision.SUGGEST and best is not None:
        await ctx.record_question(question, Decision.SUGGEST.value, best.entry.id, best.score)
        choices = (
            *tuple(
                Choice(m.entry.question, catalog.entry_value(m.entry))
                for m in result.matches[:MAX_SUGGESTIONS]
            ),
            Choice(texts.NONE_OF_THESE, "m:none"),
        )
        return Outcome((Reply(texts.DID_YOU_MEAN, choices),), ctx.state)
    await ctx.record_question(
        question,
        Decision.FALLBACK.value,
        best.entry.id if best else None,
        best.score if best else None,
    )
    return fallback_outcome(ctx)


def fallback_outcome(ctx: Context) -> Outcome:
    choices = (Choice(texts.MENU_BROWSE, "m:browse"), Choice(texts.BACK_TO_MENU, "m:menu"))
    return Outcome((Reply(texts.FALLBACK.format(hotline=ctx.hotline), choices),), ctx.state)


async def none_of_these(ctx: Context) -> Outcome:
    """The suggestions missed: say so and offer the other ways to get help."""
    return fallback_outcome(ctx)


async def show_entry(ctx: Context) -> Outcome:
    """Answers with the entry behind a tapped suggestion, related question or topic."""
    from handlers.start import stale_choice

    entry = catalog.find_entry(ctx.index, ctx.incoming.choice or "")
    if entry is None:
        return await stale_choice(ctx)
    return await _answer(ctx, entry, entry.question, None, None)


async def answer_feedback(ctx: Context) -> Outcome:
    """Stores whether an answer helped; each answer can be rated once, by its asker."""
    from handlers.start import stale_choice

    try:
        _, raw_id, raw_value = (ctx.incoming.choice or "").split(":")
        message_id, helpful = int(raw_id), raw_value == "1"
    except ValueError:
        return await stale_choice(ctx)
    owner = await message_repo.message_owner(ctx.session, message_id)
    if owner is None or owner[0] != ctx.user_hash:
        return await stale_choice(ctx)
    stored = await message_repo.add_answer_feedback(
        ctx.session,
        message_id=message_id,
        channel=ctx.incoming.chat.channel.value,
        user_hash=ctx.user_hash,
        entry_id=owner[1],
        helpful=helpful,
    )
    if not stored:
        return Outcome((Reply(texts.ALREADY_RATED),), ctx.state)
    if not helpful:
        return Outcome((Reply(texts.THANKS_NOT_HELPFUL.format(hotline=ctx.hotline)),), ctx.state)
    from handlers import texts_feedback

    trip = Reply(
        texts_feedback.ASK_TRIP,
        (
            Choice(texts_feedback.TRIP_YES, f"tr:{message_id}:1"),
            Choice(texts_feedback.TRIP_NO, f"tr:{message_id}:0"),
        ),
    )
    return Outcome((Reply(texts.THANKS_HELPFUL), trip), ctx.state)
