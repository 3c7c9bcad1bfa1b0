"""Vega-Lite specs (altair) for the served pages: every point links to the day it shows.

Each point carries an ``href`` (Vega-Lite's href encoding): a click opens that
narrative-day's member articles, or that entity-day's articles. Charts fill their
container's width (``width: "container"``) so the pages work from 400 px up; the
coverage strip (sources present per day) is a separate short chart under each index
chart, on the same day axis. Specs are built without schema validation (it costs more
than the page's queries) and are pure functions of the rows given.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import altair as alt

from tracker.report.charts import PALETTE

#: Axis and legend fonts readable at 400 px.
_CONFIG = {
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom",
               "direction": "vertical", "labelLimit": 320},
    "view": {"stroke": "#bbbbbb"},
    # The same room for every left axis, so a coverage strip lines up with its chart.
    "axisY": {"minExtent": 48, "maxExtent": 48},
    "title": {"anchor": "start", "fontSize": 14, "subtitleFontSize": 11},
}
DAY_AXIS = alt.Axis(format="%d %b %y", labelOverlap="greedy", labelFlush=True, title=None)


def _finish(chart: alt.TopLevelMixin, *, title: str | None = None,
            subtitle: str | None = None) -> dict[str, Any]:
    chart = chart.properties(width="container", autosize=alt.AutoSizeParams(
        type="fit-x", contains="padding"))
    if title:
        # Short subtitle lines: a 400 px screen shows them whole.
        lines = textwrap.wrap(subtitle, 58) if subtitle else alt.Undefined
        chart = chart.properties(title=alt.TitleParams(text=title, subtitle=lines))
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["config"] = _CONFIG
    return spec


def _with_data(template: dict[str, Any], **datasets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A shallow copy of a cached spec with its named datasets filled in."""
    spec = dict(template)
    spec["datasets"] = {name: [dict(r) for r in rows] for name, rows in datasets.items()}
    return spec


def colour_scale(labels: Sequence[str]) -> alt.Scale:
    """The same colour for a narrative on every chart: the palette in the order of all labels."""
    return alt.Scale(domain=list(labels), range=[PALETTE[i % len(PALETTE)] for i in range(len(labels))])


def overview_spec(rows: Sequence[Mapping[str, Any]], labels: Sequence[str], *,
                  title: str, subtitle: str) -> dict[str, Any]:
    """Every narrative's 7-day index, one line each; points and ringed spikes link to the day.

    ``rows``: day, label, value, spike (0/1), articles, href.
    """
    return _with_data(_overview(tuple(labels), title, subtitle), rows=rows)


@lru_cache(maxsize=64)
def _overview(labels: tuple[str, ...], title: str, subtitle: str) -> dict[str, Any]:
    data = alt.NamedData(name="rows")
    colour = alt.Color("label:N", title="Narrative", scale=colour_scale(labels))
    x = alt.X("day:T", axis=DAY_AXIS)
    y = alt.Y("value:Q", title="Index, 7-day average (100 = usual)")
    tip = [alt.Tooltip("label:N", title="Narrative"), alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
           alt.Tooltip("value:Q", title="Index", format=",.0f"),
           alt.Tooltip("articles:Q", title="Member articles", format=",.0f")]
    base = alt.Chart(data)
    lines = base.mark_line(strokeWidth=1.8, interpolate="monotone").encode(x=x, y=y, color=colour)
    points = (base.transform_filter("isValid(datum.value)")
              .mark_point(filled=True, size=22, opacity=0.55, cursor="pointer")
              .encode(x=x, y=y, color=colour, href="href:N", tooltip=tip))
    spikes = (alt.Chart(data, name="spikes").transform_filter("datum.spike == 1")
              .mark_point(filled=True, size=110, stroke="#000000", strokeWidth=1.5, opacity=1,
                          cursor="pointer")
              .encode(x=x, y=y, color=colour, href="href:N", tooltip=tip))
    rule = alt.Chart(alt.Data(values=[{"base": 100}])).mark_rule(
        color="#999999", strokeDash=[4, 3]).encode(y="base:Q")
    chart = alt.layer(rule, lines, points, spikes).properties(height=260)
    return _finish(chart, title=title, subtitle=subtitle)


def coverage_spec(rows: Sequence[Mapping[str, Any]], *, start: str, end: str) -> dict[str, Any]:
    """The coverage strip: sources with articles each day (grey bars, uncovered days red)."""
    return _with_data(_coverage(start, end), rows=rows)


@lru_cache(maxsize=256)
def _coverage(start: str, end: str) -> dict[str, Any]:
    data = alt.NamedData(name="rows")
    chart = alt.Chart(data).mark_bar().encode(
        # No day labels: the chart above, on the same days, has them.
        x=alt.X("day:T", axis=alt.Axis(labels=False, title=None, ticks=False),
                scale=alt.Scale(domain=[start, end])),
        y=alt.Y("sources:Q", title="Sources", axis=alt.Axis(tickCount=2)),
        color=alt.condition("datum.covered == 1", alt.value("#9a9a9a"), alt.value("#d62728")),
        tooltip=[alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
                 alt.Tooltip("sources:Q", title="Sources"),
                 alt.Tooltip("articles:Q", title="Articles", format=",.0f")],
    ).properties(height=50)
    return _finish(chart)


