"""``POST /api/v1/dossiers``: the one-stop system pushes dossiers and status events.

Authentication is a bearer API key bound to an agency subtree (``motcua apikeys create``).
Answers: 200 with what changed; 400 for a body that is not JSON; 401 for a missing, unknown or
revoked key; 403 when an item lies outside the key's agencies; 413 for a body over 5 MB; 422
with every problem of every item. On 403 and 422 nothing at all is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.ingest import Ingestor, ItemError, validate_batch
from bot.http_body import BadJson, BodyTooLarge, parse_json, read_body
from bot.json_text import dumps
from storage.repositories import apikeys

log = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024
PATH = "/api/v1/dossiers"


def _json(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=dumps)


class _Refused(Exception):
    def __init__(self, status: int, message: str, problems: Sequence[ItemError]) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems


class IngestApi:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ingestor: Ingestor) -> None:
        self._sessions = sessions
        self._ingestor = ingestor

    def register(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.post)

    async def post(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _json(
                401,
                {"error": "missing bearer API key"},
                {"WWW-Authenticate": 'Bearer realm="motcua"'},
            )
        # The key is checked before the body is read or parsed: an unauthenticated client
        # gets neither a 5 MB parse nor any hint from the parser.
        async with self._sessions() as session, session.begin():
            found = await apikeys.resolve(session, key.strip())
        if found is None:
            return _json(
                401,
                {"error": "unknown or revoked API key"},
                {"WWW-Authenticate": 'Bearer realm="motcua", error="invalid_token"'},
            )
        api_key, agency = found
        try:
            raw = await read_body(request, MAX_BODY)
        except BodyTooLarge:
            return _json(413, {"error": f"body larger than {MAX_BODY // (1024 * 1024)} MB"})
        try:
            body = parse_json(raw)
        except BadJson as bad:
            return _json(400, {"error": f"the body is not acceptable JSON: {bad.reason}"})
        try:
            async with self._sessions() as session, session.begin():
                dossiers, events, errors = validate_batch(body)
                if errors:
                    raise _Refused(422, "invalid items; nothing was saved", errors)
                result = await self._ingestor.apply(session, dossiers, events, scope=agency)
                if result.forbidden:
                    message = (
                        f"items outside the agencies of key '{api_key.name}'; nothing was saved"
                    )
                    raise _Refused(403, message, result.forbidden)
                if result.errors:
                    raise _Refused(422, "invalid items; nothing was saved", result.errors)
        except _Refused as refused:  # raised inside the transaction, so it rolled back
            return _json(
                refused.status,
                {"error": refused.message, "problems": [e.as_dict() for e in refused.problems]},
            )
        log.info("ingest by key %d: %s", api_key.id, result.summary())
        return _json(200, {"result": result.summary()})
