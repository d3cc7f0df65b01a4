"""The OA's access token, refreshed before expiry (or on demand) across processes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.zalo_oa.api import REFRESH_TOKEN_REJECTED, TOKEN_PATH, Tuning, _int
from bot.channels.zalo_oa.cipher import TokenCipher
from storage.models import utcnow
from storage.repositories import zalo_oa as zalo_store

log = logging.getLogger(__name__)


class TokenError(Exception):
    """No usable access token: none stored, unreadable, or the refresh was refused."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class OaTokens:
    """The OA's access token, refreshed before expiry (or on demand) across processes.

    Each process caches the token it last read; a refresh locks the database row, re-reads it
    (another process may have refreshed meanwhile: then its token is used), calls the token
    endpoint with the stored refresh token and commits the new pair before anyone uses it.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        *,
        oa_id: str,
        app_id: str,
        app_secret: str,
        oauth_base_url: str,
        http: Callable[[], aiohttp.ClientSession],
        tuning: Tuning,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._oa_id = oa_id
        self._app_id = app_id
        self._app_secret = app_secret
        self._url = oauth_base_url.rstrip("/") + TOKEN_PATH
        self._http = http
        self.tuning = tuning
        self._cached: tuple[str, datetime] | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0  # refreshes done by this process (for tests and logs)

    def _fresh(self, expires_at: datetime) -> bool:
        return zalo_store.aware(expires_at) - utcnow() > self.tuning.refresh_margin

    def _readable(self, row: zalo_store.ZaloToken) -> bool:
        try:
            self._cipher.open(row.access_token)
            self._cipher.open(row.refresh_token)
        except ValueError:
            return False
        return True

    async def seed(self, access_token: str, refresh_token: str) -> None:
        """Store the settings' first pair when the database has none (or only an unreadable
        one, after a change of SECRET_KEY); a stored pair always wins over the settings."""
        if not access_token and not refresh_token:
            async with self._sessions() as session:
                row = await zalo_store.load_tokens(session, self._oa_id)
            if row is None:
                log.warning(
                    "Zalo OA: no tokens yet; set ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN"
                )
            return
        now = utcnow()
        # No access token: an expiry in the past makes the first send refresh.
        expires_at = now + self.tuning.initial_lifetime if access_token else now
        sealed_access = self._cipher.seal(access_token)
        sealed_refresh = self._cipher.seal(refresh_token)
        async with self._sessions() as session, session.begin():
            row = await zalo_store.load_tokens(session, self._oa_id, lock=True)
            if row is None:
                await zalo_store.insert_tokens(
                    session, self._oa_id, sealed_access, sealed_refresh, expires_at
                )
                log.info("Zalo OA: first token pair stored from the settings")
                return
            if self._readable(row):
                return
            row.access_token, row.refresh_token = sealed_access, sealed_refresh
            row.expires_at, row.updated_at = expires_at, now
            log.warning(
                "Zalo OA: the stored tokens could not be read (SECRET_KEY changed?) and were "
                "replaced by ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN"
            )

    def forget(self) -> None:
        """Drop the cached token: the next use reads the database."""
        self._cached = None

    async def access_token(self) -> str:
        """A token valid for at least ``refresh_margin``, refreshing it first if need be."""
        cached = self._cached
        if cached is not None and self._fresh(cached[1]):
            return cached[0]
        async with self._sessions() as session:
            row = await zalo_store.load_tokens(session, self._oa_id)
            stored = (row.access_token, row.expires_at) if row is not None else None
        if stored is None:
            raise TokenError("no Zalo OA token stored: set ZALO_OA_ACCESS_TOKEN/REFRESH_TOKEN")
        try:
            access = self._cipher.open(stored[0])
        except ValueError as exc:
            raise TokenError("the stored Zalo OA token cannot be read") from exc
        if access and self._fresh(stored[1]):
            self._cached = (access, zalo_store.aware(stored[1]))
            return access
        return await self.refresh(stale=access)

    async def refresh(self, stale: str) -> str:
        """A new access token to replace ``stale`` (the one found expired or refused).

        If another task or process already replaced it, its token is used and the refresh
        token is not spent again.
        """
        async with self._lock:
            cached = self._cached
            if cached is not None and cached[0] != stale and self._fresh(cached[1]):
                return cached[0]
            async with self._sessions() as session, session.begin():
                row = await zalo_store.load_tokens(session, self._oa_id, lock=True)
                if row is None:
                    raise TokenError("no Zalo OA token stored")
                try:
                    access = self._cipher.open(row.access_token)
                    refresh_token = self._cipher.open(row.refresh_token)
                except ValueError as exc:
                    raise TokenError("the stored Zalo OA tokens cannot be read") from exc
                if access and access != stale and self._fresh(row.expires_at):
                    self._cached = (access, zalo_store.aware(row.expires_at))
                    return access  # refreshed by another process in the meantime
                access, new_refresh, expires_at = await self._exchange(refresh_token)
                row.access_token = self._cipher.seal(access)
                row.refresh_token = self._cipher.seal(new_refresh)
                row.expires_at = expires_at
                row.updated_at = utcnow()
            # Committed: the new pair is safe before the new access token is used.
            self._cached = (access, expires_at)
            self.refreshes += 1
            log.info(
                "Zalo OA: access token refreshed, valid until %s",
                expires_at.isoformat("T", "minutes"),
            )
            return access

    async def _exchange(self, refresh_token: str) -> tuple[str, str, datetime]:
        """Spend the refresh token at ``/v4/oa/access_token``; never logs what it sends."""
        if not refresh_token:
            raise TokenError("no Zalo OA refresh token stored")
        form = {
            "refresh_token": refresh_token,
            "app_id": self._app_id,
            "grant_type": "refresh_token",
        }
        try:
            async with self._http().post(
                self._url,
                data=form,
                headers={"secret_key": self._app_secret},
                timeout=aiohttp.ClientTimeout(total=self.tuning.http_timeout),
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TokenError(f"token endpoint unreachable ({type(exc).__name__})") from exc
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise TokenError(f"unreadable answer from the token endpoint (HTTP {status})")
        access, new_refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not isinstance(new_refresh, str) or not access:
            code = _int(data.get("error"))
            reason = str(data.get("message") or data.get("error_name") or "")[:120]
            if code == REFRESH_TOKEN_REJECTED:
                log.error(
                    "Zalo OA: the refresh token was refused as used or invalid (%s). Mint a new "
                    "pair (API Explorer or OAuth) and set ZALO_OA_ACCESS_TOKEN and "
                    "ZALO_OA_REFRESH_TOKEN with the zalo_tokens row deleted",
                    code,
                )
            raise TokenError(f"token refresh refused: error {code} {reason}".strip(), code)
        try:
            lifetime = int(str(data.get("expires_in") or 3600))
        except ValueError:
            lifetime = 3600
        return access, new_refresh, utcnow() + timedelta(seconds=max(lifetime, 60))
