"""The chart's alternative text: what the /thongke picture shows, in words.

A screen reader (or a citizen whose browser does not load the picture) reads this instead of
the picture, so it carries the same figures as the two panels of ``bot.domain.stats.chart``: the
monthly on-time rate and satisfaction, then the five aspects.
"""

from __future__ import annotations

from bot.domain.stats.indexes import Statistics
from bot.domain.stats.text import percent

NO_DATA = "chưa có dữ liệu"


def _pct(value: float | None) -> str:
    return NO_DATA if value is None else percent(value)


def describe_chart(stats: Statistics) -> str:
    """One paragraph describing the chart of ``stats``."""
    parts = [f"Biểu đồ thống kê {stats.period.label} – {stats.scope_label} ({stats.period.dates})."]
    months = [
        m for m in stats.monthly if m.on_time_rate_pct is not None or m.satisfied_pct is not None
    ]
    if months:
        points = "; ".join(
            f"{m.label}: đúng hạn {_pct(m.on_time_rate_pct)}, hài lòng {_pct(m.satisfied_pct)}"
            for m in months
        )
        parts.append(f"Phần trên, tỷ lệ đúng hạn và mức độ hài lòng theo tháng: {points}.")
    else:
        parts.append(f"Phần trên, tỷ lệ đúng hạn và mức độ hài lòng theo tháng: {NO_DATA}.")
    aspects = stats.satisfaction.aspects
    if any(a.pct is not None for a in aspects):
        bars = "; ".join(f"{a.label}: {_pct(a.pct)}" for a in aspects)
        parts.append(f"Phần dưới, mức độ hài lòng theo 5 yếu tố: {bars}.")
    else:
        parts.append(f"Phần dưới, mức độ hài lòng theo 5 yếu tố: {NO_DATA}.")
    return " ".join(parts)
