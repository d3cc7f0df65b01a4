"""Typed buttons and the one routing table: packing, old values, exact-prefix routing."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from bot.messages import Channel, ChatRef, ChatState, Incoming
from handlers import (
    ROUTES,
    admin,
    browse,
    callbacks,
    common,
    dossier,
    faq,
    feedback,
    reflections,
    resolve,
    start,
)
from handlers import buttons as b
from handlers.admin.search import ENTRY_VERBS
from handlers.callbacks import CallbackData, CallbackError
from tests.transcript import Conversation

CHAT = ChatRef(Channel.CONSOLE, "c1", "c1")


def tapped(value: str) -> Incoming:
    return Incoming(CHAT, "e1", choice=value)


def test_buttons_pack_to_the_values_already_in_chats_and_unpack_typed() -> None:
    assert b.Menu("help").pack() == "m:help"
    assert b.Helpful(12, True).pack() == "hf:12:1"
    assert b.Helpful.unpack("hf:12:0") == b.Helpful(12, False)
    assert b.ReflectionButton("n").pack() == "pa:n"  # a trailing optional field is left out
    assert b.ReflectionButton.unpack("pa:d:7") == b.ReflectionButton("d", 7)
    assert b.StaffReflection("t", 3, 4).pack() == "ps:t:3:4"
    assert b.Survey(5, "comment", "skip").pack() == "sv:5:comment:skip"
    assert b.AdminCancel().pack() == "ad:x"
    assert b.AdminGroup.unpack("ad:g:a:k1:r2") == b.AdminGroup("a", "k1", "r2")
    assert b.Subscription.unpack("ds:off:9") == b.Subscription("off", 9)


@pytest.mark.parametrize(
    "value",
    [
        "hf:12",  # too few parts
        "hf:12:1:1",  # too many
        "hf:x:1",  # not a number
        "hf:12:2",  # not a bool
        "hf:١٢:1",  # digits of another script are no id
        "ds:maybe:9",  # not one of the Literal's values
        "m:xyz",
        "ad:e::abc",  # an empty part
        "pa",  # a required field missing
        "zz:1",  # no such kind
        "e:" + "a" * 70,  # longer than Telegram's 64 bytes
        "",
    ],
)
def test_invalid_values_unpack_to_nothing(value: str) -> None:
    assert callbacks.parse(value) is None


def test_pack_refuses_what_telegram_or_unpack_would_not_take() -> None:
    with pytest.raises(CallbackError, match="64 bytes"):
        b.EntryButton("a" * 63).pack()
    with pytest.raises(CallbackError):
        b.EntryButton("a:b").pack()  # the separator inside a field
    with pytest.raises(CallbackError):
        b.EntryButton("").pack()
    with pytest.raises(CallbackError):
        b.Helpful("12", True).pack()  # type: ignore[arg-type]
    with pytest.raises(CallbackError):
        b.Subscription("maybe", 1).pack()  # type: ignore[arg-type]
    assert len(b.EntryButton("a" * 62).pack().encode()) == 64


def test_a_prefix_that_would_make_the_lookup_ambiguous_is_refused() -> None:
    with pytest.raises(TypeError, match="clashes"):

        @dataclass(frozen=True)
        class Clash(CallbackData, prefix="ad"):  # "ad" beside "ad:e", "ad:x"...
            verb: str

    with pytest.raises(TypeError, match="clashes"):

        @dataclass(frozen=True)
        class Twice(CallbackData, prefix="hf"):
            message: int

    assert callbacks.kind_of("ad:e:v:0123456789") is b.AdminEntry
    assert "ad" not in callbacks.registered()


# Values exactly as earlier versions sent them (they sit in old Telegram messages): each is still
# understood and goes to the same handler as before.
OLD_VALUES = [
    ("m:menu", "citizen", start.menu),
    ("m:ask", "citizen", start.ask_prompt),
    ("m:browse", "citizen", browse.fields),
    ("m:help", "citizen", start.help_text),
    ("m:dossier", "citizen", dossier.ask_code),
    ("m:rate", "citizen", feedback.start_rating),
    ("m:none", "citizen", faq.none_of_these),
    ("m:pakn", "citizen", reflections.start),
    ("c:0a1b2c3d", "citizen", browse.field_chosen),
    ("p:0a1b2c3d", "citizen", browse.procedure_chosen),
    ("e:0a1b2c3d4e", "citizen", faq.show_entry),
    ("hf:41:1", "citizen", faq.answer_feedback),
    ("tr:41:0", "citizen", feedback.trip_saved),
    ("ds:on:3", "citizen", dossier.subscription_button),
    ("ds:off:3", "citizen", dossier.subscription_button),
    ("rt:8:3", "citizen", feedback.rate_from_invitation),
    ("rd:3:1", "citizen", feedback.rate_verified_dossier),
    ("ra:2:2", "citizen", feedback.rate_place),
    ("sv:5:go", "citizen", feedback.survey_button),
    ("sv:5:no", "citizen", feedback.survey_button),
    ("sv:5:3:4", "citizen", feedback.survey_button),
    ("sv:5:comment:skip", "citizen", feedback.survey_button),
    ("dg:place", "citizen", feedback.rating_menu_button),
    ("dg:d:3", "citizen", feedback.rating_menu_button),
    ("dg:a:2", "citizen", feedback.rating_menu_button),
    ("pa:n", "citizen", reflections.button),
    ("pa:m:41", "citizen", reflections.button),
    ("pa:r:6", "citizen", reflections.button),
    ("pv:4:1", "citizen", reflections.verdict),
    ("ps:v:4", "staff", reflections.staff_button),
    ("ps:t:4:2", "staff", reflections.staff_button),
    ("ps:x", "admin", reflections.staff_button),
    ("ad:x", "admin", admin.cancel),
    ("ad:y:abcd1234", "admin", admin.confirm),
    ("ad:e:v:0123456789", "admin", admin.entry_button),
    ("ad:c:off:01234567", "admin", admin.category_button),
    ("ad:n:c:01234567", "admin", admin.new_entry_button),
    ("ad:n:keep", "admin", admin.new_entry_button),
    ("ad:i:undo:abcd", "admin", admin.import_button),
    ("ad:g:a:key:0123456789", "admin", admin.group_button),
]


@pytest.mark.parametrize(("value", "role", "handler"), OLD_VALUES)
def test_values_sent_by_earlier_versions_still_route_to_their_handler(
    value: str, role: str, handler: object
) -> None:
    assert resolve(tapped(value), ChatState(), ROUTES, role) is handler


@pytest.mark.parametrize(
    ("value", "role"),
    [("m:xyz", "citizen"), ("zz:1", "citizen"), ("ps:v:4", "citizen"), ("ad:x", "staff")],
)
def test_unknown_forged_or_not_allowed_buttons_get_the_stale_reply(value: str, role: str) -> None:
    assert resolve(tapped(value), ChatState(), ROUTES, role) is common.stale_choice


def test_every_declared_button_kind_has_a_route_and_every_button_route_a_kind() -> None:
    keys = {r.key for r in ROUTES if r.kind == "button"}
    for prefix in callbacks.registered():
        assert prefix in keys or any(k.startswith(prefix + ":") for k in keys), prefix
    for key in keys:
        assert callbacks.kind_of(key) is not None, key


def test_routes_do_not_depend_on_row_order() -> None:
    buttons = tuple(r for r in ROUTES if r.kind == "button")
    others = tuple(r for r in ROUTES if r.kind != "button")
    reordered = (*others, *reversed(buttons))
    for value, role, handler in OLD_VALUES:
        assert resolve(tapped(value), ChatState(), reordered, role) is handler, value


async def test_an_old_menu_button_and_a_garbled_one_in_a_chat(
    conversation: Conversation,
) -> None:
    await conversation.tap("m:help")  # a button kept in an old message
    assert "ℹ️ Hướng dẫn" in conversation.labels
    replies = await conversation.tap("m:xyz")  # a kind that no longer exists
    assert replies[0].text.startswith("Lựa chọn này đã cũ")
    assert "❓ Hỏi về thủ tục" in conversation.labels  # the main menu, politely
    await conversation.tap("hf:notanumber:1")
    assert conversation.text.startswith("Lựa chọn này đã cũ")


def test_every_admin_entry_verb_has_a_row_in_its_table() -> None:
    verbs = get_args(get_type_hints(b.AdminEntry)["verb"])
    assert set(ENTRY_VERBS) == set(verbs)


def test_handlers_import_at_module_level_only() -> None:
    """A function-local import hides a cycle between handler modules: none is left."""
    root = Path(__file__).resolve().parent.parent / "handlers"
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found += [
                    f"{path.name}:{inner.lineno}"
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.Import | ast.ImportFrom)
                ]
    assert found == []
