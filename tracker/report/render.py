"""Render :class:`ReportData` to Markdown and HTML (pure functions; article text is escaped).

Article text is data: it is escaped for the output format and links are kept only when
they are plain http(s) URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from tracker.report.charts import Series, line_chart, series_colours, to_svg
from tracker.report.data import NarrativeReport, ReportData, fmt_num, fmt_p, fmt_pct, fmt_share, fmt_signed
from tracker.report.dynamics_section import section_html
from tracker.report.lead import lead_items, steady_line, summary_lines

# --------------------------------------------------------------------------- rendering

_SLUG_RE = re.compile(r"[^A-Za-z0-9_-]+")


def chart_slug(narrative_id: str) -> str:
    """A file-name-safe form of a narrative id."""
    return _SLUG_RE.sub("-", narrative_id).strip("-") or "narrative"


def chart_window(data: ReportData, narrative: NarrativeReport) -> tuple[date, date]:
    """The chart's x range: the trailing quarter and the week, trimmed to where data starts."""
    start = data.week.quarter_start
    days = [p.day for p in narrative.series]
    start = max(start, min(min(days), data.week.start)) if days else data.week.start
    return start, data.week.end


#: Chart sizes (whole chart, pixels): the wide one for files, print and screens from about
#: 640 px; the narrow one replaces it on phones, where the wide one would shrink its text.
WIDE = (860, 220)
NARROW = (360, 200)


@dataclass(frozen=True)
class ReportChart:
    """One narrative's chart as standalone SVG, wide (files, desktop, print) and narrow (phones)."""

    svg: str
    narrow: str


def chart_spec(data: ReportData, narrative: NarrativeReport, *, width: int, height: int,
               colours: Mapping[str, str]) -> dict[str, Any]:
    """The Vega-Lite spec of a narrative's chart: index and 7-day average, week shaded, spikes."""
    start, end = chart_window(data, narrative)
    return line_chart(
        [Series(narrative.id, narrative.label, narrative.series, colours[narrative.id])],
        title=narrative.label,
        subtitle=f"Daily index and its 7-day average, {start:%d %b %Y} to {end:%d %b %Y}",
        start=start,
        end=end,
        highlight=(data.week.start, data.week.end),
        highlight_label=f"Week {data.week.number}",
        width=width,
        height=height,
    )


def render_charts(data: ReportData, *, narrow: bool = True) -> dict[str, ReportChart]:
    """Each narrative's chart drawn to SVG, colours shared with Datasette (:func:`series_colours`)."""
    colours = series_colours(n.id for n in data.narratives)
    charts = {}
    for n in data.narratives:
        wide = to_svg(chart_spec(data, n, width=WIDE[0], height=WIDE[1], colours=colours))
        small = (to_svg(chart_spec(data, n, width=NARROW[0], height=NARROW[1], colours=colours))
                 if narrow else "")
        charts[n.id] = ReportChart(wide, small)
    return charts


class MdText(str):
    """Markdown that is already safe: the Markdown renderer emits it unescaped."""


_MD_BACKSLASH = frozenset("\\`*_[]")
# Entities work in every Markdown flavour; backslash escapes of these do not (Python-Markdown).
_MD_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "|": "&#124;", "~": "&#126;"}
# List markers need a space (or the end) after them, so "3.3%" stays as it is.
_MD_BLOCK_START = re.compile(r"^(?:[#+\-]|\d{1,9}[.)](?=\s|$))")


def md_escape(text: Any) -> str:
    """Make text inert in Markdown: no HTML, links, emphasis, code or block markers survive."""
    s = " ".join(str(text).split())
    out = []
    for ch in s:
        if ch in _MD_BACKSLASH:
            out.append("\\" + ch)
        else:
            out.append(_MD_ENTITY.get(ch, ch))
    s = "".join(out)
    m = _MD_BLOCK_START.match(s)
    if m:
        marker = m.group(0)
        s = (
            "\\" + marker + s[len(marker) :]
            if len(marker) == 1
            else marker[:-1] + "\\" + marker[-1] + s[len(marker) :]
        )
    elif s[:1] == "=":
        s = "&#61;" + s[1:]
    return s


def _md_finalize(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, MdText):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return md_escape(value)


def _md_link(text: Any, url: str | None) -> MdText:
    label = md_escape(text) or "link"
    return MdText(f"[{label}]({url})" if url else label)


