"""Typed button values: every button's value is packed and unpacked here, nowhere else.

In the spirit of aiogram's ``CallbackData``: a button kind is a frozen dataclass that declares
a prefix and typed fields; ``pack()`` joins them with ":" and refuses a value longer than
Telegram's 64-byte callback data, ``unpack()`` checks the prefix, the number of parts and every
field's type. Supported field types: ``int``, ``str`` (no ":"), ``bool`` ("1"/"0"), a
``Literal`` of strings, and ``X | None = None`` for optional trailing fields (left out when
packed, so "pa:n" and "pa:d:7" are one kind).

The packed form is the one the assistant has always sent, so buttons already sitting in
citizens' chats (Telegram keeps them in old messages) are still understood; a value that no
longer unpacks (a retired kind, a forged or truncated value) gets the polite "choose from the
menu" reply of ``handlers.common.stale_choice``.

A prefix may have two segments ("ad:e"); a value's kind is found by exact dictionary lookup
of its first two segments, then its first one, never by the order of a table. Registration
refuses a prefix that would make that lookup ambiguous ("ad" beside "ad:e").
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, Self, get_args, get_origin, get_type_hints

MAX_BYTES = 64
SEP = ":"

_REGISTRY: dict[str, type[CallbackData]] = {}


class CallbackError(ValueError):
    """A value that is not a valid button of its kind (or of any kind)."""


@dataclass(frozen=True)
class _Field:
    name: str
    kind: Any  # int, str, bool, or a tuple of the allowed strings (a Literal)
    optional: bool


class CallbackData:
    """Base of every button kind: ``class Helpful(CallbackData, prefix="hf")`` + fields."""

    prefix: ClassVar[str]
    _fields: ClassVar[tuple[_Field, ...] | None] = None

    def __init_subclass__(cls, prefix: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix is None:
            if "prefix" not in cls.__dict__ and not hasattr(cls, "prefix"):
                raise TypeError(f"{cls.__name__}: a button kind needs a prefix")
            return  # a copy made by @dataclass(slots=True) keeps its parent's registration
        _register(prefix, cls)
        cls.prefix = prefix
        cls._fields = None

    # ------------------------------------------------------------------ packing

    @classmethod
    def _spec(cls) -> tuple[_Field, ...]:
        if cls._fields is None:
            hints = get_type_hints(cls)
            spec = []
            for f in fields(cls):  # type: ignore[arg-type]
                kind, optional = _kind_of(hints[f.name])
                spec.append(_Field(f.name, kind, optional))
            cls._fields = tuple(spec)
        return cls._fields

    def pack(self) -> str:
        """The button value; raises ``CallbackError`` when a field cannot be packed."""
        parts = [self.prefix]
        values = [(f, getattr(self, f.name)) for f in self._spec()]
        while values and values[-1][0].optional and values[-1][1] is None:
            values.pop()  # trailing optional fields are left out
        for f, value in values:
            parts.append(_encode(f, value))
        packed = SEP.join(parts)
        if len(packed.encode()) > MAX_BYTES:
            raise CallbackError(f"button value longer than {MAX_BYTES} bytes: {packed!r}")
        return packed

    @classmethod
    def unpack(cls, value: str) -> Self:
        """The button of this kind, or ``CallbackError`` (wrong prefix, parts or type)."""
        if len(value.encode()) > MAX_BYTES:
            raise CallbackError("value too long")
        head = cls.prefix + SEP
        if value == cls.prefix:
            parts: list[str] = []
        elif value.startswith(head):
            parts = value[len(head) :].split(SEP)
        else:
            raise CallbackError(f"not a {cls.__name__} value")
        spec = cls._spec()
        required = sum(1 for f in spec if not f.optional)
        if not required <= len(parts) <= len(spec):
            raise CallbackError(f"{cls.__name__} takes {len(spec)} parts, got {len(parts)}")
        decoded = {f.name: _decode(f, raw) for f, raw in zip(spec, parts, strict=False)}
        return cls(**decoded)

    @classmethod
    def parse(cls, value: str | None) -> Self | None:
        """The button of this kind, or None for anything else (a stale or forged value)."""
        if value is None:
            return None
        try:
            return cls.unpack(value)
        except CallbackError:
            return None

    def route_key(self) -> str:
        """The prefix and the first field, packed ("m:help"): a route may be declared for
        one value of the first field (one main-menu item) as well as for the whole kind."""
        spec = self._spec()
        if not spec or getattr(self, spec[0].name) is None:
            return self.prefix
        return self.prefix + SEP + _encode(spec[0], getattr(self, spec[0].name))


def _register(prefix: str, cls: type[CallbackData]) -> None:
    if not prefix or prefix.count(SEP) > 1 or "" in prefix.split(SEP):
        raise TypeError(f"bad prefix {prefix!r}: one or two non-empty segments")
    for other in _REGISTRY:
        if other == prefix or other.startswith(prefix + SEP) or prefix.startswith(other + SEP):
            raise TypeError(f"prefix {prefix!r} clashes with {other!r}")
    _REGISTRY[prefix] = cls


def _kind_of(hint: Any) -> tuple[Any, bool]:
    optional = False
    if get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported field type {hint!r}")
        hint, optional = args[0], True
    if get_origin(hint) is Literal:
        allowed = get_args(hint)
        if not all(isinstance(a, str) for a in allowed):
            raise TypeError(f"only Literal strings are supported: {hint!r}")
        return tuple(allowed), optional
    if hint in (int, str, bool):
        return hint, optional
    raise TypeError(f"unsupported field type {hint!r}")


def _encode(f: _Field, value: Any) -> str:
    if f.kind is bool:
        if not isinstance(value, bool):
            raise CallbackError(f"{f.name} must be a bool")
        return "1" if value else "0"
    if f.kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise CallbackError(f"{f.name} must be an int")
        return str(value)
    if not isinstance(value, str) or not value or SEP in value:
        raise CallbackError(f"{f.name} must be a non-empty string without {SEP!r}")
    if isinstance(f.kind, tuple) and value not in f.kind:
        raise CallbackError(f"{f.name} must be one of {f.kind}")
    return value


def _decode(f: _Field, raw: str) -> Any:
    if f.kind is bool:
        if raw not in ("0", "1"):
            raise CallbackError(f"{f.name}: {raw!r} is not 0 or 1")
        return raw == "1"
    if f.kind is int:
        if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 19:
            raise CallbackError(f"{f.name}: {raw!r} is not a number")
        return int(raw)
    if not raw:
        raise CallbackError(f"{f.name} is empty")
    if isinstance(f.kind, tuple) and raw not in f.kind:
        raise CallbackError(f"{f.name}: {raw!r} is not one of {f.kind}")
    return raw


def kind_of(value: str) -> type[CallbackData] | None:
    """The registered kind of a value, by exact lookup of its prefix (two segments, then one)."""
    segments = value.split(SEP, 2)
    if len(segments) >= 2:
        found = _REGISTRY.get(segments[0] + SEP + segments[1])
        if found is not None:
            return found
    return _REGISTRY.get(segments[0])


def parse(value: str | None) -> CallbackData | None:
    """Any registered button, unpacked; None when the value is no valid button."""
    if value is None:
        return None
    kind = kind_of(value)
    return None if kind is None else kind.parse(value)


def registered() -> dict[str, type[CallbackData]]:
    """Every declared prefix and its kind (for tests and documentation)."""
    return dict(_REGISTRY)
