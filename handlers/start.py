"""Greeting, main menu, help, and the notes for what the assistant cannot read."""

from __future__ import annotations

from bot.messages import ChatState, Outcome, Reply
from handlers import texts
from handlers.common import main_menu_choices
from handlers.context import Context
from handlers.staff import staff_help


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
    text = texts.HELP.format(hotline=ctx.hotline)
    extra = staff_help(ctx.actor.role)  # staff and admins also see their own commands
    reply = Reply(f"{text}\n\n{extra}" if extra else text, main_menu_choices())
    return Outcome((reply,), ctx.state)


async def ask_prompt(ctx: Context) -> Outcome:
    """The main menu's "ask a question": invites the citizen to type it."""
    return Outcome((Reply(texts.ASK_PROMPT),), ctx.state)


async def unknown_command(ctx: Context) -> Outcome:
    """Answers a command the citizen may not use or that does not exist."""
    return Outcome((Reply(texts.UNKNOWN_COMMAND),), ctx.state)


async def unsupported(ctx: Context) -> Outcome:
    """Says what the assistant understands when it receives a photo, sticker, voice..."""
    return Outcome((Reply(texts.UNSUPPORTED),), ctx.state)


async def file_received(ctx: Context) -> Outcome:
    """Says that files are not taken through the chat."""
    return Outcome((Reply(texts.FILE_NOT_ACCEPTED),), ctx.state)
