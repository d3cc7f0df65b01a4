"""The /thongke reply: the period's figures in a few short Vietnamese lines for a phone screen.

Plain text (no Markdown, so that names with "_" or "*" cannot break it), at most ``MAX_CHARS``
characters: long entry titles and questions are shortened first, then fewer of them are listed,
so that the figures themselves always fit. Numbers are written the Vietnamese way (1.234 and
87,5%).
"""

from __future__ import annotations

from bot.domain.stats.indexes import Statistics

MAX_CHARS = 1200
NO_DATA = "—"


def number(n: int) -> str:
    """1234567 -> "1.234.567" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def percent(value: float | None, digits: int = 1) -> str:
    """87.54 -> "87,5%"; ``None`` -> "—"."""
    if value is None:
        return NO_DATA
    return f"{value:.{digits}f}".replace(".", ",") + "%"


def decimal(value: float | None, digits: int = 1) -> str:
    if value is None:
        return NO_DATA
    return f"{value:.{digits}f}".replace(".", ",")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_text(stats: Statistics, *, max_chars: int = MAX_CHARS) -> str:
    """The compact summary of ``stats``; never longer than ``max_chars``."""
    for listed, width in ((3, 60), (3, 40), (2, 32), (1, 28), (0, 0)):
        text = _render(stats, listed, width)
        if len(text) <= max_chars:
            return text
    return text[: max_chars - 1] + "…"


def _render(stats: Statistics, listed: int, width: int) -> str:
    d, s, q = stats.dossiers, stats.satisfaction, stats.faq
    t = d.timeliness
    lines = [
        f"THỐNG KÊ {stats.period.label.upper()}",
        f"{stats.scope_label} ({stats.period.dates})",
        "",
        "Hồ sơ",
    ]
    if t.total or d.received or d.refused:
        lines += [
            f"• Tiếp nhận {number(d.received)}, đã giải quyết {number(d.finished)}"
            + (f", không được tiếp nhận {number(d.refused)}" if d.refused else ""),
            f"• Đã xong: trước hạn {number(t.truoc_han)}, đúng hạn {number(t.dung_han)}, "
            f"quá hạn {number(t.qua_han)}",
            f"• Đang giải quyết: trong hạn {number(t.dang_trong_han)}, "
            f"quá hạn {number(t.dang_qua_han)}",
            f"• Tỷ lệ đúng hạn (QĐ 766): {percent(t.rate_pct)} "
            f"({decimal(d.on_time_points)}/20 điểm, trên {number(t.total)} hồ sơ)",
        ]
        if t.unjudged:
            lines.append(f"• Chưa đánh giá được hạn: {number(t.unjudged)} (thiếu ngày hẹn trả)")
    else:
        lines.append("• Chưa có hồ sơ trong kỳ.")
    lines += ["", f"Hài lòng ({number(s.responses)} lượt đánh giá)"]
    if s.rating3_valid:
        lines.append("• " + ", ".join(f"{x.label} {percent(x.pct)}" for x in s.rating3))
    if s.sipas_estimate is not None:
        lines.append(f"• Hài lòng theo 5 yếu tố: {percent(s.sipas_estimate)} ({s.sipas_label})")
    if s.c54_pct is not None:
        lines.append(
            f"• Chỉ số 5.4 (QĐ 766): {percent(s.c54_pct)} ({decimal(s.c54_points)}/6 điểm)"
        )
    if s.invitations:
        lines.append(
            f"• Tỷ lệ phản hồi: {percent(s.response_rate_pct)} "
            f"({number(s.invitations_answered)}/{number(s.invitations)} lời mời)"
        )
    if not s.responses and not s.invitations:
        lines.append("• Chưa có đánh giá trong kỳ.")
    lines += ["", "Người dân hỏi (toàn thành phố)"]
    if q.questions:
        lines.append(
            f"• {number(q.questions)} câu hỏi: trả lời được {percent(q.decision_pct('answer'), 0)}"
            f", gợi ý {percent(q.decision_pct('suggest'), 0)}"
            f", chưa trả lời được {percent(q.decision_pct('fallback'), 0)}"
        )
        if listed and q.top_entries:
            top = "; ".join(
                f"{_short(e.question or e.entry_id, width)} ({number(e.count)})"
                for e in q.top_entries[:listed]
            )
            lines.append(f"• Hỏi nhiều: {top}")
        if listed and q.unanswered:
            gaps = "; ".join(
                f"«{_short(u.text, width)}» ({number(u.count)})" for u in q.unanswered[:listed]
            )
            lines.append(f"• Chưa trả lời được: {gaps}")
        if q.verdicts:
            trip = (
                f", đỡ một chuyến đi lại {percent(q.trip_saved_pct, 0)}" if q.trip_answers else ""
            )
            lines.append(f"• Thấy hữu ích {percent(q.helpful_pct, 0)}{trip}")
    else:
        lines.append("• Chưa có câu hỏi trong kỳ.")
    return "\n".join(lines)
