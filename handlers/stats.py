"""Staff statistics: /thongke (summary and chart), /baocao (Excel report), /canhbao (alerts).

Staff see their agency and everything under it; admins the whole city. For citizens these
commands do not exist (the routing table limits them to staff and admins).
"""

from __future__ import annotations

import asyncio
import re

from bot.domain.stats import chart, indexes, report
from bot.domain.stats import reflections as reflection_stats
from bot.domain.stats.chart_alt import describe_chart
from bot.domain.stats.periods import Period, PeriodError, parse_period
from bot.domain.stats.text import summary_text
from bot.messages import Attachment, Outcome, Reply
from handlers import texts_stats as t
from handlers.context import Context
from storage.models import Agency
from storage.repositories import audit, roles
from storage.repositories import dossiers as repo

_AGENCY_CODE = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.[A-Za-z]\d{2}\b")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _arguments(ctx: Context) -> str:
    parts = ctx.incoming.text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def _scope(ctx: Context) -> tuple[Agency | None, Period] | str:
    """The agency (None: the city) and period asked for, or a message saying what is wrong."""
    args = _arguments(ctx)
    match = _AGENCY_CODE.search(args)
    agency: Agency | None = None
    if match:
        agency = await repo.agency_by_code(ctx.session, match.group(0).upper())
        if agency is None:
            return t.UNKNOWN_AGENCY.format(code=match.group(0))
        args = (args[: match.start()] + args[match.end() :]).strip()
    elif ctx.actor.role == roles.STAFF and ctx.actor.agency_id is not None:
        agency = await ctx.session.get(Agency, ctx.actor.agency_id)
    if ctx.actor.role != roles.ADMIN and (agency is None or not ctx.actor.sees(agency)):
        return t.NOT_YOURS
    try:
        period = parse_period(args, ctx.services.today())
    except PeriodError as exc:
        return str(exc)
    return agency, period


async def statistics(ctx: Context) -> Outcome:
    """Shows the figures of a period for the staff member's agency, with a chart."""
    scope = await _scope(ctx)
    if isinstance(scope, str):
        return Outcome((Reply(scope),), ctx.state)
    agency, period = scope
    stats = await indexes.compute(
        ctx.session, period=period, calendar=ctx.services.calendar, agency=agency
    )
    pakn = await reflection_stats.compute(
        ctx.session, period=period, today=ctx.services.today(), agency=agency
    )
    png = await asyncio.to_thread(chart.render_chart, stats)
    await audit.record(
        ctx.session,
        ctx.user_hash,
        ctx.actor.role,
        "stats.view",
        agency.code if agency else "city",
        {"period": period.label},
    )
    image = Attachment("thong-ke.png", png, "image/png", alt=describe_chart(stats))
    text = f"{summary_text(stats)}\n\n{reflection_stats.summary_text(pakn)}"
    return Outcome((Reply(text), Reply(t.CHART_CAPTION, image=image)), ctx.state)


async def excel_report(ctx: Context) -> Outcome:
    """Sends the Excel report of a period for the staff member's agency."""
    scope = await _scope(ctx)
    if isinstance(scope, str):
        return Outcome((Reply(scope),), ctx.state)
    agency, period = scope
    data = await report.build_report(
        ctx.session,
        period=period,
        calendar=ctx.services.calendar,
        agency=agency,
        today=ctx.services.today(),
    )
    await audit.record(
        ctx.session,
        ctx.user_hash,
        ctx.actor.role,
        "stats.report",
        agency.code if agency else "city",
        {"period": period.label, "bytes": len(data)},
    )
    name = f"bao-cao-{(agency.code if agency else 'thanh-pho').replace('.', '-')}.xlsx"
    document = Attachment(name, data, XLSX)
    where = agency.name if agency else t.CITY
    return Outcome(
        (Reply(t.REPORT.format(period=period.label, where=where), document=document),), ctx.state
    )


async def alerts(ctx: Context) -> Outcome:
    """/canhbao bật|tắt: whether to receive dissatisfaction alerts."""
    arg = _arguments(ctx).strip().lower()
    if arg in ("bật", "bat", "on"):
        on = True
    elif arg in ("tắt", "tat", "off"):
        on = False
    else:
        state = t.ALERTS_ON if ctx.actor.alerts else t.ALERTS_OFF
        return Outcome((Reply(t.ALERTS_USAGE.format(state=state)),), ctx.state)
    await roles.set_alerts(ctx.session, ctx.user_hash, on)
    await audit.record(ctx.session, ctx.user_hash, ctx.actor.role, "alerts.set", "", {"on": on})
    return Outcome((Reply(t.ALERTS_SET_ON if on else t.ALERTS_SET_OFF),), ctx.state)
