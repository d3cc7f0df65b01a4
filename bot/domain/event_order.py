"""Which status events fit a dossier's history, checked before ingest writes anything.

A statistic at a date is computed from the events up to that date, so an event that rewrites
the past (a supplement request after the result, a result dated before the receipt, an event
older than the dossier's latest one) would silently change figures already published. Ingest
refuses such an event with 422, naming the event and the reason, and saves nothing of the
batch; the sender fixes its data and sends again.

What is checked, per dossier, for each new event taken in time order (``check_events``):

1. **Time order.** An event is not older than the dossier's latest recorded event (the
   events the one-stop system sent before, or earlier in the same batch). An event that
   arrives late is fine as long as nothing later is already recorded.
2. **Not after the end.** After refusal (3), withdrawal (7), stop (8) or the result handed over
   (10) nothing more may happen; after the result (9) only handing it over (10).
3. **Receipt first.** A dossier not yet received (1) can only be received (2), refused at the
   desk (3) or withdrawn (7); processing, supplement requests and results need the receipt.
   A received dossier cannot go back to "new" (1) or be refused at the desk (3).
4. **Not before the receipt.** No event of a received dossier is dated before its reception
   day.

An event with the dossier's current status changes nothing and is accepted; an event id
already recorded is a redelivery and is not checked again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from bot.domain.dossiers.status import DossierStatus

S = DossierStatus
#: Nothing may follow these.
ENDED = frozenset({S.KHONG_DUOC_TIEP_NHAN, S.CONG_DAN_RUT, S.DUNG_XU_LY, S.DA_TRA_KET_QUA})
#: What a dossier not yet received may become.
BEFORE_RECEIPT = frozenset({S.DUOC_TIEP_NHAN, S.KHONG_DUOC_TIEP_NHAN, S.CONG_DAN_RUT})


@dataclass(frozen=True, slots=True)
class KnownState:
    """What the database (or the batch's own snapshot) says of a dossier before the new
    events: its status, its reception day, and the time of its latest recorded event."""

    status: int
    received: date | None
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event of the batch: its position (``events[i]``), id, dossier, time and status."""

    index: int
    id: str
    dossier_code: str
    at: datetime
    status: int


@dataclass(frozen=True, slots=True)
class OrderProblem:
    """Why one event does not fit: ``field`` is the event field at fault (``at`` or
    ``status``)."""

    index: int
    field: str
    message: str


def _label(status: int) -> str:
    try:
        return f"{status} ({S(status).label})"
    except ValueError:
        return str(status)


def _transition_problem(old: int, new: int) -> str | None:
    """Why ``old`` -> ``new`` cannot happen, or ``None`` if it can."""
    if old == new:
        return None
    if old in ENDED:
        return f"the dossier has already ended with status {_label(old)}; nothing may follow"
    if old == S.DA_XU_LY_XONG and new != S.DA_TRA_KET_QUA:
        if new == S.YEU_CAU_BO_SUNG:
            return "a supplement request after the result (status 9) is not possible"
        return f"after the result (status 9) only 10 (result returned) may follow, not {new}"
    if new == S.MOI_DANG_KY:
        return "a dossier cannot go back to status 1 (Mới đăng ký)"
    if old == S.MOI_DANG_KY and new not in BEFORE_RECEIPT:
        if new in (S.DA_XU_LY_XONG, S.DA_TRA_KET_QUA):
            return f"a result (status {new}) before the dossier was received (status 2)"
        return f"status {_label(new)} before the dossier was received (status 2)"
    if new == S.KHONG_DUOC_TIEP_NHAN and old != S.MOI_DANG_KY:
        return "a received dossier cannot be refused at the desk (status 3); use 8 to stop it"
    return None


def check_events(
    events: Sequence[NewEvent],
    known: Mapping[str, KnownState],
    *,
    timezone: tzinfo,
) -> list[OrderProblem]:
    """Every event that contradicts its dossier's history, in the batch's order.

    ``known`` gives each dossier's state before the batch's events (after the batch's own
    snapshot, if it sent one); events of dossiers missing from it are not checked (ingest
    reports an unknown dossier on its own). Events are taken per dossier in time order, the
    batch's order breaking ties, and each accepted one updates the state the next is checked
    against, so a batch may carry a whole history at once.
    """
    by_dossier: defaultdict[str, list[NewEvent]] = defaultdict(list)
    for e in events:
        by_dossier[e.dossier_code].append(e)
    problems: list[OrderProblem] = []
    for code, items in by_dossier.items():
        state = known.get(code)
        if state is None:
            continue
        status, received, last_at = state.status, state.received, state.last_at
        for e in sorted(items, key=lambda e: (e.at, e.index)):
            day = e.at.astimezone(timezone).date()
            where = f"event '{e.id}' ({e.at.isoformat()}, status {e.status})"
            if last_at is not None and e.at < last_at:
                problems.append(
                    OrderProblem(
                        e.index,
                        "at",
                        f"{where}: its time is before the dossier's previous event "
                        f"({last_at.astimezone(timezone).isoformat()})",
                    )
                )
                continue
            reason = _transition_problem(status, e.status)
            before_receipt = received is not None and day < received
            if reason is None and before_receipt and e.status not in (S.MOI_DANG_KY, 3):
                reason = f"dated {day:%d/%m/%Y}, before the dossier was received on "
                reason += f"{received:%d/%m/%Y}"
            if reason is not None:
                field = "at" if reason.startswith("dated") else "status"
                problems.append(OrderProblem(e.index, field, f"{where}: {reason}"))
                continue
            if e.status == S.DUOC_TIEP_NHAN and received is None:
                received = day
            status, last_at = e.status, e.at
    problems.sort(key=lambda p: p.index)
    return problems
