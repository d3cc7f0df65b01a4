"""The texts that ingest queues for a dossier's subscribers, handed to ``Ingestor``.

Ingest belongs to the domain and must not import handlers, so the composition root (app,
server, CLI) passes these in.
"""

from __future__ import annotations

from bot.domain.ingest import NotificationTexts
from handlers.dossier import status_change_replies
from handlers.feedback import invitation_reply

DOSSIER_NOTIFICATIONS = NotificationTexts(
    status_change=status_change_replies, invitation=invitation_reply
)
