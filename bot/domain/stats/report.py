"""The /baocao Excel report (and ``motcua report FILE.xlsx``).

Sheets: "Tổng hợp" (every figure of the period, and the months), "Theo cơ quan", "Theo thủ
tục", "Đánh giá" (one row per rating) and "Câu hỏi chưa trả lời".

What a report must never carry, and how it is kept out:

- personal data: no user hash, chat id, name or dossier code reaches a row; comments were
  masked at storage and are masked again here (``mask_numbers``), in case a row predates the
  masking or came in by another path;
- formulas: a comment or question starting with = + - @ (or a tab or carriage return) would run
  as a formula when the file is opened (CSV/Excel injection), so every text cell goes through
  ``neutralise_cell``, after control characters (which openpyxl refuses) are removed so that they
  cannot hide a leading "=".

Numbers are written as numbers and rates as fractions with a % format, so that staff can sort,
sum and chart them in Excel.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.timeliness import Timeliness
from bot.domain.dossiers.workdays import WorkCalendar
from bot.domain.privacy import mask_numbers
from bot.domain.stats import indexes
from bot.domain.stats import reflections as reflection_stats
from bot.domain.stats.indexes import ASPECTS, RATING3, RATING3_LEVELS, Statistics, UnitFigures
from bot.domain.stats.periods import Period
from bot.domain.stats.reflections import ReflectionStats
from bot.domain.stats.reflections import append_section as append_reflections
from bot.domain.vietnam_time import VN_TZ
from knowledge.kbfile import neutralise_cell
from knowledge.normalize import fold
from storage.models import Agency, Procedure
from storage.repositories import stats as repo

MAX_RATINGS = 10_000
MAX_COMMENT_CHARS = 1000
TOP_IN_REPORT = 100
PCT = "0.0%"
INT = "#,##0"
POINTS = "0.00"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")
BOLD = Font(bold=True)
SHEETS = ("Tổng hợp", "Theo cơ quan", "Theo thủ tục", "Đánh giá", "Câu hỏi chưa trả lời")
UNIT_HEADERS = (
    "Tiếp nhận",
    "Đã giải quyết",
    *(t.label for t in Timeliness),
    "Tỷ lệ đúng hạn",
    "Số đánh giá",
    "Tỷ lệ hài lòng",
)
RATING_LABELS = dict(RATING3_LEVELS)


def clean(value: str) -> str:
    """A text cell that is safe to open: control characters removed, then neutralised."""
    return neutralise_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


def _fraction(value: float | None) -> float | None:
    return None if value is None else value / 100.0


class _Rows:
    """Writes a sheet row by row and remembers where it is: openpyxl's ``max_row`` looks at
    every cell, which made appending ten thousand ratings quadratic."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.row = 0

    def put(self, row: int, col: int, value: Any, fmt: str | None = None) -> Cell:
        text = clean(value) if isinstance(value, str) else value
        cell = self.ws.cell(row=row, column=col, value=text)
        if fmt is not None and value is not None:
            cell.number_format = fmt
        self.row = max(self.row, row)
        return cell

    def append(self, values: Sequence[Any], formats: Sequence[str | None] = ()) -> int:
        self.row += 1
        for col, value in enumerate(values, start=1):
            self.put(self.row, col, value, formats[col - 1] if col - 1 < len(formats) else None)
        return self.row

    def header(self, headers: Sequence[str], *, row: int | None = None) -> int:
        row = row if row is not None else self.row + 1
        for col, text in enumerate(headers, start=1):
            cell = self.put(row, col, text)
            cell.font = BOLD
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        return row


