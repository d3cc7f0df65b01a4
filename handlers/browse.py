"""Browsing the knowledge base: field, then procedure, then topic."""

from __future__ import annotations

from bot.messages import Choice, Outcome, Reply
from handlers import catalog, texts
from handlers.buttons import CategoryButton, Menu, ProcedureButton
from handlers.common import menu_choice, stale_outcome
from handlers.context import Context


async def fields(ctx: Context) -> Outcome:
    """Lists the fields (categories) of the knowledge base."""
    choices = (
        *tuple(Choice(c, catalog.category_value(c)) for c in catalog.categories(ctx.index)),
        menu_choice(texts.BACK_TO_MENU),
    )
    return Outcome((Reply(texts.CHOOSE_FIELD, choices),), ctx.state)


async def field_chosen(ctx: Context) -> Outcome:
    """Lists the procedures of a field."""
    button = CategoryButton.parse(ctx.incoming.choice)
    category = catalog.find_category(ctx.index, button.ref) if button else None
    if category is None:
        return stale_outcome(ctx)
    choices = (
        *tuple(
            Choice(p or texts.OTHER_PROCEDURE, catalog.procedure_value(category, p))
            for p in catalog.procedures(ctx.index, category)
        ),
        Choice(texts.BACK_TO_FIELDS, Menu("browse").pack()),
    )
    return Outcome((Reply(texts.CHOOSE_PROCEDURE.format(category=category), choices),), ctx.state)


async def procedure_chosen(ctx: Context) -> Outcome:
    """Lists the questions answered about a procedure."""
    button = ProcedureButton.parse(ctx.incoming.choice)
    found = catalog.find_procedure(ctx.index, button.ref) if button else None
    if found is None:
        return stale_outcome(ctx)
    category, procedure = found
    choices = (
        *tuple(
            Choice(e.question, catalog.entry_value(e))
            for e in catalog.entries_of(ctx.index, category, procedure)
        ),
        Choice(texts.BACK_TO_FIELDS, Menu("browse").pack()),
    )
    title = procedure or category
    return Outcome((Reply(texts.CHOOSE_TOPIC.format(procedure=title), choices),), ctx.state)
