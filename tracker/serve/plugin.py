"""Datasette plugin for ``tracker serve``: inline SVG charts of the index, evidence cells, links.

Charts are drawn on the server as plain SVG so they work offline, without
JavaScript and with arbitrary SQL switched off. :func:`line_chart_svg` and
:func:`chart_from_rows` are pure; the ``@hookimpl`` functions wire them into
Datasette: templates under ``tracker/serve/datasette/templates`` call ``tracker_chart`` and
``tracker_overview_chart``, every page whose rows have a ``day`` column and a
value column offers a ``.svg`` export, and ``evidence`` JSON renders as a list.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import BadRequest, Response
from markupsafe import Markup, escape

log = logging.getLogger(__name__)

#: Name the tracker database is served under; the plugin leaves other databases alone.
DATABASE_NAME = "tracker"

X_COLUMN = "day"
#: Columns worth charting, in the order the default is picked.
Y_COLUMNS = (
    "index_value",
    "smoothed_7d",
    "zscore",
    "share",
    "articles",
    "mentions",
    "weighted_articles",
    "scaled_share",
)
#: Columns that split rows into one line each.
SERIES_COLUMNS = ("narrative_id", "entity_id")
#: Counts add up when several rows share a series and day; other values are averaged.
ADDITIVE_COLUMNS = frozenset({"articles", "mentions", "weighted_articles", "total_articles"})
#: Query-result columns that link to the row they name (table pages link foreign keys already).
ROW_LINKS = {
    "article_id": "articles",
    "entity_id": "entities",
    "narrative_id": "narratives",
    "feed_id": "feeds",
}
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)

Point = tuple[str, float | None]
#: Width of one legend entry (swatch and up to 30 characters at 12px).
LEGEND_SLOT = 220


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round axis ticks (steps of 1, 2, 2.5 or 5 times a power of ten) covering ``lo..hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    # A range too narrow to divide into steps (or none at all) is drawn around its value.
    if hi - lo <= max(abs(lo), abs(hi)) * 1e-9 or hi - lo < 1e-200:
        pad = max(abs(lo), abs(hi)) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if step >= raw:
            break
    start = math.floor(lo / step) * step
    stop = math.ceil(hi / step) * step
    # lo / step can underflow to 0 for subnormal values: widen by a step if a bound escapes.
    start = start - step if start > lo else start
    stop = stop + step if stop < hi else stop
    n = max(round((stop - start) / step), 1)
    # Rounding below the step keeps labels like 0.3 from printing as 0.30000000000000004.
    digits = max(0, 3 - math.floor(math.log10(step)))
    return [round(start + i * step, digits) for i in range(n + 1)]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: float) -> str:
    return f"{value:,.6g}"


def _parse_day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def line_chart_svg(
    series: Mapping[str, Sequence[Point]],
    *,
    title: str,
    y_label: str,
    labels: Mapping[str, str] | None = None,
    marks: Mapping[str, Iterable[str]] | None = None,
    element_id: str = "tracker-chart",
    width: int = 960,
    height: int = 320,
) -> str:
    """An SVG line chart of ``{series: [(day, value), ...]}``; empty string if nothing to draw.

    ``None`` values break a line; ``marks`` circles the given days of a series (spikes).
    """
    labels = labels or {}
    marks = marks or {}
    parsed: dict[str, list[tuple[int, float | None]]] = {}
    for key, points in series.items():
        cleaned = []
        for day, value in points:
            parsed_day = _parse_day(day)
            if parsed_day is None:
                continue
            number = value if value is None or math.isfinite(value) else None
            cleaned.append((parsed_day.toordinal(), number))
        if any(v is not None for _, v in cleaned):
            parsed[key] = sorted(cleaned)
    days = {d for points in parsed.values() for d, v in points if v is not None}
    if len(days) < 2:
        return ""
    values = [v for points in parsed.values() for _, v in points if v is not None]
    y_ticks = nice_ticks(min(values), max(values))
    x0, x1 = min(days), max(days)
    y0, y1 = y_ticks[0], y_ticks[-1]

    left, right, top, bottom = 64, 16, 34, 36
    per_row = max(1, (width - left - right) // LEGEND_SLOT)
    legend_rows = math.ceil(len(parsed) / per_row) if len(parsed) > 1 else 0
    total_height = height + legend_rows * 20
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(day: int) -> float:
        return left + (day - x0) / (x1 - x0) * plot_w

    def sy(value: float) -> float:
        return top + (1 - (value - y0) / (y1 - y0)) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(element_id)}" class="tracker-chart" '
        f'viewBox="0 0 {width} {total_height}" width="100%" role="img" '
        f'aria-labelledby="{escape(element_id)}-title" '
        'font-family="system-ui, -apple-system, Helvetica, Arial, sans-serif" font-size="12">',
        f'<title id="{escape(element_id)}-title">{escape(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{total_height}" fill="#ffffff"/>',
        f'<text x="{left}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = sy(tick)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e5e5e5"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(_fmt(tick))}</text>"
        )
    tick_count = min(7, x1 - x0 + 1)
    x_ticks = sorted({round(x0 + i * (x1 - x0) / max(tick_count - 1, 1)) for i in range(tick_count)})
    for k, tick in enumerate(x_ticks):
        x = sx(tick)
        # The end labels hang inwards so they are not cut off at the edges.
        anchor = "start" if k == 0 else "end" if k == len(x_ticks) - 1 else "middle"
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
            'stroke="#555"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="{anchor}" fill="#555">'
            f"{date.fromordinal(tick).isoformat()}</text>"
        )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#555"/>'
    )
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="#555">{escape(y_label)}</text>'
    )
    for i, (key, line) in enumerate(parsed.items()):
        colour = PALETTE[i % len(PALETTE)]
        path, pen_down = [], False
        for ordinal, value in line:
            if value is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{sx(ordinal):.1f} {sy(value):.1f}")
            pen_down = True
        name = labels.get(key, key)
        out.append(
            f'<path class="series" data-series="{escape(key)}" d="{" ".join(path)}" fill="none" '
            f'stroke="{colour}" stroke-width="2" stroke-linejoin="round">'
            f"<title>{escape(name)}</title></path>"
        )
        marked = set(marks.get(key, ()))
        for ordinal, value in line:
            iso = date.fromordinal(ordinal).isoformat()
            if value is not None and iso in marked:
                out.append(
                    f'<circle class="mark" cx="{sx(ordinal):.1f}" cy="{sy(value):.1f}" r="4" '
                    f'fill="{colour}" stroke="#000"><title>{escape(name)} {iso}: '
                    f"{escape(_fmt(value))}</title></circle>"
                )
        if legend_rows:
            lx = left + (i % per_row) * LEGEND_SLOT
            ly = height + (i // per_row) * 20
            out.append(
                f'<rect x="{lx}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>'
                f'<text x="{lx + 17}" y="{ly + 1}">{escape(_shorten(name, 30))}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def pick_y(columns: Sequence[str], wanted: str | None = None) -> str | None:
    """The column to chart: ``wanted`` if the rows have it, else the first of :data:`Y_COLUMNS`."""
    if wanted and wanted in columns and wanted != X_COLUMN:
        return wanted
    return next((c for c in Y_COLUMNS if c in columns), None)


def chart_from_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    *,
    y: str | None = None,
    title: str | None = None,
    element_id: str = "tracker-chart",
) -> str:
    """Chart query rows with a ``day`` column, one line per narrative (or entity); "" if unfit."""
    columns = list(columns)
    y_column = pick_y(columns, y)
    if X_COLUMN not in columns or y_column is None:
        return ""
    series_column = next((c for c in SERIES_COLUMNS if c in columns), None)
    sums: dict[str, dict[str, list[float]]] = {}
    labels: dict[str, str] = {}
    marks: dict[str, set[str]] = {}
    for row in rows:
        record = row if isinstance(row, Mapping) else dict(zip(columns, row, strict=False))
        day = record.get(X_COLUMN)
        if not isinstance(day, str):
            continue
        key = str(record.get(series_column)) if series_column else y_column
        bucket = sums.setdefault(key, {}).setdefault(day[:10], [])
        value = record.get(y_column)
        if isinstance(value, int | float) and not isinstance(value, bool):
            bucket.append(float(value))
        if series_column and record.get("label"):
            labels[key] = str(record["label"])
        if record.get("spike"):
            marks.setdefault(key, set()).add(day[:10])
    additive = y_column in ADDITIVE_COLUMNS
    series: dict[str, list[Point]] = {
        key: [
            (day, (sum(vals) if additive else sum(vals) / len(vals)) if vals else None)
            for day, vals in by_day.items()
        ]
        for key, by_day in sums.items()
    }
    return line_chart_svg(
        series,
        title=title or f"{y_column} by day",
        y_label=y_column,
        labels=labels,
        marks=marks,
        element_id=element_id,
    )


def evidence_html(value: str) -> Markup | None:
    """An ordered list of evidence sentences (highest score first) from the JSON column."""
    try:
        items = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(items, list):
        return None
    entries = []
    for item in items:
        if isinstance(item, Mapping) and item.get("sentence"):
            score = item.get("score")
            entries.append((score if isinstance(score, int | float) else None, item["sentence"]))
    if not entries:
        return Markup('<span class="tracker-evidence-empty">no evidence</span>')
    entries.sort(key=lambda e: -(e[0] if e[0] is not None else -math.inf))
    parts = [
        f"<li>{escape(sentence)}"
        + (f' <span class="tracker-score">({score:.2f})</span>' if score is not None else "")
        + "</li>"
        for score, sentence in entries
    ]
    return Markup(f'<ol class="tracker-evidence">{"".join(parts)}</ol>')


OVERVIEW_SQL = """
select ni.day, ni.narrative_id, n.label, coalesce(ni.smoothed_7d, ni.index_value) as smoothed_7d,
  ni.spike