def _fence(text: str) -> MdText:
    runs = [len(r) for r in re.findall(r"`+", text)]
    return MdText("`" * max(3, max(runs, default=0) + 1))


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _shell_arg(literal: str) -> str:
    """Quote a SQL literal as one argument of a sqlite3 shell dot-command."""
    if re.fullmatch(r"[\w.+-]+", literal):
        return literal
    return '"' + literal.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _param_lines(params: Mapping[str, Any]) -> str:
    """``.param set`` lines for the sqlite3 shell, so a query can be rerun as shown."""
    return "\n".join(
        f".param set :{k} {_shell_arg(_sql_literal(v))}" for k, v in params.items()
    )


def _common_filters() -> dict[str, Any]:
    return {
        "num": fmt_num,
        "signed": fmt_signed,
        "pct": fmt_pct,
        "pval": fmt_p,
        "share": fmt_share,
        "param_lines": _param_lines,
    }


def _as_md(fn: Callable[..., str]) -> Callable[..., MdText]:
    return lambda *args, **kwargs: MdText(fn(*args, **kwargs))


def _environment(markdown: bool) -> jinja2.Environment:
    loader = jinja2.PackageLoader("tracker.report", "templates")
    if markdown:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            finalize=_md_finalize,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        # Figures formatted here are digits and signs only: mark them safe to keep the source tidy.
        env.filters.update({k: _as_md(f) for k, f in _common_filters().items()})
        env.filters["link"] = _md_link
        env.filters["raw"] = MdText
        env.filters["fence"] = _fence
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters.update(_common_filters())
    return env


def queries_name(data: ReportData, ext: str) -> str:
    """File name of the report's queries file (beside the report)."""
    return f"report-{data.week.label}-queries.{ext}"


def _context(data: ReportData, *, markdown: bool) -> dict[str, Any]:
    qfile = queries_name(data, "md" if markdown else "html")

    def qref(name: str) -> str:
        # A named query, linked to its SQL and parameters in the queries file.
        if markdown:
            return MdText(f"query [`{name}`]({qfile}#{name})")
        return Markup('query <a href="{}#{}"><code>{}</code></a>').format(qfile, name, name)

    return {
        "data": data,
        "week": data.week,
        "summary": summary_lines(data),
        "lead": lead_items(data) if data.has_index else [],
        "steady": steady_line(data) if data.has_index else None,
        "missing_weekly": [n.label for n in data.narratives if n.weekly is None],
        "low_days": [d for d in data.daily_volume if d.low],
        "queries": data.queries,
        "queries_file": qfile,
        "qref": qref,
    }


def render_markdown(data: ReportData, chart_links: Mapping[str, str] | None = None) -> str:
    """The report as Markdown; ``chart_links`` maps narrative ids to relative SVG paths."""
    links = {k: MdText(quote(v, safe="/._-")) for k, v in (chart_links or {}).items()}
    return _environment(markdown=True).get_template("report.md.j2").render(
        **_context(data, markdown=True), chart_links=links
    )


def render_html(data: ReportData, charts: Mapping[str, ReportChart] | None = None, *,
                dynamics_svg: str | None = None) -> str:
    """The report as one self-contained HTML page with the SVG charts inline (``charts`` and
    ``dynamics_svg`` when the caller has drawn them already, as :func:`write_report` has)."""
    drawn = render_charts(data) if charts is None else charts
    # vl-convert's SVG escapes every label it draws; nothing else is marked safe.
    svgs = {k: {"wide": Markup(c.svg), "narrow": Markup(c.narrow)} for k, c in drawn.items()}
    dynamics_html = section_html(data.dynamics_markdown) if data.dynamics_markdown else ""
    if dynamics_svg is None:
        dynamics_svg = to_svg(data.dynamics_chart) if data.dynamics_chart else ""
    return _environment(markdown=False).get_template("report.html.j2").render(
        **_context(data, markdown=False), charts=svgs, dynamics_html=dynamics_html,
        dynamics_svg=dynamics_svg,
    )


def render_queries(data: ReportData, *, markdown: bool) -> str:
    """The queries file: every query the report ran, with its parameters and SQL."""
    report_file = f"report-{data.week.label}.{'md' if markdown else 'html'}"
    name = "queries.md.j2" if markdown else "queries.html.j2"
    return _environment(markdown=markdown).get_template(name).render(
        **_context(data, markdown=markdown), report_file=report_file
    )
