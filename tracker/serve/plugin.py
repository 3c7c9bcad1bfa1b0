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
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import BadRequest, NotFound, Response
from markupsafe import Markup, escape

from tracker.base.resources import packaged
from tracker.report.charts import INDEX_TITLE, Point, Series, line_chart, series_colours, to_svg
from tracker.serve.alerts_feed import alerts_atom

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
STATIC_FILES = {"vega-embed.js": "application/javascript", "tracker-charts.js": "application/javascript"}


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
               caption: Markup) -> Markup:
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
        f"<figcaption>{caption}</figcaption></figure>"
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
select ni.day, ni.narrative_id, n.label, coalesce(ni.smoothed_7d, ni.index_value) as smoothed_7d,
  ni.spike
from narrative_index ni
join narratives n on n.id = ni.narrative_id
where ni.day >= (select date(max(day), :window) from narrative_index)
order by ni.day
"""


async def overview_chart(datasette: Any, days: int = 90) -> Markup:
    """The smoothed index of every narrative over the last ``days`` computed days."""
    try:
        db = datasette.get_database(DATABASE_NAME)
    except KeyError:
        return Markup("")
    result = await db.execute(OVERVIEW_SQL, {"window": f"-{days - 1} days"})
    columns = ["day", "narrative_id", "label", "smoothed_7d", "spike"]
    spec = chart_spec_from_rows(
        columns, [tuple(r) for r in result.rows], narratives=await narrative_labels(datasette),
        title=f"Narrative index, 7-day average, last {days} days",
    )
    if spec is None:
        return Markup(
            '<p class="tracker-chart-empty" id="tracker-index-chart">No index computed yet: '
            "run <code>tracker run</code> to fetch, enrich and index the feeds.</p>"
        )
    link = datasette.urls.query(DATABASE_NAME, "narrative_index_range")
    svg_url = datasette.urls.query(DATABASE_NAME, "narrative_index_range") + ".svg?" + urlencode(
        {"narrative": "", "start": "", "end": "", "_chart_y": "smoothed_7d"})
    return chart_html(
        datasette, spec, element_id="tracker-index-chart", svg_url=svg_url,
        caption=Markup(f'Gaps are days without an index value; spikes are ringed. '
                       f'<a href="{escape(link)}">Explore the index over any date range</a>.'),
    )


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
    return chart_html(
        datasette, spec, element_id="tracker-index-chart", svg_url=svg_url,
        caption=Markup(f"Chart of the rows below (gaps are days without a value; spikes ringed)"
                       f"{export}. Chart: {' · '.join(links)}"),
    )


@hookimpl
def extra_template_vars(datasette: Any) -> dict[str, Any]:
    """Expose the chart helpers to the templates in tracker/serve/datasette/templates."""

    async def tracker_overview_chart(days: int = 90) -> Markup:
        return await overview_chart(datasette, days)

    async def tracker_chart(columns: Sequence[str], rows: Sequence[Any], request: Any) -> Markup:
        return await rows_chart(datasette, columns, rows, request)

    return {"tracker_chart": tracker_chart, "tracker_overview_chart": tracker_overview_chart}


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
            (r"^/-/alerts\.atom$", alerts_atom)]


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