from narrative_index ni
join narratives n on n.id = ni.narrative_id
where ni.day >= (select date(max(day), :window) from narrative_index)
order by ni.day
"""


async def overview_chart(datasette: Any, days: int = 90) -> Markup:
    """The smoothed index of every narrative over the last ``days`` computed days, as SVG."""
    try:
        db = datasette.get_database(DATABASE_NAME)
    except KeyError:
        return Markup("")
    result = await db.execute(OVERVIEW_SQL, {"window": f"-{days - 1} days"})
    columns = ["day", "narrative_id", "label", "smoothed_7d", "spike"]
    svg = chart_from_rows(
        columns,
        [tuple(r) for r in result.rows],
        title=f"Narrative index, 7-day average, last {days} days",
        element_id="tracker-index-chart",
    )
    if not svg:
        return Markup(
            '<p class="tracker-chart-empty" id="tracker-index-chart">No index computed yet: '
            "run <code>tracker run</code> to fetch, enrich and index the feeds.</p>"
        )
    link = datasette.urls.query(DATABASE_NAME, "narrative_index_range")
    return Markup(
        f'<figure class="tracker-chart-wrap">{svg}<figcaption>Spikes are circled. '
        f'<a href="{escape(link)}">Explore the index over any date range</a>.</figcaption></figure>'
    )


def rows_chart(columns: Sequence[str], rows: Sequence[Any], request: Any) -> Markup:
    """Chart the rows on a page (with links to chart other columns); empty Markup if unfit."""
    wanted = request.args.get("_chart_y") if request is not None else None
    y_column = pick_y(columns, wanted)
    svg = chart_from_rows(columns, rows, y=y_column, element_id="tracker-index-chart")
    if not svg:
        return Markup("")
    choices = [c for c in Y_COLUMNS if c in columns]
    links = []
    for choice in choices:
        if choice == y_column:
            links.append(f"<strong>{escape(choice)}</strong>")
            continue
        args = [
            (k, v) for k in request.args if k != "_chart_y" for v in request.args.getlist(k)
        ]
        query = urlencode([*args, ("_chart_y", choice)])
        links.append(f'<a href="?{escape(query)}">{escape(choice)}</a>')
    return Markup(
        f'<figure class="tracker-chart-wrap">{svg}<figcaption>Chart of the rows below '
        f"(spikes circled). Chart: {' · '.join(links)}</figcaption></figure>"
    )


@hookimpl
def extra_template_vars(datasette: Any) -> dict[str, Any]:
    """Expose the chart helpers to the templates in tracker/serve/datasette/templates."""

    async def tracker_overview_chart(days: int = 90) -> Markup:
        return await overview_chart(datasette, days)

    return {"tracker_chart": rows_chart, "tracker_overview_chart": tracker_overview_chart}


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    """Render evidence JSON as a list and link ids in query results to their rows."""
    if database != DATABASE_NAME:
        return None
    if column == "evidence" and isinstance(value, str):
        return evidence_html(value)
    if table is None and column in ROW_LINKS and value is not None:
        href = datasette.urls.row(database, ROW_LINKS[column], tilde_encode(str(value)))
        return Markup(f'<a href="{escape(href)}">{escape(str(value))}</a>')
    return None


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Refuse every request that could change something (POST, PUT ...) with 405."""

    def wrap(app: Any) -> Any:
        async def read_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope.get("method") not in READ_METHODS:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 405,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"allow", b"GET, HEAD, OPTIONS"),
                        ],
                    }
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"This Narrative Tracker server is read-only: only GET requests.\n",
                    }
                )
                return
            await app(scope, receive, send)

        return read_only

    return wrap


