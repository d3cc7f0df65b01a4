"""Typed flow state: tagged when stored, checked when loaded, old untyped rows still load."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.app import App
from bot.flowstate import DialogueMemory, Memory
from bot.messages import ChatState
from handlers.admin.flow import AdminFlow
from handlers.dossier import Lookup
from handlers.feedback import SurveyFlow
from handlers.reflections import ReflectionDraft, StaffDraft
from storage.models import ChatStateRow
from tests.transcript import Conversation

FLOWS = [
    Lookup("verify", "1.000.00.00.H53-260101-0001"),
    SurveyFlow("q2", response=7, low_score=True, reflection_offered=False),
    ReflectionDraft("photo", "dossier", 3, dossier=9, text="Chờ lâu quá mức", name="An"),
    StaffDraft("forward", reflection=4, target=2),
    AdminFlow("confirm", {"nonce": "ab12", "action": "disable", "at": 1.5, "fp": ["x", 1]}),
]


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: type(f).__name__)
def test_every_flow_round_trips_through_json_with_its_tag(flow: object) -> None:
    memory = Memory(
        verified={"H53-1": 9}, place_offer=2, dialogue=DialogueMemory("p", "P", "e", "fee", 1.0)
    )
    state = ChatState(flow=flow, offered=("m:menu",), last_entry="e", memory=memory)  # type: ignore[arg-type]
    raw = json.loads(state.to_json())
    assert raw["flow"]["tag"] == type(flow).tag  # type: ignore[attr-defined]
    assert ChatState.from_json(state.to_json()) == state


def test_a_row_of_the_untyped_version_loads_as_no_flow_keeping_what_outlives_flows() -> None:
    old = {
        "flow": "dossier",
        "step": "verify",
        "data": {"code": "H53-1", "verified": {"H53-1": 9, "H53-2": 11}, "place_offer": 5},
        "offered": ["ds:on:9"],
        "last_entry": "khai-sinh/ho-so",
        "memory": {"dialogue": {"procedure": "p", "name": "P", "entry_id": "e", "at": 2.0}},
    }
    state = ChatState.from_json(json.dumps(old))
    assert state.flow is None and state.step is None  # the citizen starts the lookup again
    assert state.memory.verified == {"H53-1": 9, "H53-2": 11}  # proofs already given are kept
    assert state.memory.place_offer == 5
    assert state.memory.dialogue == DialogueMemory("p", "P", "e", "", 2.0)
    assert state.offered == ("ds:on:9",)
    assert state.last_entry == "khai-sinh/ho-so"


@pytest.mark.parametrize(
    "flow",
    [
        {"tag": "no-such-flow", "step": "x"},  # a flow this version does not know
        {"tag": "dossier", "step": "later"},  # a step that is not one of the flow's
        {"tag": "dossier", "step": "verify", "code": 12},  # a field of the wrong type
        {"tag": "survey", "step": "q1", "response": "7"},
        {"tag": "survey", "step": "q1", "low_score": 1},  # 1 is no bool
        {"tag": "reflection_staff", "step": "target", "target": 2.5},
        {"tag": "admin", "data": {}},  # a required field missing
        "dossier",
        ["dossier"],
    ],
)
def test_a_stored_flow_that_does_not_fit_loads_as_no_flow(flow: object) -> None:
    text = json.dumps({"flow": flow, "memory": {"verified": {"H53-1": 9}}})
    state = ChatState.from_json(text)
    assert state.flow is None
    assert state.memory.verified == {"H53-1": 9}


@pytest.mark.parametrize(
    "text", ["", "not json", "[]", '{"memory": {"verified": {"H53-1": "9"}}}', '{"offered": 3}']
)
def test_broken_rows_load_as_a_fresh_state(text: str) -> None:
    state = ChatState.from_json(text)
    assert state.flow is None
    assert state.memory.verified == {}
    assert state.offered == ()


async def test_a_citizen_mid_lookup_in_an_old_row_is_answered_and_not_stuck(
    conversation: Conversation, app: App
) -> None:
    await conversation.say("/start")  # creates the state row
    old = {"flow": "dossier", "step": "verify", "data": {"code": "X"}, "offered": []}
    async with app.sessions() as s, s.begin():
        row = (await s.scalars(select(ChatStateRow))).one()
        row.state = json.dumps(old)
    replies = await conversation.say("lệ phí làm lại căn cước bao nhiêu")
    assert "căn cước" in replies[0].text.lower()  # answered as a question, not as an ID
    await conversation.tap("m:dossier")
    assert "mã hồ sơ" in conversation.text.lower()
    async with app.sessions() as s:
        stored = json.loads((await s.scalars(select(ChatStateRow))).one().state)
    assert stored["flow"] == {"tag": "dossier", "step": "code", "code": ""}
