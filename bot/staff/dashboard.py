"""The dashboard: the figures of /thongke and /baocao for a period, agency and procedure,
with charts, drill-down to the late dossiers and ratings, and the XLSX of the same view.

Every figure comes from ``bot.domain.stats.indexes.compute`` (the report from
``bot.domain.stats.report``), the functions behind /thongke and /baocao: nothing here computes an
index. Filters live in the URL (``?ky=quy&coquan=7``), so a view can be bookmarked and shared.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.status import DossierStatus
from bot.domain.dossiers.timeliness import Timeliness, timeliness
from bot.domain.dossiers.workdays import WorkCalendar
from bot.domain.privacy import mask_numbers
from bot.domain.stats import indexes, report
from bot.domain.stats.indexes import RATING3, RATING3_LEVELS
from bot.domain.stats.periods import Period, PeriodError, parse_period
from bot.staff import charts
from bot.staff.app_key import STAFF_APP, STATS_CACHE
from bot.staff.auth import STAFF_PAGE, StaffUser, forbidden, page, render
from storage.models import Agency, Procedure
from storage.repositories import audit
from storage.repositories import stats as stats_repo

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The period choices of the form: URL value, label, and the /thongke words it stands for.
PERIODS: tuple[tuple[str, str, str], ...] = (
    ("tuan", "Tuần này", "tuần"),
    ("thang", "Tháng này", "tháng"),
    ("quy", "Quý này", "quý"),
    ("nam", "Năm nay", "năm"),
    ("tuan-truoc", "Tuần trước", "tuần trước"),
    ("thang-truoc", "Tháng trước", "tháng trước"),
    ("quy-truoc", "Quý trước", "quý trước"),
    ("nam-truoc", "Năm trước", "năm trước"),
    ("khoang", "Từ ngày … đến ngày …", ""),
)
MAX_LISTED = 500
MAX_RATINGS_SHOWN = 100
LATE = (Timeliness.QUA_HAN, Timeliness.DANG_QUA_HAN)


@dataclass(frozen=True)
class View:
    """The filters of a dashboard URL, checked against what the user may see."""

    period: Period
    ky: str
    tu: str
    den: str
    agency: Agency | None
    procedure: Procedure | None
    channel: str | None = None

    def query(self, **changes: Any) -> str:
        values: dict[str, Any] = {"ky": self.ky}
        if self.ky == "khoang":
            values.update(tu=self.tu, den=self.den)
        if self.agency is not None:
            values["coquan"] = self.agency.id
        if self.procedure is not None:
            values["thutuc"] = self.procedure.id
        if self.channel is not None:
            values["kenh"] = self.channel
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


class BadFilter(Exception):
    """A filter that cannot be used; the message is Vietnamese."""


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


async def read_view(
    request: web.Request, session: AsyncSession, user: StaffUser, today: date
) -> View:
    """The view named by the URL (default: this month, the user's own scope)."""
    q = request.query
    ky = q.get("ky", "thang")
    words = {k: w for k, _, w in PERIODS}
    tu, den = q.get("tu", ""), q.get("den", "")
    try:
        if ky == "khoang":
            first, last = date.fromisoformat(tu), date.fromisoformat(den)
            text = f"từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}"
        elif ky in words:
            text = words[ky]
        else:
            raise BadFilter("Kỳ báo cáo không hợp lệ.")
        period = parse_period(text, today)
    except ValueError as exc:  # bad ISO dates
        if isinstance(exc, PeriodError):
            raise BadFilter(str(exc)) from None
        raise BadFilter("Ngày không hợp lệ: chọn cả ngày bắt đầu và ngày kết thúc.") from None
    agency_id = _int(q.get("coquan", ""))
    agency = await session.get(Agency, agency_id) if agency_id is not None else user.agency
    if agency_id is not None and agency is None:
        raise BadFilter("Không tìm thấy cơ quan này.")
    if not user.sees(agency):
        raise PermissionError
    procedure_id = _int(q.get("thutuc", ""))
    procedure = await session.get(Procedure, procedure_id) if procedure_id is not None else None
    if procedure_id is not None and procedure is None:
        raise BadFilter("Không tìm thấy thủ tục này.")
    channel = q.get("kenh") or None
    if channel is not None and channel not in indexes.CHANNEL_LABELS:
        raise BadFilter("Kênh không hợp lệ.")
    return View(period, ky, tu, den, agency, procedure, channel)


async def agency_choices(session: AsyncSession, user: StaffUser) -> list[tuple[int | None, str]]:
    """The agencies the user may choose, as an indented tree (None: the whole city)."""
    root = None if user.is_admin or user.agency is None else user.agency.path
    agencies = await stats_repo.subtree_agencies(session, root)
    out: list[tuple[int | None, str]] = [(None, indexes.CITY_LABEL)] if user.is_admin else []
    base = root.count("/") if root else 2
    for a in agencies:
        depth = max(0, a.path.count("/") - base)
        out.append((a.id, "\u2003" * depth + a.name))
    return out


def _today(request: web.Request) -> date:
    return request.app[STAFF_APP].dispatcher.services.today()


async def _view_or_error(
    request: web.Request, session: AsyncSession, user: StaffUser
) -> View | web.Response:
    try:
        return await read_view(request, session, user, _today(request))
    except PermissionError:
        return forbidden(request, "Bạn chỉ xem được số liệu của cơ quan mình và đơn vị trực thuộc.")
    except BadFilter as exc:
        choices = await agency_choices(session, user)
        return render(
            request,
            "dashboard.html",
            {
                "title": "Tổng quan",
                "error": str(exc),
                "view": None,
                "stats": None,
                "charts": [],
                "periods": PERIODS,
                "agencies": choices,
                "q": request.query,
                "channels": indexes.CHANNEL_LABELS,
            },
            user=user,
            status=400,
        )


@page(*STAFF_PAGE)
async def dashboard(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    view = await _view_or_error(request, session, user)
    if isinstance(view, web.Response):
        return view
    stats, computed_at = await figures(request, session, view)
    drawn = await asyncio.to_thread(charts.all_charts, stats)
    return render(
        request,
        "dashboard.html",
        {
            "title": "Tổng quan",
            "error": "",
            "view": view,
            "stats": stats,
            "charts": drawn,
            "periods": PERIODS,
            "agencies": await agency_choices(session, user),
            "q": request.query,
            "timeliness": Timeliness,
            "channels": indexes.CHANNEL_LABELS,
            "computed_at": computed_at,
        },
        user=user,
    )


async def figures(
    request: web.Request, session: AsyncSession, view: View
) -> tuple[indexes.Statistics, datetime]:
    """The figures of a view (``indexes.compute``, as /thongke), reused for a short while."""
    app = request.app[STAFF_APP]
    p = view.period
    key = (p.start, p.end, p.label, view.agency.id if view.agency else None,
           view.procedure.id if view.procedure else None, view.channel)  # fmt: skip

    async def compute() -> indexes.Statistics:
        return await indexes.compute(
            session,
            period=p,
            calendar=app.dispatcher.services.calendar,
            agency=view.agency,
            procedure=view.procedure,
            channel=view.channel,
            top=report.TOP_IN_REPORT,  # the page lists the first ten, the workbook all
        )

    return await request.app[STATS_CACHE].get(key, compute)


@page(*STAFF_PAGE)
async def drill(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    """A procedure in an agency subtree: its late and overdue dossiers, and its ratings."""
    view = await _view_or_error(request, session, user)
    if isinstance(view, web.Response):
        return view
    if view.procedure is None:
        raise web.HTTPSeeOther(f"/staff/tongquan?{view.query()}")
    app = request.app[STAFF_APP]
    calendar = app.dispatcher.services.calendar
    f = indexes.period_filter(view.period, view.agency, view.procedure, view.channel)
    lines, cut = await stats_repo.dossier_lines(session, f)
    # Judging is CPU work: in a thread, while the database finds the ratings.
    late, (ratings, total) = await asyncio.gather(
        asyncio.to_thread(_late, lines, calendar, view.period.end),
        stats_repo.rating_rows(session, f, MAX_RATINGS_SHOWN),
    )
    levels = dict(RATING3_LEVELS)
    shown = [
        {
            "at": r.submitted_at,
            "agency": r.agency,
            "channel": r.channel,
            "rating": levels.get(dict(r.answers).get(RATING3) or 0, ""),
            "comment": mask_numbers(r.comment),
        }
        for r in ratings
    ]
    return render(
        request,
        "drill.html",
        {
            "title": f"Hồ sơ trễ hạn – {view.procedure.name}",
            "view": view,
            "late": late[:MAX_LISTED],
            "late_total": len(late),
            "cut": cut,
            "ratings": shown,
            "ratings_total": total,
        },
        user=user,
    )


def _late(
    lines: list[stats_repo.DossierLine], calendar: WorkCalendar, as_of: date
) -> list[dict[str, Any]]:
    """The late and overdue dossiers among ``lines``, as ``timeliness()`` judges them."""
    late: list[dict[str, Any]] = []
    for line in lines:
        times = indexes.dossier_times(line.row)
        verdict = timeliness(times, calendar, as_of) if times is not None else None
        if verdict in LATE:
            late.append(
                {
                    "code": line.code,
                    "owner": line.owner_masked,
                    "received": line.row.received,
                    "due": line.row.rescheduled_due or line.row.due,
                    "finished": line.row.finished,
                    "status": _status_label(line.row.status),
                    "verdict": verdict.label if verdict else "",
                }
            )
    return late


def _status_label(code: int) -> str:
    try:
        return DossierStatus(code).label
    except ValueError:
        return str(code)


@page(*STAFF_PAGE)
async def export(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    """The /baocao workbook of the view on screen."""
    view = await _view_or_error(request, session, user)
    if isinstance(view, web.Response):
        return view
    # The figures on the page (the same cache entry), so the workbook matches the view; the
    # rest is /baocao's own: its ratings sheet and its renderer.
    stats, _ = await figures(request, session, view)
    f = indexes.period_filter(view.period, view.agency, view.procedure, view.channel)
    rows, total = await stats_repo.rating_rows(session, f, report.MAX_RATINGS)
    data = await asyncio.to_thread(report.render_report, stats, rows, total)
    target = view.agency.code if view.agency else "city"
    await audit.record(
        session,
        user.user_hash,
        user.role,
        "stats.report",
        target,
        {"period": view.period.label, "bytes": len(data), "via": "web"},
    )
    name = f"bao-cao-{(view.agency.code if view.agency else 'thanh-pho').replace('.', '-')}.xlsx"
    return web.Response(
        body=data,
        headers={"Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def register(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/tongquan", dashboard)
    router.add_get(f"{prefix}/tongquan/hoso", drill)
    router.add_get(f"{prefix}/tongquan/baocao.xlsx", export)
