"""One typed settings object, read from the environment and ``.env``; mirrors ``.env.example``."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/motcua.db"
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    """Every setting of motcua. Names are the environment variables, upper-cased."""

    # hide_input_in_errors: a validation error must not print the bot token or other secrets.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = False
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path("data/secret.key")
    kb_dir: Path = Path(__file__).resolve().parent.parent / "knowledge" / "data"
    kb_reload_seconds: float = Field(default=5.0, gt=0)
    index_cache_dir: Path | None = None
    """Where built knowledge indexes are kept, so that a (re)starting worker loads the index of
    a base already indexed instead of building it (``knowledge/index_cache.py``); None: off."""
    kb_register_dir: Path = Path(__file__).resolve().parent.parent / "knowledge" / "register"
    """Register of legal documents (``*.yaml``) loaded into the database at every start."""
    kb_review_caveat: bool = False
    """True: every answer from an entry under review carries a short caveat; False: only
    entries citing a document an admin flagged (``/vanban canhbao``, ``--caveat``)."""
    hotline: str = "18001096"
    max_message_chars: int = Field(default=2000, ge=100)
    web_rate_limit_per_minute: int = Field(default=30, ge=1)
    web_session_days: int = Field(default=30, ge=1)
    web_rate_limit_per_address_per_minute: int = Field(default=120, ge=1)
    """Web-chat messages per minute from one client address, whatever the session (counted in
    the database, so across all workers). Generous: mobile carriers put many phones behind one
    address."""
    trusted_proxies: str = ""
    """Comma-separated addresses or networks of reverse proxies whose ``X-Forwarded-For`` is
    believed (e.g. "127.0.0.1" behind the bundled nginx); empty: the TCP peer is the client."""
    answer_threshold: float | None = None
    suggest_threshold: float | None = None
    db_pool_size: int = Field(default=10, ge=1)
    sqlite_inline: bool = True
    """SQLite only: run statements on the event loop's thread (storage/sqlite_inline.py; a
    message costs about half). A long statement then holds the whole process, /livez
    included; false runs them on aiosqlite's worker thread instead (docs/cost.md)."""
    sqlite_group_commit: bool = True
    """SQLite only: web chat messages are committed a batch at a time by one writer, each in a
    savepoint, replies released after the batch's commit (storage/group_commit.py); false: one
    transaction a message."""

    # --- Retention (days; purged daily by every worker, harmless when concurrent) ----
    message_log_retention_days: int = Field(default=365, ge=1)
    """Questions and decisions in the message log."""
    audit_retention_days: int = Field(default=1825, ge=30)
    """The admin and staff audit log."""
    lookup_audit_retention_days: int = Field(default=365, ge=30)
    """Dossier lookup attempts."""
    processed_events_retention_days: int = Field(default=30, ge=1)
    """Ids of processed deliveries (kept longer than any platform redelivers)."""
    purge_interval_hours: float = Field(default=24, gt=0)

    # --- Roles -------------------------------------------------------------------------
    admins: str = ""
    """Comma-separated CHANNEL:USER_ID of the administrators granted the admin role at start
    (e.g. "telegram:123456789"); more are added with ``motcua users grant``."""

    # --- Staff web console (bot/staff/) ------------------------------------------------
    public_base_url: str = ""
    """The address staff open the console at, e.g. "https://motcua.cantho.gov.vn": sign-in
    links (/dangnhap, ``motcua staff link``) start with it; empty: http://HOST:PORT. Behind
    HTTPS (an https:// address) the session cookie is marked Secure."""
    staff_session_idle_hours: float = Field(default=24, gt=0)
    """A console session unused this long is closed."""
    staff_dashboard_cache_seconds: float = Field(default=60, ge=0)
    """How long a worker reuses the figures of a dashboard view (0: always recompute)."""

    @property
    def staff_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    # --- Dossiers -----------------------------------------------------------------------
    holidays_file: Path | None = None
    """An operator's extra calendar file (holidays, swapped working days) over the bundled one."""
    outbox_interval_seconds: float = Field(default=2.0, gt=0)
    """How often each process looks for notifications to send."""
    webhook_lease_seconds: float = Field(default=30.0, ge=1)
    """How long a worker holds a stored webhook update it is handling (bot/update_inbox.py);
    after a crash, another worker takes the update over once this has passed."""

    # --- Telegram (bot/channels/telegram/) ---------------------------------------------
    telegram_bot_token: SecretStr | None = None
    """Token from @BotFather; empty: the Telegram channel is off. Never logged."""
    telegram_webhook_url: str = ""
    """Public HTTPS URL that reaches ``POST /telegram/webhook``; empty: long polling."""
    telegram_webhook_secret: SecretStr | None = None
    """Required with a webhook URL: 1-256 of ``A-Z a-z 0-9 _ -``, checked on every update."""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    """Bot API base, the token is appended; change it for a self-hosted Bot API server."""

    @field_validator("telegram_bot_token", "telegram_webhook_secret", mode="after")
    @classmethod
    def _blank_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _check_telegram_webhook(self) -> Settings:
        if not self.telegram_webhook_url:
            return self
        if not self.telegram_webhook_url.startswith("https://"):
            raise ValueError("TELEGRAM_WEBHOOK_URL must be an https:// URL")
        secret = self.telegram_webhook_secret
        if secret is None or not _WEBHOOK_SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError(
                "TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET: 1-256 characters "
                "from A-Z, a-z, 0-9, _ and -"
            )
        return self

    # --- Zalo (bot/channels/zalo_oa/, bot/channels/zalo_bot/) ---------------------
    zalo_app_id: str = ""
    """Zalo app id (developers.zalo.me), linked to the OA; empty: the Zalo OA channel is off."""
    zalo_oa_id: str = ""
    """The Official Account's id: keys its tokens, and events for other OAs are ignored."""
    zalo_app_secret: SecretStr | None = None
    """The app's secret key, sent (``secret_key`` header) only to refresh tokens. Never logged."""
    zalo_oa_secret_key: SecretStr | None = None
    """The OA Secret Key that signs webhooks (may equal the app secret). Never logged."""
    zalo_oa_signature_variant: Literal["app_id", "oa_id", "either"] = "app_id"
    """First term of the webhook MAC: "app_id" as documented, "oa_id" as some code does it,
    "either" accepts both and logs which one matched (to find out on a real OA)."""
    zalo_oa_max_event_age_seconds: float = Field(default=900.0, gt=0)
    """Signed webhook events whose timestamp is further than this from now are refused
    (replays of captured events); default 15 minutes either side."""
    zalo_oa_access_token: SecretStr | None = None
    """First access token (API Explorer or OAuth); used only while the database holds none."""
    zalo_oa_refresh_token: SecretStr | None = None
    """First refresh token, single-use: after the first refresh only the database copy works."""
    zalo_oa_api_base_url: str = "https://openapi.zalo.me"
    """OA API host (``/v3.0/oa/message/cs``...); change it for a proxy or the test fake."""
    zalo_oauth_base_url: str = "https://oauth.zaloapp.com"
    """OAuth host (``/v4/oa/access_token``) for token refreshes."""
    zalo_bot_token: SecretStr | None = None
    """Zalo Bot API token (Zalo Bot Creator); empty: the Zalo Bot channel is off. Never logged."""
    zalo_bot_mode: Literal["polling", "webhook"] = "polling"
    """How Zalo Bot updates arrive: "polling" (getUpdates; one process, for development) or
    "webhook" (``POST /zalo/bot/webhook``, for production and several processes)."""
    zalo_bot_webhook_url: str = ""
    """Public HTTPS URL of ``POST /zalo/bot/webhook``, registered at start in webhook mode
    (empty: register it yourself)."""
    zalo_bot_webhook_secret: SecretStr | None = None
    """Required in webhook mode: 8-256 characters, checked in ``X-Bot-Api-Secret-Token``."""
    zalo_bot_api_base_url: str = "https://bot-api.zaloplatforms.com"
    """Zalo Bot API host; ``/bot<TOKEN>/<method>`` is appended."""

    @field_validator(
        "zalo_app_secret",
        "zalo_oa_secret_key",
        "zalo_oa_access_token",
        "zalo_oa_refresh_token",
        "zalo_bot_token",
        "zalo_bot_webhook_secret",
        mode="after",
    )
    @classmethod
    def _blank_zalo_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _check_zalo(self) -> Settings:
        oa = {
            "ZALO_APP_ID": bool(self.zalo_app_id),
            "ZALO_OA_ID": bool(self.zalo_oa_id),
            "ZALO_APP_SECRET": self.zalo_app_secret is not None,
            "ZALO_OA_SECRET_KEY": self.zalo_oa_secret_key is not None,
        }
        if any(oa.values()) and not all(oa.values()):
            missing = ", ".join(name for name, given in oa.items() if not given)
            raise ValueError(f"the Zalo OA channel also needs {missing}")
        if self.zalo_bot_webhook_url and not self.zalo_bot_webhook_url.startswith("https://"):
            raise ValueError("ZALO_BOT_WEBHOOK_URL must be an https:// URL")
        if self.zalo_bot_token is not None and self.zalo_bot_mode == "webhook":
            secret = self.zalo_bot_webhook_secret
            if secret is None or not 8 <= len(secret.get_secret_value()) <= 256:
                raise ValueError(
                    "ZALO_BOT_MODE=webhook needs ZALO_BOT_WEBHOOK_SECRET (8-256 characters)"
                )
        return self

    @field_validator("trusted_proxies", mode="after")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        import ipaddress

        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"TRUSTED_PROXIES: {part.strip()!r} is not an address or network"
                    ) from None
        return value

    # --- Reflections, phản ánh kiến nghị (handlers/reflections.py) ----------------------
    reflection_answer_workdays: int = Field(default=15, ge=1, le=60)
    """Working days an agency has to answer a citizen's reflection (calendar of HOLIDAYS_FILE)."""
    reflection_daily_limit: int = Field(default=3, ge=1, le=100)
    """Reflections one person may send per day (Vietnam time)."""
    reflection_max_photo_bytes: int = Field(default=5 * 1024 * 1024, ge=10_000)
    """Largest photo accepted with a reflection; photos are re-encoded without metadata."""
    reflection_check_minutes: float = Field(default=60.0, gt=0)
    """How often each process looks for overdue reflections to escalate to the parent agency."""

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret(self) -> bytes:
        """The server secret for keyed hashes: the setting, else a file created on first use.

        The embedded default must work with no configuration, yet hashed user ids must stay
        stable across restarts, so a random key is generated once and kept beside the database:
        created with mode 600 under a temporary name, then linked into place, so that a
        concurrent process never sees a partial key and two processes never keep two keys.
        A key (setting or file) shorter than ``MIN_SECRET_BYTES`` is refused.
        """
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        path = self.secret_key_file
        if not path.exists():
            _create_key_file(path)
        key = path.read_bytes().strip()
        if len(key) < MIN_SECRET_BYTES:
            raise SecretKeyError(
                f"SECRET_KEY_FILE {path} holds {len(key)} bytes; a key needs at least "
                f"{MIN_SECRET_BYTES}. Delete the file to generate one, or put a key in it "
                f"(python3 -c 'import secrets; print(secrets.token_hex(32))')."
            )
        return key

    @field_validator("secret_key", mode="after")
    @classmethod
    def _strong_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes "
                "(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return value


MIN_SECRET_BYTES = 32


class SecretKeyError(ValueError):
    """The server secret is missing or too short to key the hashes."""


def _create_key_file(path: Path) -> None:
    """Write a new random key at ``path`` unless another process already did (mode 600)."""
    import contextlib
    import os
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_hex(32).encode())
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic, and fails if another process created it first
    finally:
        tmp.unlink(missing_ok=True)
