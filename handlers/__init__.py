"""Channel-neutral conversation logic and ROUTES, the one routing table.

Routing order: an active flow, then a command, then a button, then a file or an unsupported
message kind, then free text. Flows, commands and buttons are found by exact key (a flow's
name, a command, a button's prefix from ``handlers.buttons``, or its prefix and first field
such as "m:help"), never by the order of the rows; among rows with the same key, the first
one this actor's role may use wins. Free text goes to the first "text" row whose ``match``
takes it, else the last "text" row.

A flow that steps aside returns ``Outcome(reroute=True)``: its replies are sent first, and the
message is then answered by the free-text row (the question answerer) in the state it left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from bot.messages import ChatState, Incoming, Outcome
from handlers import (
    admin,
    browse,
    callbacks,
    common,
    dossier,
    faq,
    feedback,
    reflections,
    review,
    staff,
    start,
    stats,
)
from handlers.context import Context, with_state

Handler = Callable[[Context], Awaitable[Outcome]]
STAFF_ROLES = frozenset({"staff", "admin"})
Kind = Literal["flow", "command", "button", "file", "unsupported", "text"]


@dataclass(frozen=True, slots=True)
class Route:
    """One row: what kind of input, which key (flow name, command, button prefix or prefix and
    first field), who handles.

    A "text" row with ``match`` takes only the free text it matches (a pasted dossier code);
    the last "text" row takes the rest.
    """

    kind: Kind
    key: str
    handler: Handler
    match: Callable[[str], bool] | None = None
    roles: frozenset[str] = frozenset()  # empty: everyone; else only these roles


ROUTES: tuple[Route, ...] = (
    # kind        key          handler
    Route("flow", dossier.FLOW, dossier.continue_flow),
    Route("flow", feedback.FLOW, feedback.continue_flow),
    Route("command", "start", start.greet),
    Route("command", "menu", start.menu),
    Route("command", "help", start.help_text),
    Route("command", "trogiup", start.help_text),
    Route("command", "tracuu", dossier.ask_code),
    Route("command", "huythongbao", dossier.unsubscribe_all),
    Route("command", "danhgia", feedback.start_rating),
    Route("command", "thongke", stats.statistics, roles=STAFF_ROLES),
    Route("command", "baocao", stats.excel_report, roles=STAFF_ROLES),
    Route("command", "canhbao", stats.alerts, roles=STAFF_ROLES),
    Route("command", "dangnhap", staff.sign_in_link, roles=STAFF_ROLES),
    # buttons: the main menu's items one by one, then every other kind (handlers/buttons.py)
    Route("button", "m:menu", start.menu),
    Route("button", "m:ask", start.ask_prompt),
    Route("button", "m:browse", browse.fields),
    Route("button", "m:help", start.help_text),
    Route("button", "m:dossier", dossier.ask_code),
    Route("button", "m:rate", feedback.start_rating),
    Route("button", "m:none", faq.none_of_these),
    Route("button", "m:pakn", reflections.start),
    Route("button", "c", browse.field_chosen),
    Route("button", "p", browse.procedure_chosen),
    Route("button", "e", faq.show_entry),
    Route("button", "hf", faq.answer_feedback),
    Route("button", "ds", dossier.subscription_button),
    Route("button", "rt", feedback.rate_from_invitation),
    Route("button", "rd", feedback.rate_verified_dossier),
    Route("button", "ra", feedback.rate_place),
    Route("button", "sv", feedback.survey_button),
    Route("button", "dg", feedback.rating_menu_button),
    Route("button", "tr", feedback.trip_saved),
    # --- admin (handlers/admin.py) ---
    Route("flow", admin.FLOW, admin.continue_flow, roles=frozenset({"admin"})),
    Route("command", "faq", admin.faq_command, roles=frozenset({"admin"})),
    Route("command", "chuatraloi", admin.show_inbox, roles=frozenset({"admin"})),
    Route("command", "huy", admin.cancel, roles=frozenset({"admin"})),
    Route("button", "ad:x", admin.cancel, roles=frozenset({"admin"})),
    Route("button", "ad:y", admin.confirm, roles=frozenset({"admin"})),
    Route("button", "ad:e", admin.entry_button, roles=frozenset({"admin"})),
    Route("button", "ad:c", admin.category_button, roles=frozenset({"admin"})),
    Route("button", "ad:n", admin.new_entry_button, roles=frozenset({"admin"})),
    Route("button", "ad:i", admin.import_button, roles=frozenset({"admin"})),
    Route("button", "ad:g", admin.group_button, roles=frozenset({"admin"})),
    Route("file", "", admin.file_received, roles=frozenset({"admin"})),
    # --- end admin ---
    # --- reflections, phản ánh kiến nghị (handlers/reflections.py) ---
    Route("flow", reflections.FLOW, reflections.continue_flow),
    Route("flow", reflections.STAFF_FLOW, reflections.staff_continue, roles=STAFF_ROLES),
    Route("command", "phananh", reflections.staff_list, roles=STAFF_ROLES),
    Route("command", "phananh", reflections.start),
    Route("button", "pa", reflections.button),
    Route("button", "pv", reflections.verdict),
    Route("button", "ps", reflections.staff_button, roles=STAFF_ROLES),
    Route("file", reflections.FLOW, reflections.photo_received),
    Route("unsupported", reflections.FLOW, reflections.unsupported_in_flow),
    # --- end reflections ---
    # --- legal register and review list (handlers/review.py) ---
    Route("command", "vanban", review.register_command, roles=frozenset({"admin"})),
    Route("command", "canxem", review.review_list, roles=frozenset({"admin"})),
    # --- end register ---
    Route("file", "", start.file_received),
    Route("unsupported", "", start.unsupported),
    Route("text", "dossier-code", dossier.code_given, match=dossier.mentions_code),
    Route("text", "dossier-lookup", dossier.ask_code, match=dossier.asks_for_lookup),
    Route("text", "", faq.answer_question),
)


def command_of(text: str) -> str | None:
    """The command in "/name@bot args", lower-cased, or None for ordinary text."""
    if not text.startswith("/") or len(text) < 2:
        return None
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0]
    return name.lower() or None


@dataclass(frozen=True, slots=True)
class _Table:
    """The routes one role may use, by exact key (the first row of a key wins)."""

    flows: dict[str, Handler]
    commands: dict[str, Handler]
    buttons: dict[str, Handler]
    files: dict[str, Handler]
    unsupported: dict[str, Handler]
    texts: tuple[Route, ...]


@cache
def _table(routes: tuple[Route, ...], role: str) -> _Table:
    mine = [r for r in routes if not r.roles or role in r.roles]

    def by_key(kind: Kind) -> dict[str, Handler]:
        found: dict[str, Handler] = {}
        for r in mine:
            if r.kind == kind:
                found.setdefault(r.key, r.handler)
        return found

    buttons = by_key("button")
    for key in buttons:
        if callbacks.kind_of(key) is None:
            raise ValueError(f"button route {key!r} names no declared button kind")
    texts = tuple(r for r in mine if r.kind == "text")
    if not texts or texts[-1].match is not None:
        raise ValueError("the last text route must take every text")
    return _Table(
        flows=by_key("flow"),
        commands=by_key("command"),
        buttons=buttons,
        files=by_key("file"),
        unsupported=by_key("unsupported"),
        texts=texts,
    )


def resolve(
    incoming: Incoming, state: ChatState, routes: tuple[Route, ...] = ROUTES, role: str = "citizen"
) -> Handler:
    """Pick the handler for an update, following the routing order.

    Rows limited to other roles do not exist for this actor: a citizen typing a staff command
    gets the ordinary unknown-command reply. A button that is no valid button of a declared
    kind (stale, forged, of a retired kind) gets the polite stale-choice reply.
    """
    table = _table(routes, role)
    command = command_of(incoming.text) if incoming.choice is None else None
    is_text = command is None and incoming.choice is None and incoming.file is None
    flow = state.flow_name or ""
    if flow and is_text and not incoming.unsupported:
        handler = table.flows.get(flow)
        if handler is not None:
            return handler
    if command is not None:
        return table.commands.get(command, start.unknown_command)
    if incoming.choice is not None:
        pressed = callbacks.parse(incoming.choice)
        if pressed is None:
            return common.stale_choice
        found = table.buttons.get(pressed.route_key()) or table.buttons.get(pressed.prefix)
        return found or common.stale_choice
    if incoming.file is not None:
        # a flow that takes files (a photo with a reflection) comes first
        return table.files.get(flow) or table.files[""]
    if incoming.unsupported:
        # a flow may explain what it takes instead (a photo as a file)
        return table.unsupported.get(flow) or table.unsupported[""]
    return _free_text(table, incoming.text)


def _free_text(table: _Table, text: str) -> Handler:
    return next(r.handler for r in table.texts if r.match is None or r.match(text))


async def handle(ctx: Context, routes: tuple[Route, ...] = ROUTES) -> Outcome:
    """Resolve and run the handler of an update; a flow that steps aside (``reroute``) has the
    message answered by the last free-text row, in the state the flow left."""
    outcome = await resolve(ctx.incoming, ctx.state, routes, ctx.actor.role)(ctx)
    if not outcome.reroute:
        return outcome
    answer = _table(routes, ctx.actor.role).texts[-1].handler
    answered = await answer(with_state(ctx, outcome.next_state))
    if answered.reroute:
        raise RuntimeError("the free-text handler may not step aside")
    return Outcome(
        (*outcome.replies, *answered.replies),
        answered.next_state,
        answered.decision or outcome.decision,
    )
