"""Replies shared by every flow: the main menu and the polite answer to a stale button.

Kept apart from ``handlers.start`` so that any handler may use them without importing
another flow (no import cycles between handler modules).
"""

from __future__ import annotations

from bot.messages import Choice, Outcome, Reply
from handlers import texts
from handlers.buttons import Menu
from handlers.context import Context


def main_menu_choices() -> tuple[Choice, ...]:
    return (
        Choice(texts.MENU_ASK, Menu("ask").pack()),
        Choice(texts.MENU_BROWSE, Menu("browse").pack()),
        Choice(texts.MENU_DOSSIER, Menu("dossier").pack()),
        Choice(texts.MENU_RATE, Menu("rate").pack()),
        Choice(texts.MENU_HELP, Menu("help").pack()),
    )


def menu_choice(label: str) -> Choice:
    """ "Về menu chính" and the like: a button that shows the main menu."""
    return Choice(label, Menu("menu").pack())


def stale_outcome(ctx: Context) -> Outcome:
    """A button from an old message, a finished flow, or no valid button at all: say so
    politely and show the main menu; the state is kept."""
    return Outcome((Reply(texts.STALE_CHOICE, main_menu_choices()),), ctx.state)


async def stale_choice(ctx: Context) -> Outcome:
    """The handler form of ``stale_outcome`` (the router's fallback for buttons)."""
    return stale_outcome(ctx)