@hookimpl
def handle_exception(request: Any, exception: BaseException) -> None:
    """Log server errors (4xx are the user's, shown on the page); Datasette renders the page."""
    status = getattr(exception, "status", 500)
    if not isinstance(status, int) or status >= 500:
        log.error("Error serving %s", getattr(request, "path", "?"), exc_info=exception)


def _can_render_svg(columns: Sequence[str]) -> bool:
    return X_COLUMN in columns and pick_y(columns) is not None


async def _render_svg(columns: Sequence[str], rows: Sequence[Any], request: Any) -> Response:
    wanted = request.args.get("_chart_y") if request is not None else None
    svg = chart_from_rows(columns, rows, y=wanted)
    if not svg:
        # Raised, not returned: Datasette forces a returned response's status to 200.
        raise BadRequest(
            "Nothing to chart: the rows need a 'day' column with at least two days and a "
            f"numeric column ({', '.join(Y_COLUMNS)}); choose one with ?_chart_y=COLUMN."
        )
    return Response(svg, content_type="image/svg+xml; charset=utf-8")


@hookimpl
def register_output_renderer(datasette: Any) -> dict[str, Any]:
    """Offer ``.svg`` (a line chart) on every table or query with a day and a value column."""
    return {"extension": "svg", "render": _render_svg, "can_render": _can_render_svg}