def narrative_spec(rows: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]], *,
                   title: str, colour: str, start: str, end: str) -> dict[str, Any]:
    """One narrative's daily index with its interval, 7-day line, spikes and calendar events.

    ``rows``: day, value, low, high, smoothed, spike, articles, href. ``events``: day, title.
    """
    return _with_data(_narrative(title, colour, bool(events), start, end), rows=rows, events=events)


@lru_cache(maxsize=256)
def _narrative(title: str, colour: str, with_events: bool, start: str, end: str) -> dict[str, Any]:
    data = alt.NamedData(name="rows")
    x = alt.X("day:T", axis=DAY_AXIS, scale=alt.Scale(domain=[start, end]))
    tip = [alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
           alt.Tooltip("value:Q", title="Index", format=",.0f"),
           alt.Tooltip("low:Q", title="Interval from", format=",.0f"),
           alt.Tooltip("high:Q", title="to", format=",.0f"),
           alt.Tooltip("articles:Q", title="Member articles", format=",.0f")]
    base = alt.Chart(data)
    band = base.transform_filter("isValid(datum.low)").mark_area(opacity=0.18, color=colour).encode(
        x=x, y=alt.Y("low:Q", title="Index (100 = usual day)"), y2="high:Q")
    smooth = base.mark_line(color=colour, strokeWidth=2.2).encode(x=x, y="smoothed:Q")
    points = (base.transform_filter("isValid(datum.value)")
              .mark_point(filled=True, size=22, color=colour, opacity=0.7, cursor="pointer")
              .encode(x=x, y="value:Q", href="href:N", tooltip=tip))
    spikes = (alt.Chart(data, name="spikes").transform_filter("datum.spike == 1")
              .mark_point(filled=True, size=110, color=colour, stroke="#000000", strokeWidth=1.5,
                          opacity=1, cursor="pointer")
              .encode(x=x, y="value:Q", href="href:N", tooltip=tip))
    rule = alt.Chart(alt.Data(values=[{"base": 100}])).mark_rule(
        color="#999999", strokeDash=[4, 3]).encode(y="base:Q")
    layers = [rule, band, smooth, points, spikes]
    if with_events:
        layers.insert(1, alt.Chart(alt.NamedData(name="events"), name="events")
                      .mark_rule(color="#b35806", strokeDash=[2, 2], strokeWidth=1.2)
                      .encode(x=x, tooltip=[alt.Tooltip("day:T", title="Event", format="%d %b %Y"),
                                            alt.Tooltip("title:N", title="What")]))
    return _finish(alt.layer(*layers).properties(height=260), title=title,
                   subtitle="Dots: each day (shaded: its interval); line: 7-day average; "
                            "ringed: spikes; dashed brown: calendar events. Click a dot for its articles.")


def stance_spec(rows: Sequence[Mapping[str, Any]], *, colour: str, start: str, end: str) -> dict[str, Any]:
    """Weekly net stance with its interval (``rows``: week_start, stance, low, high, articles, href)."""
    return _with_data(_stance(colour, start, end), rows=rows)


@lru_cache(maxsize=256)
def _stance(colour: str, start: str, end: str) -> dict[str, Any]:
    data = alt.NamedData(name="rows")
    x = alt.X("week_start:T", axis=DAY_AXIS, scale=alt.Scale(domain=[start, end]))
    tip = [alt.Tooltip("week_start:T", title="Week of", format="%d %b %Y"),
           alt.Tooltip("stance:Q", title="Net stance", format="+.2f"),
           alt.Tooltip("low:Q", title="Interval from", format="+.2f"),
           alt.Tooltip("high:Q", title="to", format="+.2f"),
           alt.Tooltip("articles:Q", title="Articles with a stance", format=",.0f")]
    base = alt.Chart(data)
    bars = base.mark_rule(color=colour, strokeWidth=2, opacity=0.5).encode(
        x=x, y=alt.Y("low:Q", title="Net stance (-1 to +1)", scale=alt.Scale(domain=[-1, 1])), y2="high:Q")
    points = base.mark_point(filled=True, size=40, color=colour, cursor="pointer").encode(
        x=x, y="stance:Q", href="href:N", tooltip=tip)
    zero = alt.Chart(alt.Data(values=[{"z": 0}])).mark_rule(color="#999999").encode(y="z:Q")
    return _finish(alt.layer(zero, bars, points).properties(height=150),
                   title="Net stance by week",
                   subtitle="Mean stance of member articles with a 90% interval (sources-days as clusters).")


