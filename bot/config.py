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
    hotline: str = "18001096"
    max_message_chars: int = Field(default=2000, ge=100)
    web_rate_limit_per_minute: int = Field(default=30, ge=1)
    web_session_days: int = Field(default=30, ge=1)
    answer_threshold: float | None = None
    suggest_threshold: float | None = None
    db_pool_size: int = Field(default=10, ge=1)

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

    # --- Telegram (bot/channels/telegram.py) ---------------------------------------------
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

    # --- Zalo (bot/channels/zalo_oa.py, bot/channels/zalo_bot.py) ---------------------
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

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret(self) -> bytes:
        """The server secret for keyed hashes: the setting, else a file created on first use.

        The embedded default must work with no configuration, yet hashed user ids must stay
        stable across restarts, so a random key is generated once and kept beside the database.
        """
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        path = self.secret_key_file
        if path.exists():
            return path.read_bytes().strip()
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        path.write_bytes(key)
        path.chmod(0o600)
        return key
