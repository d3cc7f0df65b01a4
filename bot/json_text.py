"""JSON as the project writes it: UTF-8 text, Vietnamese letters kept (not ``\\u`` escapes)."""

from __future__ import annotations

import json


def dumps(obj: object) -> str:
    """``json.dumps`` keeping non-ASCII letters; the ``dumps`` of every JSON response."""
    return json.dumps(obj, ensure_ascii=False)
