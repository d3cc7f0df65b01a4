"""Statistics: periods, the Decision 766 and satisfaction formulas on hand-computed fixtures, the
SQL path against the pure ``summarise()`` on random data, the text, the chart and the report.

The fixture city is counted by hand on a plain Monday–Friday calendar (no holidays), March 2026:

    Mo Tu We Th Fr Sa Su
                       1
     2  3  4  5  6  7  8
     9 10 11 12 13 14 15
    16 17 18 19 20 21 22
    23 24 25 26 27 28 29
    30 31

Every expected number is written as a literal with the count that gives it.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.status import DossierStatus, StatsGroup
from bot.domain.dossiers.timeliness import DossierTimes, Timeliness, summarise
from bot.domain.dossiers.workdays import WorkCalendar, load_calendar
from bot.domain.stats import indexes
from bot.domain.stats.chart import HEIGHT_PX, WIDTH_PX, figure, render_chart
from bot.domain.stats.indexes import EntryCount, QuestionCount, Statistics
from bot.domain.stats.periods import Period, PeriodError, parse_period
from bot.domain.stats.report import SHEETS, build_report, report_filename
from bot.domain.stats.text import MAX_CHARS, summary_text
from storage.db import create_engine, session_factory
from storage.models import (
    Agency,
    AnswerFeedback,
    Dossier,
    DossierPause,
    FeedbackAnswer,
    FeedbackInvitation,
    FeedbackResponse,
    KbEntry,
    MessageLog,
    Procedure,
)
from storage.repositories import dossiers as dossier_repo

S = DossierStatus
T = Timeliness
PLAIN = WorkCalendar()  # weekends only
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), "tháng 3/2026")
FEB_MARCH = Period(date(2026, 2, 1), date(2026, 3, 31), "từ 01/02/2026 đến 31/03/2026")
USER_HASH = "f" * 64  # must never appear in a report
ASPECTS = ("tiep_can", "tthc", "cong_chuc", "ket_qua", "pakn")


def d(text: str) -> date:
    return date.fromisoformat(text)


def at(text: str) -> datetime:
    """A UTC instant, as the models store them."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-9)


