"""Reflection statistics on a fixture whose figures were computed by hand, in the pure
function, in /thongke, in the /baocao workbook and in ``motcua stats --json``."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import App
from bot.domain.stats import reflections as reflection_stats
from bot.domain.stats.periods import parse_period
from bot.domain.stats.report import build_report
from bot.messages import Channel
from handlers.context import Services
from storage.models.reflections import Reflection
from storage.repositories import dossiers as repo
from storage.repositories import roles
from tests.dossier_fixtures import build_city
from tests.transcript import Conversation

WARD, OTHER_WARD, CITY = "000.00.12.H13", "000.00.13.H13", "000.00.00.H13"
TODAY = date(2026, 2, 10)  # after January: figures are judged on 31/01/2026
JANUARY = parse_period("tháng 1/2026", TODAY)
ADMIN = "910000"

# (agency, received, due, handled, status, resolved) and what each row is on 31/01:
ROWS = [
    (WARD, date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 7), "answered", True),  # on time
    (WARD, date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 12), "answered", False),  # late
    (WARD, date(2026, 1, 12), date(2026, 1, 15), date(2026, 1, 14), "answered", False),  # on time
    (WARD, date(2026, 1, 20), date(2026, 1, 23), None, "open", None),  # open, overdue
    (OTHER_WARD, date(2026, 1, 26), date(2026, 2, 2), None, "open", None),  # open, in time
    # answered after the period's end: still open (in time) on 31/01
    (OTHER_WARD, date(2026, 1, 28), date(2026, 2, 4), date(2026, 2, 3), "answered", True),
    (OTHER_WARD, date(2026, 1, 6), date(2026, 1, 9), date(2026, 1, 9), "not_in_scope", None),
    (CITY, date(2026, 1, 15), date(2026, 1, 20), date(2026, 1, 21), "not_in_scope", None),
    (WARD, date(2025, 12, 30), date(2026, 1, 5), None, "open", None),  # not received in January
]


@pytest.fixture
async def city(app: App) -> App:
    await build_city(app)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: TODAY, old.reflections)
    async with app.sessions() as s, s.begin():
        agencies = {code: await repo.agency_by_code(s, code) for code in (WARD, OTHER_WARD, CITY)}
        for n, (code, received, due, handled, status, resolved) in enumerate(ROWS):
            agency = agencies[code]
            assert agency is not None
            s.add(
                Reflection(
                    received_date=received,
                    due_date=due,
                    subject="place",
                    agency_id=agency.id,
                    channel="web",
                    chat_id=f"w{n}",
                    user_hash=f"u{n}",
                    display_name="Nguyễn Văn An",
                    text="…",
                    status=status,
                    handled_date=handled,
                    answer="",
                    reply_held=False,
                    resolved=resolved,
                )
            )
        await roles.grant(
            s,
            user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, ADMIN),
            channel="telegram",
            user_id=ADMIN,
            role="admin",
            agency=None,
        )
    return app


async def test_the_figures_match_the_hand_count(city: App) -> None:
    async with city.sessions() as s:
        stats = await reflection_stats.compute(s, period=JANUARY, today=TODAY)
        ward_only = await reflection_stats.compute(
            s, period=JANUARY, today=TODAY, agency=await repo.agency_by_code(s, WARD)
        )
    assert stats.as_of == date(2026, 1, 31)
    f = stats.total
    assert (f.received, f.answered, f.not_in_scope) == (8, 3, 2)
    assert (f.handled_on_time, f.handled_late, f.open_in_time, f.open_overdue) == (3, 2, 2, 1)
    assert (f.late, f.resolved, f.unresolved, f.unresolved_not_late) == (3, 1, 2, 1)
    assert f.on_time_pct == pytest.approx(5 / 8 * 100)  # (8 − 3 late) / 8
    assert f.satisfied_pct == pytest.approx(4 / 8 * 100)  # (8 − 3 late − 1 unresolved in time) / 8
    by_code = {a.code: a.figures for a in stats.by_agency}
    assert [a.code for a in stats.by_agency] == [CITY, WARD, OTHER_WARD]  # tree order
    ward = by_code[WARD]
    assert (ward.received, ward.late, ward.resolved, ward.unresolved) == (4, 2, 1, 2)
    assert ward.on_time_pct == pytest.approx(50.0) and ward.satisfied_pct == pytest.approx(25.0)
    other = by_code[OTHER_WARD]
    assert (other.received, other.open_in_time, other.late) == (3, 2, 0)
    assert other.on_time_pct == pytest.approx(100.0)
    assert by_code[CITY].on_time_pct == pytest.approx(0.0)
    assert ward_only.total == ward and [a.code for a in ward_only.by_agency] == [WARD]
    # Judged on 23/01 (its due date), the overdue one was still in time, and the two received
    # later did not exist yet.
    async with city.sessions() as s:
        early = await reflection_stats.compute(s, period=JANUARY, today=date(2026, 1, 23))
    e = early.total
    assert (e.received, e.open_overdue, e.open_in_time, e.late) == (6, 0, 1, 2)


async def test_thongke_baocao_and_json_carry_the_section(city: App) -> None:
    admin = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN)
    await admin.say("/thongke tháng 1/2026")
    summary = admin.last[0].text
    assert "Phản ánh, kiến nghị (8 phản ánh)" in summary
    assert "Đúng hạn 3, trễ hạn 2, đang quá hạn 1" in summary
    assert "Tỷ lệ đúng hạn (QĐ 766, 5.2): 62,5%; hài lòng (5.3): 50,0%" in summary
    assert "đã giải quyết 1, chưa giải quyết 2" in summary
    assert "Nguyễn" not in summary

    async with city.sessions() as s:
        data = await build_report(
            s, period=JANUARY, calendar=city.dispatcher.services.calendar, today=TODAY
        )
    sheet = load_workbook(io.BytesIO(data))["Tổng hợp"]
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Phản ánh, kiến nghị")
    header, total, *agencies = rows[start + 1 : start + 6]
    assert header[2:5] == ("Tiếp nhận", "Đã trả lời", "Không thuộc thẩm quyền")
    assert total[1:11] == ("Tổng", 8, 3, 2, 3, 2, 2, 1, 1, 2)
    assert total[11] == pytest.approx(0.625) and total[12] == pytest.approx(0.5)
    assert [a[0] for a in agencies] == [CITY, WARD, OTHER_WARD]
    assert all("Nguyễn" not in str(c) for r in rows for c in r)

    as_json = reflection_stats.to_json(await _compute(city))
    assert as_json["received"] == 8 and as_json["late"] == 3
    assert [a["code"] for a in as_json["by_agency"]] == [CITY, WARD, OTHER_WARD]


async def _compute(app: App) -> reflection_stats.ReflectionStats:
    async with app.sessions() as s:
        return await reflection_stats.compute(s, period=JANUARY, today=TODAY)


def test_motcua_stats_prints_the_reflection_section(tmp_path: Path) -> None:
    from tests.test_cli import motcua

    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    as_json = motcua("stats", "tháng 1/2026", "--json", cwd=tmp_path, env=env)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["reflections"]["received"] == 0 and data["reflections"]["by_agency"] == []
    assert "dossiers" in data  # the other top-level keys are kept
    as_text = motcua("stats", "tháng 1/2026", cwd=tmp_path, env=env)
    assert "Phản ánh, kiến nghị (0 phản ánh)" in as_text.stdout
