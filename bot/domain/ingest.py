"""Dossiers and status events from the city's one-stop system: validate, then apply atomically.

The same code serves ``POST /api/v1/dossiers`` and ``motcua dossiers import``. A request is all
or nothing: every item is validated (and every problem reported) before anything is written;
an event already received (same id) changes nothing, so the sender may retry freely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import event_order
from bot.domain.dossiers.codes import parse_code
from bot.domain.dossiers.status import DossierStatus
from bot.domain.outbox_payload import replies_to_payload
from bot.domain.privacy import (
    keyed_hash,
    mask_name,
    normalise_id_number,
    normalise_phone,
    owner_id_hash,
    owner_phone_hash,
)
from bot.domain.vietnam_time import VN_TZ
from bot.messages import Reply
from storage.models import Agency, Dossier
from storage.repositories import dossier_history, feedback, outbox, subscriptions
from storage.repositories import dossiers as repo

MAX_ITEMS = 1000


class DossierIn(BaseModel):
    """One dossier as the one-stop system sends it (a snapshot of its current state)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40)
    procedure_code: str = Field(min_length=1, max_length=40)
    receiving_agency: str = Field(min_length=1, max_length=20)
    handling_agency: str | None = Field(default=None, max_length=20)
    channel: int = Field(default=1, ge=1, le=3)
    owner_name: str = Field(default="", max_length=120)
    owner_id_number: str | None = None
    owner_phone: str | None = None
    submitted_at: datetime | None = None
    received_date: date | None = None
    due_date: date | None = None
    rescheduled_due_date: date | None = None
    finished_date: date | None = None
    returned_date: date | None = None
    status: int = Field(ge=1, le=10)
    supplement_count: int | None = Field(default=None, ge=0, le=100)
    supplement_reason: str = Field(default="", max_length=2000)
    refusal_reason: str = Field(default="", max_length=2000)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return parse_code(value).code

    @field_validator("owner_id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        number = normalise_id_number(value)
        if number is None:
            raise ValueError("must be a 12-digit CCCD or 9-digit CMND number")
        return number

    @field_validator("owner_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        phone = normalise_phone(value)
        if phone is None:
            raise ValueError("must be a Vietnamese phone number (10 digits)")
        return phone


UNKNOWN_DOSSIER = "unknown dossier (or not one of this key's agencies)"


class EventIn(BaseModel):
    """A status change of a dossier, identified by the sender's own event id."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=100)
    dossier_code: str = Field(min_length=1, max_length=40)
    at: datetime
    status: int = Field(ge=1, le=10)
    note: str = Field(default="", max_length=2000)

    @field_validator("dossier_code")
    @classmethod
    def _code(cls, value: str) -> str:
        return parse_code(value).code


@dataclass(frozen=True, slots=True)
class ItemError:
    item: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "field": self.field, "message": self.message}


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    events_applied: int = 0
    events_duplicate: int = 0
    notifications: int = 0
    errors: list[ItemError] = field(default_factory=list)
    forbidden: list[ItemError] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "events_applied": self.events_applied,
            "events_duplicate": self.events_duplicate,
            "notifications": self.notifications,
        }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)


def _utc(value: datetime) -> datetime:
    """A sent time as the UTC instant the models store (a time without a zone is Vietnam
    time). Never the Vietnam wall clock: SQLite would keep its digits and drop the zone."""
    return _aware(value).astimezone(UTC)


def _stored(value: datetime) -> datetime:
    """A time read back from the database: SQLite returns stored UTC without its zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def validate_batch(body: Any) -> tuple[list[DossierIn], list[EventIn], list[ItemError]]:
    """Parse a batch ``{"dossiers": [...], "events": [...]}``; every problem is collected."""
    errors: list[ItemError] = []
    if not isinstance(body, dict):
        return (
            [],
            [],
            [ItemError("body", "", "expected a JSON object with 'dossiers' and/or 'events'")],
        )
    unknown = set(body) - {"dossiers", "events"}
    errors += [ItemError("body", k, "unknown field") for k in sorted(unknown)]
    out: dict[str, list[Any]] = {"dossiers": [], "events": []}
    for key, model in (("dossiers", DossierIn), ("events", EventIn)):
        items = body.get(key, [])
        if not isinstance(items, list):
            errors.append(ItemError(key, "", "must be a list"))
            continue
        if len(items) > MAX_ITEMS:
            errors.append(ItemError(key, "", f"at most {MAX_ITEMS} items per request"))
            continue
        for i, raw in enumerate(items):
            try:
                out[key].append(model.model_validate(raw))
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"])
                    errors.append(ItemError(f"{key}[{i}]", loc, err["msg"]))
    if not out["dossiers"] and not out["events"] and not errors:
        errors.append(ItemError("body", "", "nothing to ingest: 'dossiers' and 'events' are empty"))
    return out["dossiers"], out["events"], errors


@dataclass(frozen=True, slots=True)
class NotificationTexts:
    """The citizen-facing messages ingest queues for subscribers: composed by the handlers
    (``handlers.notifications``) and passed in, so that the domain never imports them."""

    #: The replies a subscriber gets when a dossier's status changes.
    status_change: Callable[[AsyncSession, Dossier], Awaitable[list[Reply]]]
    #: The rating invitation for a finished dossier: (dossier code, invitation id) -> reply.
    invitation: Callable[[str, int], Reply]


class Ingestor:
    """Applies validated batches for one API key's agency subtree (None: no limit, for the CLI)."""

    def __init__(self, secret: bytes, texts: NotificationTexts) -> None:
        self._secret = secret
        self._texts = texts

    def hash_id(self, number: str) -> str:
        return owner_id_hash(self._secret, number)

    def hash_phone(self, phone: str) -> str:
        return owner_phone_hash(self._secret, phone)

    async def apply(
        self,
        session: AsyncSession,
        dossiers: Sequence[DossierIn],
        events: Sequence[EventIn],
        *,
        scope: Agency | None,
    ) -> IngestResult:
        """Write a batch inside the caller's transaction; on errors, write nothing and report."""
        result = IngestResult()
        agency_codes = [d.receiving_agency for d in dossiers] + [
            d.handling_agency for d in dossiers if d.handling_agency
        ]
        agencies = await repo.agencies_by_code(session, agency_codes)
        procedures = await repo.procedures_by_code(session, [d.procedure_code for d in dossiers])
        codes = [d.code for d in dossiers] + [e.dossier_code for e in events]
        existing = await repo.dossiers_by_code(session, codes)
        seen: dict[str, int] = {}
        for i, d in enumerate(dossiers):
            where = f"dossiers[{i}]"
            if d.code in seen:
                result.errors.append(
                    ItemError(where, "code", f"repeated (also dossiers[{seen[d.code]}])")
                )
            seen[d.code] = i
            if d.procedure_code not in procedures:
                result.errors.append(ItemError(where, "procedure_code", "unknown procedure"))
            for fname, code in (
                ("receiving_agency", d.receiving_agency),
                ("handling_agency", d.handling_agency),
            ):
                if code is None:
                    continue
                agency = agencies.get(code)
                if agency is None:
                    result.errors.append(ItemError(where, fname, "unknown agency"))
                elif scope is not None and not repo.in_subtree(agency, scope):
                    result.forbidden.append(ItemError(where, fname, "outside this key's agencies"))
            prior = existing.get(d.code)
            if (
                prior is not None
                and scope is not None
                and not await self._in_scope(session, prior, scope)
            ):
                result.forbidden.append(
                    ItemError(where, "code", "dossier outside this key's agencies")
                )
        for i, e in enumerate(events):
            where = f"events[{i}]"
            prior = existing.get(e.dossier_code)
            # A dossier of another agency gets the very answer of a code that does not exist,
            # so that a key cannot learn which codes exist outside its agencies.
            if (prior is None and e.dossier_code not in seen) or (
                prior is not None
                and scope is not None
                and not await self._in_scope(session, prior, scope)
            ):
                result.errors.append(ItemError(where, "dossier_code", UNKNOWN_DOSSIER))
        if result.errors or result.forbidden:
            return result
        # Event ids are the sender's own, so they are unique only within one sender: they are
        # namespaced by the agency of the key (its id), never shared across agencies.
        namespace = f"api:{scope.id}:" if scope is not None else "api:"
        result.errors.extend(
            await self._order_problems(session, dossiers, events, existing, namespace)
        )
        if result.errors:
            return result

        for d in dossiers:
            await self._upsert(
                session, d, existing, agencies, procedures[d.procedure_code].id, result
            )
        for e in sorted(events, key=lambda e: _aware(e.at)):
            await self._apply_event(
                session, existing[e.dossier_code], e, result, source_id=namespace + e.id
            )
        return result

    @staticmethod
    async def _order_problems(
        session: AsyncSession,
        dossiers: Sequence[DossierIn],
        events: Sequence[EventIn],
        existing: dict[str, Dossier],
        namespace: str,
    ) -> list[ItemError]:
        """Events that contradict their dossier's history (``bot.domain.event_order``); redeliveries
        (ids already recorded under this sender's ``namespace``) are not checked again."""
        if not events:
            return []
        recorded = await dossier_history.recorded_source_ids(
            session, [namespace + e.id for e in events]
        )
        last = await dossier_history.last_event_times(session, [d.id for d in existing.values()])
        known: dict[str, event_order.KnownState] = {}
        for code, prior in existing.items():
            at = last.get(prior.id)
            known[code] = event_order.KnownState(
                prior.status, prior.received_date, _stored(at) if at is not None else None
            )
        for d in dossiers:  # the batch's snapshot is the state its events start from
            at = last.get(existing[d.code].id) if d.code in existing else None
            known[d.code] = event_order.KnownState(
                d.status, d.received_date, _stored(at) if at is not None else None
            )
        fresh: list[event_order.NewEvent] = []
        seen_ids: set[str] = set()
        for i, e in enumerate(events):
            if namespace + e.id in recorded or e.id in seen_ids:
                continue  # a redelivery changes nothing and is not checked again
            seen_ids.add(e.id)
            fresh.append(event_order.NewEvent(i, e.id, e.dossier_code, _aware(e.at), e.status))
        return [
            ItemError(f"events[{p.index}]", p.field, p.message)
            for p in event_order.check_events(fresh, known, timezone=VN_TZ)
        ]

    @staticmethod
    async def _in_scope(session: AsyncSession, dossier: Dossier, scope: Agency) -> bool:
        receiving = await session.get(Agency, dossier.receiving_agency_id)
        handling = await session.get(Agency, dossier.handling_agency_id)
        return any(a is not None and repo.in_subtree(a, scope) for a in (receiving, handling))

    async def _upsert(
        self,
        session: AsyncSession,
        d: DossierIn,
        existing: dict[str, Dossier],
        agencies: dict[str, Agency],
        procedure_id: int,
        result: IngestResult,
    ) -> None:
        receiving = agencies[d.receiving_agency]
        handling = agencies[d.handling_agency] if d.handling_agency else receiving
        values: dict[str, Any] = {
            "procedure_id": procedure_id,
            "receiving_agency_id": receiving.id,
            "handling_agency_id": handling.id,
            "channel": d.channel,
            "submitted_at": _utc(d.submitted_at) if d.submitted_at else None,
            "received_date": d.received_date,
            "due_date": d.due_date,
            "rescheduled_due_date": d.rescheduled_due_date,
            "finished_date": d.finished_date,
            "returned_date": d.returned_date,
            "supplement_reason": d.supplement_reason,
            "refusal_reason": d.refusal_reason,
        }
        if d.owner_name:
            values["owner_name_masked"] = mask_name(d.owner_name)
        if d.owner_id_number:
            values["owner_id_hmac"] = self.hash_id(d.owner_id_number)
        if d.owner_phone:
            values["owner_phone_hmac"] = self.hash_phone(d.owner_phone)
        if d.supplement_count is not None:
            values["supplement_count"] = d.supplement_count
        dossier = existing.get(d.code)
        if dossier is None:
            dossier = Dossier(code=d.code, status=d.status, **values)
            session.add(dossier)
            await session.flush()
            existing[d.code] = dossier
            result.created += 1
            return
        for key, value in values.items():
            setattr(dossier, key, value)
        result.updated += 1
        if dossier.status != d.status:
            # A snapshot with a new status is a status change like any event.
            source = (
                f"snapshot:{d.code}:{dossier.status}>{d.status}:{dossier.updated_at.isoformat()}"
            )
            event = EventIn(
                id=source[:100], dossier_code=d.code, at=datetime.now(VN_TZ), status=d.status
            )
            await self._apply_event(session, dossier, event, result, source_id=source[:128])

    async def _apply_event(
        self,
        session: AsyncSession,
        dossier: Dossier,
        e: EventIn,
        result: IngestResult,
        source_id: str | None = None,
    ) -> None:
        at = _aware(e.at)
        event = await repo.add_event(
            session,
            dossier=dossier,
            source_id=source_id or f"api:{e.id}",
            at=_utc(at),
            to_status=e.status,
            note=e.note,
        )
        if event is None:
            result.events_duplicate += 1
            return
        result.events_applied += 1
        day = at.astimezone(VN_TZ).date()
        old, new = dossier.status, e.status
        if new == DossierStatus.YEU_CAU_BO_SUNG and old != new:
            dossier.supplement_count += 1
            if e.note:
                dossier.supplement_reason = e.note
            await repo.open_pause(session, dossier, day, e.note)
        elif old == DossierStatus.YEU_CAU_BO_SUNG and new != old:
            await repo.close_pause(session, dossier, day)
        if (
            new in (DossierStatus.DUOC_TIEP_NHAN, DossierStatus.KHONG_DUOC_TIEP_NHAN)
            and dossier.received_date is None
        ):
            dossier.received_date = day  # the day the desk received or refused it
        if new == DossierStatus.DA_XU_LY_XONG and dossier.finished_date is None:
            dossier.finished_date = day
        if (
            new in (DossierStatus.CONG_DAN_RUT, DossierStatus.DUNG_XU_LY)
            and dossier.received_date is not None
            and dossier.finished_date is None
        ):
            dossier.finished_date = day  # a withdrawal or stop after receipt ends processing
        if new == DossierStatus.DA_TRA_KET_QUA:
            dossier.finished_date = dossier.finished_date or day
            dossier.returned_date = dossier.returned_date or day
        if new in (DossierStatus.KHONG_DUOC_TIEP_NHAN, DossierStatus.DUNG_XU_LY) and e.note:
            dossier.refusal_reason = e.note
        dossier.status = new
        await session.flush()
        if old != new:
            result.notifications += await self._notify(session, dossier, event.id)

    async def _notify(self, session: AsyncSession, dossier: Dossier, event_id: int) -> int:

        count = 0
        finished = dossier.status in (DossierStatus.DA_XU_LY_XONG, DossierStatus.DA_TRA_KET_QUA)
        for sub in await subscriptions.active_for(session, dossier.id):
            replies = await self._texts.status_change(session, dossier)
            if finished:
                invitation = await feedback.invite(
                    session,
                    dossier_id=dossier.id,
                    channel=sub.channel,
                    # never sent to (the outbox row is): a keyed hash, not the platform id
                    chat_id=keyed_hash(self._secret, "invitation", sub.channel, sub.chat_id),
                    user_hash=sub.user_hash,
                )
                if invitation is not None:
                    replies.append(self._texts.invitation(dossier.code, invitation.id))
            if await outbox.enqueue(
                session,
                dedupe_key=f"dossier-event:{event_id}:{sub.id}",
                channel=sub.channel,
                chat_id=sub.chat_id,
                payload=replies_to_payload(replies),
            ):
                count += 1
        return count
