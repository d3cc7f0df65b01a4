"""Reading a request body whole, up to a limit, and parsing it as bounded JSON.

``request.content.read(n)`` returns what has arrived so far, so a body sent in several TCP
packets was cut short. ``read_body`` reads until the end of the body (or one byte past the
limit), and ``parse_json`` refuses nesting deeper than ``MAX_JSON_DEPTH`` and strings holding a
lone UTF-16 surrogate (``"\\ud800"``), which cannot be encoded, stored or logged.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

MAX_JSON_DEPTH = 32
_CHUNK = 64 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyTooLarge(Exception):
    """The body (declared or received) is longer than the limit."""


class BadJson(Exception):
    """Not UTF-8 JSON, nested too deep, or a string with a lone surrogate."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, or ``BodyTooLarge`` as soon as more than ``limit`` bytes are declared or
    received. Reads until the end of the body, however many packets it arrives in."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)


def parse_json(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """UTF-8 JSON with at most ``max_depth`` levels of arrays and objects, no lone surrogates."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadJson("not UTF-8 JSON") from None
    except RecursionError:
        raise BadJson("nested too deep") from None
    check_json(value, max_depth)
    return value


def check_json(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Walks a parsed value without recursion: depth and lone surrogates (``BadJson``)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise BadJson("a string holds a lone surrogate")
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise BadJson("nested too deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
