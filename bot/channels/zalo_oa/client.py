"""The OA API over HTTP: JSON calls and uploads, with the token, limits and retries."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Backoff
from bot.channels.zalo_oa.api import (
    CS_MESSAGE_PATH,
    RETRYABLE_ERRORS,
    TOKEN_ERRORS,
    TRANSIENT,
    OaApiError,
    Tuning,
    _int,
)
from bot.channels.zalo_oa.cipher import TokenCipher
from bot.channels.zalo_oa.render import OaMessage
from bot.channels.zalo_oa.tokens import OaTokens
from bot.messages import Attachment
from bot.ratelimit import SharedRateLimiter, wait_for

log = logging.getLogger(__name__)


class OaClient:
    """The OA API over HTTP: JSON calls and multipart uploads with the bare ``access_token``
    header (kept fresh by ``OaTokens``), within the per-minute budget shared by every worker,
    retried by one backoff policy."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        *,
        oa_id: str,
        app_id: str,
        app_secret: str,
        api_base_url: str,
        oauth_base_url: str,
        secret: bytes,
        tuning: Tuning,
    ) -> None:
        self._sessions = sessions
        self._api = api_base_url.rstrip("/")
        self._secret = secret
        self._tuning = tuning
        self._http_session: aiohttp.ClientSession | None = None
        self._limiter = AsyncLimiter(tuning.requests_per_minute, 60)
        self.tokens = OaTokens(
            sessions,
            cipher,
            oa_id=oa_id,
            app_id=app_id,
            app_secret=app_secret,
            oauth_base_url=oauth_base_url,
            http=self.http,
            tuning=tuning,
        )

    @property
    def tuning(self) -> Tuning:
        return self._tuning

    @tuning.setter
    def tuning(self, value: Tuning) -> None:
        self._tuning = value
        self.tokens.tuning = value

    @property
    def backoff(self) -> Backoff:
        t = self._tuning
        return Backoff(t.backoff_base, t.backoff_max, t.max_retries)

    def http(self) -> aiohttp.ClientSession:
        if self._http_session is None:
            raise RuntimeError("the Zalo OA client is not open")
        return self._http_session

    async def open(self) -> None:
        self._limiter = AsyncLimiter(self.tuning.requests_per_minute, 60)
        self._http_session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._http_session is not None:
            await self._http_session.close()
            self._http_session = None

    async def send(self, user_id: str, message: OaMessage) -> dict[str, Any]:
        """One customer-service message; returns Zalo's ``data`` (with ``message_id``).

        A message with a picture or a file uploads it first (``upload/image`` answers an
        ``attachment_id``, ``upload/file`` a ``token``) and then sends it.
        """
        upload = ""
        attachment = message.attachment
        if attachment is not None:
            data = await self._call(message.upload_path, attachment)
            key = "attachment_id" if message.image is not None else "token"
            upload = str(data.get(key) or "")
            if not upload:
                raise OaApiError(TRANSIENT, f"upload answered no {key}")
        return await self._call(CS_MESSAGE_PATH, message.body(user_id, upload))

    async def _call(self, path: str, payload: dict[str, Any] | Attachment) -> dict[str, Any]:
        """One OA API call (JSON, or a multipart upload of an attachment); Zalo's ``data``.

        An invalid-token error refreshes the token and retries once; rate limits, network
        failures, 5xx and unreadable answers are retried with exponential backoff; any other
        error (read from the body, whatever the HTTP status) is raised as ``OaApiError``.
        """
        refreshed = False
        failures = 0
        while True:
            token = await self.tokens.access_token()
            try:
                answer = await self._post(path, payload, token)
                code = _int(answer.get("error", 0))
                if code == 0:
                    data = answer.get("data")
                    return data if isinstance(data, dict) else {}
                error = OaApiError(code, str(answer.get("message") or "")[:200])
            except OaApiError as exc:
                error = exc
            if error.code in TOKEN_ERRORS and not refreshed:
                log.info("Zalo OA: access token refused (%s); refreshing", error.code)
                await self.tokens.refresh(stale=token)
                refreshed = True
                continue
            if error.code != TRANSIENT and error.code not in RETRYABLE_ERRORS:
                raise error
            failures += 1
            if self.backoff.exhausted(failures):
                raise error
            delay = self.backoff.delay(failures)
            log.warning("Zalo OA call failed (%s); retry %d in %.2f s", error, failures, delay)
            await asyncio.sleep(delay)

    async def _post(
        self, path: str, payload: dict[str, Any] | Attachment, token: str
    ) -> dict[str, Any]:
        """POST JSON (or an attachment as the multipart field ``file``) with the bare
        ``access_token`` header; network failures, 5xx, 429 and unreadable answers become
        ``OaApiError(TRANSIENT)``."""
        await self._limiter.acquire()
        await wait_for(  # the same per-minute budget counted across every worker
            SharedRateLimiter(
                self._sessions,
                secret=self._secret,
                name="zalo-oa",
                limit=max(1, int(self.tuning.requests_per_minute)),
                window_seconds=60.0,
            )
        )
        body: dict[str, Any] = {}
        if isinstance(payload, Attachment):
            form = aiohttp.FormData()
            form.add_field(
                "file", payload.content, filename=payload.name, content_type=payload.mime_type
            )
            body["data"] = form
        else:
            body["json"] = payload
        try:
            async with self.http().post(
                self._api + path,
                headers={"access_token": token},
                timeout=aiohttp.ClientTimeout(total=self.tuning.http_timeout),
                **body,
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OaApiError(TRANSIENT, f"network: {type(exc).__name__}") from exc
        if status >= 500 or status == 429:
            raise OaApiError(TRANSIENT, f"HTTP {status}")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise OaApiError(TRANSIENT, f"unreadable answer (HTTP {status})")
        return answer
