"""Greeting, main menu, help, and the notes for what the assistant cannot read."""

from __future__ import annotations

from bot.messages import ChatState, Choice, Outcome, Reply
from handlers import texts
from handlers.context import Context


def main_menu_choices() -> tuple[Choice, ...]:
    return (
        Choice(texts.MENU_ASK, "m:ask"),
        Choice(texts.MENU_BROWSE, "m:browse"),
        Choice(texts.MENU_DOSSIER, "m:dossier"),
        Choice(texts.MENU_RATE, "m:rate"),
        Choice(texts.MENU_HELP, "m:help"),
    )


async def greet(ctx: Context) -> Outcome:
    """Greets the citizen, says what the assistant does, and shows the main menu."""
    return Outcome(
        (Reply(texts.GREETING), Reply(texts.MENU_PROMPT, main_menu_choices())), ChatState()
    )


async def menu(ctx: Context) -> Outcome:
    """Shows the main menu and leaves any flow."""
    return Outcome((Reply(texts.MENU_PROMPT, main_menu_choices()),), ChatState())


async def help_text(ctx: Context) -> Outcome:
    """Explains how to use the assistant."""
    from handlers.staff import staff_help

    text = texts.HELP.format(hotline=ctx.hotline)
    extra = staff_help(ctx.actor.role)  # staff and admins also see their own commands
    reply = Reply(f"{text}\n\n{extra}" if extra else text, main_menu_choices())
    return Outcome((reply,), ctx.state)


async def menu_choice(ctx: Context) -> Outcome:
    """Acts on a main-menu button."""
    from handlers import browse

    value = ctx.incoming.choice or ""
    if value == "m:browse":
        return await browse.fields(ctx)
    if value == "m:help":
        return await help_text(ctx)
    if value == "m:ask":
        return Outcome((Reply(texts.ASK_PROMPT),), ctx.state)
    return await menu(ctx)


async def unknown_command(ctx: Context) -> Outcome:
    """Answers a command the citizen may not use or that does not exist."""
    return Outcome((Reply(texts.UNKNOWN_COMMAND),), ctx.state)


async def stale_choice(ctx: Context) -> Outcome:
    """Answers a button from an old message or a finished flow, politely."""
    return Outcome((Reply(texts.STALE_CHOICE, main_menu_choices()),), ctx.state)


async def unsupported(ctx: Context) -> Outcome:
    """Says what the assistant understands when it receives a photo, sticker, voice..."""
    return Outcome((Reply(texts.UNSUPPORTED),), ctx.state)


async def file_received(ctx: Context) -> Outcome:
    """Says that files are not taken through the chat."""
    return Outcome((Reply(texts.FILE_NOT_ACCEPTED),), ctx.state)