def entity_spec(rows: Sequence[Mapping[str, Any]], *, title: str, start: str, end: str) -> dict[str, Any]:
    """Articles naming an entity per 1,000 articles that day (``rows``: day, per_1000, articles, href)."""
    return _with_data(_entity(title, start, end), rows=rows)


@lru_cache(maxsize=256)
def _entity(title: str, start: str, end: str) -> dict[str, Any]:
    data = alt.NamedData(name="rows")
    x = alt.X("day:T", axis=DAY_AXIS, scale=alt.Scale(domain=[start, end]))
    tip = [alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
           alt.Tooltip("per_1000:Q", title="Per 1,000 articles", format=",.1f"),
           alt.Tooltip("articles:Q", title="Articles naming it", format=",.0f"),
           alt.Tooltip("total:Q", title="Articles that day", format=",.0f")]
    base = alt.Chart(data)
    area = base.mark_area(opacity=0.25, color=PALETTE[0]).encode(
        x=x, y=alt.Y("per_1000:Q", title="Articles naming it per 1,000"))
    points = (base.transform_filter("datum.articles > 0")
              .mark_point(filled=True, size=18, color=PALETTE[0], cursor="pointer")
              .encode(x=x, y="per_1000:Q", href="href:N", tooltip=tip))
    return _finish(alt.layer(area, points).properties(height=220), title=title,
                   subtitle="Normalised by the day's coverage; click a dot for that day's articles.")


def series_spec(rows: Sequence[Mapping[str, Any]], *, labels: Sequence[str], colours: Sequence[str],
                y_title: str, title: str, base: float | None, legend_title: str | None) -> dict[str, Any]:
    """One line per series of query rows; every point links to its day (``rows``: series, day,
    value, spike, href). Layers are named as the report's charts name them (lines,
    base_rule, spikes), and the last layer carries the colour scale."""
    return _with_data(_series(tuple(labels), tuple(colours), y_title, title, base, legend_title),
                      rows=rows)


@lru_cache(maxsize=256)
def _series(labels: tuple[str, ...], colours: tuple[str, ...], y_title: str, title: str,
            base: float | None, legend_title: str | None) -> dict[str, Any]:
    data = alt.NamedData(name="rows")
    colour = alt.Color("series:N", title=legend_title, scale=alt.Scale(domain=list(labels), range=list(colours)),
                       legend=alt.Legend(title=legend_title) if legend_title else None)
    x = alt.X("day:T", axis=DAY_AXIS)
    y = alt.Y("value:Q", title=y_title)
    tip = [alt.Tooltip("series:N", title=legend_title or "Series"),
           alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
           alt.Tooltip("value:Q", title="Value", format=",.2f")]
    layers: list[Any] = []
    if base is not None:
        layers.append(alt.Chart(alt.Data(values=[{"base": base}]), name="base_rule").mark_rule(
            color="#999999", strokeDash=[4, 3]).encode(y="base:Q"))
    # invalid=None: a null value breaks the line (a day without a value is a gap, not a slope).
    layers.append(alt.Chart(data, name="lines").mark_line(strokeWidth=1.6, invalid=None)
                  .encode(x=x, y=y, color=colour))
    layers.append(alt.Chart(data, name="points").transform_filter("isValid(datum.value)")
                  .mark_point(filled=True, size=20, opacity=0.6, cursor="pointer")
                  .encode(x=x, y=y, color=colour, href="href:N", tooltip=tip))
    layers.append(alt.Chart(data, name="spikes").transform_filter("datum.spike")
                  .mark_point(filled=True, size=90, stroke="#000000", strokeWidth=1.4, opacity=1,
                              cursor="pointer")
                  .encode(x=x, y=y, color=colour, href="href:N", tooltip=tip))
    return _finish(alt.layer(*layers).properties(height=260), title=title,
                   subtitle="Click a point for that day's articles; ringed: spikes.")


def counts_spec(rows: Sequence[Mapping[str, Any]], *, title: str, colour: str, start: str,
                end: str) -> dict[str, Any]:
    """Member articles per day as bars (``rows``: day, articles, href), for a narrative whose
    index has no value in the period (too few member articles expected per day)."""
    return _with_data(_counts(title, colour, start, end), rows=rows)


@lru_cache(maxsize=256)
def _counts(title: str, colour: str, start: str, end: str) -> dict[str, Any]:
    x = alt.X("day:T", axis=DAY_AXIS, scale=alt.Scale(domain=[start, end]))
    bars = alt.Chart(alt.NamedData(name="rows")).mark_bar(color=colour, cursor="pointer").encode(
        x=x, y=alt.Y("articles:Q", title="Member articles"), href="href:N",
        tooltip=[alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
                 alt.Tooltip("articles:Q", title="Member articles")])
    return _finish(bars.properties(height=200), title=title,
                   subtitle="No index value in this period (too few member articles expected a day): "
                            "member articles per day instead. Click a bar for its articles.")