def _widths(ws: Worksheet, widths: Iterable[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _local(moment: datetime) -> datetime:
    """A stored instant as a Vietnam wall-clock time without zone (Excel has no zones;
    SQLite returns stored UTC instants without one)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(VN_TZ).replace(tzinfo=None)


# --------------------------------------------------------------------------- sheets


def _summary(ws: Worksheet, stats: Statistics, generated_at: datetime, ratings_note: str) -> None:
    d, s, q = stats.dossiers, stats.satisfaction, stats.faq
    t = d.timeliness
    out = _Rows(ws)
    out.put(1, 1, f"Báo cáo thống kê – {stats.scope_label}").font = Font(bold=True, size=14)
    out.put(2, 1, f"Kỳ báo cáo: {stats.period.label} ({stats.period.dates})")
    out.put(3, 1, f"Lập lúc: {_local(generated_at):%H:%M %d/%m/%Y}")
    out.header(("Chỉ tiêu", "Số lượng", "Tỷ lệ", "Ghi chú"), row=5)

    def section(title: str) -> None:
        row = out.append([title])
        ws.cell(row=row, column=1).font = BOLD

    def line(
        label: str, count: int | float | None, rate: float | None = None, note: str = ""
    ) -> None:
        fmt = POINTS if isinstance(count, float) else INT
        out.append([label, count, _fraction(rate), note], [None, fmt, PCT, None])

    section("Hồ sơ")
    line("Hồ sơ tiếp nhận trong kỳ", d.received)
    line("Hồ sơ không được tiếp nhận", d.refused)
    line("Hồ sơ giải quyết xong trong kỳ", d.finished)
    line(
        "Hồ sơ tính tỷ lệ đúng hạn",
        t.total,
        note="Tiếp nhận hoặc đang xử lý trong kỳ, gồm hồ sơ kỳ trước chuyển sang",
    )
    for _, label, n in t.items():
        line(f"  {label}", n, indexes.pct(n, t.total))
    if t.unjudged:
        line("Chưa đánh giá được hạn", t.unjudged, note="Thiếu ngày hẹn trả và thời hạn luật định")
    line("Tỷ lệ đúng hạn (QĐ 766, chỉ tiêu 2.1)", None, t.rate_pct)
    line("Điểm chỉ tiêu 2.1 (tối đa 20)", d.on_time_points)
    for group, n in d.by_group:
        # Status 3 and status 1 have their own labels ("Không được tiếp nhận", "Chưa tiếp
        # nhận"); each group is as it stood at the period's end.
        line(f"Hồ sơ trong kỳ, tình trạng cuối kỳ – {group.label}", n)

    section("Mức độ hài lòng")
    line("Lượt đánh giá", s.responses)
    for level in s.rating3:
        line(f"  {level.label}", level.count, level.pct)
    if s.rating3_skipped:
        line("  Bỏ qua (không tính)", s.rating3_skipped)
    for a in s.aspects:
        line(
            f"Yếu tố: {a.label}", a.valid, a.pct, "Số ý kiến hợp lệ; tỷ lệ hài lòng và rất hài lòng"
        )
    if s.overall is not None:
        line(f"Yếu tố: {s.overall.label}", s.overall.valid, s.overall.pct)
    line("Chỉ số hài lòng 5 yếu tố", None, s.sipas_estimate, s.sipas_label)
    line("Hồ sơ bị đánh giá Không hài lòng", s.dislike_dossiers, s.dislike_pct)
    line(
        "Chỉ tiêu 5.4 (QĐ 766)",
        None,
        s.c54_pct,
        "100% − (% hồ sơ quá hạn + % hồ sơ bị đánh giá Không hài lòng)",
    )
    line("Điểm chỉ tiêu 5.4 (tối đa 6)", s.c54_points, note="Đủ 6 điểm khi đạt từ 90%")
    line("Lời mời đánh giá đã gửi", s.invitations)
    line("Lời mời được phản hồi", s.invitations_answered, s.response_rate_pct)
    if ratings_note:
        line("Ghi chú", None, None, ratings_note)

    section("Câu hỏi của người dân (toàn thành phố)")
    line("Số câu hỏi", q.questions)
    for decision, label, n in q.by_decision:
        line(f"  {label}", n, q.decision_pct(decision))
    line("Ý kiến về câu trả lời", q.verdicts)
    line("  Thấy hữu ích", q.helpful, q.helpful_pct)
    line("  Đỡ một chuyến đi lại", q.trip_saved, q.trip_saved_pct, "Trên số ý kiến có trả lời")
    for e in q.top_entries:
        line(f"Hỏi nhiều: {e.question or e.entry_id}", e.count, note=e.entry_id)

    section("Theo tháng")
    out.header(
        ("Tháng", "Hồ sơ tính đúng hạn", "Tỷ lệ đúng hạn", "Đánh giá 3 mức", "Tỷ lệ hài lòng"),
    )
    for m in stats.monthly:
        out.append(
            [
                m.label,
                m.judged,
                _fraction(m.on_time_rate_pct),
                m.ratings,
                _fraction(m.satisfied_pct),
            ],
            [None, INT, PCT, INT, PCT],
        )
    _widths(ws, (58, 20, 16, 70, 16))


def _units(ws: Worksheet, first: tuple[str, str], units: Sequence[UnitFigures]) -> None:
    out = _Rows(ws)
    out.header((*first, *UNIT_HEADERS), row=1)
    for u in units:
        t = u.timeliness
        out.append(
            [
                u.code,
                u.name,
                u.received,
                u.finished,
                *(t.count(v) for v in Timeliness),
                _fraction(t.rate_pct),
                u.ratings,
                _fraction(u.satisfied_pct),
            ],
            [None, None, INT, INT, *(INT for _ in Timeliness), PCT, INT, PCT],
        )
    ws.freeze_panes = "C2"
    _widths(ws, (18, 48, 11, 13, 11, 11, 11, 14, 13, 14, 12, 14))


def _ratings(ws: Worksheet, rows: Sequence[repo.RatingRow], total: int) -> None:
    aspect_items = [f"{indexes.SIPAS_PREFIX}{code}" for code, _, _ in ASPECTS]
    headers = (
        "Thời gian",
        "Cơ quan",
        "Thủ tục",
        "Kênh",
        "Mức độ hài lòng",
        *(f"{short} (1–5)" for _, _, short in ASPECTS),
        "Ý kiến",
    )
    out = _Rows(ws)
    out.header(headers, row=1)
    for r in rows:
        answers = dict(r.answers)
        rating = answers.get(RATING3)
        comment = mask_numbers(r.comment)[:MAX_COMMENT_CHARS]
        out.append(
            [
                _local(r.submitted_at),
                r.agency,
                r.procedure,
                r.channel.capitalize(),
                RATING_LABELS.get(rating, "") if rating is not None else "",
                *(answers.get(item) for item in aspect_items),
                comment,
            ],
            ["dd/mm/yyyy hh:mm"],
        )
    if total > len(rows):
        shown, all_ = f"{len(rows):,}".replace(",", "."), f"{total:,}".replace(",", ".")
        out.append([f"Hiển thị {shown} đánh giá mới nhất trên tổng số {all_}."])
    ws.freeze_panes = "A2"
    _widths(ws, (17, 36, 36, 10, 16, 11, 11, 11, 11, 13, 70))


def _questions(ws: Worksheet, stats: Statistics) -> None:
    out = _Rows(ws)
    out.header(("STT", "Câu hỏi (số điện thoại, số giấy tờ đã ẩn)", "Số lần hỏi"), row=1)
    for i, u in enumerate(stats.faq.unanswered, start=1):
        out.append([i, mask_numbers(u.text), u.count], [None, None, INT])
    ws.freeze_panes = "A2"
    _widths(ws, (6, 90, 12))


def render_report(
    stats: Statistics,
    ratings: Sequence[repo.RatingRow] = (),
    ratings_total: int | None = None,
    *,
    generated_at: datetime | None = None,
    reflections: ReflectionStats | None = None,
) -> bytes:
    """The XLSX file of ``stats`` and the given ratings (newest first, possibly cut to
    ``MAX_RATINGS``; ``ratings_total`` says how many there were)."""
    total = len(ratings) if ratings_total is None else ratings_total
    note = ""
    if total > len(ratings):
        note = f"Trang Đánh giá chỉ liệt kê {len(ratings)} đánh giá mới nhất trên {total}."
    wb = Workbook()
    summary = wb.active
    summary.title = SHEETS[0]
    _summary(summary, stats, generated_at or datetime.now(UTC), note)
    if reflections is not None:  # phản ánh, kiến nghị (bot/domain/stats/reflections.py)
        append_reflections(summary, reflections)
    _units(wb.create_sheet(SHEETS[1]), ("Mã cơ quan", "Cơ quan"), stats.by_agency)
    _units(wb.create_sheet(SHEETS[2]), ("Mã thủ tục", "Thủ tục"), stats.by_procedure)
    _ratings(wb.create_sheet(SHEETS[3]), ratings, total)
    _questions(wb.create_sheet(SHEETS[4]), stats)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def build_report(
    session: AsyncSession,
    *,
    period: Period,
    calendar: WorkCalendar,
    agency: Agency | None = None,
    procedure: Procedure | None = None,
    max_ratings: int = MAX_RATINGS,
    concurrent: bool = True,
    today: date | None = None,
    channel: str | None = None,
) -> bytes:
    """Compute and render the report for a scope and period (read-only; ``concurrent`` as
    in ``indexes.compute``)."""
    stats = await indexes.compute(
        session,
        period=period,
        calendar=calendar,
        agency=agency,
        procedure=procedure,
        top=TOP_IN_REPORT,
        concurrent=concurrent,
        channel=channel,
    )
    f = indexes.period_filter(period, agency, procedure, channel)
    rows, total = await repo.rating_rows(session, f, max_ratings)
    pakn = None
    if procedure is None:  # reflections are not tied to a procedure
        pakn = await reflection_stats.compute(session, period=period, today=today, agency=agency)
    return render_report(stats, rows, total, reflections=pakn)


def report_filename(stats: Statistics) -> str:
    """An ASCII file name for the report: "bao-cao-thang-11-2026.xlsx"."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(stats.period.label)).strip("-")
    return f"bao-cao-{slug or 'thong-ke'}.xlsx"
