"""Admins maintain the knowledge base from the chat.

Every change follows the same path: the admin asks for it (a command, a button, a file), the
assistant shows a preview (before and after), and the change is applied only when the admin taps
"Xác nhận" on that very preview. The preview's confirmation carries a fresh nonce that must match
the one kept in the chat's state, and the state keeps a fingerprint of the entries as they were
previewed: a button from an older preview, a flow left for more than ``FLOW_TTL`` seconds, or
an entry changed meanwhile (by another admin, another process, a CLI import) is refused and
nothing changes. Applied changes are written with their history (one-step rollback), bump the
knowledge revision (every process rebuilds its index within seconds) and are appended to the
audit log, all inside the dispatcher's one transaction.

The package: ``flow`` (the flow's state and shared helpers), ``search`` (/faq: find, read,
categories, export), ``edit`` (one entry's changes, a new entry step by step), ``inbox``
(/chuatraloi), ``imports`` (knowledge files), ``confirm`` (apply a preview, /huy). Button values
are declared in ``handlers.buttons`` ("ad:<area>:<verb>:<ref>") and refer to entries by a short
hash of their id.
"""

from handlers.admin.confirm import cancel, confirm
from handlers.admin.edit import continue_flow, new_entry_button
from handlers.admin.flow import FLOW, FLOW_TTL
from handlers.admin.imports import (
    MAX_LISTED,
    ParsedUpload,
    file_received,
    import_button,
    parse_upload,
)
from handlers.admin.inbox import group_button, show_inbox
from handlers.admin.search import category_button, entry_button, faq_command

__all__ = [
    "FLOW",
    "FLOW_TTL",
    "MAX_LISTED",
    "ParsedUpload",
    "cancel",
    "category_button",
    "confirm",
    "continue_flow",
    "entry_button",
    "faq_command",
    "file_received",
    "group_button",
    "import_button",
    "new_entry_button",
    "parse_upload",
    "show_inbox",
]
