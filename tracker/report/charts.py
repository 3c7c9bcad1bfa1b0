"""Inline SVG line charts in pure Python: a daily series, one week shaded, spikes marked.

The output is a standalone ``<svg>`` element with no external references, so the same
string can be written to a ``.svg`` file or inlined into a self-contained HTML page.
Every piece of text is XML-escaped here, because labels may come from the database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

INDEX_COLOUR = "#1f5fa8"
SMOOTH_COLOUR = "#8a8a8a"
SPIKE_COLOUR = "#d62728"
WEEK_FILL = "#ffe8a3"
GRID_COLOUR = "#e3e3e3"
TEXT_COLOUR = "#333333"


@dataclass(frozen=True)
class Point:
    """One day of a series; ``value`` None is a missing day (drawn as a gap, not a zero)."""

    day: date
    value: float | None
    smoothed: float | None = None
    spike: bool = False
    zscore: float | None = None


def nice_ticks(upper: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``upper`` (steps of 1, 2, 2.5 or 5 times 10^k)."""
    if not math.isfinite(upper) or upper <= 0:
        return [0.0, 1.0]
    raw = upper / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < upper - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt_tick(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.2g}"


def _segments(coords: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a coordinate list at missing values so gaps stay visible."""
    runs: list[list[tuple[float, float]]] = [[]]
    for c in coords:
        if c is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(c)
    return [r for r in runs if r]


def _path(run: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in run)


def _x_label_days(start: date, end: date, max_labels: int = 8) -> list[date]:
    """Mondays to label on the x axis, thinned so that at most ``max_labels`` remain."""
    first_monday = start + timedelta(days=(7 - start.weekday()) % 7)
    mondays = []
    d = first_monday
    while d <= end:
        mondays.append(d)
        d += timedelta(days=7)
    if not mondays:
        return [start]
    stride = max(1, math.ceil(len(mondays) / max_labels))
    # Keep the latest Monday so the highlighted week is always labelled.
    return mondays[::-1][::stride][::-1]


def line_chart_svg(
    points: Sequence[Point],
    *,
    start: date,
    end: date,
    highlight: tuple[date, date] | None = None,
    title: str = "",
    width: int = 900,
    height: int = 220,
) -> str:
    """An SVG line chart of ``points`` from ``start`` to ``end``, the ``highlight`` days shaded."""
    if end < start:
        raise ValueError(f"chart end {end} is before start {start}")
    left, right, top, bottom = 52, 14, 26, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    n_days = (end - start).days + 1
    day_w = plot_w / n_days
    in_range = [p for p in points if start <= p.day <= end]
    values = [v for p in in_range for v in (p.value, p.smoothed) if v is not None]
    upper = max(values) * 1.08 if values else 1.0
    ticks = nice_ticks(upper)
    y_max = ticks[-1] or 1.0

    def x_of(d: date) -> float:
        return left + ((d - start).days + 0.5) * day_w

    def y_of(v: float) -> float:
        return top + plot_h - (max(v, 0.0) / y_max) * plot_h

    label = escape(title)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}" class="chart" '
        'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        f"<title>{label}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if highlight is not None:
        h0, h1 = max(highlight[0], start), min(highlight[1], end)
        if h0 <= h1:
            x0 = left + (h0 - start).days * day_w
            out.append(
                f'<rect class="week" x="{x0:.1f}" y="{top}" '
                f'width="{((h1 - h0).days + 1) * day_w:.1f}" height="{plot_h}" fill="{WEEK_FILL}"/>'
            )
    for t in ticks:
        y = y_of(t)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT_COLOUR}">'
            f"{_fmt_tick(t)}</text>"
        )
    for d in _x_label_days(start, end):
        out.append(
            f'<text x="{x_of(d):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}">{d.strftime("%d %b")}</text>'
        )
    by_day = {p.day: p for p in in_range}
    days = [start + timedelta(days=i) for i in range(n_days)]
    for attr, colour, extra, cls in (
        ("smoothed", SMOOTH_COLOUR, ' stroke-dasharray="4 3"', "smoothed"),
        ("value", INDEX_COLOUR, "", "index"),
    ):
        coords: list[tuple[float, float] | None] = []
        for d in days:
            p = by_day.get(d)
            v = getattr(p, attr) if p is not None else None
            coords.append(None if v is None else (x_of(d), y_of(v)))
        for run in _segments(coords):
            if len(run) == 1:
                x, y = run[0]
                out.append(f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>')
            else:
                out.append(
                    f'<polyline class="{cls}" points="{_path(run)}" fill="none" '
                    f'stroke="{colour}" stroke-width="{1.2 if cls == "smoothed" else 1.8}"{extra}/>'
                )
    for p in in_range:
        if p.spike and p.value is not None:
            z = f", z = {p.zscore:.1f}" if p.zscore is not None else ""
            out.append(
                f'<circle class="spike" cx="{x_of(p.day):.1f}" cy="{y_of(p.value):.1f}" r="4.5" '
                f'fill="{SPIKE_COLOUR}" stroke="#ffffff" stroke-width="1">'
                f"<title>spike {p.day.isoformat()}: {p.value:.1f}{escape(z)}</title></circle>"
            )
    if not any(p.value is not None for p in in_range):
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}">no index values in this period</text>'
        )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        f'stroke="#bbbbbb" stroke-width="1"/>'
    )
    out.append(_legend(left, top - 9))
    out.append("</svg>")
    return "\n".join(out)


def _legend(x: float, y: float) -> str:
    items = [
        f'<line x1="{x}" x2="{x + 16}" y1="{y - 4}" y2="{y - 4}" stroke="{INDEX_COLOUR}" '
        'stroke-width="1.8"/>',
        f'<text x="{x + 20}" y="{y}" fill="{TEXT_COLOUR}">index</text>',
        f'<line x1="{x + 62}" x2="{x + 78}" y1="{y - 4}" y2="{y - 4}" stroke="{SMOOTH_COLOUR}" '
        'stroke-width="1.2" stroke-dasharray="4 3"/>',
        f'<text x="{x + 82}" y="{y}" fill="{TEXT_COLOUR}">7-day average</text>',
        f'<circle cx="{x + 168}" cy="{y - 4}" r="4" fill="{SPIKE_COLOUR}"/>',
        f'<text x="{x + 176}" y="{y}" fill="{TEXT_COLOUR}">spike</text>',
        f'<rect x="{x + 214}" y="{y - 9}" width="14" height="10" fill="{WEEK_FILL}"/>',
        f'<text x="{x + 232}" y="{y}" fill="{TEXT_COLOUR}">report week</text>',
    ]
    return '<g class="legend">' + "".join(items) + "</g>"
