"""Reflection (phản ánh, kiến nghị) figures of a period: received, handled on time, overdue,
and the citizens' verdicts, for the scope and for each agency. A section of /thongke, of the
/baocao workbook's summary sheet and of ``motcua stats``.

Every figure is judged as of the period's end (or today, if the period has not ended), like the
dossier on-time rate: of the reflections received in the period up to that day,

- *handled* are those answered, or closed as not in scope, by that day; on time when handled
  on or before the due date;
- *open* are the rest, overdue when that day is past the due date;
- *late* = handled late + open overdue;
- the on-time rate is ``(received − late) ÷ received`` (Decision 766, item 5.2: PAKN handled on
  time; open reflections still within their time count as on time, as unfinished dossiers do);
- the satisfaction rate is ``(received − late − answered judged "not resolved" but not late) ÷
  received`` (item 5.3: PAKN − dissatisfied − late, each reflection subtracted once).

A reflection is counted under the agency that must answer it now (after any forward). Figures
are an internal estimate, not the national portal's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.stats.periods import Period
from bot.domain.vietnam_time import VN_TZ
from knowledge.kbfile import neutralise_cell
from storage.models import Agency
from storage.models.reflections import ANSWERED, NOT_IN_SCOPE
from storage.repositories.reflection_stats import ReflectionRow, reflection_rows


def _pct(part: int, whole: int) -> float | None:
    return part * 100.0 / whole if whole else None


@dataclass(frozen=True, slots=True)
class ReflectionFigures:
    received: int = 0
    answered: int = 0
    not_in_scope: int = 0
    handled_on_time: int = 0
    handled_late: int = 0
    open_in_time: int = 0
    open_overdue: int = 0
    resolved: int = 0
    unresolved: int = 0
    unresolved_not_late: int = 0

    @property
    def late(self) -> int:
        return self.handled_late + self.open_overdue

    @property
    def on_time_pct(self) -> float | None:
        return _pct(self.received - self.late, self.received)

    @property
    def satisfied_pct(self) -> float | None:
        return _pct(self.received - self.late - self.unresolved_not_late, self.received)

    @property
    def resolved_pct(self) -> float | None:
        return _pct(self.resolved, self.resolved + self.unresolved)


def figures(rows: Iterable[ReflectionRow], as_of: date) -> ReflectionFigures:
    """The figures of these rows judged on ``as_of`` (see the module docstring)."""
    counts = dict.fromkeys(ReflectionFigures.__dataclass_fields__, 0)
    for r in rows:
        counts["received"] += 1
        handled = r.handled_date is not None and r.handled_date <= as_of
        if handled:
            assert r.handled_date is not None
            late = r.handled_date > r.due_date
            counts["handled_late" if late else "handled_on_time"] += 1
            if r.status == ANSWERED:
                counts["answered"] += 1
                if r.resolved is True:
                    counts["resolved"] += 1
                elif r.resolved is False:
                    counts["unresolved"] += 1
                    counts["unresolved_not_late"] += 0 if late else 1
            elif r.status == NOT_IN_SCOPE:
                counts["not_in_scope"] += 1
        elif as_of > r.due_date:
            counts["open_overdue"] += 1
        else:
            counts["open_in_time"] += 1
    return ReflectionFigures(**counts)


@dataclass(frozen=True, slots=True)
class AgencyReflections:
    code: str
    name: str
    figures: ReflectionFigures


@dataclass(frozen=True, slots=True)
class ReflectionStats:
    period: Period
    as_of: date
    total: ReflectionFigures
    by_agency: tuple[AgencyReflections, ...] = field(default_factory=tuple)


async def compute(
    session: AsyncSession,
    *,
    period: Period,
    today: date | None = None,
    agency: Agency | None = None,
) -> ReflectionStats:
    """The figures of reflections received in ``period`` (``today``: Vietnam's by default)."""
    as_of = min(period.end, today or datetime.now(VN_TZ).date())
    # Nothing received after the day the figures are judged on exists yet on that day.
    rows = await reflection_rows(session, period.start, as_of, agency)
    groups: dict[str, list[ReflectionRow]] = {}
    for r in rows:  # ordered by agency path: the tree order
        groups.setdefault(r.agency_code, []).append(r)
    by_agency = tuple(
        AgencyReflections(code, group[0].agency_name, figures(group, as_of))
        for code, group in groups.items()
    )
    return ReflectionStats(period, as_of, figures(rows, as_of), by_agency)


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + "%"


def summary_text(stats: ReflectionStats, *, listed: int = 3) -> str:
    """A few lines for /thongke and ``motcua stats``."""
    f = stats.total
    lines = [f"Phản ánh, kiến nghị ({f.received} phản ánh)"]
    if not f.received:
        lines.append("• Chưa có phản ánh trong kỳ.")
        return "\n".join(lines)
    lines += [
        f"• Đã trả lời {f.answered}, không thuộc thẩm quyền {f.not_in_scope}, "
        f"đang chờ {f.open_in_time + f.open_overdue}",
        f"• Đúng hạn {f.handled_on_time}, trễ hạn {f.handled_late}, đang quá hạn {f.open_overdue}",
        f"• Tỷ lệ đúng hạn (QĐ 766, 5.2): {_p(f.on_time_pct)}; "
        f"hài lòng (5.3): {_p(f.satisfied_pct)}",
        f"• Người dân cho biết: đã giải quyết {f.resolved}, chưa giải quyết {f.unresolved}",
    ]
    busiest = sorted(stats.by_agency, key=lambda a: -a.figures.received)[:listed]
    if len(stats.by_agency) > 1 and busiest:
        parts = "; ".join(
            f"{a.name} {a.figures.received} (quá hạn {a.figures.late})" for a in busiest
        )
        lines.append(f"• Theo cơ quan: {parts}")
    return "\n".join(lines)


def _figures_json(f: ReflectionFigures) -> dict[str, Any]:
    return {
        "received": f.received,
        "answered": f.answered,
        "not_in_scope": f.not_in_scope,
        "handled_on_time": f.handled_on_time,
        "handled_late": f.handled_late,
        "open_in_time": f.open_in_time,
        "open_overdue": f.open_overdue,
        "late": f.late,
        "resolved": f.resolved,
        "unresolved": f.unresolved,
        "on_time_pct": f.on_time_pct,
        "satisfied_pct": f.satisfied_pct,
    }


def to_json(stats: ReflectionStats) -> dict[str, Any]:
    return {
        "as_of": stats.as_of.isoformat(),
        **_figures_json(stats.total),
        "by_agency": [
            {"code": a.code, "name": a.name, **_figures_json(a.figures)} for a in stats.by_agency
        ],
    }


SHEET_HEADERS = (
    "Mã cơ quan",
    "Cơ quan",
    "Tiếp nhận",
    "Đã trả lời",
    "Không thuộc thẩm quyền",
    "Xử lý đúng hạn",
    "Xử lý trễ hạn",
    "Đang trong hạn",
    "Đang quá hạn",
    "Đã giải quyết (người dân)",
    "Chưa giải quyết (người dân)",
    "Tỷ lệ đúng hạn",
    "Tỷ lệ hài lòng",
)


def _row(code: str, name: str, f: ReflectionFigures) -> list[Any]:
    return [
        neutralise_cell(code),
        neutralise_cell(name),
        f.received,
        f.answered,
        f.not_in_scope,
        f.handled_on_time,
        f.handled_late,
        f.open_in_time,
        f.open_overdue,
        f.resolved,
        f.unresolved,
        None if f.on_time_pct is None else f.on_time_pct / 100,
        None if f.satisfied_pct is None else f.satisfied_pct / 100,
    ]


def append_section(ws: Worksheet, stats: ReflectionStats) -> None:
    """A "Phản ánh, kiến nghị" section below what the sheet holds: the total, then by agency."""
    row = ws.max_row + 2
    ws.cell(row=row, column=1, value="Phản ánh, kiến nghị").font = Font(bold=True)
    note = (
        f"Tính đến {stats.as_of:%d/%m/%Y}; theo cơ quan đang giải quyết; "
        "tỷ lệ đúng hạn = (tiếp nhận − trễ hạn − đang quá hạn) ÷ tiếp nhận"
    )
    ws.cell(row=row, column=2, value=note)
    row += 1
    for col, title in enumerate(SHEET_HEADERS, start=1):
        ws.cell(row=row, column=col, value=title).font = Font(bold=True)
    lines = [("", "Tổng", stats.total)] + [(a.code, a.name, a.figures) for a in stats.by_agency]
    for code, name, f in lines:
        row += 1
        for col, value in enumerate(_row(code, name, f), start=1):
            cell = ws.cell(row=row, column=col, value=value)
            if col >= len(SHEET_HEADERS) - 1 and value is not None:
                cell.number_format = "0.0%"
