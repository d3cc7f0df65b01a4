"""Chat transcripts for tests: say something, read the replies, tap a button."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.dispatcher import Dispatcher
from bot.messages import Channel, ChatRef, Incoming, Reply

_ids = itertools.count(1)


@dataclass
class Conversation:
    """One citizen talking to the dispatcher, as a channel adapter would."""

    dispatcher: Dispatcher
    channel: Channel = Channel.CONSOLE
    chat_id: str = "citizen-1"
    last: list[Reply] = field(default_factory=list)

    @property
    def chat(self) -> ChatRef:
        return ChatRef(self.channel, self.chat_id, self.chat_id)

    async def send(self, incoming: Incoming) -> list[Reply]:
        self.last = await self.dispatcher.handle(incoming)
        return self.last

    async def say(self, text: str, event_id: str | None = None) -> list[Reply]:
        return await self.send(Incoming(self.chat, event_id or f"e{next(_ids)}", text=text))

    async def tap(self, value: str) -> list[Reply]:
        return await self.send(Incoming(self.chat, f"e{next(_ids)}", choice=value))

    async def tap_label(self, fragment: str) -> list[Reply]:
        """Tap the button of the last replies whose label contains ``fragment``."""
        for reply in self.last:
            for choice in reply.choices:
                if fragment in choice.label:
                    return await self.tap(choice.value)
        raise AssertionError(f"no button with {fragment!r} in {self.labels}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    @property
    def labels(self) -> list[str]:
        return [c.label for r in self.last for c in r.choices]

    @property
    def values(self) -> list[str]:
        return [c.value for r in self.last for c in r.choices]
