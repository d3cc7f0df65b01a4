"""Zalo OA API v3 wire facts: paths, limits, error codes, timings, and the API error.

Sources are in ``../shared/zalo.md`` (§2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.messages import Channel

CHANNEL = Channel.ZALO_OA


WEBHOOK_PATH = "/zalo/oa/webhook"


SIGNATURE_HEADER = "X-ZEvent-Signature"


CS_MESSAGE_PATH = "/v3.0/oa/message/cs"


TOKEN_PATH = "/v4/oa/access_token"  # noqa: S105 (a path)


UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"  # multipart ``file`` -> data.attachment_id


UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"  # multipart ``file`` -> data.token


# Zalo's upload limits (zalo.md §2.3): images JPG/PNG up to 1 MB, files up to 5 MB.
MAX_IMAGE_BYTES = 1_000_000


MAX_FILE_BYTES = 5_000_000


IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})


MAX_TEXT_CHARS = 2000


MAX_BUTTONS = 5


MAX_BUTTON_TITLE_CHARS = 100


MAX_PAYLOAD_CHARS = 1000


# Error codes in the body of an OA API answer (zalo.md §2.5).
TOKEN_ERRORS = frozenset({-216, -220})


RETRYABLE_ERRORS = frozenset({-32, -100})


NOT_FOLLOWING = -213


WINDOW_ERRORS = frozenset({NOT_FOLLOWING, -217, -227, -230, -232, -234, -244})


HUMAN_NEEDED_ERRORS = frozenset({-211, -221, -224})


REFRESH_TOKEN_REJECTED = -14014


TRANSIENT = 1  # our own code for network failures, 5xx and unreadable answers


# In ``outbox.last_error``, so that statistics can count window refusals across processes.
WINDOW_SKIPPED = "zalo-window-skipped"


WINDOW_REFUSED = "zalo-window-refused"


SignatureVariant = Literal["app_id", "oa_id", "either"]


@dataclass(frozen=True, slots=True)
class Tuning:
    """Timings and limits; Zalo allows 4,000 requests a minute per app."""

    window: timedelta = timedelta(days=7)
    refresh_margin: timedelta = timedelta(minutes=10)
    # A pasted first access token's remaining life is unknown: assume a short one (a refresh
    # costs nothing, the new pair is stored), and -216 triggers one anyway.
    initial_lifetime: timedelta = timedelta(hours=1)
    requests_per_minute: float = 3000.0
    http_timeout: float = 15.0
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    ready_timeout: float = 10.0
    drain_timeout: float = 10.0


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


class OaApiError(Exception):
    """A refusal from the OA API (the ``error`` of its body, or TRANSIENT for our failures)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"error {code}: {message}")
        self.code = code
        self.message = message

    @property
    def window(self) -> bool:
        """The user cannot be messaged now: not a follower, no interaction within 7 days..."""
        return self.code in WINDOW_ERRORS

    @property
    def retryable(self) -> bool:
        """Worth trying again later (the message is fine, the moment was not)."""
        return (
            self.code == TRANSIENT
            or self.code in RETRYABLE_ERRORS
            or self.code in TOKEN_ERRORS
            or self.code in HUMAN_NEEDED_ERRORS
        )
