"""Channel-neutral conversation logic and ROUTES, the ordered routing table.

Routing order: an active flow, then a command, then a button, then a file or an unsupported
message kind, then free text. The first matching row wins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from bot.messages import ChatState, Incoming, Outcome
from handlers import (
    admin,
    browse,
    dossier,
    faq,
    feedback,
    reflections,
    review,
    staff,
    start,
    stats,
)
from handlers.context import Context

Handler = Callable[[Context], Awaitable[Outcome]]
STAFF_ROLES = frozenset({"staff", "admin"})
Kind = Literal["flow", "command", "button", "file", "unsupported", "text"]


@dataclass(frozen=True, slots=True)
class Route:
    """One row: what kind of input, which key (flow name, command, button prefix), who handles.

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
    Route("button", "m:menu", start.menu),
    Route("button", "m:dossier", dossier.ask_code),
    Route("button", "m:rate", feedback.start_rating),
    Route("button", "m:none", faq.none_of_these),
    Route("button", "m:pakn", reflections.start),
    Route("button", "m:", start.menu_choice),
    Route("button", "c:", browse.field_chosen),
    Route("button", "p:", browse.procedure_chosen),
    Route("button", "e:", faq.show_entry),
    Route("button", "hf:", faq.answer_feedback),
    Route("button", "ds:", dossier.subscription_button),
    Route("button", "rt:", feedback.rate_from_invitation),
    Route("button", "rd:", feedback.rate_verified_dossier),
    Route("button", "ra:", feedback.rate_place),
    Route("button", "sv:", feedback.survey_button),
    Route("button", "dg:", feedback.rating_menu_button),
    Route("button", "tr:", feedback.trip_saved),
    # --- admin (handlers/admin.py) ---
    Route("flow", admin.FLOW, admin.continue_flow, roles=frozenset({"admin"})),
    Route("command", "faq", admin.faq_command, roles=frozenset({"admin"})),
    Route("command", "chuatraloi", admin.show_inbox, roles=frozenset({"admin"})),
    Route("command", "huy", admin.cancel, roles=frozenset({"admin"})),
    Route("button", "ad:x", admin.cancel, roles=frozenset({"admin"})),
    Route("button", "ad:y:", admin.confirm, roles=frozenset({"admin"})),
    Route("button", "ad:e:", admin.entry_button, roles=frozenset({"admin"})),
    Route("button", "ad:c:", admin.category_button, roles=frozenset({"admin"})),
    Route("button", "ad:n:", admin.new_entry_button, roles=frozenset({"admin"})),
    Route("button", "ad:i:", admin.import_button, roles=frozenset({"admin"})),
    Route("button", "ad:g:", admin.group_button, roles=frozenset({"admin"})),
    Route("file", "", admin.file_received, roles=frozenset({"admin"})),
    # --- end admin ---
    # --- reflections, phản ánh kiến nghị (handlers/reflections.py) ---
    Route("flow", reflections.FLOW, reflections.continue_flow),
    Route("flow", reflections.STAFF_FLOW, reflections.staff_continue, roles=STAFF_ROLES),
    Route("command", "phananh", reflections.staff_list, roles=STAFF_ROLES),
    Route("command", "phananh", reflections.start),
    Route("button", "pa:", reflections.button),
    Route("button", "pv:", reflections.verdict),
    Route("button", "ps:", reflections.staff_button, roles=STAFF_ROLES),
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


def resolve(
    incoming: Incoming, state: ChatState, routes: tuple[Route, ...] = ROUTES, role: str = "citizen"
) -> Handler:
    """Pick the handler for an update, following the routing order.

    Rows limited to other roles do not exist for this actor: a citizen typing a staff command
    gets the ordinary unknown-command reply.
    """
    routes = tuple(r for r in routes if not r.roles or role in r.roles)
    command = command_of(incoming.text) if incoming.choice is None else None
    is_text = command is None and incoming.choice is None and incoming.file is None
    if state.flow and is_text and not incoming.unsupported:
        for r in routes:
            if r.kind == "flow" and r.key == state.flow:
                return r.handler
    if command is not None:
        for r in routes:
            if r.kind == "command" and r.key == command:
                return r.handler
        return start.unknown_command
    if incoming.choice is not None:
        for r in routes:
            if r.kind == "button" and incoming.choice.startswith(r.key):
                return r.handler
        return start.stale_choice
    if incoming.file is not None:
        for r in routes:  # a flow that takes files (a photo with a reflection) comes first
            if r.kind == "file" and r.key and r.key == state.flow:
                return r.handler
        return next(r.handler for r in routes if r.kind == "file" and not r.key)
    if incoming.unsupported:
        for r in routes:  # a flow may explain what it takes instead (a photo as a file)
            if r.kind == "unsupported" and r.key and r.key == state.flow:
                return r.handler
        return next(r.handler for r in routes if r.kind == "unsupported" and not r.key)
    text = incoming.text
    return next(
        r.handler for r in routes if r.kind == "text" and (r.match is None or r.match(text))
    )
