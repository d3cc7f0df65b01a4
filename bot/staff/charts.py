"""The console's charts as SVG, drawn on the server with matplotlib (no script, no CDN).

Each chart is one small figure (about 460 px wide) that the page shows at its natural size,
or narrower on a phone; horizontal bars keep long Vietnamese labels readable at 360 px, the
value axis ends at 100 %, and values are written beside the bars. Text stays text in the SVG
(``svg.fonttype`` "none"), so it is sharp, selectable and read by screen readers; the page
puts a caption and the table of the same numbers beside every chart.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass
from datetime import date

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.domain.stats.indexes import Statistics
from bot.domain.stats.text import percent
from bot.staff.cache import Memo

BLUE, GREEN, GREY, INK = "#1f5fa8", "#1e7b4a", "#5c5c5c", "#1a1a1a"
WIDTH_IN = 4.2
FONT = 10.5
MAX_AGENCIES = 12


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG chart and the sentence that says what it shows."""

    title: str
    svg: str
    summary: str


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "motcua"}):
        fig.savefig(
            out, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.05
        )
    text = out.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, count=1, flags=re.S)
    # The page sizes the chart: drop the fixed size, keep the viewBox.
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    return text.replace("<svg", '<svg aria-hidden="true" focusable="false"', 1)


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _hbars(
    labels: list[str], values: list[float | None], notes: list[str], color: str, height: float
) -> Figure:
    fig = _figure(height)
    ax = fig.add_subplot()
    wrapped = ["\n".join(textwrap.wrap(label, 16)[:2]) for label in labels]
    y = list(range(len(labels)))[::-1]
    ax.barh(y, [v or 0.0 for v in values], color=color, height=0.6)
    for yy, v, note in zip(y, values, notes, strict=True):
        text = percent(v) if v is not None else "chưa có dữ liệu"
        if note:
            text += f" ({note})"
        inside = v is not None and v > 62
        ax.text(
            (v - 1.5) if inside and v is not None else (v or 0) + 1.5,
            yy,
            text,
            va="center",
            ha="right" if inside else "left",
            fontsize=FONT,
            color="white" if inside else INK,
        )
    ax.set_yticks(y, wrapped, fontsize=FONT, color=INK)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=FONT - 1)
    ax.grid(axis="x", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.34, right=0.93, top=0.97, bottom=0.14)
    return fig


def _month_labels(firsts: list[date]) -> list[str]:
    """Short month labels for a narrow axis: "T3", with the year under the first and January."""
    return [
        f"T{d.month}\n{d.year}" if i == 0 or d.month == 1 else f"T{d.month}"
        for i, d in enumerate(firsts)
    ]


def monthly(stats: Statistics) -> Chart:
    title = "Tỷ lệ đúng hạn và tỷ lệ hài lòng theo tháng"
    months = stats.monthly
    on_time = [m.on_time_rate_pct for m in months]
    satisfied = [m.satisfied_pct for m in months]
    fig = _figure(2.9)
    ax = fig.add_subplot()
    x = list(range(len(months)))
    drawn = False
    for values, label, color, marker in (
        (on_time, "Đúng hạn (QĐ 766)", BLUE, "o"),
        (satisfied, "Hài lòng (3 mức)", GREEN, "s"),
    ):
        pts = [(i, v) for i, v in zip(x, values, strict=True) if v is not None]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker=marker, linewidth=2, color=color, label=label)
            drawn = True
    if not drawn:
        ax.text(
            0.5,
            0.5,
            "Chưa có dữ liệu",
            ha="center",
            va="center",
            color=GREY,
            fontsize=FONT + 2,
            transform=ax.transAxes,
        )
    ax.set_ylim(0, 100)
    ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=FONT - 1)
    step = 1 if len(months) <= 6 else -(-len(months) // 6)
    ax.set_xticks(x[::step], _month_labels([m.start for m in months])[::step], fontsize=FONT - 1)
    ax.set_xlim(-0.4, max(len(months) - 0.6, 0.4))
    ax.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if drawn:
        ax.legend(
            loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=FONT - 1, frameon=False, ncols=2
        )
    fig.subplots_adjust(left=0.14, right=0.95, top=0.86, bottom=0.16)
    parts = [
        f"{m.label}: đúng hạn {percent(m.on_time_rate_pct)}, hài lòng {percent(m.satisfied_pct)}"
        for m in months
    ]
    return Chart(title, _svg(fig), "; ".join(parts) + ".")


def aspects(stats: Statistics) -> Chart:
    s = stats.satisfaction
    title = "Hài lòng theo 5 yếu tố (ước tính nội bộ)"
    labels = [a.short_label for a in s.aspects]
    values = [a.pct for a in s.aspects]
    notes = [f"{a.valid} ý kiến" if a.pct is not None else "" for a in s.aspects]
    fig = _hbars(labels, values, notes, BLUE, 2.5)
    summary = "; ".join(f"{a.label}: {percent(a.pct)}" for a in s.aspects)
    return Chart(title, _svg(fig), summary + f". Trung bình: {percent(s.sipas_estimate)}.")


def agencies(stats: Statistics) -> Chart | None:
    """The on-time rate of each agency with dossiers (the busiest ``MAX_AGENCIES``)."""
    rows = [u for u in stats.by_agency if u.timeliness.total]
    if len(rows) < 2:
        return None
    rows = sorted(rows, key=lambda u: -u.timeliness.total)[:MAX_AGENCIES]
    labels = [u.name for u in rows]
    values = [u.on_time_rate_pct for u in rows]
    fig = _hbars(labels, values, ["" for _ in rows], GREEN, 0.6 + 0.5 * len(rows))
    summary = "; ".join(f"{u.name}: {percent(u.on_time_rate_pct)}" for u in rows)
    return Chart("Tỷ lệ đúng hạn theo cơ quan", _svg(fig), summary + ".")


_DRAWN: Memo[Chart | None] = Memo()


def _key(kind: str, stats: Statistics) -> tuple[object, ...]:
    """What a chart is drawn from: equal keys draw equal charts."""
    if kind == "monthly":
        return tuple((m.start, m.on_time_rate_pct, m.satisfied_pct) for m in stats.monthly)
    if kind == "aspects":
        s = stats.satisfaction
        return (s.sipas_estimate, *((a.aspect, a.pct, a.valid) for a in s.aspects))
    return tuple((u.name, u.on_time_rate_pct, u.timeliness.total) for u in stats.by_agency)


def all_charts(stats: Statistics) -> list[Chart]:
    """Every chart of a dashboard view (CPU work: call through ``asyncio.to_thread``); a chart
    already drawn from the same numbers is reused."""
    drawn = [
        _DRAWN.get(("monthly", _key("monthly", stats)), lambda: monthly(stats)),
        _DRAWN.get(("aspects", _key("aspects", stats)), lambda: aspects(stats)),
        _DRAWN.get(("agencies", _key("agencies", stats)), lambda: agencies(stats)),
    ]
    return [c for c in drawn if c is not None]
