"""Every table of the database: importing this package registers all of them on
``Base.metadata`` (migrations, ``create_all`` and the parity test rely on it).

``core`` holds ``Base`` and the main tables; the other modules hold one area's tables each and
import ``storage.models.core``, never this package. Written by ``scripts/relayer.py``: add a
model module to this folder and run the script again to list its names here.
"""

from __future__ import annotations

from storage.models.admin import AuditLog, AuditPurge, InboxStatus, KbHistory, PendingImport
from storage.models.channels import MAX_REASON_CHARS, ChannelRecipient
from storage.models.core import (
    NAMING_CONVENTION,
    Agency,
    AnswerFeedback,
    ApiKey,
    Base,
    BigId,
    ChatStateRow,
    Dossier,
    DossierEvent,
    DossierPause,
    FeedbackAnswer,
    FeedbackInvitation,
    FeedbackResponse,
    KbEntry,
    KbState,
    LookupAudit,
    MessageLog,
    OutboxMessage,
    Procedure,
    ProcessedEvent,
    RateCounter,
    RoleGrant,
    Subscription,
    WebSession,
    utcnow,
)
from storage.models.inbox import DONE, FAILED, PENDING, InboundUpdate
from storage.models.reflections import (
    ANSWERED,
    NOT_IN_SCOPE,
    OPEN,
    SUBJECTS,
    Reflection,
    ReflectionAttachment,
    ReflectionEvent,
)
from storage.models.register import KbReviewItem, LegalDocumentRow
from storage.models.staff import StaffLoginLink, StaffSession
from storage.models.web import WebHistoryItem
from storage.models.zalo import ZaloInteraction, ZaloToken

__all__ = [
    "ANSWERED",
    "DONE",
    "FAILED",
    "MAX_REASON_CHARS",
    "NAMING_CONVENTION",
    "NOT_IN_SCOPE",
    "OPEN",
    "PENDING",
    "SUBJECTS",
    "Agency",
    "AnswerFeedback",
    "ApiKey",
    "AuditLog",
    "AuditPurge",
    "Base",
    "BigId",
    "ChannelRecipient",
    "ChatStateRow",
    "Dossier",
    "DossierEvent",
    "DossierPause",
    "FeedbackAnswer",
    "FeedbackInvitation",
    "FeedbackResponse",
    "InboundUpdate",
    "InboxStatus",
    "KbEntry",
    "KbHistory",
    "KbReviewItem",
    "KbState",
    "LegalDocumentRow",
    "LookupAudit",
    "MessageLog",
    "OutboxMessage",
    "PendingImport",
    "Procedure",
    "ProcessedEvent",
    "RateCounter",
    "Reflection",
    "ReflectionAttachment",
    "ReflectionEvent",
    "RoleGrant",
    "StaffLoginLink",
    "StaffSession",
    "Subscription",
    "WebHistoryItem",
    "WebSession",
    "ZaloInteraction",
    "ZaloToken",
    "utcnow",
]
