"""Typed conversation state: one frozen dataclass per flow, and the memory that outlives flows.

A flow's state (``FlowState``) is declared by the handlers of that flow with a tag
(``class Lookup(FlowState, tag="dossier")``) and is stored in the chat's state row as a JSON
object carrying that tag. Loading checks every field against its declared type: a row whose
tag is unknown, or whose fields do not fit (a row written by an older version, a flow that was
renamed), loads as "no flow", and the citizen simply starts again from the menu.

``Memory`` holds what is kept between flows: the dossiers this person proved they own in this
conversation (``verified``), the service point a rating flow offered (``place_offer``), and the
dialogue memory of ``handlers/memory.py``.
"""

from __future__ import annotations

import types
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

_FLOWS: dict[str, type[FlowState]] = {}


@dataclass(frozen=True)
class FlowState:
    """Base of a flow's state: subclasses are frozen dataclasses with a ``step: str`` field
    (the step routes the flow's free text, see ``handlers``)."""

    tag: ClassVar[str]

    def __init_subclass__(cls, tag: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if tag is None:
            return
        if tag in _FLOWS and _FLOWS[tag].__qualname__ != cls.__qualname__:
            raise TypeError(f"flow tag {tag!r} is declared twice")
        _FLOWS[tag] = cls
        cls.tag = tag

    def to_raw(self) -> dict[str, Any]:
        return {"tag": self.tag, **asdict(self)}


def flow_from_raw(raw: object) -> FlowState | None:
    """The flow stored as ``raw``, or None when it is no flow this version knows."""
    if not isinstance(raw, dict):
        return None
    cls = _FLOWS.get(str(raw.get("tag")))
    if cls is None:
        return None
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in raw:
            continue  # a default applies, or the constructor refuses below
        value = _fit(raw[f.name], hints[f.name])
        if value is _MISFIT:
            return None
        values[f.name] = value
    try:
        return cls(**values)
    except TypeError:
        return None


_MISFIT = object()


def _fit(value: Any, hint: Any) -> Any:
    """``value`` (from JSON) as the declared type, or ``_MISFIT``."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in get_args(hint):
            fitted = _fit(value, arg)
            if fitted is not _MISFIT:
                return fitted
        return _MISFIT
    if hint is type(None):
        return None if value is None else _MISFIT
    if origin is Literal:
        return value if value in get_args(hint) else _MISFIT
    if hint is Any:
        return value
    if hint is bool:
        return value if isinstance(value, bool) else _MISFIT
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _MISFIT
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _MISFIT
    if hint is str:
        return value if isinstance(value, str) else _MISFIT
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return _MISFIT
        (item, *_rest) = get_args(hint)
        items = [_fit(v, item) for v in value]
        return _MISFIT if any(i is _MISFIT for i in items) else tuple(items)
    if origin is dict:
        key_hint, value_hint = get_args(hint)
        if not isinstance(value, dict):
            return _MISFIT
        fitted = {_fit(k, key_hint): _fit(v, value_hint) for k, v in value.items()}
        return _MISFIT if _MISFIT in fitted or _MISFIT in fitted.values() else fitted
    return _MISFIT


@dataclass(frozen=True, slots=True)
class DialogueMemory:
    """The last procedure (group key and display name), entry and aspect talked about."""

    procedure: str
    name: str
    entry_id: str
    aspect: str
    at: float


@dataclass(frozen=True, slots=True)
class Memory:
    """What outlives a flow (see the module's docstring)."""

    verified: dict[str, int] = field(default_factory=dict)
    """Dossier code -> dossier id, for each dossier proven owned in this conversation."""
    place_offer: int | None = None
    """The agency whose rating buttons the rating flow offered last (``ra:`` buttons)."""
    dialogue: DialogueMemory | None = None

    def to_raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if self.verified:
            raw["verified"] = dict(self.verified)
        if self.place_offer is not None:
            raw["place_offer"] = self.place_offer
        if self.dialogue is not None:
            raw["dialogue"] = asdict(self.dialogue)
        return raw

    @classmethod
    def from_raw(cls, raw: object, legacy_data: object = None) -> Memory:
        """The memory stored as ``raw``; anything that does not fit is forgotten. Rows of
        earlier versions kept ``verified`` and the place offer among the flow's data
        (``legacy_data``): they are carried over."""
        memory = raw if isinstance(raw, dict) else {}
        legacy = legacy_data if isinstance(legacy_data, dict) else {}
        verified = _fit(memory.get("verified", legacy.get("verified", {})), dict[str, int])
        place = _fit(memory.get("place_offer", legacy.get("place_offer")), int | None)
        return cls(
            verified={} if verified is _MISFIT else verified,
            place_offer=None if place is _MISFIT else place,
            dialogue=_dialogue(memory.get("dialogue")),
        )


def _dialogue(raw: object) -> DialogueMemory | None:
    if not isinstance(raw, dict):
        return None
    try:
        return DialogueMemory(
            procedure=str(raw["procedure"]),
            name=str(raw.get("name", "")),
            entry_id=str(raw.get("entry_id", "")),
            aspect=str(raw.get("aspect", "")),
            at=float(raw["at"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
