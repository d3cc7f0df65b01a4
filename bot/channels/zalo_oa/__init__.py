"""Zalo Official Account (OA API v3): signed webhooks in, customer-service messages out.

Wire facts and their sources are in ``../shared/zalo.md``; what this adapter does with them:

- ``POST /zalo/oa/webhook`` checks ``X-ZEvent-Signature: mac=sha256(app_id + raw body +
  timestamp + OA secret key)`` over the exact bytes received, in constant time (the ``oa_id``
  variant some code uses can be switched on by a setting), stores the event in the inbox
  (``bot.update_inbox``) and answers 200 once it is committed: Zalo wants its answer within
  2 s and retries otherwise, and an event it got its 200 for must survive this process. The
  inbox hands the event back to ``process`` on whichever worker claims it, in order per user.
  A retry carries the same ``msg_id``, stored and processed once.
- Button taps arrive as ordinary text carrying the button's payload; the payload ends with a
  ``[#value]`` marker that is mapped back to the choice's value.
- Replies go through ``/v3.0/oa/message/cs`` with the bare ``access_token`` header. Zalo reports
  errors in the body, even with HTTP 200, so every answer's ``error`` is read.
- The access token is refreshed shortly before it expires and once when Zalo calls it invalid.
  The refresh token is single-use: the new pair is committed to the database before the new
  access token is used, under a row lock, so two processes never burn the same refresh token.
- Zalo only accepts messages within 7 days of the user's last interaction: the time of each
  user's last event is stored, and a notification outside the window is not attempted.

Tokens and secrets never reach a log line; users appear there as keyed hashes.

The package (each module only translates; the shared parts are ``bot.channels.base``):

- ``api``: paths, limits, error codes, timings (``Tuning``) and ``OaApiError``;
- ``webhook``: the signature check and event parsing (pure);
- ``render``: replies as OA messages (pure);
- ``cipher`` and ``tokens``: the token pair, sealed in the database and refreshed across
  processes;
- ``client``: the HTTP calls (JSON and uploads) with the token, limits and retries;
- ``channel``: ``ZaloOaChannel``, the adapter (webhook receiver, replies, outbox delivery).
"""

from bot.channels.base import CHOOSE
from bot.channels.zalo_oa.api import (
    CHANNEL,
    CS_MESSAGE_PATH,
    HUMAN_NEEDED_ERRORS,
    IMAGE_TYPES,
    MAX_BUTTON_TITLE_CHARS,
    MAX_BUTTONS,
    MAX_FILE_BYTES,
    MAX_IMAGE_BYTES,
    MAX_PAYLOAD_CHARS,
    MAX_TEXT_CHARS,
    NOT_FOLLOWING,
    REFRESH_TOKEN_REJECTED,
    RETRYABLE_ERRORS,
    SIGNATURE_HEADER,
    TOKEN_ERRORS,
    TOKEN_PATH,
    TRANSIENT,
    UPLOAD_FILE_PATH,
    UPLOAD_IMAGE_PATH,
    WEBHOOK_PATH,
    WINDOW_ERRORS,
    WINDOW_REFUSED,
    WINDOW_SKIPPED,
    OaApiError,
    SignatureVariant,
    Tuning,
)
from bot.channels.zalo_oa.channel import (
    ERR_BODY,
    ERR_SIGNATURE,
    ERR_STALE,
    ERR_STARTING,
    ERR_STORE,
    ZaloOaChannel,
)
from bot.channels.zalo_oa.cipher import (
    TokenCipher,
)
from bot.channels.zalo_oa.client import (
    OaClient,
)
from bot.channels.zalo_oa.render import (
    NO_ATTACHMENT,
    NUMBER_HINT,
    OaMessage,
    button_title,
    choice_of,
    choice_payload,
    render,
    split_text,
    text_length,
)
from bot.channels.zalo_oa.tokens import (
    OaTokens,
    TokenError,
)
from bot.channels.zalo_oa.webhook import (
    LIFECYCLE,
    MEDIA_KINDS,
    OaEvent,
    OaEventKind,
    event_is_fresh,
    event_oa_id,
    event_time,
    expected_mac,
    parse_event,
    signature_matches,
)

__all__ = [
    "CHANNEL",
    "CHOOSE",
    "CS_MESSAGE_PATH",
    "ERR_BODY",
    "ERR_SIGNATURE",
    "ERR_STALE",
    "ERR_STARTING",
    "ERR_STORE",
    "HUMAN_NEEDED_ERRORS",
    "IMAGE_TYPES",
    "LIFECYCLE",
    "MAX_BUTTONS",
    "MAX_BUTTON_TITLE_CHARS",
    "MAX_FILE_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_PAYLOAD_CHARS",
    "MAX_TEXT_CHARS",
    "MEDIA_KINDS",
    "NOT_FOLLOWING",
    "NO_ATTACHMENT",
    "NUMBER_HINT",
    "REFRESH_TOKEN_REJECTED",
    "RETRYABLE_ERRORS",
    "SIGNATURE_HEADER",
    "TOKEN_ERRORS",
    "TOKEN_PATH",
    "TRANSIENT",
    "UPLOAD_FILE_PATH",
    "UPLOAD_IMAGE_PATH",
    "WEBHOOK_PATH",
    "WINDOW_ERRORS",
    "WINDOW_REFUSED",
    "WINDOW_SKIPPED",
    "OaApiError",
    "OaClient",
    "OaEvent",
    "OaEventKind",
    "OaMessage",
    "OaTokens",
    "SignatureVariant",
    "TokenCipher",
    "TokenError",
    "Tuning",
    "ZaloOaChannel",
    "button_title",
    "choice_of",
    "choice_payload",
    "event_is_fresh",
    "event_oa_id",
    "event_time",
    "expected_mac",
    "parse_event",
    "render",
    "signature_matches",
    "split_text",
    "text_length",
]
