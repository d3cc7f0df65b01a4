"""The on-time rules of docs/timeliness.md, one test named after each rule.

Dates are on the bundled Vietnamese calendar (``load_calendar()``) unless a test builds its own.
November 2025: Mo 3, Tu 4, We 5, Th 6, Fr 7, Sa 8, Su 9, Mo 10.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.status import DossierStatus as S
from bot.domain.dossiers.status import StatsGroup
from bot.domain.dossiers.timeliness import DossierTimes, summarise, timeliness
from bot.domain.dossiers.timeliness import Timeliness as T
from bot.domain.dossiers.workdays import WorkCalendar, load_calendar
from bot.domain.stats import indexes
from bot.domain.stats.periods import Period
from storage.db import create_engine, session_factory
from storage.models import Dossier, Procedure
from storage.repositories import dossiers as repo

CAL = load_calendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_rule_working_days_skip_weekends_and_count_from_the_next_day() -> None:
    # Received Friday 7/11/2025 with 1 working day: due Monday 10/11, not Friday itself.
    assert CAL.add_workdays(d("2025-11-07"), 1) == d("2025-11-10")
    # Received online on Saturday 8/11: also due Monday.
    assert CAL.add_workdays(d("2025-11-08"), 1) == d("2025-11-10")
    assert CAL.workdays_between(d("2025-11-07"), d("2025-11-10")) == 1


def test_rule_holidays_are_not_working_days_and_makeup_saturdays_are() -> None:
    # Tết 2026 (bundled calendar): received Thursday 12/2/2026 with 2 working days is due
    # after the holiday, not on Monday 16/2.
    due = CAL.add_workdays(d("2026-02-12"), 2)
    assert due > d("2026-02-20") and CAL.is_workday(due)
    # A make-up Saturday counts as a working day; a swapped weekday does not.
    swapped = WorkCalendar(holidays={d("2025-11-07")}, makeup_workdays={d("2025-11-08")})
    assert not swapped.is_workday(d("2025-11-07")) and swapped.is_workday(d("2025-11-08"))
    assert swapped.add_workdays(d("2025-11-06"), 1) == d("2025-11-08")


def test_rule_appointment_date_is_judged_not_the_legal_limit() -> None:
    # The appointment given (Mẫu 01) is what the dossier is judged against, even when it is
    # later than the legal limit would give.
    generous = DossierTimes(
        received=d("2025-11-03"), due=d("2025-11-14"), legal_days=3,
        finished=d("2025-11-12"), status=S.DA_XU_LY_XONG,
    )  # fmt: skip
    assert timeliness(generous, CAL, d("2025-11-30")) is T.TRUOC_HAN
    on_day = DossierTimes(
        received=d("2025-11-03"), due=d("2025-11-14"), finished=d("2025-11-14"),
        status=S.DA_TRA_KET_QUA,
    )  # fmt: skip
    assert timeliness(on_day, CAL, d("2025-11-30")) is T.DUNG_HAN


def test_rule_without_appointment_the_legal_limit_decides() -> None:
    # 3 working days from Monday 3/11: Tue 4, Wed 5, Thu 6.
    item = DossierTimes(
        received=d("2025-11-03"), legal_days=3, finished=d("2025-11-06"), status=S.DA_XU_LY_XONG
    )
    assert timeliness(item, CAL, d("2025-11-30")) is T.DUNG_HAN
    late = DossierTimes(
        received=d("2025-11-03"), legal_days=3, finished=d("2025-11-07"), status=S.DA_XU_LY_XONG
    )
    assert timeliness(late, CAL, d("2025-11-30")) is T.QUA_HAN
    unknown = DossierTimes(received=d("2025-11-03"), status=S.DANG_XU_LY)
    assert timeliness(unknown, CAL, d("2025-11-30")) is None  # unjudged, reported as such


def test_rule_a_rescheduled_appointment_is_not_the_judged_date() -> None:
    apologised = DossierTimes(
        received=d("2025-11-03"), due=d("2025-11-06"), rescheduled_due=d("2025-11-12"),
        finished=d("2025-11-10"), status=S.DA_TRA_KET_QUA,
    )  # fmt: skip
    assert timeliness(apologised, CAL, d("2025-11-30")) is T.QUA_HAN


def test_rule_paused_time_moves_the_appointment() -> None:
    # Due Thursday 6/11; asked Monday 3/11, supplied Wednesday 5/11: two working days paused
    # (Tue 4, Wed 5), so the appointment moves to Monday 10/11.
    item = DossierTimes(
        received=d("2025-10-31"), due=d("2025-11-06"), finished=d("2025-11-10"),
        status=S.DA_XU_LY_XONG, pauses=((d("2025-11-03"), d("2025-11-05")),),
    )  # fmt: skip
    assert timeliness(item, CAL, d("2025-11-30")) is T.DUNG_HAN


def test_rule_paused_time_stops_the_clock_over_a_weekend() -> None:
    # The dossier: supplement asked on its due day, Thursday 6/11/2025, the citizen
    # still not answering. Friday, Saturday, Sunday and Monday it reads the same.
    waiting = DossierTimes(
        received=d("2025-10-31"), due=d("2025-11-06"), status=S.YEU_CAU_BO_SUNG,
        pauses=((d("2025-11-06"), None),),
    )  # fmt: skip
    days = ("2025-11-06", "2025-11-07", "2025-11-08", "2025-11-09", "2025-11-10")
    assert {timeliness(waiting, CAL, d(x)) for x in days} == {T.DANG_TRONG_HAN}
    # Supplied on Monday 10/11: the clock runs again with no working day left; the agency
    # is overdue from Tuesday unless it finishes on Monday.
    supplied = DossierTimes(
        received=d("2025-10-31"), due=d("2025-11-06"), status=S.DANG_XU_LY,
        pauses=((d("2025-11-06"), d("2025-11-10")),),
    )  # fmt: skip
    assert timeliness(supplied, CAL, d("2025-11-10")) is T.DANG_TRONG_HAN
    assert timeliness(supplied, CAL, d("2025-11-11")) is T.DANG_QUA_HAN


def test_rule_a_second_supplement_request_makes_the_dossier_late_from_its_date() -> None:
    twice = DossierTimes(
        received=d("2025-10-31"), due=d("2025-11-14"), status=S.DANG_XU_LY,
        pauses=((d("2025-11-03"), d("2025-11-04")), (d("2025-11-06"), d("2025-11-07"))),
    )  # fmt: skip
    assert timeliness(twice, CAL, d("2025-11-05")) is T.DANG_TRONG_HAN  # one request so far
    assert timeliness(twice, CAL, d("2025-11-06")) is T.DANG_QUA_HAN  # the second one
    done = DossierTimes(
        received=d("2025-10-31"), due=d("2025-11-14"), finished=d("2025-11-10"),
        status=S.DA_XU_LY_XONG, pauses=twice.pauses,
    )  # fmt: skip
    assert timeliness(done, CAL, d("2025-11-30")) is T.QUA_HAN  # early, but asked twice
    # A snapshot that gives only a count (no dates): counted from the end of processing.
    counted = DossierTimes(
        received=d("2025-10-31"), due=d("2025-11-14"), finished=d("2025-11-10"),
        status=S.DA_XU_LY_XONG, supplement_requests=2,
    )  # fmt: skip
    assert timeliness(counted, CAL, d("2025-11-07")) is T.DANG_TRONG_HAN
    assert timeliness(counted, CAL, d("2025-11-10")) is T.QUA_HAN


def test_rule_unfinished_dossiers_are_judged_at_the_period_end() -> None:
    item = DossierTimes(
        received=d("2025-10-31"), due=d("2025-11-06"), finished=d("2025-11-12"),
        status=S.DA_TRA_KET_QUA,
    )  # fmt: skip
    assert timeliness(item, CAL, d("2025-11-06")) is T.DANG_TRONG_HAN
    assert timeliness(item, CAL, d("2025-11-07")) is T.DANG_QUA_HAN
    assert timeliness(item, CAL, d("2025-11-30")) is T.QUA_HAN


def test_rule_refusal_is_not_judged_and_counted_apart() -> None:
    refused = DossierTimes(received=d("2025-11-03"), due=d("2025-11-06"),
                           status=S.KHONG_DUOC_TIEP_NHAN)  # fmt: skip
    assert timeliness(refused, CAL, d("2025-11-30")) is None
    assert summarise([refused], CAL, d("2025-11-30")).total == 0
    assert S.KHONG_DUOC_TIEP_NHAN.group is StatsGroup.REFUSED
    assert S.MOI_DANG_KY.group is StatsGroup.NOT_RECEIVED
    assert StatsGroup.REFUSED.label != StatsGroup.NOT_RECEIVED.label


def test_rule_withdrawal_after_receipt_ends_processing_and_is_judged_by_its_date() -> None:
    withdrawn = DossierTimes(
        received=d("2025-11-03"), due=d("2025-11-06"), finished=d("2025-11-05"),
        status=S.CONG_DAN_RUT,
    )  # fmt: skip
    assert timeliness(withdrawn, CAL, d("2025-11-30")) is T.TRUOC_HAN
    never_received = DossierTimes(received=d("2025-11-03"), status=S.MOI_DANG_KY)
    assert timeliness(never_received, CAL, d("2025-11-30")) is None


def test_rule_a_verdict_at_a_date_depends_only_on_what_had_happened_by_then() -> None:
    # The dossier: within its limit on 30/09, a second request on 06/10.
    full = DossierTimes(
        received=d("2025-09-22"), due=d("2025-10-08"), status=S.DANG_XU_LY,
        pauses=((d("2025-09-24"), d("2025-09-26")), (d("2025-10-06"), d("2025-10-07"))),
    )  # fmt: skip
    known_then = DossierTimes(
        received=d("2025-09-22"), due=d("2025-10-08"), status=S.DANG_XU_LY,
        pauses=((d("2025-09-24"), d("2025-09-26")),),
    )  # fmt: skip
    assert timeliness(full, CAL, d("2025-09-30")) is T.DANG_TRONG_HAN
    assert timeliness(full, CAL, d("2025-09-30")) == timeliness(known_then, CAL, d("2025-09-30"))
    # tests/test_stats_as_of.py proves it on random histories, in SQL and in Python.


# --------------------------------------------------------------------------- in the database


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as s:
            yield s
    finally:
        await engine.dispose()


async def test_rule_a_transferred_dossier_counts_once_for_its_handling_agency(
    session: AsyncSession,
) -> None:
    city = await repo.add_agency(session, code="C", name="UBND thành phố", level="tinh")
    ward = await repo.add_agency(session, code="W", name="UBND phường", level="xa", parent=city)
    dept = await repo.add_agency(session, code="S", name="Sở Nội vụ", level="so_nganh",
                                 parent=city)  # fmt: skip
    procedure = Procedure(code="P", name="Trợ cấp thất nghiệp", time_limit=20)
    session.add(procedure)
    await session.flush()
    # Received at the ward's desk (phi địa giới), handled and judged by the department.
    session.add(
        Dossier(
            code="W-1", procedure_id=procedure.id, receiving_agency_id=ward.id,
            handling_agency_id=dept.id, received_date=d("2025-11-03"), due_date=d("2025-12-01"),
            finished_date=d("2025-12-03"), status=int(S.DA_TRA_KET_QUA),
        )
    )  # fmt: skip
    await session.commit()
    period = Period(d("2025-11-01"), d("2025-12-31"), "hai tháng")
    at_dept = await indexes.compute(session, period=period, calendar=CAL, agency=dept)
    at_ward = await indexes.compute(session, period=period, calendar=CAL, agency=ward)
    at_city = await indexes.compute(session, period=period, calendar=CAL)
    assert (at_dept.dossiers.received, at_dept.dossiers.timeliness.qua_han) == (1, 1)
    assert (at_ward.dossiers.received, at_ward.dossiers.timeliness.total) == (0, 0)
    assert at_city.dossiers.timeliness.total == 1  # once, not once per agency


async def test_rule_refused_and_not_received_are_labelled_apart_in_the_report_and_summary(
    session: AsyncSession,
) -> None:
    import io

    from openpyxl import load_workbook

    from bot.domain.stats.report import build_report
    from bot.domain.stats.text import summary_text

    ward = await repo.add_agency(session, code="W", name="UBND phường", level="xa")
    procedure = Procedure(code="P", name="Khai sinh", time_limit=1)
    session.add(procedure)
    await session.flush()
    for code, status in (("R-1", S.KHONG_DUOC_TIEP_NHAN), ("N-1", S.MOI_DANG_KY)):
        session.add(
            Dossier(
                code=code, procedure_id=procedure.id, receiving_agency_id=ward.id,
                handling_agency_id=ward.id, received_date=d("2025-11-03"), status=int(status),
            )
        )  # fmt: skip
    await session.commit()
    period = Period(d("2025-11-01"), d("2025-11-30"), "tháng 11/2025")
    stats = await indexes.compute(session, period=period, calendar=CAL)
    assert dict(stats.dossiers.by_group) == {StatsGroup.REFUSED: 1, StatsGroup.NOT_RECEIVED: 1}
    assert "không được tiếp nhận 1" in summary_text(stats)
    data = await build_report(session, period=period, calendar=CAL)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    labels = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert labels["Hồ sơ trong kỳ, tình trạng cuối kỳ – Không được tiếp nhận"] == 1
    assert labels["Hồ sơ trong kỳ, tình trạng cuối kỳ – Chưa tiếp nhận"] == 1


def test_sql_verdict_codes_are_the_domain_verdicts_in_order() -> None:
    """Storage names its SQL verdicts without importing the domain; the codes it returns
    (an index into ``VERDICTS``) must read as the same ``Timeliness`` values, in order."""
    from storage.repositories import stats as stats_repo

    assert tuple(t.value for t in T) == stats_repo.VERDICTS
    assert [T(v) for v in stats_repo.VERDICTS] == list(T)
