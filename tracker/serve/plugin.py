"""Datasette plugin for ``tracker serve``: index charts, evidence cells, links, read-only rules.

Charts come from the report's chart engine (:func:`tracker.report.charts.line_chart`):
the page embeds the Vega-Lite spec and the browser draws it with the Vega-Embed bundle
served from the package (``/-/tracker-static/``, nothing from the network); the
``.svg`` export and the ``<noscript>`` fallback draw the same spec on the server with
vl-convert. Every narrative keeps its colour (:func:`~tracker.report.charts.series_colours`
over the narratives table). :func:`chart_spec_from_rows` is pure; the ``@hookimpl``
functions wire it into Datasette: templates under ``tracker/serve/datasette/templates``
call ``tracker_chart`` and ``tracker_overview_chart``, every page whose rows have a
``day`` column and a value column offers a ``.svg`` export, and ``evidence`` JSON
renders as a list. The plugin also denies Datasette's write permissions and checks the
canned queries' parameters (``:_check_params``) so a bad day is a message, not 0 rows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import BadRequest, NotFound, Response
from markupsafe import Markup, escape

from tracker.base.resources import packaged
from tracker.report.charts import INDEX_TITLE, Point, Series, line_chart, series_colours, to_svg
from tracker.serve import charts as serve_charts
from tracker.serve import exports, pages
from tracker.serve.alerts_feed import alerts_atom
from tracker.serve.pagedata import readable_source

log = logging.getLogger(__name__)

#: Name the tracker database is served under; the plugin leaves other databases alone.
DATABASE_NAME = "tracker"

X_COLUMN = "day"
#: Columns worth charting, in the order the default is picked, with their axis titles.
Y_TITLES = {
    "index_value": INDEX_TITLE,
    "smoothed_7d": "Index, 7-day average (100 = base-period mean)",
    "zscore": "z-score against the trailing 30 days",
    "share": "Member articles, % of all articles",
    "articles": "Articles",
    "mentions": "Mentions",
    "weighted_articles": "Member articles weighted by score",
    "scaled_share": "Share / the source's standard deviation",
}
Y_COLUMNS = tuple(Y_TITLES)
#: Chart titles, short.
Y_NAMES = {
    "index_value": "Narrative index",
    "smoothed_7d": "Narrative index, 7-day average",
    "zscore": "z-score",
    "share": "Share of articles",
    "articles": "Articles",
    "mentions": "Mentions",
    "weighted_articles": "Score-weighted articles",
    "scaled_share": "Scaled share",
}
#: Index columns: their charts draw the base value 100.
INDEX_COLUMNS = frozenset({"index_value", "smoothed_7d"})
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
#: Width of the server-drawn SVG (export and no-JavaScript fallback).
SVG_WIDTH = 960
STATIC_FILES = {"vega-embed.js": "application/javascript", "tracker-charts.js": "application/javascript",
                "tracker-forms.js": "application/javascript"}


def _parse_day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def pick_y(columns: Sequence[str], wanted: str | None = None) -> str | None:
    """The column to chart: ``wanted`` if the rows have it, else the first of :data:`Y_COLUMNS`."""
    if wanted and wanted in columns and wanted != X_COLUMN:
        return wanted
    return next((c for c in Y_COLUMNS if c in columns), None)


def chart_spec_from_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    *,
    y: str | None = None,
    narratives: Mapping[str, str] | None = None,
    title: str | None = None,
    width: int | None = None,
) -> dict[str, Any] | None:
    """A chart of query rows with a ``day`` column, one line per narrative (or entity); None if unfit.

    ``narratives`` maps every narrative id of the store to its label: lines are labelled
    with it and coloured by it, so a narrative has the same colour on every page.
    """
    columns = list(columns)
    y_column = pick_y(columns, y)
    if X_COLUMN not in columns or y_column is None:
        return None
    narratives = dict(narratives or {})
    series_column = next((c for c in SERIES_COLUMNS if c in columns), None)
    values: dict[str, dict[date, list[float]]] = {}
    labels: dict[str, str] = {}
    spikes: dict[str, set[date]] = {}
    for row in rows:
        record = row if isinstance(row, Mapping) else dict(zip(columns, row, strict=False))
        day = _parse_day(record.get(X_COLUMN))
        if day is None:
            continue
        key = str(record.get(series_column)) if series_column else y_column
        bucket = values.setdefault(key, {}).setdefault(day, [])
        value = record.get(y_column)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            bucket.append(float(value))
        if series_column == "narrative_id" and record.get("label"):
            labels[key] = str(record["label"])
        if record.get("spike"):
            spikes.setdefault(key, set()).add(day)
    days = {d for by_day in values.values() for d, v in by_day.items() if v}
    if len(days) < 2:
        return None
    additive = y_column in ADDITIVE_COLUMNS
    # Narratives are coloured over every narrative of the store, so each keeps its colour.
    colours = series_colours([*narratives, *values] if series_column == "narrative_id" else values)
    series = []
    for key in sorted(values, key=lambda k: labels.get(k) or narratives.get(k) or k):
        points = [
            Point(day, (sum(v) if additive else sum(v) / len(v)) if v else None,
                  spike=day in spikes.get(key, set()))
            for day, v in sorted(values[key].items())
        ]
        label = labels.get(key) or narratives.get(key) or (Y_NAMES[y_column] if not series_column
                                                            else key)
        series.append(Series(key, label, points, colours[key]))
    if width is None:
        # In the browser: the cached fast spec whose points open their day's articles.
        def href(key: str, day: date) -> str | None:
            if series_column == "narrative_id":
                return pages.day_url(key, day.isoformat())
            if series_column == "entity_id":
                return pages.entity_url(key, day.isoformat())
            return None

        first, last = min(days), max(days)
        rows_out = []
        for s in series:
            # Every day of the span, missing ones as null, so a gap breaks the line.
            by_day = {p.day: p for p in s.points}
            for i in range((last - first).days + 1):
                d = first + timedelta(days=i)
                p = by_day.get(d)
                value = p.value if p is not None else None
                rows_out.append({"series": s.label, "day": d.isoformat(), "value": value,
                                 "spike": bool(p is not None and p.spike and value is not None),
                                 "href": href(s.key, d)})
        return serve_charts.series_spec(
            rows_out, labels=[s.label for s in series], colours=[s.colour or "#4e79a7" for s in series],
            y_title=Y_TITLES[y_column], title=title or f"{Y_NAMES[y_column]}, by day",
            base=100.0 if y_column in INDEX_COLUMNS else None,
            legend_title=("Narrative" if series_column == "narrative_id" else "Entity")
            if series_column else None)
    return line_chart(
        series,
        y_title=Y_TITLES[y_column],
        title=title or f"{Y_NAMES[y_column]}, by day",
        base=100.0 if y_column in INDEX_COLUMNS else None,
        width=width,
        height=280,
        series_legend=series_column is not None,
        series_title="Narrative" if series_column == "narrative_id" else "Entity",
        tooltips=width is None,
    )


def _script_json(spec: Mapping[str, Any]) -> str:
    """JSON safe inside <script>: no character can close the element or start a comment."""
    return (json.dumps(spec, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def chart_html(datasette: Any, spec: Mapping[str, Any], *, element_id: str, svg_url: str | None,
               caption: Markup, extra: Markup | None = None) -> Markup:
    """A figure the browser draws from ``spec``; without JavaScript, the server's SVG instead."""
    static = datasette.urls.path("/-/tracker-static/")
    title = spec.get("title")
    alt_text = title.get("text", "Chart") if isinstance(title, Mapping) else "Chart"
    fallback = (f'<noscript><img src="{escape(svg_url)}" alt="{escape(alt_text)}" '
                'style="max-width:100%"></noscript>' if svg_url else "")
    return Markup(
        f'<figure class="tracker-chart-wrap"><div class="tracker-chart" id="{escape(element_id)}" '
        f'data-spec-id="{escape(element_id)}-spec"></div>{fallback}'
        f'<script type="application/json" id="{escape(element_id)}-spec">{_script_json(spec)}</script>'
        f'<script src="{escape(static)}vega-embed.js?v={_static_version()}" defer></script>'
        f'<script src="{escape(static)}tracker-charts.js?v={_static_version()}" defer></script>'
        f"{extra or ''}<figcaption>{caption}</figcaption></figure>"
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


async def narrative_labels(datasette: Any) -> dict[str, str]:
    """Every narrative id of the served store with its label (for line labels and colours)."""
    try:
        db = datasette.get_database(DATABASE_NAME)
    except KeyError:
        return {}
    result = await db.execute("select id, coalesce(label, id) from narratives")
    return {str(r[0]): str(r[1]) for r in result.rows}


OVERVIEW_SQL = """
select ni.day, ni.narrative_id, coalesce(n.label, n.id) as label,
  coalesce(ni.smoothed_7d, ni.index_value) as value, ni.spike, ni.articles, ni.index_value
from narrative_index ni
join narratives n on n.id = ni.narrative_id
where ni.day >= (select date(max(day), :window) from narrative_index)
order by ni.day
"""


async def overview_chart(datasette: Any, days: int = 90) -> Markup:
    """Every narrative's 7-day index over the last ``days`` days, clickable, with coverage.

    Each point and ringed spike links to that narrative-day's member articles; the strip
    under the chart shows the sources present each day; the pick lists and the latest
    spikes (links, easier than a dot on a phone) follow.
    """
    try:
        db = datasette.get_database(DATABASE_NAME)
    except KeyError:
        return Markup("")
    picker = Markup("")
    result = await db.execute(OVERVIEW_SQL, {"window": f"-{days - 1} days"})
    found = [dict(r) for r in result.rows]
    valid_days = {r["day"] for r in found if r["value"] is not None}
    if len(valid_days) < 2:
        return picker + Markup(
            '<p class="tracker-chart-empty" id="tracker-index-chart">No index computed yet: '
            "run <code>tracker run</code> to fetch, enrich and index the feeds.</p>"
        )
    labels = [n["label"] for n in (await pages._picks(datasette))["narratives"]]
    for r in found:
        r["href"] = pages.day_url(r["narrative_id"], r["day"])
        r["value"] = None if r["value"] is None else round(r["value"], 1)
    start, end = found[0]["day"], found[-1]["day"]
    spec = serve_charts.overview_spec(
        found, labels or sorted({r["label"] for r in found}),
        title=f"Narrative index, 7-day average, last {days} days",
        subtitle="100 = a narrative's usual day; ringed: spikes. Click a dot for its articles.")
    cover = await db.execute("select day, articles, sources, covered from coverage_daily "
                             "where day between ? and ? order by day", [start, end])
    strip = serve_charts.coverage_spec([dict(r) for r in cover.rows], start=start, end=end)
    spikes = sorted((r for r in found if r["spike"]), key=lambda r: r["day"], reverse=True)[:8]
    spike_items = "".join(
        f'<li><a href="{escape(r["href"])}">{escape(r["label"])}, '
        f'{escape(pages._day_words(r["day"]))}</a>: {escape(pages._fmt(r["index_value"]))}</li>'
        for r in spikes)
    link = datasette.urls.query(DATABASE_NAME, "narrative_index_range")
    svg_url = link + ".svg?" + urlencode(
        {"narrative": "", "start": "", "end": "", "_chart_y": "smoothed_7d"})
    figure = chart_html(
        datasette, spec, element_id="tracker-index-chart", svg_url=svg_url,
        caption=Markup(f"Under the chart: sources with articles each day (red: too few to measure). "
                       f'<a href="{escape(link)}">The index over any date range</a>.'),
        extra=pages._spec_html("tracker-coverage-strip", strip,
                               datasette.urls.path("/-/tracker-static/"), _static_version()),
    )
    spike_list = (Markup('<h2>Latest spikes</h2><ul class="tracker-spikes">') + Markup(spike_items)
                  + Markup("</ul>")) if spikes else Markup("")
    return picker + figure + spike_list


def _svg_link(request: Any) -> str | None:
    if request is None:
        return None
    path = request.path
    dot = path.rsplit("/", 1)[-1].find(".")
    if dot != -1:  # a page already ending in .json or similar has no chart
        return None
    query = request.query_string
    return f"{path}.svg" + (f"?{query}" if query else "")


async def rows_chart(datasette: Any, columns: Sequence[str], rows: Sequence[Any],
                     request: Any) -> Markup:
    """Chart the rows on a page (with links to chart other columns); empty Markup if unfit."""
    wanted = request.args.get("_chart_y") if request is not None else None
    y_column = pick_y(columns, wanted)
    spec = chart_spec_from_rows(columns, rows, y=y_column,
                                narratives=await narrative_labels(datasette))
    if spec is None or y_column is None:
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
    svg_url = _svg_link(request)
    export = f' · <a href="{escape(svg_url)}">SVG</a>' if svg_url else ""
    strip, strip_note = None, ""
    chart_days = sorted(r["day"] for r in spec.get("datasets", {}).get("rows", []) if r.get("day"))
    if "narrative_id" in columns and chart_days:
        # An index chart: the coverage strip (sources present each day) under it.
        db = datasette.get_database(DATABASE_NAME)
        cover = await db.execute("select day, articles, sources, covered from coverage_daily "
                                 "where day between ? and ? order by day",
                                 [chart_days[0], chart_days[-1]])
        strip = pages._spec_html(
            "tracker-coverage-strip",
            serve_charts.coverage_spec([dict(r) for r in cover.rows], start=chart_days[0],
                                       end=chart_days[-1]),
            datasette.urls.path("/-/tracker-static/"), _static_version())
        strip_note = " Under it: sources with articles each day (red: too few to measure)."
    return chart_html(
        datasette, spec, element_id="tracker-index-chart", svg_url=svg_url,
        caption=Markup(f"Chart of the rows below (gaps are days without a value; spikes ringed; "
                       f"click a point for that day's articles){export}.{strip_note} "
                       f"Chart: {' · '.join(links)}"),
        extra=strip,
    )


@hookimpl
def extra_template_vars(datasette: Any) -> dict[str, Any]:
    """Expose the chart helpers to the templates in tracker/serve/datasette/templates."""

    async def tracker_overview_chart(days: int = 90) -> Markup:
        return await overview_chart(datasette, days)

    async def tracker_chart(columns: Sequence[str], rows: Sequence[Any], request: Any) -> Markup:
        return await rows_chart(datasette, columns, rows, request)

    async def tracker_search_count(request: Any) -> int | None:
        if request is None:
            return None
        return await exports.search_count(
            datasette, [(k, v) for k in request.args for v in request.args.getlist(k)])

    async def tracker_pick_lists() -> Markup:
        """The canned-query forms' pick lists: options as JSON and the script using them."""
        picks = await pages._picks(datasette)
        options = {"narratives": picks["narratives"],
                   "entities": [{"id": e["id"], "name": e["name"]} for e in picks["entities"]],
                   "narrative_blank": "(all or default)"}
        static = datasette.urls.path("/-/tracker-static/")
        return Markup(f'<script type="application/json" id="tracker-pick-options">{_script_json(options)}'
                      f'</script><script src="{escape(static)}tracker-forms.js?v={_static_version()}" '
                      'defer></script>')

    return {"tracker_chart": tracker_chart, "tracker_overview_chart": tracker_overview_chart,
            "tracker_search_count": tracker_search_count, "tracker_pick_lists": tracker_pick_lists}


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    """``source_name(name, title)`` in SQL: canned queries show sources in words, not slugs."""
    conn.create_function("source_name", 2, readable_source, deterministic=True)


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Complete canned-query exports and fast article searches (tracker.serve.exports)."""
    return exports.wrap(datasette, check_params)


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Any:
    """Evidence JSON as a list; days, narratives, entities and articles link to their pages.

    A ``day`` next to a ``narrative_id`` (index rows, query results) opens that
    narrative-day's member articles; ids open the reader's pages, not the raw rows.
    """
    if database != DATABASE_NAME:
        return None
    if column == "evidence" and isinstance(value, str):
        return evidence_html(value)
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value):
        # Rounded for reading (the full value on hover; JSON and CSV keep every digit).
        return Markup(f'<span title="{value!r}">{escape(round_for_reading(value))}</span>')
    keys = row.keys() if hasattr(row, "keys") else ()
    if column == "day" and "narrative_id" in keys and row["narrative_id"] is not None:
        narrative = row["narrative_id"]
        narrative = narrative.value if hasattr(narrative, "value") else narrative
        href = pages.day_url(str(narrative), str(value)[:10])
        return Markup(f'<a href="{escape(href)}">{escape(str(value))}</a>')
    page = PAGE_LINKS.get((table, column)) or (PAGE_LINKS.get((None, column)))
    if page is not None:
        return Markup(f'<a href="{escape(page(str(value)))}">{escape(str(value))}</a>')
    if table is None and column in ROW_LINKS:
        href = datasette.urls.row(database, ROW_LINKS[column], tilde_encode(str(value)))
        return Markup(f'<a href="{escape(href)}">{escape(str(value))}</a>')
    return None


def round_for_reading(value: float) -> str:
    """103.2345 -> "103.2", 0.000123 -> "0.000123", 12345.6 -> "12,346": digits that matter."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:,.1f}"
    return f"{value:.3g}"


#: (table or None for any, column) -> the reader's page a value links to.
PAGE_LINKS: dict[tuple[str | None, str], Any] = {
    (None, "narrative_id"): pages.narrative_url,
    (None, "entity_id"): pages.entity_url,
    (None, "article_id"): lambda v: pages.article_url(int(v)) if v.isdigit() else "#",
    ("narratives", "id"): pages.narrative_url,
    ("entities", "id"): pages.entity_url,
    ("articles", "id"): lambda v: pages.article_url(int(v)) if v.isdigit() else "#",
}


# --------------------------------------------------------------------------- read-only

#: Datasette's write permissions: denied to everyone, so no page offers an edit. The
#: connections are read-only anyway (tracker.serve.server.ReadOnlyDatabase).
WRITE_ACTIONS = frozenset({
    "insert-row", "delete-row", "update-row", "create-table", "alter-table", "drop-table",
})


@hookimpl
def permission_allowed(actor: Any, action: str) -> bool | None:
    """Deny every write action; leave every other decision to Datasette and other plugins."""
    return False if action in WRITE_ACTIONS else None


# --------------------------------------------------------------------------- parameters

#: Canned-query parameters and what they hold (trimmed; empty means the query's default).
DAY_PARAMS = frozenset({"start", "end", "day", "week_ending"})
TIME_PARAMS = frozenset({"as_of"})
COUNT_PARAMS = frozenset({"days"})


def check_params(args: Mapping[str, str]) -> None:
    """Raise an SQLite error naming the first parameter that is not a day, time or count.

    Raised while Datasette binds ``:_check_params``, so the query page shows the message
    above its form (and ``.json`` answers 400 with it) instead of an empty result.
    """
    for name in sorted(DAY_PARAMS | TIME_PARAMS | COUNT_PARAMS):
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if name in DAY_PARAMS:
            if len(value) == 10 and _parse_day(value) is not None:
                continue
            raise sqlite3.OperationalError(
                f"{name} = {value!r} is not a day: write it as YYYY-MM-DD (e.g. 2026-02-21), "
                "or leave it empty for the default."
            )
        if name in TIME_PARAMS:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                continue
            except ValueError:
                raise sqlite3.OperationalError(
                    f"{name} = {value!r} is not a time: write a UTC time as "
                    "YYYY-MM-DDTHH:MM:SSZ or a day as YYYY-MM-DD, or leave it empty for the "
                    "latest fetch."
                ) from None
        if not (value.isdigit() and 1 <= int(value) <= 36500):
            raise sqlite3.OperationalError(
                f"{name} = {value!r} is not a number of days: write a whole number from 1 "
                "up, or leave it empty for the default."
            )


def _check_params(key: str, request: Any) -> None:
    check_params(request.args if request is not None else {})


@hookimpl
def register_magic_parameters(datasette: Any) -> list[tuple[str, Any]]:
    """``:_check_params`` in a canned query validates the request's parameters (binds NULL)."""
    return [("check", _check_params)]


# --------------------------------------------------------------------------- files, errors, export


@cache
def _static_version() -> str:
    """A cache-busting token: the vendored bundle's size and our script's size."""
    folder = packaged("serve", "static")
    return "-".join(str((folder / name).stat().st_size) for name in sorted(STATIC_FILES))


@cache
def _static_bytes(name: str) -> bytes:
    return packaged("serve", "static", name).read_bytes()


async def _static(request: Any) -> Response:
    name = request.url_vars["name"]
    if name not in STATIC_FILES:
        raise NotFound(f"No static file {name}")
    return Response(
        _static_bytes(name), content_type=f"{STATIC_FILES[name]}; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """Serve the chart scripts from the package: pages load nothing from the network."""
    return [(r"^/-/tracker-static/(?P<name>[A-Za-z0-9_.-]+)$", _static),
            (r"^/-/alerts\.atom$", alerts_atom), *pages.ROUTES]


@hookimpl
def handle_exception(request: Any, exception: BaseException) -> None:
    """Log server errors (4xx are the user's, shown on the page); Datasette renders the page."""
    status = getattr(exception, "status", 500)
    if not isinstance(status, int) or status >= 500:
        log.error("Error serving %s", getattr(request, "path", "?"), exc_info=exception)


def _can_render_svg(columns: Sequence[str]) -> bool:
    return X_COLUMN in columns and pick_y(columns) is not None


async def _render_svg(datasette: Any, columns: Sequence[str], rows: Sequence[Any],
                      request: Any) -> Response:
    wanted = request.args.get("_chart_y") if request is not None else None
    spec = chart_spec_from_rows(columns, rows, y=wanted, width=SVG_WIDTH,
                                narratives=await narrative_labels(datasette))
    if spec is None:
        # Raised, not returned: Datasette forces a returned response's status to 200.
        raise BadRequest(
            "Nothing to chart: the rows need a 'day' column with at least two days and a "
            f"numeric column ({', '.join(Y_COLUMNS)}); choose one with ?_chart_y=COLUMN."
        )
    # vl-convert takes a tenth of a second or more: keep the event loop free meanwhile.
    svg = await asyncio.get_running_loop().run_in_executor(None, to_svg, spec)
    return Response(svg, content_type="image/svg+xml; charset=utf-8")


@hookimpl
def register_output_renderer(datasette: Any) -> dict[str, Any]:
    """Offer ``.svg`` (a line chart) on every table or query with a day and a value column."""
    return {"extension": "svg", "render": _render_svg, "can_render": _can_render_svg}