# --------------------------------------------------------------------------- periods

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("typed", "start", "end", "label"),
    [
        (None, "2026-11-01", "2026-11-25", "tháng 11/2026"),
        ("", "2026-11-01", "2026-11-25", "tháng 11/2026"),
        ("tuần", "2026-11-23", "2026-11-25", "tuần này"),
        ("tuan nay", "2026-11-23", "2026-11-25", "tuần này"),
        ("Tháng", "2026-11-01", "2026-11-25", "tháng 11/2026"),
        ("tháng này", "2026-11-01", "2026-11-25", "tháng 11/2026"),
        ("quý", "2026-10-01", "2026-11-25", "quý 4/2026"),
        ("quy", "2026-10-01", "2026-11-25", "quý 4/2026"),
        ("năm", "2026-01-01", "2026-11-25", "năm 2026"),
        ("nam", "2026-01-01", "2026-11-25", "năm 2026"),
        ("tuần trước", "2026-11-16", "2026-11-22", "tuần trước (16/11 – 22/11/2026)"),
        ("tuan truoc", "2026-11-16", "2026-11-22", "tuần trước (16/11 – 22/11/2026)"),
        ("tháng trước", "2026-10-01", "2026-10-31", "tháng 10/2026"),
        ("THANG TRUOC", "2026-10-01", "2026-10-31", "tháng 10/2026"),
        ("quý trước", "2026-07-01", "2026-09-30", "quý 3/2026"),
        ("năm trước", "2025-01-01", "2025-12-31", "năm 2025"),
        ("hôm nay", "2026-11-25", "2026-11-25", "hôm nay (25/11/2026)"),
        ("tháng 3/2026", "2026-03-01", "2026-03-31", "tháng 3/2026"),
        ("thang 3/2026", "2026-03-01", "2026-03-31", "tháng 3/2026"),
        ("tháng 02/2024", "2024-02-01", "2024-02-29", "tháng 2/2024"),
        ("T12/2025", "2025-12-01", "2025-12-31", "tháng 12/2025"),
        ("3/2026", "2026-03-01", "2026-03-31", "tháng 3/2026"),
        ("tháng 3 năm 2026", "2026-03-01", "2026-03-31", "tháng 3/2026"),
        ("quý 2/2026", "2026-04-01", "2026-06-30", "quý 2/2026"),
        ("quy 1/2026", "2026-01-01", "2026-03-31", "quý 1/2026"),
        ("Q3/2026", "2026-07-01", "2026-09-30", "quý 3/2026"),
        ("quý IV/2025", "2025-10-01", "2025-12-31", "quý 4/2025"),
        ("quý 4/2026", "2026-10-01", "2026-11-25", "quý 4/2026"),  # cut at today
        ("tháng 3", "2026-03-01", "2026-03-31", "tháng 3/2026"),
        ("thang 12", "2025-12-01", "2025-12-31", "tháng 12/2025"),  # December has not come yet
        ("T11", "2026-11-01", "2026-11-25", "tháng 11/2026"),
        ("quý 1", "2026-01-01", "2026-03-31", "quý 1/2026"),
        ("quy 4", "2026-10-01", "2026-11-25", "quý 4/2026"),
        ("2026", "2026-01-01", "2026-11-25", "năm 2026"),
        ("2025", "2025-01-01", "2025-12-31", "năm 2025"),
        ("năm 2024", "2024-01-01", "2024-12-31", "năm 2024"),
        (
            "từ 01/01/2026 đến 31/03/2026",
            "2026-01-01",
            "2026-03-31",
            "từ 01/01/2026 đến 31/03/2026",
        ),
        (
            "tu 01/01/2026 den 31/03/2026",
            "2026-01-01",
            "2026-03-31",
            "từ 01/01/2026 đến 31/03/2026",
        ),
        ("01/01/2026-31/03/2026", "2026-01-01", "2026-03-31", "từ 01/01/2026 đến 31/03/2026"),
        ("1/1/2026 - 31/3/2026", "2026-01-01", "2026-03-31", "từ 01/01/2026 đến 31/03/2026"),
        ("2026-01-01..2026-03-31", "2026-01-01", "2026-03-31", "từ 01/01/2026 đến 31/03/2026"),
        ("từ 01/10/2026 đến nay", "2026-10-01", "2026-11-25", "từ 01/10/2026 đến 25/11/2026"),
        ("01/11/2026-31/12/2026", "2026-11-01", "2026-11-25", "từ 01/11/2026 đến 25/11/2026"),
        ("  tháng   trước. ", "2026-10-01", "2026-10-31", "tháng 10/2026"),
    ],
)
def test_periods_are_parsed_with_or_without_diacritics(
    typed: str | None, start: str, end: str, label: str
) -> None:
    period = parse_period(typed, TODAY)
    assert (period.start, period.end, period.label) == (d(start), d(end), label)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("hôm kia", "Chưa hiểu khoảng thời gian «hôm kia»"),
        ("tháng 13/2026", "Tháng phải từ 1 đến 12"),
        ("quý 5/2026", "Quý phải từ 1 đến 4"),
        ("31/02/2026-01/03/2026", "không có thật"),
        ("31/03/2026-01/01/2026", "Ngày kết thúc phải sau ngày bắt đầu"),
        ("tháng 12/2026", "chưa bắt đầu"),
        ("2027", "chưa bắt đầu"),
        ("1999", "Chỉ có số liệu từ năm 2000"),
        ("từ 01/01/2020 đến 31/12/2026", "dài nhất là 5 năm"),
        ("=1+1", "Chưa hiểu"),
    ],
)
def test_bad_periods_get_a_clear_vietnamese_message(typed: str, message: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(typed, TODAY)
    assert message in str(caught.value)
    if "Chưa hiểu" in message:
        assert "tháng 3/2026" in str(caught.value)  # the accepted forms are listed


def test_months_and_bounds_of_a_period() -> None:
    period = Period(date(2026, 1, 20), date(2026, 3, 10), "x")
    months = period.months()
    assert [(m.start, m.end, m.label) for m in months] == [
        (d("2026-01-20"), d("2026-01-31"), "T1/2026"),
        (d("2026-02-01"), d("2026-02-28"), "T2/2026"),
        (d("2026-03-01"), d("2026-03-10"), "T3/2026"),
    ]
    # 00:00 in Vietnam (UTC+7) is 17:00 UTC the day before.
    assert MARCH.bounds() == (at("2026-02-28T17:00:00"), at("2026-03-31T17:00:00"))
    assert len(parse_period("năm trước", TODAY).months()) == 12


# --------------------------------------------------------------------------- pure formulas


def test_points_are_pro_rated_below_the_threshold() -> None:
    assert indexes.points(95.0, 6, 90) == 6  # at or above 90 %: full marks
    assert indexes.points(90.0, 6, 90) == 6
    assert indexes.points(45.0, 6, 90) == approx(3.0)  # 45 × 6 / 90
    assert indexes.points(75.0, 20) == approx(15.0)  # 2.1: rate × 20
    assert indexes.points(None, 6, 90) is None
    assert indexes.pct(1, 0) is None


def test_unanswered_questions_are_grouped_by_folded_text() -> None:
    rows = [
        ("Làm sao xin giấy phép bay flycam?", 1),
        ("lam sao  xin giay phep bay flycam", 2),
        ("LÀM SAO XIN GIẤY PHÉP BAY FLYCAM", 1),
        ("Gọi 0912 345 678 giúp tôi", 1),
        ("   ", 5),
    ]
    merged = indexes.merge_questions(rows, top=10)
    # 1 + 2 + 1 = 4, shown as its most frequent spelling (2 of the 4), spaces collapsed.
    assert merged[0] == QuestionCount("lam sao xin giay phep bay flycam", 4)
    assert merged[1] == QuestionCount("Gọi [số đã ẩn] giúp tôi", 1)  # masked again
    assert len(merged) == 2
    assert indexes.merge_questions(rows, top=1) == merged[:1]


# --------------------------------------------------------------------------- the fixture city


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as s:
            yield s
    finally:
        await engine.dispose()


def dossier(
    code: str,
    agency: Agency,
    procedure: Procedure,
    received: str,
    due: str | None,
    status: S,
    finished: str | None = None,
    supplements: int = 0,
) -> Dossier:
    return Dossier(
        code=code,
        procedure_id=procedure.id,
        receiving_agency_id=agency.id,
        handling_agency_id=agency.id,
        received_date=d(received),
        due_date=d(due) if due else None,
        finished_date=d(finished) if finished else None,
        status=int(status),
        supplement_count=supplements,
    )


async def build_city(s: AsyncSession) -> dict[str, object]:
    """Two sibling wards under the city; the dossiers, ratings and questions of the docstring."""
    city = await dossier_repo.add_agency(s, code="000.00.00.H13", name="UBND TP", level="tinh")
    a = await dossier_repo.add_agency(
        s, code="000.00.12.H13", name="UBND phường Ninh Kiều", level="xa", parent=city
    )
    b = await dossier_repo.add_agency(
        s, code="000.00.13.H13", name="UBND phường Cái Khế", level="xa", parent=city
    )
    p1 = Procedure(code="1.001193", name="Đăng ký khai sinh", time_limit=5)
    p2 = Procedure(code="2.000815", name="Chứng thực bản sao", time_limit=3)
    s.add_all([p1, p2])
    await s.flush()
    ds = {
        # Ward A.
        "d1": dossier("A-1", a, p1, "2026-03-02", "2026-03-09", S.DA_TRA_KET_QUA, "2026-03-05"),
        "d2": dossier("A-2", a, p1, "2026-03-02", "2026-03-09", S.DA_XU_LY_XONG, "2026-03-09"),
        "d3": dossier("A-3", a, p1, "2026-03-02", "2026-03-09", S.DA_TRA_KET_QUA, "2026-03-11"),
        # One supplement, paused (3, 6] = 3 working days: due 9 -> 12; finished on 12.
        "d4": dossier("A-4", a, p1, "2026-03-02", "2026-03-09", S.DA_TRA_KET_QUA, "2026-03-12", 1),
        # Two supplement requests: late although finished ten days early.
        "d5": dossier("A-5", a, p1, "2026-03-02", "2026-03-20", S.DA_TRA_KET_QUA, "2026-03-10", 2),
        "d6": dossier("A-6", a, p1, "2026-03-25", "2026-04-01", S.DANG_XU_LY),
        "d7": dossier("A-7", a, p1, "2026-03-02", "2026-03-20", S.DANG_XU_LY),
        # Received before the period, finished in it, on its due date.
        "d8": dossier("A-8", a, p1, "2026-02-20", "2026-03-03", S.DA_TRA_KET_QUA, "2026-03-03"),
        # Finished after the period: judged unfinished on 31/03, past its due date 23/03.
        "d9": dossier("A-9", a, p1, "2026-03-16", "2026-03-23", S.DA_TRA_KET_QUA, "2026-04-02"),
        # Ended before the period: not counted in March.
        "d10": dossier("A-10", a, p1, "2026-02-02", "2026-02-09", S.DA_TRA_KET_QUA, "2026-02-06"),
        # Refused at the desk: not received, no deadline.
        "d11": dossier("A-11", a, p1, "2026-03-10", None, S.KHONG_DUOC_TIEP_NHAN, "2026-03-10"),
        # No appointment date: legal limit 3 days, used (16, 19] = 3 -> on time.
        "d12": dossier("A-12", a, p2, "2026-03-16", None, S.DA_TRA_KET_QUA, "2026-03-19"),
        # Waiting for a supplement since 24/03: paused (24, 31] = 5 days, due 26 -> 02/04.
        "d13": dossier("A-13", a, p2, "2026-03-23", "2026-03-26", S.YEU_CAU_BO_SUNG, None, 1),
        # Ward B.
        "e1": dossier("B-1", b, p1, "2026-03-02", "2026-03-09", S.DA_TRA_KET_QUA, "2026-03-12"),
        "e2": dossier("B-2", b, p1, "2026-03-03", "2026-03-10", S.DA_TRA_KET_QUA, "2026-03-10"),
    }
    s.add_all(ds.values())
    await s.flush()
    s.add_all(
        [
            DossierPause(dossier_id=ds["d4"].id, requested_date=d("2026-03-03"),
                         resumed_date=d("2026-03-06")),
            DossierPause(dossier_id=ds["d5"].id, requested_date=d("2026-03-03"),
                         resumed_date=d("2026-03-04")),
            DossierPause(dossier_id=ds["d5"].id, requested_date=d("2026-03-05"),
                         resumed_date=d("2026-03-06")),
            DossierPause(dossier_id=ds["d13"].id, requested_date=d("2026-03-24")),
        ]
    )  # fmt: skip

    invitations = {
        "i1": FeedbackInvitation(created_at=at("2026-03-06T02:00:00"), dossier_id=ds["d1"].id,
                                 responded_at=at("2026-03-06T03:00:00")),
        "i2": FeedbackInvitation(created_at=at("2026-03-10T02:00:00"), dossier_id=ds["d2"].id),
        "i3": FeedbackInvitation(created_at=at("2026-03-12T02:00:00"), dossier_id=ds["d3"].id),
        "i4": FeedbackInvitation(created_at=at("2026-03-13T02:00:00"), dossier_id=ds["d4"].id),
        "i5": FeedbackInvitation(created_at=at("2026-03-13T02:00:00"), dossier_id=ds["e1"].id,
                                 responded_at=at("2026-03-13T05:00:00")),
        "i6": FeedbackInvitation(created_at=at("2026-02-07T02:00:00"), dossier_id=ds["d10"].id,
                                 responded_at=at("2026-02-07T05:00:00")),
    }  # fmt: skip
    for inv in invitations.values():
        inv.channel, inv.chat_id, inv.user_hash = "telegram", "42", USER_HASH
    s.add_all(invitations.values())
    await s.flush()

    async def rate(
        key: str,
        when: str,
        agency: Agency,
        rating3: int | None,
        sipas: tuple[int | None, ...] = (),
        *,
        dossier_key: str | None = None,
        comment: str = "",
        invitation: str | None = None,
        invalid: tuple[str, ...] = (),
    ) -> None:
        target = ds[dossier_key] if dossier_key else None
        response = FeedbackResponse(
            submitted_at=at(when),
            kind="dossier" if target else "service_point",
            dedupe_key=f"{key}:{USER_HASH}",
            dossier_id=target.id if target else None,
            agency_id=agency.id,
            procedure_id=target.procedure_id if target else None,
            channel="telegram",
            user_hash=USER_HASH,
            invitation_id=invitations[invitation].id if invitation else None,
            comment=comment,
        )
        s.add(response)
        await s.flush()
        s.add(
            FeedbackAnswer(
                response_id=response.id, item_code="rating3", aspect="tong_the", scale="3",
                value=rating3, is_valid=rating3 is not None,
            )
        )  # fmt: skip
        for aspect, value in zip(ASPECTS, sipas, strict=False):
            s.add(
                FeedbackAnswer(
                    response_id=response.id, item_code=f"sipas.{aspect}", aspect=aspect,
                    scale="5", value=value,
                    is_valid=value is not None and aspect not in invalid,
                )
            )  # fmt: skip

    # Ward A, March (Vietnam time). None: skipped; r4's tiep_can 3 is "không biết" (invalid).
    await rate(
        "r1",
        "2026-03-06T03:00:00",
        a,
        3,
        (5, 4, 3, 5, None),
        dossier_key="d1",
        comment='=HYPERLINK("http://evil.example","Xem")',
    )
    await rate(
        "r2",
        "2026-03-10T03:00:00",
        a,
        2,
        (4, 2, 5, 1, 4),
        dossier_key="d2",
        comment="Cán bộ gọi 0912 345 678 rất nhiệt tình",
        invitation="i2",
    )
    await rate(
        "r3", "2026-03-12T03:00:00", a, 1, (2, 1, 4, None, 5), dossier_key="d3", comment="+chậm quá"
    )
    # 2026-02-28 18:00 UTC is 01:00 on 1 March in Vietnam: inside March.
    await rate(
        "r4",
        "2026-02-28T18:00:00",
        a,
        3,
        (3, 5, 4, 4, None),
        dossier_key="d4",
        invalid=("tiep_can",),
    )
    await rate("r5", "2026-03-20T03:00:00", a, None)  # a service point, the rating skipped
    await rate("r8", "2026-03-13T03:00:00", a, 1, dossier_key="d3")  # d3 again: one dossier
    # Outside ward A's March: ward B; February; 00:30 on 1 April in Vietnam.
    await rate("r6", "2026-03-13T06:00:00", b, 1, dossier_key="e1", invitation="i5")
    await rate("r7", "2026-02-07T03:00:00", a, 1, dossier_key="d10")
    await rate("r9", "2026-03-31T17:30:00", a, 1, dossier_key="d2")

    s.add(KbEntry(id="ho-tich/khai-sinh", category="Hộ tịch",
                  question="Đăng ký khai sinh cần giấy tờ gì?", answer="…"))  # fmt: skip
    messages: list[tuple[str, str, str | None, str]] = [
        ("2026-03-02T03:00:00", "answer", "ho-tich/khai-sinh", "khai sinh"),
        ("2026-03-03T03:00:00", "answer", "ho-tich/khai-sinh", "khai sinh con"),
        ("2026-03-04T03:00:00", "answer", "ho-tich/khai-sinh", "làm giấy khai sinh"),
        ("2026-03-05T03:00:00", "answer", "cu-tru/tam-tru", "tạm trú"),
        ("2026-03-06T03:00:00", "suggest", "cu-tru/tam-tru", "tam tru o dau"),
        ("2026-03-07T03:00:00", "suggest", "cu-tru/tam-tru", "đăng ký ở"),
        ("2026-03-08T03:00:00", "fallback", None, "Làm sao xin giấy phép bay flycam?"),
        ("2026-03-09T03:00:00", "fallback", None, "lam sao  xin giay phep bay flycam"),
        ("2026-03-10T03:00:00", "fallback", None, "lam sao xin giay phep bay flycam"),
        ("2026-03-11T03:00:00", "fallback", None, "=cmd|' /C calc'!A0"),
        ("2026-02-11T03:00:00", "fallback", None, "tháng hai"),  # outside March
    ]
    logged = []
    for when, decision, entry, question in messages:
        row = MessageLog(
            created_at=at(when), channel="web", user_hash=USER_HASH, question=question,
            decision=decision, entry_id=entry, latency_ms=1.0,
        )  # fmt: skip
        s.add(row)
        logged.append(row)
    await s.flush()
    for row, helpful, trip, when in (
        (logged[0], True, True, "2026-03-02T04:00:00"),
        (logged[1], True, None, "2026-03-03T04:00:00"),
        (logged[2], False, False, "2026-03-04T04:00:00"),
        (logged[3], True, True, "2026-02-05T04:00:00"),  # outside March
    ):
        s.add(
            AnswerFeedback(
                created_at=at(when), message_id=row.id, channel="web", user_hash=USER_HASH,
                entry_id=row.entry_id, helpful=helpful, trip_saved=trip,
            )
        )  # fmt: skip
    await s.commit()
    return {"city": city, "a": a, "b": b, "p1": p1, "p2": p2}


async def test_the_formulas_on_the_hand_computed_city(session: AsyncSession) -> None:
    city = await build_city(session)
    a, b, p2 = city["a"], city["b"], city["p2"]
    assert isinstance(a, Agency) and isinstance(b, Agency) and isinstance(p2, Procedure)

    ward = await indexes.compute(session, period=MARCH, calendar=PLAIN, agency=a)
    # On PostgreSQL the rating queries ran on a second connection: the same figures.
    assert ward == await indexes.compute(
        session, period=MARCH, calendar=PLAIN, agency=a, concurrent=False
    )
    t = ward.dossiers.timeliness
    # Trước hạn d1; đúng hạn d2, d4 (paused), d8 (carried over), d12 (legal limit); quá hạn d3,
    # d5 (two supplements); đang trong hạn d6, d13 (open pause); đang quá hạn d7, d9.
    assert (t.truoc_han, t.dung_han, t.qua_han, t.dang_trong_han, t.dang_qua_han) == (
        1, 4, 2, 2, 2,
    )  # fmt: skip
    assert (t.total, t.on_time, t.late, t.unjudged) == (11, 7, 4, 0)
    assert ward.dossiers.on_time_rate_pct == approx(700 / 11)  # 7 / 11 = 63.64 %
    assert ward.dossiers.on_time_points == approx(140 / 11)  # 7 / 11 × 20 = 12.73
    # Received in March: d1–d7, d9, d12, d13 (not d8, d10 from February, not refused d11).
    assert ward.dossiers.received == 10
    assert ward.dossiers.refused == 1
    # Finished in March: d1–d5, d8, d12 (d9 ends in April, d11 was refused).
    assert ward.dossiers.finished == 7
    # Groups at the period's end: d9 ended on 2 April, so on 31 March it was in progress.
    assert dict(ward.dossiers.by_group) == {
        StatsGroup.DONE: 6,  # d1, d2, d3, d4, d5, d12
        StatsGroup.IN_PROGRESS: 3,  # d6, d7, d9
        StatsGroup.SUPPLEMENT: 1,  # d13
        StatsGroup.REFUSED: 1,  # d11, refused at the desk: not "Chưa tiếp nhận"
    }

    sat = ward.satisfaction
    assert sat.responses == 6  # r1, r2, r3, r4 (1 March in Vietnam), r5, r8
    # Valid three-level answers: 3 (r1), 2 (r2), 1 (r3), 3 (r4), 1 (r8); r5 skipped.
    assert [(x.label, x.count) for x in sat.rating3] == [
        ("Rất hài lòng", 2),
        ("Hài lòng", 1),
        ("Không hài lòng", 2),
    ]
    assert [x.pct for x in sat.rating3] == [approx(40.0), approx(20.0), approx(40.0)]
    assert (sat.rating3_valid, sat.rating3_skipped) == (5, 0)  # r5: a service point, not indexed
    assert sat.rating3_satisfied_pct == approx(60.0)  # (2 + 1) / 5
    by_aspect = {x.aspect: x for x in sat.aspects}
    # tiep_can 5, 4, 2 (r4's 3 is invalid): 2 of 3 are 4–5.
    assert (by_aspect["tiep_can"].valid, by_aspect["tiep_can"].skipped) == (3, 1)
    assert by_aspect["tiep_can"].pct == approx(200 / 3)
    assert by_aspect["tthc"].pct == approx(50.0)  # 4, 2, 1, 5: 2 of 4
    assert by_aspect["cong_chuc"].pct == approx(75.0)  # 3, 5, 4, 4: 3 of 4
    assert by_aspect["ket_qua"].pct == approx(200 / 3)  # 5, 1, 4 (r3 skipped): 2 of 3
    assert by_aspect["pakn"].pct == approx(100.0)  # 4, 5 (r1, r4 skipped): 2 of 2
    assert (by_aspect["pakn"].valid, by_aspect["pakn"].skipped) == (2, 2)
    # (66.67 + 50 + 75 + 66.67 + 100) / 5 = 71.67
    assert sat.sipas_estimate == approx((200 / 3 + 50 + 75 + 200 / 3 + 100) / 5)
    assert "không phải chỉ số SIPAS chính thức" in sat.sipas_label
    # 5.4: late 4 of 11 (36.36 %), dossiers rated Không hài lòng: d3 only (r3 and r8), 1 of 11
    # (9.09 %): 100 − 45.45 = 54.55 %, below 90 %: 54.55 × 6 / 90 = 3.64 points.
    assert sat.dislike_dossiers == 1
    assert sat.c54_pct == approx(600 / 11)
    assert sat.c54_points == approx(40 / 11)
    # Invitations in March for ward A: i1 (responded_at), i2 (named by r2), i3, i4: 2 of 4.
    assert (sat.invitations, sat.invitations_answered) == (4, 2)
    assert sat.response_rate_pct == approx(50.0)

    faq = ward.faq  # city-wide: questions are not tied to an agency
    assert faq.questions == 10
    assert [(x[0], x[2]) for x in faq.by_decision] == [
        ("answer", 4),
        ("suggest", 2),
        ("fallback", 4),
    ]
    assert (faq.decision_pct("answer"), faq.decision_pct("fallback")) == (40.0, 40.0)
    assert faq.top_entries == (
        EntryCount("ho-tich/khai-sinh", "Đăng ký khai sinh cần giấy tờ gì?", 3),
        EntryCount("cu-tru/tam-tru", "", 1),  # not in the knowledge base: no title
    )
    assert faq.unanswered == (
        QuestionCount("lam sao xin giay phep bay flycam", 3),
        QuestionCount("=cmd|' /C calc'!A0", 1),
    )
    assert (faq.verdicts, faq.helpful, faq.trip_answers, faq.trip_saved) == (3, 2, 2, 1)
    assert faq.helpful_pct == approx(200 / 3)  # 2 of 3
    assert faq.trip_saved_pct == approx(50.0)  # 1 of the 2 that said

    # The sibling ward: e1 late (12 > 9), e2 on time (10 = 10).
    sibling = await indexes.compute(session, period=MARCH, calendar=PLAIN, agency=b)
    assert (sibling.dossiers.timeliness.total, sibling.dossiers.timeliness.on_time) == (2, 1)
    assert (sibling.dossiers.received, sibling.dossiers.finished) == (2, 2)
    assert sibling.satisfaction.rating3_valid == 1  # r6 only
    assert (sibling.satisfaction.invitations, sibling.satisfaction.invitations_answered) == (1, 1)
    assert sibling.satisfaction.sipas_estimate is None

    # The whole city: ward A + ward B.
    town = await indexes.compute(session, period=MARCH, calendar=PLAIN)
    tt = town.dossiers.timeliness
    assert (tt.total, tt.on_time, tt.late) == (13, 8, 5)
    assert town.dossiers.on_time_rate_pct == approx(800 / 13)  # 61.54 %
    assert (town.dossiers.received, town.dossiers.finished) == (12, 9)
    assert town.satisfaction.rating3_valid == 6  # ward A's 5 + r6
    assert town.satisfaction.rating3_satisfied_pct == approx(50.0)  # 3 of 6
    # Late 5 of 13 + disliked d3 and e1, 2 of 13: 100 − 700 / 13 = 46.15 %; × 6 / 90 = 3.08.
    assert town.satisfaction.c54_pct == approx(600 / 13)
    assert town.satisfaction.c54_points == approx(40 / 13)
    assert town.satisfaction.response_rate_pct == approx(60.0)  # i1, i2, i5 of i1–i5
    rows = {u.name: u for u in town.by_agency}
    assert rows["UBND phường Ninh Kiều"].on_time_rate_pct == approx(700 / 11)
    assert (rows["UBND phường Ninh Kiều"].ratings, rows["UBND phường Ninh Kiều"].satisfied) == (
        5, 3,
    )  # fmt: skip
    assert rows["UBND phường Cái Khế"].on_time_rate_pct == approx(50.0)
    assert rows["UBND TP"].timeliness.total == 0  # its own dossiers only, not its children's
    procs = {u.code: u for u in town.by_procedure}
    # P2: d12 on time, d13 within its paused limit; P1: the other 11, on time d1, d2, d4, d6,
    # d8, e2.
    assert (procs["2.000815"].timeliness.total, procs["2.000815"].timeliness.on_time) == (2, 2)
    assert (procs["1.001193"].timeliness.total, procs["1.001193"].timeliness.on_time) == (11, 6)

    # A procedure filter.
    only_p2 = await indexes.compute(session, period=MARCH, calendar=PLAIN, agency=a, procedure=p2)
    assert only_p2.dossiers.on_time_rate_pct == approx(100.0)
    assert only_p2.satisfaction.responses == 0  # r5 has no procedure, the others are P1

    # Months: February judges d10 (early) and d8 (still within its 3 March limit on 28/02):
    # 2 of 2; March as above, 7 of 11. Ratings: r7 in February (0 of 1), 3 of 5 in March.
    two = await indexes.compute(session, period=FEB_MARCH, calendar=PLAIN, agency=a)
    assert [(m.label, m.judged, m.on_time, m.ratings, m.satisfied) for m in two.monthly] == [
        ("T2/2026", 2, 2, 1, 0),
        ("T3/2026", 11, 7, 5, 3),
    ]
    assert two.monthly[1].on_time_rate_pct == approx(700 / 11)

    # Nothing at all in January 2025.
    empty = await indexes.compute(
        session, period=Period(date(2025, 1, 1), date(2025, 1, 31), "tháng 1/2025"),
        calendar=PLAIN, agency=a,
    )  # fmt: skip
    assert empty.dossiers.on_time_rate_pct is None
    assert empty.satisfaction.c54_pct is None
    assert empty.faq.questions == 0

    # ----- text
    text = summary_text(ward)
    assert len(text) <= MAX_CHARS
    assert "THỐNG KÊ THÁNG 3/2026" in text
    assert "UBND phường Ninh Kiều" in text
    assert "Tiếp nhận 10, đã giải quyết 7" in text
    assert "trước hạn 1, đúng hạn 4, quá hạn 2" in text
    assert "trong hạn 2, quá hạn 2" in text
    assert "Tỷ lệ đúng hạn (QĐ 766): 63,6% (12,7/20 điểm" in text
    assert "Rất hài lòng 40,0%, Hài lòng 20,0%, Không hài lòng 40,0%" in text
    assert "71,7% (ước tính nội bộ, không phải chỉ số SIPAS chính thức của Bộ Nội vụ)" in text
    assert "Chỉ số 5.4 (QĐ 766): 54,5% (3,6/6 điểm)" in text
    assert "Tỷ lệ phản hồi: 50,0% (2/4 lời mời)" in text
    assert "10 câu hỏi: trả lời được 40%, gợi ý 20%, chưa trả lời được 40%" in text
    assert "Đăng ký khai sinh cần giấy tờ gì? (3)" in text
    assert "«lam sao xin giay phep bay flycam» (3)" in text
    assert USER_HASH not in text
    crowded = replace(
        ward,
        faq=replace(
            ward.faq,
            top_entries=(EntryCount("x", "Thủ tục rất dài " * 40, 9),) * 10,
            unanswered=(QuestionCount("Câu hỏi rất dài " * 40, 9),) * 10,
        ),
    )
    assert len(summary_text(crowded)) <= MAX_CHARS
    empty_text = summary_text(empty)
    assert "Chưa có hồ sơ trong kỳ." in empty_text
    assert "Chưa có đánh giá trong kỳ." in empty_text

    # ----- chart
    for stats in (ward, two, empty):
        check_png(render_chart(stats))

    # ----- report
    data = await build_report(session, period=MARCH, calendar=PLAIN)
    check_report(data)
    assert report_filename(town) == "bao-cao-thang-3-2026.xlsx"


def check_png(png: bytes) -> None:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (WIDTH_PX, HEIGHT_PX) == (1000, 1100)
    assert 10_000 < len(png) < 300_000


def check_report(data: bytes) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert (
        tuple(wb.sheetnames)
        == SHEETS
        == (
            "Tổng hợp",
            "Theo cơ quan",
            "Theo thủ tục",
            "Đánh giá",
            "Câu hỏi chưa trả lời",
        )
    )
    summary = wb["Tổng hợp"]
    assert summary["A1"].value == "Báo cáo thống kê – Toàn thành phố"
    assert [c.value for c in summary[5]][:4] == ["Chỉ tiêu", "Số lượng", "Tỷ lệ", "Ghi chú"]
    values = {row[0]: row[1:] for row in summary.iter_rows(values_only=True) if row[0]}
    assert values["Hồ sơ tiếp nhận trong kỳ"][0] == 12
    assert values["Hồ sơ tính tỷ lệ đúng hạn"][0] == 13
    assert values["Tỷ lệ đúng hạn (QĐ 766, chỉ tiêu 2.1)"][1] == approx(8 / 13)
    assert values["Chỉ tiêu 5.4 (QĐ 766)"][1] == approx(6 / 13)
    percent_cells = [
        r[2] for r in summary.iter_rows() if r[0].value == "Tỷ lệ đúng hạn (QĐ 766, chỉ tiêu 2.1)"
    ]
    assert percent_cells[0].number_format == "0.0%"

    agencies = wb["Theo cơ quan"]
    header = [c.value for c in agencies[1]]
    assert header[:4] == ["Mã cơ quan", "Cơ quan", "Tiếp nhận", "Đã giải quyết"]
    assert "Tỷ lệ đúng hạn" in header and "Tỷ lệ hài lòng" in header
    by_name = {row[1]: row for row in agencies.iter_rows(min_row=2, values_only=True)}
    ward_a = by_name["UBND phường Ninh Kiều"]
    assert ward_a[2:4] == (10, 7)  # received, finished
    assert ward_a[header.index("Tỷ lệ đúng hạn")] == approx(7 / 11)
    assert ward_a[header.index("Tỷ lệ hài lòng")] == approx(3 / 5)
    assert [row[0] for row in agencies.iter_rows(min_row=2, values_only=True)] == [
        "000.00.00.H13",  # the city first, then its wards in tree order
        "000.00.12.H13",
        "000.00.13.H13",
    ]
    procedures = wb["Theo thủ tục"]
    assert [c.value for c in procedures[1]][:2] == ["Mã thủ tục", "Thủ tục"]

    ratings = wb["Đánh giá"]
    head = [c.value for c in ratings[1]]
    assert head[:5] == ["Thời gian", "Cơ quan", "Thủ tục", "Kênh", "Mức độ hài lòng"]
    assert head[-1] == "Ý kiến"
    rows = list(ratings.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 7  # r1–r6 and r8 (March in Vietnam time), newest first
    comments = [r[-1] for r in rows if r[-1]]
    assert '\'=HYPERLINK("http://evil.example","Xem")' in comments
    assert "'+chậm quá" in comments
    assert "Cán bộ gọi [số đã ẩn] rất nhiệt tình" in comments
    first_r1 = next(r for r in rows if r[-1] and "HYPERLINK" in r[-1])
    assert first_r1[4] == "Rất hài lòng"
    assert first_r1[5:10] == (5, 4, 3, 5, None)
    assert first_r1[0] == datetime(2026, 3, 6, 10, 0)  # 03:00 UTC is 10:00 in Vietnam

    questions = wb["Câu hỏi chưa trả lời"]
    qrows = list(questions.iter_rows(min_row=2, values_only=True))
    assert qrows[0] == (1, "lam sao xin giay phep bay flycam", 3)
    assert qrows[1][1] == "'=cmd|' /C calc'!A0"

    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert USER_HASH not in cell.value
                    assert "0912" not in cell.value
        for letter in "ABC":
            assert ws.column_dimensions[letter].width > 5


# --------------------------------------------------------------------------- SQL = summarise()


@dataclass(frozen=True)
class Spec:
    """One random dossier, as both the database and ``DossierTimes`` get it."""

    i: int
    agency: int
    procedure: int
    received: date
    due: date | None
    finished: date | None
    status: S
    supplements: int
    pauses: tuple[tuple[date, date | None], ...]


def random_city(rng: random.Random, calendar: WorkCalendar) -> list[Spec]:
    """Random but consistent dossiers (``DossierTimes`` accepts every one)."""
    out: list[Spec] = []
    ending = [S.CONG_DAN_RUT, S.DUNG_XU_LY, S.DA_XU_LY_XONG, S.DA_TRA_KET_QUA]
    open_ = [S.DUOC_TIEP_NHAN, S.DANG_XU_LY, S.YEU_CAU_BO_SUNG, S.YEU_CAU_NVTC]
    for i in range(360):
        received = date(2025, 12, 1) + timedelta(days=rng.randrange(150))
        limit = rng.choice([1, 3, 5, 10])
        due = calendar.add_workdays(received, limit) if rng.random() < 0.85 else None
        finished: date | None
        roll = rng.random()
        if roll < 0.06:
            status, finished = S.MOI_DANG_KY, None
        elif roll < 0.1:
            status, finished = S.KHONG_DUOC_TIEP_NHAN, received
        elif roll < 0.7:
            status = rng.choice(ending)
            finished = calendar.add_workdays(received, rng.randint(0, limit + 6))
        else:
            status, finished = rng.choice(open_), None
        supplements = rng.choices([0, 1, 2, 3], [60, 25, 10, 5])[0]
        pauses: list[tuple[date, date | None]] = []
        if supplements and rng.random() < 0.9:
            cursor = received
            for k in range(supplements):
                start = cursor + timedelta(days=rng.randint(0, 4))
                still_open = finished is None and k == supplements - 1 and rng.random() < 0.5
                end = None if still_open else start + timedelta(days=rng.randint(0, 9))
                pauses.append((start, end))
                cursor = end or start
        out.append(
            Spec(
                i=i,
                agency=rng.randrange(3),
                procedure=rng.randrange(3),
                received=received,
                due=due,
                finished=finished,
                status=status,
                supplements=supplements,
                pauses=tuple(pauses),
            )
        )
    return out


async def test_sql_and_pure_python_give_identical_counts_on_random_data(
    session: AsyncSession,
) -> None:
    calendar = load_calendar()  # with Tết and the other holidays
    rng = random.Random(766)
    city = await dossier_repo.add_agency(session, code="C", name="Thành phố", level="tinh")
    ward = await dossier_repo.add_agency(session, code="W", name="Phường", level="xa", parent=city)
    unit = await dossier_repo.add_agency(session, code="U", name="Tổ", level="xa", parent=ward)
    agencies = [city, ward, unit]
    # Limits in working days, in calendar days (not used by the rule), and none at all.
    procedures = [
        Procedure(code="P0", name="P0", time_limit=5),
        Procedure(code="P1", name="P1", time_limit=7, time_unit="ngay"),
        Procedure(code="P2", name="P2", time_limit=None),
    ]
    session.add_all(procedures)
    await session.flush()
    spec = random_city(rng, calendar)
    rows = [
        Dossier(
            code=f"R-{x.i}",
            procedure_id=procedures[x.procedure].id,
            receiving_agency_id=city.id,  # the receiving agency does not count
            handling_agency_id=agencies[x.agency].id,
            received_date=x.received,
            due_date=x.due,
            finished_date=x.finished,
            status=int(x.status),
            supplement_count=x.supplements,
        )
        for x in spec
    ]
    session.add_all(rows)
    await session.flush()
    for row, x in zip(rows, spec, strict=True):
        for start, end in x.pauses:
            session.add(DossierPause(dossier_id=row.id, requested_date=start, resumed_date=end))
    await session.commit()

    def times(x: Spec) -> DossierTimes:
        p = procedures[x.procedure]
        return DossierTimes(
            received=x.received,
            due=x.due,
            finished=x.finished,
            status=x.status,
            supplement_requests=x.supplements,
            pauses=x.pauses,
            legal_days=p.time_limit if p.time_unit == "ngay_lam_viec" else None,
        )

    periods = [
        Period(date(2026, 1, 1), date(2026, 3, 31), "quý 1/2026"),
        Period(date(2025, 12, 15), date(2026, 5, 10), "dài"),
        Period(date(2026, 2, 9), date(2026, 2, 15), "tuần Tết"),
        Period(date(2026, 4, 30), date(2026, 4, 30), "một ngày"),
    ]
    checked = 0
    for scope, members in ((None, {0, 1, 2}), (ward, {1, 2}), (unit, {2})):
        subset = [times(x) for x in spec if x.agency in members]
        for period in periods:
            stats = await indexes.compute(session, period=period, calendar=calendar, agency=scope)
            expected = summarise(subset, calendar, period.end, period_start=period.start)
            got = stats.dossiers.timeliness
            assert {t: got.count(t) for t in T} == {t: expected.counts.get(t, 0) for t in T}
            assert got.unjudged == expected.unjudged
            assert got.rate_pct == (None if expected.rate is None else approx(expected.rate * 100))
            assert sum(u.timeliness.total for u in stats.by_agency) == got.total
            for month in stats.monthly:
                want = summarise(subset, calendar, month.end, period_start=month.start)
                assert (month.judged, month.on_time) == (want.total, want.on_time), month.label
            checked += expected.total
    assert checked > 500  # the periods really judged many dossiers


def test_the_judge_reuses_finished_verdicts_without_changing_them() -> None:
    """A dossier ended by the date judged at gets the same verdict at any later date."""
    from storage.repositories.stats import DossierRow

    row = DossierRow(
        id=1, agency_id=1, procedure_id=1, received=d("2026-03-02"), due=d("2026-03-09"),
        rescheduled_due=None, finished=d("2026-03-12"), status=10, supplement_count=1,
        time_limit=5, time_unit="ngay_lam_viec",
        pauses=((d("2026-03-03"), d("2026-03-06")),),
    )  # fmt: skip
    judge = indexes._Judge([row], PLAIN)
    assert [v for _, v in judge.judge(d("2026-03-01"), d("2026-03-10"))] == [T.DANG_TRONG_HAN]
    assert [v for _, v in judge.judge(d("2026-03-01"), d("2026-03-31"))] == [T.DUNG_HAN]
    assert [v for _, v in judge.judge(d("2026-04-01"), d("2026-04-30"))] == []
    broken = row._replace(id=2, finished=None)  # status 10 without an end date
    assert indexes.dossier_times(broken) is None
    assert [v for _, v in indexes._Judge([broken], PLAIN).judge(MARCH.start, MARCH.end)] == [None]


def test_statistics_is_frozen_and_serialisable() -> None:
    empty = indexes.Satisfaction(
        responses=0, rating3=(), rating3_valid=0, rating3_skipped=0, aspects=(), overall=None,
        sipas_estimate=None, dislike_dossiers=0, dossiers=0, late=0, invitations=0,
        invitations_answered=0,
    )  # fmt: skip
    stats = Statistics(
        period=MARCH,
        agency_id=None,
        agency_name=indexes.CITY_LABEL,
        procedure_id=None,
        procedure_name=None,
        dossiers=indexes.DossierFigures(0, 0, 0, (), indexes.TimelinessCounts()),
        monthly=(),
        satisfaction=empty,
        faq=indexes.Faq(0, (), (), (), 0, 0, 0, 0),
    )
    with pytest.raises(AttributeError):
        stats.agency_name = "x"  # type: ignore[misc]
    data = indexes.to_json(stats)
    assert data["period"]["start"] == "2026-03-01"
    assert data["dossiers"]["timeliness"]["rate_pct"] is None
    assert data["satisfaction"]["sipas_label"].startswith("ước tính nội bộ")
    check_png(render_chart(stats))
    texts = [t.get_text() for ax in figure(stats).axes for t in ax.texts]
    assert texts.count("Chưa có dữ liệu") == 2  # both panels say so instead of failing
