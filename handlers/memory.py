"""Dialogue memory: what the citizen was just asking about, for follow-up questions.

After "làm trợ cấp thất nghiệp cần giấy tờ gì", a message such as "còn lệ phí thì sao?" names
only an aspect; it is resolved against the procedure remembered here. The memory lives in the
chat's state row (``ChatState.memory``, key ``dialogue``), so it works across workers; it
expires after ``TTL_SECONDS`` and is replaced whenever a question names another procedure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.messages import ChatState

TTL_SECONDS = 15 * 60
_KEY = "dialogue"


@dataclass(frozen=True, slots=True)
class DialogueMemory:
    """The last procedure (group key and display name), entry and aspect talked about."""

    procedure: str
    name: str
    entry_id: str
    aspect: str
    at: float


def recall(state: ChatState, now: float | None = None) -> DialogueMemory | None:
    """The remembered topic, or None when there is none or it is older than the time-out."""
    raw = state.memory.get(_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        memory = DialogueMemory(
            procedure=str(raw["procedure"]),
            name=str(raw.get("name", "")),
            entry_id=str(raw.get("entry_id", "")),
            aspect=str(raw.get("aspect", "")),
            at=float(raw["at"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    if not memory.procedure or current - memory.at > TTL_SECONDS or memory.at > current + 60:
        return None
    return memory


def remember(
    state: ChatState,
    procedure: str,
    name: str,
    entry_id: str,
    aspect: str,
    now: float | None = None,
) -> ChatState:
    """The state with the memory set to this procedure, entry and aspect."""
    at = time.time() if now is None else now
    memory = dict(state.memory)
    memory[_KEY] = {
        "procedure": procedure,
        "name": name,
        "entry_id": entry_id,
        "aspect": aspect,
        "at": round(at, 1),
    }
    return state.evolve(memory=memory)


def forget(state: ChatState) -> ChatState:
    """The state without dialogue memory."""
    if _KEY not in state.memory:
        return state
    memory = {k: v for k, v in state.memory.items() if k != _KEY}
    return state.evolve(memory=memory)
