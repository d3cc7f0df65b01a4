"""Dialogue memory: what the citizen was just asking about, for follow-up questions.

After "làm trợ cấp thất nghiệp cần giấy tờ gì", a message such as "còn lệ phí thì sao?" names
only an aspect; it is resolved against the procedure remembered here. The memory lives in the
chat's state row (``ChatState.memory.dialogue``), so it works across workers; it expires after
``TTL_SECONDS`` and is replaced whenever a question names another procedure.
"""

from __future__ import annotations

import time
from dataclasses import replace

from bot.flowstate import DialogueMemory
from bot.messages import ChatState

TTL_SECONDS = 15 * 60

__all__ = ["TTL_SECONDS", "DialogueMemory", "forget", "recall", "remember"]


def recall(state: ChatState, now: float | None = None) -> DialogueMemory | None:
    """The remembered topic, or None when there is none or it is older than the time-out."""
    memory = state.memory.dialogue
    if memory is None:
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
    dialogue = DialogueMemory(procedure, name, entry_id, aspect, round(at, 1))
    return state.evolve(memory=replace(state.memory, dialogue=dialogue))


def forget(state: ChatState) -> ChatState:
    """The state without dialogue memory."""
    if state.memory.dialogue is None:
        return state
    return state.evolve(memory=replace(state.memory, dialogue=None))
