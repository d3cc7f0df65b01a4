"""Dossier domain: status and dossier codes, the working-day calendar, Decision 766 timeliness.

Every expected date below was counted by hand on a calendar; the comments show the count.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.dossiers.codes import (
    DossierCode,
    InvalidCodeError,
    find_codes,
    is_canonical,
    parse_code,
)
from bot.domain.dossiers.status import (
    DossierStatus,
    StatsGroup,
    end_of_processing,
    ends_processing,
    is_finished,
    is_received,
    is_terminal,
)
from bot.domain.dossiers.timeliness import (
    DossierTimes,
    Timeliness,
    effective_due,
    on_time_rate,
    paused_workdays,
    promised_date,
    summarise,
    timeliness,
)
from bot.domain.dossiers.workdays import (
    BUNDLED_CALENDAR,
    CalendarFileError,
    DayKind,
    WorkCalendar,
    load_calendar,
    parse_calendar,
    read_calendar_file,
)

S = DossierStatus
T = Timeliness
BUNDLED = load_calendar()
PLAIN = WorkCalendar()  # weekends only: isolates the timeliness rules from holidays


def d(text: str) -> date:
    return date.fromisoformat(text)


# --------------------------------------------------------------------------- status


def test_every_status_has_its_national_code_label_and_next_step() -> None:
    assert [int(s) for s in S] == list(range(1, 11))
    assert S.MOI_DANG_KY == 1
    assert S.DA_TRA_KET_QUA == 10
    assert S(5).label == "Yêu cầu bổ sung giấy tờ"
    assert S(6).label == "Yêu cầu thực hiện nghĩa vụ tài chính"
    assert S(7).label == "Công dân yêu cầu rút hồ sơ"
    assert S(9).label == "Đã xử lý xong"
    for status in S:
        for text in (status.label, status.next_step):
            assert text == unicodedata.normalize("NFC", text)
        step = status.next_step
        assert step.endswith(".")
        assert step.count(". ") == 0, f"{status.name}: one sentence only"
        assert len(step) <= 120


def test_next_steps_ask_the_citizen_to_act_only_when_they_must() -> None:
    assert "bổ sung" in S.YEU_CAU_BO_SUNG.next_step
    assert "nộp phí" in S.YEU_CAU_NVTC.next_step
    assert "nhận" in S.DA_XU_LY_XONG.next_step
    assert "chưa cần làm gì" in S.DANG_XU_LY.next_step


def test_finished_terminal_and_received() -> None:
    assert [s for s in S if is_finished(s)] == [S.DA_XU_LY_XONG, S.DA_TRA_KET_QUA]
    assert {s for s in S if is_terminal(s)} == {
        S.KHONG_DUOC_TIEP_NHAN,
        S.CONG_DAN_RUT,
        S.DUNG_XU_LY,
        S.DA_TRA_KET_QUA,
    }
    assert {s for s in S if not is_received(s)} == {S.MOI_DANG_KY, S.KHONG_DUOC_TIEP_NHAN}


def test_which_statuses_end_processing() -> None:
    ending = {s for s in S if ends_processing(s)}
    assert ending == {
        S.KHONG_DUOC_TIEP_NHAN,
        S.CONG_DAN_RUT,
        S.DUNG_XU_LY,
        S.DA_XU_LY_XONG,
        S.DA_TRA_KET_QUA,
    }
    assert not ends_processing(S.CONG_DAN_RUT, accepted=False)


def test_end_of_processing_follows_the_766_priority() -> None:
    # 9 wins over 10 even though 10 came later: the result was ready on the 9th.
    history = [(S.DUOC_TIEP_NHAN, d("2026-03-02")), (S.DA_TRA_KET_QUA, d("2026-03-12"))]
    history.append((S.DA_XU_LY_XONG, d("2026-03-09")))
    assert end_of_processing(history) == d("2026-03-09")
    # 10 wins over 8 (stopped, then resumed and returned).
    assert end_of_processing(
        [(S.DUNG_XU_LY, d("2026-03-05")), (S.DA_TRA_KET_QUA, d("2026-03-20"))]
    ) == d("2026-03-20")
    # Reached twice (reopened): the latest time counts.
    assert end_of_processing(
        [
            (S.DA_XU_LY_XONG, d("2026-03-05")),
            (S.DANG_XU_LY, d("2026-03-06")),
            (S.DA_XU_LY_XONG, d("2026-03-10")),
        ]
    ) == d("2026-03-10")
    # A withdrawal ends processing only after acceptance.
    assert (
        end_of_processing([(S.MOI_DANG_KY, d("2026-03-01")), (S.CONG_DAN_RUT, d("2026-03-02"))])
        is None
    )
    assert end_of_processing(
        [(S.DUOC_TIEP_NHAN, d("2026-03-02")), (S.CONG_DAN_RUT, d("2026-03-04"))]
    ) == d("2026-03-04")
    assert end_of_processing([(S.DANG_XU_LY, d("2026-03-02"))]) is None
    # Event times from the one-stop system are datetimes; the order within a day is kept.
    assert end_of_processing(
        [
            (S.CONG_DAN_RUT, datetime(2026, 3, 4, 15, 0)),
            (S.DUOC_TIEP_NHAN, datetime(2026, 3, 4, 8, 0)),
            (S.DA_XU_LY_XONG, d("2026-03-03")),
        ]
    ) == d("2026-03-03")
    assert end_of_processing(
        [(S.CONG_DAN_RUT, datetime(2026, 3, 4, 15, 0)), (2, datetime(2026, 3, 4, 8, 0))]  # type: ignore[list-item]
    ) == d("2026-03-04")
    assert end_of_processing([]) is None


def test_statistics_groups_follow_domain_md() -> None:
    groups = {s: s.group for s in S}
    assert groups == {
        S.MOI_DANG_KY: StatsGroup.NOT_RECEIVED,
        S.DUOC_TIEP_NHAN: StatsGroup.IN_PROGRESS,
        S.KHONG_DUOC_TIEP_NHAN: StatsGroup.REFUSED,
        S.DANG_XU_LY: StatsGroup.IN_PROGRESS,
        S.YEU_CAU_BO_SUNG: StatsGroup.SUPPLEMENT,
        S.YEU_CAU_NVTC: StatsGroup.STOPPED,
        S.CONG_DAN_RUT: StatsGroup.RETURNED_TO_CITIZEN,
        S.DUNG_XU_LY: StatsGroup.STOPPED,
        S.DA_XU_LY_XONG: StatsGroup.DONE,
        S.DA_TRA_KET_QUA: StatsGroup.DONE,
    }
    assert all(g.label for g in StatsGroup)
    # Refused and not yet received are told apart wherever a group is shown.
    assert StatsGroup.REFUSED.label == "Không được tiếp nhận"
    assert StatsGroup.NOT_RECEIVED.label == "Chưa tiếp nhận"
    assert len({g.label for g in StatsGroup}) == len(StatsGroup)


# --------------------------------------------------------------------------- codes


def test_a_code_is_found_in_a_vietnamese_sentence() -> None:
    text = "cho hỏi hồ sơ 000.00.12.H13-260115-0042 tới đâu rồi"
    assert find_codes(text) == ["000.00.12.H13-260115-0042"]


@pytest.mark.parametrize(
    "typed",
    [
        "000.00.12.h13-260115-0042",
        "000.00.12.H13 - 260115 - 0042",
        "000.00.12.h13 -260115- 0042",
        "000.00.12.H13–260115–0042",  # en dash, as phones autocorrect
        "000.00.12.H13\u2212260115\u22120042",  # minus sign
        "０００.００.１２.Ｈ１３-２６０１１５-００４２",  # full-width, from some keyboards
    ],
)
def test_codes_typed_loosely_are_normalised(typed: str) -> None:
    assert find_codes(f"Mã hồ sơ: {typed}. Cảm ơn!") == ["000.00.12.H13-260115-0042"]
    assert parse_code(typed).code == "000.00.12.H13-260115-0042"


def test_several_codes_in_order_without_duplicates() -> None:
    text = (
        "Hồ sơ 000.00.12.H13-260115-0042 và 000.00.05.H13-251231-0001, "
        "nhắc lại 000.00.12.h13-260115-0042"
    )
    assert find_codes(text) == ["000.00.12.H13-260115-0042", "000.00.05.H13-251231-0001"]


def test_things_that_are_not_codes_are_ignored() -> None:
    assert find_codes("gọi 0912-345-678 hoặc 1900-1234") == []
    assert find_codes("hồ sơ 000.00.12.H13-260115-42") == []  # counter needs 4 digits
    assert find_codes("x000.00.12.H13-260115-00421") == []  # glued to other characters
    assert find_codes("hồ sơ 000.00.12.H13-260230-0042") == []  # 30 February
    assert find_codes("000.000.000.00.H13-260115-0042") == []  # agency ID over 13 characters
    assert find_codes("") == []


def test_parse_code_gives_the_parts() -> None:
    parsed = parse_code("  000.00.12.H13-260115-0042 ")
    assert parsed == DossierCode(agency_id="000.00.12.H13", date=d("2026-01-15"), counter=42)
    assert str(parsed) == "000.00.12.H13-260115-0042"
    assert parse_code("H56.14-250101-9999").agency_id == "H56.14"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("000.00.12.H13-260230-0042", "not a real date"),
        ("000.00.12.H13-261301-0042", "not a real date"),
        ("000.00.12.H13-250229-0042", "not a real date"),  # 2025 is not a leap year
        ("000.000.000.00.H13-260115-0042", "longer than 13"),
        ("000.00.12.H13-260115", "does not have the form"),
        ("hồ sơ 000.00.12.H13-260115-0042", "does not have the form"),
        ("000..12.H13-260115-0042", "does not have the form"),
        ("", "does not have the form"),
    ],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    with pytest.raises(InvalidCodeError, match=reason):
        parse_code(code)


def test_leap_day_is_a_real_date() -> None:
    assert parse_code("000.00.12.H13-240229-0001").date == d("2024-02-29")


def test_is_canonical() -> None:
    assert is_canonical("000.00.12.H13-260115-0042")
    assert not is_canonical("000.00.12.h13-260115-0042")
    assert not is_canonical("000.00.12.H13 - 260115 - 0042")
    assert not is_canonical("000.00.12.H13-260230-0042")


_segment = st.text(alphabet="ABCDGHXYZ0123456789", min_size=1, max_size=3)


@given(
    agency=st.lists(_segment, min_size=1, max_size=4).map(".".join).filter(lambda a: len(a) <= 13),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    counter=st.integers(min_value=0, max_value=9999),
    lower=st.booleans(),
    spaced=st.booleans(),
)
def test_any_valid_code_is_found_and_round_trips(
    agency: str, day: date, counter: int, lower: bool, spaced: bool
) -> None:
    code = f"{agency}-{day:%y%m%d}-{counter:04d}"
    typed = code.lower() if lower else code
    if spaced:
        typed = typed.replace("-", " - ")
    assert find_codes(f"cho hỏi hồ sơ {typed} tới đâu rồi?") == [code]
    parsed = parse_code(typed)
    assert (parsed.agency_id, parsed.date, parsed.counter) == (agency, day, counter)
    assert is_canonical(parsed.code)


# --------------------------------------------------------------------------- calendar


def test_weekends_are_skipped() -> None:
    # Friday 7 March 2025 + 1 working day = Monday 10 March.
    assert PLAIN.add_workdays(d("2025-03-07"), 1) == d("2025-03-10")
    # Received on Saturday (online): counting starts Monday.
    assert PLAIN.add_workdays(d("2025-03-08"), 1) == d("2025-03-10")
    assert PLAIN.add_workdays(d("2025-03-09"), 1) == d("2025-03-10")
    # Fri 7 -> Mon 10 (1), Tue 11 (2), Wed 12 (3), Thu 13 (4), Fri 14 (5).
    assert PLAIN.add_workdays(d("2025-03-07"), 5) == d("2025-03-14")
    assert PLAIN.add_workdays(d("2025-03-07"), 0) == d("2025-03-07")
    assert PLAIN.workdays_between(d("2025-03-07"), d("2025-03-10")) == 1
    assert PLAIN.workdays_between(d("2025-03-08"), d("2025-03-09")) == 0
    assert PLAIN.workdays_between(d("2025-03-10"), d("2025-03-07")) == -1
    assert not PLAIN.is_workday(d("2025-03-08"))
    assert PLAIN.is_workday(d("2025-03-07"))
    assert PLAIN.next_workday(d("2025-03-08")) == d("2025-03-10")
    assert PLAIN.next_workday(d("2025-03-07")) == d("2025-03-07")
    with pytest.raises(ValueError, match="negative"):
        PLAIN.add_workdays(d("2025-03-07"), -1)


def test_tet_2026_moves_a_due_date() -> None:
    # Tết Bính Ngọ: off from Saturday 14/2 to Sunday 22/2/2026 (holidays Mon 16 - Fri 20).
    for day in range(14, 23):
        assert not BUNDLED.is_workday(date(2026, 2, day)), day
    # Received Thu 12/2 with 3 working days: Fri 13 (1), Mon 23 (2), Tue 24 (3).
    assert BUNDLED.add_workdays(d("2026-02-12"), 3) == d("2026-02-24")
    # Received Mon 9/2 with 10: 10, 11, 12, 13 (4), 23, 24, 25, 26, 27 (9), Mon 2/3 (10).
    assert BUNDLED.add_workdays(d("2026-02-09"), 10) == d("2026-03-02")
    assert BUNDLED.workdays_between(d("2026-02-12"), d("2026-02-24")) == 3
    assert BUNDLED.names[d("2026-02-17")] == "Tết Nguyên đán Bính Ngọ"


def test_makeup_workdays_count_as_working_days() -> None:
    # Tết Dương lịch 2026: Thu 1/1 and Fri 2/1 off, Saturday 10/1 worked instead.
    assert BUNDLED.add_workdays(d("2025-12-31"), 1) == d("2026-01-05")
    assert BUNDLED.add_workdays(d("2025-12-31"), 2) == d("2026-01-06")
    assert BUNDLED.is_workday(d("2026-01-10"))
    assert BUNDLED.add_workdays(d("2026-01-09"), 1) == d("2026-01-10")
    assert BUNDLED.add_workdays(d("2026-01-09"), 2) == d("2026-01-12")
    assert BUNDLED.workdays_between(d("2026-01-09"), d("2026-01-12")) == 2
    # 30/4 - 1/5/2025: Saturday 26/4 worked, Friday 2/5 off.
    assert BUNDLED.add_workdays(d("2025-04-25"), 1) == d("2025-04-26")
    assert BUNDLED.add_workdays(d("2025-04-29"), 1) == d("2025-05-05")
    # Quốc khánh 2026: Saturday 22/8 worked; Mon 31/8, Tue 1/9, Wed 2/9 off.
    assert BUNDLED.add_workdays(d("2026-08-21"), 1) == d("2026-08-22")
    assert BUNDLED.add_workdays(d("2026-08-28"), 1) == d("2026-09-03")


def test_the_bundled_calendar_holds_the_statutory_days() -> None:
    for year in (2025, 2026, 2027):
        for month, day in ((1, 1), (4, 30), (5, 1), (9, 2)):
            assert not BUNDLED.is_workday(date(year, month, day)), (year, month, day)
    # Giỗ Tổ Hùng Vương (10/3 âm lịch) and the compensatory Monday of 2026.
    for text in ("2024-04-18", "2025-04-07", "2026-04-27", "2027-04-16"):
        assert not BUNDLED.is_workday(d(text))
    # Tết 2025 (27-31/1) and 2027 (statutory derivation).
    assert all(not BUNDLED.is_workday(date(2025, 1, day)) for day in range(27, 32))
    assert all(not BUNDLED.is_workday(date(2027, 2, day)) for day in (5, 8, 9, 10, 11))
    assert BUNDLED.years >= {2024, 2025, 2026, 2027}
    # Each year closes the desk on at least the 11 statutory days (weekend ones compensated).
    for year in (2025, 2026, 2027):
        closed = [h for h in BUNDLED.holidays if h.year == year and h.weekday() < 5]
        assert len(closed) >= 11, year


def test_the_bundled_file_is_well_formed_and_sourced() -> None:
    days = parse_calendar(BUNDLED_CALENDAR.read_bytes())
    for day in days:
        assert day.name == unicodedata.normalize("NFC", day.name)
        if day.kind is DayKind.WORKDAY:
            assert day.date.weekday() == 5, day  # make-up days are Saturdays
    # Every run of entries is preceded by its own comment naming the source or "statutory".
    comment: list[str] = []
    after_entry = False
    for line in BUNDLED_CALENDAR.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if after_entry:
                comment, after_entry = [], False
            comment.append(stripped)
        elif stripped.startswith("- {date"):
            block = " ".join(comment)
            assert re.search(r"statutory|VPCP|reported|announcement", block), line
            after_entry = True
    years_2027 = [
        x for x in BUNDLED_CALENDAR.read_text(encoding="utf-8").splitlines() if "2027" in x
    ]
    assert any("statutory, schedule not yet announced" in x for x in years_2027)


def test_a_calendar_from_plain_sets() -> None:
    cal = WorkCalendar(holidays={d("2025-03-10")}, makeup_workdays={d("2025-03-08")})
    assert cal.is_workday(d("2025-03-08"))
    assert not cal.is_workday(d("2025-03-10"))
    # Fri 7 -> Sat 8 (1, make-up), Tue 11 (2).
    assert cal.add_workdays(d("2025-03-07"), 2) == d("2025-03-11")
    assert cal == WorkCalendar(
        holidays=frozenset({d("2025-03-10")}), makeup_workdays=frozenset({d("2025-03-08")})
    )
    with pytest.raises(ValueError, match="weekend"):
        WorkCalendar(weekend={7})


def test_datetimes_are_reduced_to_dates() -> None:
    late_evening = datetime(2025, 3, 7, 23, 30)
    assert PLAIN.add_workdays(late_evening, 1) == d("2025-03-10")
    assert PLAIN.workdays_between(late_evening, datetime(2025, 3, 10, 0, 5)) == 1


CALENDAR_WITH_ERRORS = """\
version: 1
days:
  - {date: 2026-03-02, kind: holiday, name: Ngày nghỉ địa phương}
  - {date: 2026-02-30, kind: holiday, name: Sai ngày}
  - date: 2026-03-04
    kind: nghi
    name: Kiểu sai
  - date: 2026-03-05
    kind: holiday
    colour: red
  - {date: 2026-03-02, kind: workday, name: Trùng ngày}
  - just a string
