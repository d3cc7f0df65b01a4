"""Every kind of button the assistant sends, declared once (see ``handlers.callbacks``).

The prefixes and the order of the fields are the wire format already in citizens' chats: do
not change them; add a new kind (a new prefix) instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from handlers.callbacks import CallbackData

MenuItem = Literal["ask", "browse", "dossier", "rate", "help", "menu", "none", "pakn"]


@dataclass(frozen=True)
class Menu(CallbackData, prefix="m"):
    """A main-menu item ("m:browse"); each item is routed on its own in ROUTES."""

    item: MenuItem


# ------------------------------------------------------------------ knowledge base


@dataclass(frozen=True)
class EntryButton(CallbackData, prefix="e"):
    """An entry of the knowledge base, by a short hash of its id."""

    ref: str


@dataclass(frozen=True)
class CategoryButton(CallbackData, prefix="c"):
    """A field (category) while browsing, by a short hash."""

    ref: str


@dataclass(frozen=True)
class ProcedureButton(CallbackData, prefix="p"):
    """A procedure while browsing, by a short hash of category and procedure."""

    ref: str


@dataclass(frozen=True)
class Helpful(CallbackData, prefix="hf"):
    """Whether an answer (its question-log id) helped."""

    message: int
    helpful: bool


@dataclass(frozen=True)
class TripSaved(CallbackData, prefix="tr"):
    """Whether an answer saved the citizen a trip."""

    message: int
    saved: bool


# ------------------------------------------------------------------ dossiers and ratings


@dataclass(frozen=True)
class Subscription(CallbackData, prefix="ds"):
    """Notifications of a dossier's status changes, on or off."""

    action: Literal["on", "off"]
    dossier: int


@dataclass(frozen=True)
class InvitationRating(CallbackData, prefix="rt"):
    """A three-level rating tapped on the invitation sent when a dossier is finished."""

    invitation: int
    level: int


@dataclass(frozen=True)
class DossierRating(CallbackData, prefix="rd"):
    """A three-level rating of a dossier verified in this conversation."""

    dossier: int
    level: int


@dataclass(frozen=True)
class PlaceRating(CallbackData, prefix="ra"):
    """A three-level rating of a service point (an agency) without a dossier."""

    agency: int
    level: int


SurveyStep = Literal["go", "no", "comment", "0", "1", "2", "3", "4"]


@dataclass(frozen=True)
class Survey(CallbackData, prefix="sv"):
    """The five-aspect survey: start ("go"), decline ("no"), skip the comment ("comment",
    "skip"), or answer question n ("<n>", "<score>", 0 for skipped)."""

    response: int
    step: SurveyStep
    value: str | None = None


@dataclass(frozen=True)
class RatingMenu(CallbackData, prefix="dg"):
    """/danhgia's choices: a service point ("place"), a verified dossier ("d", id), or an
    agency found by name ("a", id)."""

    kind: Literal["place", "d", "a"]
    ident: int | None = None


# ------------------------------------------------------------------ reflections


ReflectionAction = Literal["n", "x", "s", "p", "d", "a", "r", "m", "b"]


@dataclass(frozen=True)
class ReflectionButton(CallbackData, prefix="pa"):
    """The citizen's reflection buttons: declined offer (n), cancel (x), send now (s), about a
    place (p), about a dossier (d, id), an agency (a, id), a rating (r, id), an answer (m, id),
    the assistant (b)."""

    action: ReflectionAction
    ident: int | None = None


@dataclass(frozen=True)
class ReflectionVerdict(CallbackData, prefix="pv"):
    """Whether an agency's answer resolved the matter."""

    reflection: int
    resolved: bool


@dataclass(frozen=True)
class StaffReflection(CallbackData, prefix="ps"):
    """Staff on a reflection: cancel (x), view (v), answer (a), forward (f), not in scope (n),
    forward to this target (t, target)."""

    action: Literal["x", "v", "a", "f", "n", "t"]
    reflection: int | None = None
    target: int | None = None


# ------------------------------------------------------------------ admins


@dataclass(frozen=True)
class AdminCancel(CallbackData, prefix="ad:x"):
    """Leave the admin flow; nothing pending is applied."""


@dataclass(frozen=True)
class AdminConfirm(CallbackData, prefix="ad:y"):
    """ "Xác nhận" under a preview; the nonce must be the preview's own."""

    nonce: str


@dataclass(frozen=True)
class AdminEntry(CallbackData, prefix="ad:e"):
    """Under an entry: view, edit answer, add phrasing, off, on, history, roll back."""

    verb: Literal["v", "ans", "alt", "off", "on", "h", "rb"]
    ref: str


@dataclass(frozen=True)
class AdminCategory(CallbackData, prefix="ad:c"):
    """A category: view, or preview turning its entries off or on."""

    verb: Literal["v", "off", "on"]
    ref: str


@dataclass(frozen=True)
class AdminNewEntry(CallbackData, prefix="ad:n"):
    """The new-entry steps: an existing category (c, ref), keep the question, skip the basis."""

    step: Literal["c", "keep", "skip"]
    ref: str | None = None


@dataclass(frozen=True)
class AdminImport(CallbackData, prefix="ad:i"):
    """An import: preview replacing the whole base (rep, nonce), or undoing one (undo, batch)."""

    verb: Literal["rep", "undo"]
    ref: str


@dataclass(frozen=True)
class AdminGroup(CallbackData, prefix="ad:g"):
    """A group of unanswered questions: view, as a phrasing of an entry (a, entry ref), a new
    entry, ignore."""

    verb: Literal["v", "a", "n", "i"]
    key: str
    ref: str | None = None
