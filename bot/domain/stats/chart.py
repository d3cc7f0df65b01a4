"""The /thongke chart: a PNG with the monthly on-time rate and satisfaction, and the five SIPAS
aspects.

Drawn with matplotlib's object API on the Agg canvas (``Figure`` + ``FigureCanvasAgg``), never
through ``pyplot``: pyplot keeps global state and picks a GUI backend, neither of which belongs
in a server handling several requests. The default font, DejaVu Sans, ships with matplotlib and
has every Vietnamese letter; no process-wide setting is changed. A panel without data says
"Chưa có dữ liệu" rather than drawing an empty or misleading axis. Rendering is CPU work
(about 0.2 s): call it through ``asyncio.to_thread`` from a handler.
"""

from __future__ import annotations

import io
import math
import textwrap

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.domain.stats.indexes import Statistics
from bot.domain.stats.text import number, percent

WIDTH_PX, HEIGHT_PX, DPI = 1000, 1100, 100
NO_DATA = "Chưa có dữ liệu"
BLUE, GREEN, GREY = "#1f5fa8", "#2e8b57", "#888888"


def _empty(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=14, fontweight="bold")
    ax.text(
        0.5,
        0.5,
        NO_DATA,
        ha="center",
        va="center",
        fontsize=20,
        color=GREY,
        transform=ax.transAxes,
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#dddddd")


def _monthly(ax: Axes, stats: Statistics) -> None:
    title = "Tỷ lệ đúng hạn và mức độ hài lòng theo tháng (%)"
    months = stats.monthly
    on_time = [m.on_time_rate_pct for m in months]
    satisfied = [m.satisfied_pct for m in months]
    if all(v is None for v in on_time + satisfied):
        _empty(ax, title)
        return
    x = list(range(len(months)))
    # Labels above the on-time line and below the satisfaction line, so that close values
    # do not print over each other.
    for values, label, color, offset in (
        (on_time, "Tỷ lệ đúng hạn (QĐ 766)", BLUE, 8),
        (satisfied, "Hài lòng (Rất hài lòng + Hài lòng)", GREEN, -15),
    ):
        points = [(i, v) for i, v in zip(x, values, strict=True) if v is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", linewidth=2.2, color=color, label=label)
        if len(points) <= 12:
            for i, v in points:
                ax.annotate(
                    percent(v, 0),
                    (i, v),
                    textcoords="offset points",
                    xytext=(0, offset),
                    ha="center",
                    fontsize=9,
                    color=color,
                )
    ax.set_title(title, loc="left", fontsize=14, fontweight="bold")
    ax.set_ylim(0, 108)
    ax.set_xlim(-0.5, len(months) - 0.5)
    step = 1 if len(months) <= 12 else math.ceil(len(months) / 8)  # at most ~8 labels
    ax.set_xticks(x[::step], [m.label for m in months][::step], fontsize=10)
    ax.set_ylabel("%")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower left", fontsize=10, frameon=False)


def _aspects(ax: Axes, stats: Statistics) -> None:
    s = stats.satisfaction
    title = "Mức độ hài lòng theo 5 yếu tố (% hài lòng và rất hài lòng)"
    if all(a.pct is None for a in s.aspects):
        _empty(ax, title)
        return
    labels = [a.short_label for a in s.aspects]
    values = [a.pct or 0.0 for a in s.aspects]
    bars = ax.bar(labels, values, color=BLUE, width=0.6)
    for bar, a in zip(bars, s.aspects, strict=True):
        text = f"{percent(a.pct)}\n({number(a.valid)} ý kiến)" if a.pct is not None else NO_DATA
        ax.annotate(
            text,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=10,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
    if s.sipas_estimate is not None:
        ax.axhline(
            s.sipas_estimate,
            color=GREEN,
            linestyle="--",
            linewidth=1.5,
            label=f"Trung bình 5 yếu tố: {percent(s.sipas_estimate)} (ước tính nội bộ)",
        )
        ax.legend(loc="upper right", fontsize=10, frameon=False)
    ax.set_title(title, loc="left", fontsize=14, fontweight="bold")
    ax.set_ylim(0, 125)
    ax.set_ylabel("%")
    ax.grid(axis="y", alpha=0.3)


def render_chart(stats: Statistics) -> bytes:
    """The chart of ``stats`` as PNG bytes (1000×1100 px)."""
    out = io.BytesIO()
    figure(stats).savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def figure(stats: Statistics) -> Figure:
    """The chart as a matplotlib figure (on its own Agg canvas), before rendering."""
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    heading = f"Thống kê {stats.period.label} – {stats.scope_label}"
    fig.suptitle(
        "\n".join(textwrap.wrap(heading, 70)[:2]) + f"\n{stats.period.dates}",
        fontsize=15,
        fontweight="bold",
        y=0.985,
    )
    top, bottom = fig.subplots(2, 1, gridspec_kw={"hspace": 0.35})
    _monthly(top, stats)
    _aspects(bottom, stats)
    fig.text(
        0.01,
        0.01,
        f"Chỉ số 5 yếu tố: {stats.satisfaction.sipas_label}.",
        fontsize=9,
        color=GREY,
        style="italic",
    )
    fig.subplots_adjust(left=0.08, right=0.97, top=0.88, bottom=0.07)
    return fig