"""


def test_calendar_file_problems_give_line_and_field() -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar(CALENDAR_WITH_ERRORS.encode())
    found = [str(p) for p in info.value.problems]
    assert found == [
        "line 4 [date]: '2026-02-30' is not a real date in YYYY-MM-DD form",
        "line 6 [kind]: 'nghi' must be 'holiday' or 'workday'",
        "line 10 [colour]: unknown field",
        "line 8 [name]: required field is empty",
        "line 11 [date]: duplicate date 2026-03-02 (first at line 3)",
        "entry 6: each day must be a mapping of fields",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"version: 1\ndays:\n  - {date: 2026-03-02, name: X}}\n", "line 3: invalid YAML"),
        (b"version: 2\ndays: []\n", "file [version]: only version 1 is supported"),
        (b"version: 1\nentries: []\n", "file [days]: expected a mapping with a list 'days'"),
        (b"a: &a [1, 2]\ndays: [*a]\n", "aliases"),
        ("days: []".encode("utf-16"), "not UTF-8"),
        (b"version: 1\ndays:\n  - {date: 2026/03/02, kind: holiday, name: X}\n", "line 3 [date]"),
        (b"version: 1\ndays:\n  - {date: '2026-03-02T08:00', kind: holiday, name: X}\n", "line 3"),
    ],
)
def test_broken_calendar_files_are_refused_clearly(data: bytes, expected: str) -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar(data)
    assert expected in str(info.value)


def test_a_list_where_a_value_belongs_is_a_problem() -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar(b"version: 1\ndays:\n  - {date: 2026-03-02, kind: holiday, name: [a, b]}\n")
    assert [str(p) for p in info.value.problems] == [
        "line 3 [name]: must be a single value, not a list or map",
        "line 3 [name]: required field is empty",
    ]


def test_quoted_dates_and_sources_are_accepted() -> None:
    (day,) = parse_calendar(
        "version: 1\ndays:\n  - date: '2026-11-24'\n    kind: Holiday\n"
        "    name: Ngày Văn hóa Việt Nam\n    source: thử nghiệm\n".encode()
    )
    assert (day.date, day.kind, day.source) == (d("2026-11-24"), DayKind.HOLIDAY, "thử nghiệm")


def test_operator_files_extend_and_override_the_bundled_one(tmp_path: Path) -> None:
    local = tmp_path / "can-tho.yaml"
    local.write_text(
        "version: 1\n"
        "days:\n"
        "  # the announced schedule replaces the assumed adjacent day\n"
        "  - {date: 2027-09-03, kind: workday, name: Làm việc bình thường}\n"
        "  - {date: 2027-09-01, kind: holiday, name: Quốc khánh (ngày liền kề)}\n",
        encoding="utf-8",
    )
    cal = load_calendar(local)
    assert cal.is_workday(d("2027-09-03"))
    assert not cal.is_workday(d("2027-09-01"))
    assert not cal.is_workday(d("2026-02-17"))  # bundled entries are still there
    only_local = load_calendar(local, bundled=False)
    assert only_local.is_workday(d("2026-02-17"))


def test_problems_of_several_files_are_reported_together(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndays:\n  - {date: 2026-13-01, kind: holiday, name: X}\n")
    worse = tmp_path / "worse.yaml"
    worse.write_text("version: 1\ndays:\n  - {date: 2026-12-01, kind: off, name: Y}\n")
    with pytest.raises(CalendarFileError) as info:
        load_calendar(bad, worse, tmp_path / "missing.yaml")
    found = [str(p) for p in info.value.problems]
    assert found[0].startswith("bad.yaml line 3 [date]")
    assert found[1].startswith("worse.yaml line 3 [kind]")
    assert "cannot read the file" in found[2]
    with pytest.raises(CalendarFileError, match=r"bad\.yaml line 3"):
        read_calendar_file(bad)


def _naive_add(cal: WorkCalendar, start: date, n: int) -> date:
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if cal.is_workday(day):
            left -= 1
    return day


calendars = st.builds(
    WorkCalendar,
    holidays=st.frozensets(st.dates(date(2025, 1, 1), date(2025, 12, 31)), max_size=60),
    makeup_workdays=st.frozensets(st.dates(date(2025, 1, 1), date(2025, 12, 31)), max_size=20),
)


@settings(max_examples=300)
@given(
    start=st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31)),
    n=st.integers(min_value=0, max_value=400),
)
def test_add_workdays_lands_on_the_nth_working_day(start: date, n: int) -> None:
    due = BUNDLED.add_workdays(start, n)
    assert BUNDLED.workdays_between(start, due) == n
    if n:
        assert due > start
        assert BUNDLED.is_workday(due)
        assert BUNDLED.workdays_between(start, due - timedelta(days=1)) == n - 1
    else:
        assert due == start


@settings(max_examples=200)
@given(
    cal=calendars,
    start=st.dates(min_value=date(2024, 11, 1), max_value=date(2025, 12, 31)),
    n=st.integers(min_value=0, max_value=60),
)
def test_fast_arithmetic_matches_counting_day_by_day(
    cal: WorkCalendar, start: date, n: int
) -> None:
    due = cal.add_workdays(start, n)
    assert due == _naive_add(cal, start, n)
    naive_between = sum(
        1 for k in range(1, (due - start).days + 1) if cal.is_workday(start + timedelta(days=k))
    )
    assert cal.workdays_between(start, due) == naive_between


@given(
    a=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    b=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    c=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
)
def test_workdays_between_is_a_distance(a: date, b: date, c: date) -> None:
    assert BUNDLED.workdays_between(a, b) == -BUNDLED.workdays_between(b, a)
    assert BUNDLED.workdays_between(a, b) + BUNDLED.workdays_between(b, c) == (
        BUNDLED.workdays_between(a, c)
    )


# --------------------------------------------------------------------------- timeliness

# Received Monday 3 March 2025 with 10 working days: due Monday 17 March (plain calendar).
RECEIVED = d("2025-03-03")
DUE = d("2025-03-17")


def dossier(**changes: object) -> DossierTimes:
    values: dict[str, object] = {
        "received": RECEIVED,
        "due": DUE,
        "status": S.DA_TRA_KET_QUA,
        "finished": DUE,
    }
    values.update(changes)
    return DossierTimes(**values)  # type: ignore[arg-type]


def judge(item: DossierTimes, as_of: str = "2025-06-30", cal: WorkCalendar = PLAIN) -> T | None:
    return timeliness(item, cal, d(as_of))


def test_finished_early_on_time_and_late() -> None:
    assert judge(dossier(finished=d("2025-03-14"))) is T.TRUOC_HAN
    assert judge(dossier(finished=d("2025-03-17"))) is T.DUNG_HAN
    assert judge(dossier(finished=d("2025-03-18"))) is T.QUA_HAN


def test_datetimes_compare_as_dates() -> None:
    item = dossier(finished=datetime(2025, 3, 17, 23, 59), received=datetime(2025, 3, 3, 8, 0))
    assert item.finished == d("2025-03-17")
    assert judge(item) is T.DUNG_HAN


def test_pauses_for_supplements_move_the_due_date() -> None:
    # Asked Wed 5/3, supplied Mon 10/3: Thu 6, Fri 7, Mon 10 paused = 3 working days,
    # so the due date moves from Mon 17 to Thu 20.
    pause = ((d("2025-03-05"), d("2025-03-10")),)
    item = dossier(pauses=pause, supplement_requests=1, finished=d("2025-03-20"))
    assert paused_workdays(item, PLAIN, d("2025-06-30")) == 3
    assert effective_due(item, PLAIN, d("2025-06-30")) == d("2025-03-20")
    assert judge(item) is T.DUNG_HAN
    assert judge(dossier(pauses=pause, supplement_requests=1, finished=d("2025-03-19"))) is (
        T.TRUOC_HAN
    )
    assert judge(dossier(pauses=pause, supplement_requests=1, finished=d("2025-03-21"))) is (
        T.QUA_HAN
    )
    # The same finishing day without the pause is late.
    assert judge(dossier(finished=d("2025-03-20"))) is T.QUA_HAN


def test_overlapping_pauses_count_once() -> None:
    # (5/3, 10/3] and (7/3, 11/3] merge into (5/3, 11/3]: 6, 7, 10, 11 = 4 working days.
    item = dossier(pauses=((d("2025-03-05"), d("2025-03-10")), (d("2025-03-07"), d("2025-03-11"))))
    assert paused_workdays(item, PLAIN, d("2025-06-30")) == 4


def test_a_pause_after_the_due_date_does_not_rescue_a_late_dossier() -> None:
    # Due Mon 17; asked Wed 19 (already late), supplied Fri 28: 20, 21, 24-28 = 7 paused,
    # due moves to Wed 26, finished Fri 28: still late.
    item = dossier(
        pauses=((d("2025-03-19"), d("2025-03-28")),),
        supplement_requests=1,
        finished=d("2025-03-28"),
    )
    assert effective_due(item, PLAIN, d("2025-06-30")) == d("2025-03-26")
    assert judge(item) is T.QUA_HAN


def test_two_supplement_requests_make_a_dossier_late() -> None:
    early = dossier(finished=d("2025-03-10"), supplement_requests=2)
    assert judge(early) is T.QUA_HAN
    # Two dated requests (4/3 and 6/3) make an unfinished dossier late from the second one on,
    # not before: a verdict at a date depends only on what had happened by then.
    asked_twice = ((d("2025-03-04"), d("2025-03-05")), (d("2025-03-06"), d("2025-03-07")))
    waiting = dossier(status=S.DANG_XU_LY, finished=None, pauses=asked_twice)
    assert judge(waiting, "2025-03-05") is T.DANG_TRONG_HAN
    assert judge(waiting, "2025-03-06") is T.DANG_QUA_HAN
    # A count without dates (a snapshot) is known only to have happened by the end.
    undated = dossier(status=S.DANG_XU_LY, finished=None, supplement_requests=2)
    assert judge(undated, "2025-03-05") is T.DANG_TRONG_HAN
    assert judge(dossier(finished=d("2025-03-10"), supplement_requests=1)) is T.TRUOC_HAN


def test_unfinished_dossiers_are_judged_at_the_period_end() -> None:
    open_item = dossier(status=S.DANG_XU_LY, finished=None)
    assert judge(open_item, "2025-03-14") is T.DANG_TRONG_HAN
    assert judge(open_item, "2025-03-17") is T.DANG_TRONG_HAN
    assert judge(open_item, "2025-03-18") is T.DANG_QUA_HAN
    # Finished late on Thu 20, but at a period ending Fri 14 it was still within its limit.
    assert judge(dossier(finished=d("2025-03-20")), "2025-03-14") is T.DANG_TRONG_HAN
    # Not yet received at the period end: nothing to judge.
    assert judge(open_item, "2025-02-28") is None


def test_an_open_supplement_pause_stops_the_clock() -> None:
    # Due Mon 17; waiting since Fri 14. At Fri 21: 17-21 paused (5), due moves to Mon 24.
    waiting = dossier(
        status=S.YEU_CAU_BO_SUNG,
        finished=None,
        supplement_requests=1,
        pauses=((d("2025-03-14"), None),),
    )
    assert judge(waiting, "2025-03-21") is T.DANG_TRONG_HAN
    assert effective_due(waiting, PLAIN, d("2025-03-21")) == d("2025-03-24")
    assert judge(dossier(status=S.DANG_XU_LY, finished=None), "2025-03-21") is T.DANG_QUA_HAN


def test_without_a_due_date_the_legal_limit_decides() -> None:
    # 5 working days from Mon 3/3: elapsed to Mon 10/3 is 4, 5, 6, 7, 10 = 5.
    def limited(**changes: object) -> DossierTimes:
        return dossier(due=None, legal_days=5, **changes)

    assert judge(limited(finished=d("2025-03-07"))) is T.TRUOC_HAN
    assert judge(limited(finished=d("2025-03-10"))) is T.DUNG_HAN
    assert judge(limited(finished=d("2025-03-11"))) is T.QUA_HAN
    # One working day paused (Wed 5/3) makes Tuesday's finish on time.
    paused = limited(finished=d("2025-03-11"), pauses=((d("2025-03-04"), d("2025-03-05")),))
    assert judge(paused) is T.DUNG_HAN
    assert judge(limited(status=S.DANG_XU_LY, finished=None), "2025-03-10") is T.DANG_TRONG_HAN
    assert judge(limited(status=S.DANG_XU_LY, finished=None), "2025-03-11") is T.DANG_QUA_HAN
    assert effective_due(limited(), PLAIN, d("2025-06-30")) == d("2025-03-10")
    # Neither a due date nor a limit: nothing to judge against.
    assert judge(dossier(due=None)) is None
    assert effective_due(dossier(due=None), PLAIN, d("2025-06-30")) is None


def test_tet_is_not_counted_against_the_agency() -> None:
    # Received Thu 12/2/2026 with 5 working days and no appointment date: 13, 23, 24, 25, 26.
    item = DossierTimes(
        received=d("2026-02-12"),
        legal_days=5,
        finished=d("2026-02-26"),
        status=S.DA_XU_LY_XONG,
    )
    assert timeliness(item, BUNDLED, d("2026-03-31")) is T.DUNG_HAN
    assert timeliness(item, PLAIN, d("2026-03-31")) is T.QUA_HAN  # without the holidays


def test_a_rescheduled_appointment_does_not_make_a_late_dossier_on_time() -> None:
    apologised = dossier(rescheduled_due=d("2025-03-24"), finished=d("2025-03-20"))
    assert judge(apologised) is T.QUA_HAN
    assert promised_date(apologised) == d("2025-03-24")
    assert promised_date(dossier()) == DUE
    unfinished = dossier(rescheduled_due=d("2025-03-24"), status=S.DANG_XU_LY, finished=None)
    assert judge(unfinished, "2025-03-20") is T.DANG_QUA_HAN


def test_a_withdrawal_is_judged_by_its_date_and_a_refusal_not_at_all() -> None:
    assert judge(dossier(status=S.CONG_DAN_RUT, finished=d("2025-03-05"))) is T.TRUOC_HAN
    assert judge(dossier(status=S.KHONG_DUOC_TIEP_NHAN, finished=None)) is None
    assert judge(dossier(status=S.MOI_DANG_KY, finished=None)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": S.DANG_XU_LY}, "has not ended processing"),
        ({"finished": None}, "'finished' is required"),
        ({"status": S.DA_XU_LY_XONG, "finished": None}, "'finished' is required"),
        ({"finished": d("2025-03-01")}, "ended before"),
        ({"due": d("2025-03-01")}, "before the day"),
        ({"pauses": ((d("2025-03-10"), d("2025-03-05")),)}, "resumes"),
        ({"supplement_requests": -1}, "negative"),
        ({"legal_days": -1}, "negative"),
    ],
)
def test_inconsistent_dossier_data_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dossier(**changes)


def test_timeliness_labels_are_vietnamese() -> None:
    assert [t.label for t in T] == [
        "Trước hạn",
        "Đúng hạn",
        "Quá hạn",
        "Đang trong hạn",
        "Đang quá hạn",
    ]
    assert {t for t in T if t.on_time} == {T.TRUOC_HAN, T.DUNG_HAN, T.DANG_TRONG_HAN}
    assert {t for t in T if t.finished} == {T.TRUOC_HAN, T.DUNG_HAN, T.QUA_HAN}
    assert T.DANG_QUA_HAN.value == "dang_qua_han"


def test_on_time_rate_by_hand() -> None:
    period_start, period_end = d("2025-03-01"), d("2025-03-31")
    items = [
        dossier(finished=d("2025-03-14")),  # early
        dossier(finished=d("2025-03-17")),  # on time
        dossier(finished=d("2025-03-18")),  # late
        dossier(status=S.DANG_XU_LY, finished=None, due=d("2025-04-01")),  # in progress, in time
        dossier(status=S.DANG_XU_LY, finished=None),  # in progress, late at 31/3
        dossier(finished=d("2025-03-10"), supplement_requests=2),  # late: two requests
        dossier(status=S.MOI_DANG_KY, finished=None),  # never received: not counted
        dossier(received=d("2025-04-01"), due=d("2025-04-10"), finished=d("2025-04-02")),
        dossier(received=d("2025-02-03"), due=d("2025-02-14"), finished=d("2025-02-20")),
        dossier(due=None),  # no appointment and no limit: reported as unjudged
    ]
    summary = summarise(items, PLAIN, period_end, period_start=period_start)
    assert dict(summary.counts) == {
        T.TRUOC_HAN: 1,
        T.DUNG_HAN: 1,
        T.QUA_HAN: 2,
        T.DANG_TRONG_HAN: 1,
        T.DANG_QUA_HAN: 1,
    }
    assert (summary.on_time, summary.total, summary.unjudged) == (3, 6, 1)
    assert on_time_rate(items, PLAIN, period_end, period_start=period_start) == pytest.approx(0.5)
    # Without a period start, the February dossier (finished late) counts too: 3 of 7.
    assert on_time_rate(items, PLAIN, period_end) == pytest.approx(3 / 7)
    assert on_time_rate([], PLAIN, period_end) is None


@given(
    finish_a=st.integers(min_value=0, max_value=40),
    finish_b=st.integers(min_value=0, max_value=40),
    pause_start=st.integers(min_value=0, max_value=30),
    pause_len=st.integers(min_value=0, max_value=15),
)
def test_finishing_earlier_is_never_judged_worse(
    finish_a: int, finish_b: int, pause_start: int, pause_len: int
) -> None:
    start = RECEIVED + timedelta(days=pause_start)
    pauses = ((start, start + timedelta(days=pause_len)),)
    early, late = sorted((finish_a, finish_b))

    def verdict(offset: int) -> T | None:
        # Finishing days are working days: on a non-working day inside a pause the plain date
        # comparison of the 766 rule can judge a Saturday late and the next Monday on time.
        finished = BUNDLED.next_workday(RECEIVED + timedelta(days=offset))
        item = dossier(finished=finished, pauses=pauses)
        return timeliness(item, BUNDLED, d("2025-12-31"))

    if verdict(late) in (T.TRUOC_HAN, T.DUNG_HAN):
        assert verdict(early) in (T.TRUOC_HAN, T.DUNG_HAN)
