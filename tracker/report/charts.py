"""One chart engine for the report and Datasette: Vega-Lite specs built with altair.

:func:`line_chart` builds the spec of a daily line chart: one line per series, a gap
wherever a day has no value (never a zero), the base value 100 drawn and labelled, spike
days marked, optionally the 7-day average and a highlighted week, axis titles in words.
:func:`to_svg` draws a spec as standalone SVG with vl-convert (the report's files and
inline charts, Datasette's ``.svg`` export); Datasette pages draw the same spec in the
browser with the Vega-Embed bundle that ships with :mod:`tracker.serve`.
:data:`PALETTE` and :func:`series_colours` give every narrative one colour everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import altair as alt

#: Vega-Lite version of altair's schema; vl-convert renders with it and the browser
#: bundle (tracker/serve/static) is built from it, so static and live charts agree.
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])

#: Tableau 10 with red moved last, so spike marks (black rings) never sit on a red line first.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#9c755f",
    "#ff9da7",
    "#bab0ac",
    "#e15759",
)
BASE_COLOUR = "#555555"
WEEK_FILL = "#fde9a9"
TEXT_COLOUR = "#333333"
GRID_COLOUR = "#e6e6e6"

DAY_TITLE = "Day (UTC)"
INDEX_TITLE = "Index (100 = base-period mean)"
VALUE_LABEL = "Daily index"
SMOOTHED_LABEL = "7-day average"
SPIKE_LABEL = "Spike day"
FONT = "Helvetica, Arial, sans-serif"
#: Fonts, sizes and colours of every chart (altair's configure_* in one object).
CONFIG = alt.Config(
    font=FONT,
    background="#ffffff",
    axis=alt.AxisConfig(labelFontSize=12, titleFontSize=12, titleFontWeight="normal",
                        labelColor=TEXT_COLOUR, titleColor=TEXT_COLOUR, gridColor=GRID_COLOUR),
    legend=alt.LegendConfig(labelFontSize=12, titleFontSize=12, labelColor=TEXT_COLOUR,
                            titleColor=TEXT_COLOUR),
    view=alt.ViewConfig(stroke="#bbbbbb"),
)
#: Name of the dataset holding a chart's rows (long format: day, series, measure, value ...).
ROWS = "rows"


@dataclass(frozen=True)
class Point:
    """One day of a series; ``value`` None is a missing day (drawn as a gap, not a zero)."""

    day: date
    value: float | None
    smoothed: float | None = None
    spike: bool = False
    zscore: float | None = None


@dataclass(frozen=True)
class Series:
    """One line of a chart: a key (narrative id ...), the label shown, its points and colour."""

    key: str
    label: str
    points: Sequence[Point]
    colour: str | None = None


def series_colours(keys: Iterable[str]) -> dict[str, str]:
    """One palette colour per key, in sorted key order.

    Called with every narrative id of the store, it gives each narrative the same colour
    in every chart (report and Datasette), whichever of them a chart shows.
    """
    return {key: PALETTE[i % len(PALETTE)] for i, key in enumerate(sorted(set(keys)))}


def _midnight(day: date, hours: float = 0.0) -> str:
    return (datetime.combine(day, time()) + timedelta(hours=hours)).isoformat()


def _finite(value: float | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def _rows(series: Sequence[Series], start: date, end: date) -> tuple[list[dict[str, Any]], bool]:
    """Long-format rows with every day of ``start..end`` present, so gaps stay gaps."""
    rows: list[dict[str, Any]] = []
    any_smoothed = False
    n_days = (end - start).days + 1
    for s in series:
        by_day = {p.day: p for p in s.points if start <= p.day <= end}
        values = [_finite(by_day[d].value) if d in by_day else None
                  for d in (start + timedelta(days=i) for i in range(n_days))]
        for i in range(n_days):
            day = start + timedelta(days=i)
            p = by_day.get(day)
            value = values[i]
            # A value with no neighbour draws no line segment: mark it with a dot instead.
            isolated = value is not None and (i == 0 or values[i - 1] is None) and (
                i == n_days - 1 or values[i + 1] is None
            )
            rows.append({
                "day": day.isoformat(), "series": s.label, "measure": VALUE_LABEL,
                "value": value, "isolated": isolated,
                "spike": bool(p is not None and p.spike and value is not None),
                "zscore": _finite(p.zscore) if p is not None else None,
            })
            smoothed = _finite(p.smoothed) if p is not None else None
            if smoothed is not None:
                any_smoothed = True
            rows.append({"day": day.isoformat(), "series": s.label, "measure": SMOOTHED_LABEL,
                         "value": smoothed, "isolated": False, "spike": False, "zscore": None})
    if not any_smoothed:
        rows = [r for r in rows if r["measure"] == VALUE_LABEL]
    return rows, any_smoothed


def line_chart(
    series: Sequence[Series],
    *,
    y_title: str = INDEX_TITLE,
    title: str = "",
    subtitle: str = "",
    start: date | None = None,
    end: date | None = None,
    highlight: tuple[date, date] | None = None,
    highlight_label: str = "Report week",
    base: float | None = 100.0,
    width: int | None = None,
    height: int = 260,
    series_legend: bool | None = None,
    series_title: str = "Narrative",
    tooltips: bool = False,
) -> dict[str, Any]:
    """The Vega-Lite spec of a daily line chart of ``series`` (see the module docstring).

    ``width`` None fills the container (Datasette pages); an int is the whole chart's
    width in pixels (static SVG). ``base`` draws a labelled rule at that value (None: no
    rule). The series legend is shown when there is more than one series, unless
    ``series_legend`` says otherwise.
    """
    days = [p.day for s in series for p in s.points]
    start = start or (min(days) if days else date.today())
    end = end or (max(days) if days else start)
    if end < start:
        raise ValueError(f"chart end {end} is before start {start}")
    colours = series_colours(s.key for s in series)
    domain = [s.label for s in series]
    palette = [s.colour or colours[s.key] for s in series]
    rows, any_smoothed = _rows(series, start, end)
    has_values = any(r["value"] is not None for r in rows)
    show_series = series_legend if series_legend is not None else len(series) > 1

    span = (end - start).days
    # Ticks on whole weeks (Mondays) for a quarter, months for a year: the default mixes
    # weekday names and dates, which crowd a narrow chart.
    interval, fmt = (("day", "%d %b") if span <= 21 else ("week", "%d %b") if span <= 150
                     else ("month", "%b %Y") if span <= 1100 else ("year", "%Y"))
    x = alt.X("day:T", title=DAY_TITLE, scale=alt.Scale(domain=[_midnight(start, -12),
                                                                  _midnight(end, 12)]),
              axis=alt.Axis(labelOverlap="greedy", labelFlush=True, format=fmt,
                            labelSeparation=6,
                            tickCount={"interval": interval,
                                       "step": 2 if width is not None and width < 500 and span > 21
                                       else 1}))
    y = alt.Y("value:Q", title=y_title)
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=domain, range=palette),
        legend=alt.Legend(title=series_title, orient="bottom", direction="vertical",
                          labelLimit=320) if show_series else None,
    )
    # The rows go in as a named dataset after altair is done: altair deep-copies inline
    # values at every step (0.3 s of a 0.35 s spec for a quarter of one narrative).
    data = alt.NamedData(name=ROWS)
    layers: list[Any] = []
    if highlight is not None:
        h0, h1 = max(highlight[0], start), min(highlight[1], end)
        if h0 <= h1:
            band = alt.Data(values=[{"x": _midnight(h0, -12), "x2": _midnight(h1, 12),
                                     "label": highlight_label}])
            layers.append(alt.Chart(band, name="week_band").mark_rect(color=WEEK_FILL).encode(
                x="x:T", x2="x2:T"))
            # Anchored at the band's right edge so it stays inside the plot at any width.
            layers.append(alt.Chart(band, name="week_label").mark_text(
                align="right", baseline="top", dx=-3, dy=3, fontSize=11, color=TEXT_COLOUR,
            ).encode(x="x2:T", y=alt.value(0), text="label:N"))
    if base is not None:
        layers.append(alt.Chart(alt.Data(values=[{"base": base}]), name="base_rule").mark_rule(
            color=BASE_COLOUR, strokeDash=[2, 3], strokeWidth=1,
        ).encode(y="base:Q"))
    lines = alt.Chart(name="lines").mark_line(
        strokeWidth=1.8, invalid="break-paths-show-domains", strokeJoin="round",
    ).encode(x=x, y=y, color=colour)
    if any_smoothed:
        # The daily line thin and light, the 7-day average bold: one legend for both channels.
        measure = alt.Scale(domain=[VALUE_LABEL, SMOOTHED_LABEL])
        legend = alt.Legend(orient="bottom", direction="horizontal",
                            symbolStrokeColor=palette[0] if palette else BASE_COLOUR)
        lines = lines.encode(
            strokeWidth=alt.StrokeWidth("measure:N", title=None, legend=legend,
                                        scale=alt.Scale(domain=measure.domain, range=[1.3, 2.8])),
            opacity=alt.Opacity("measure:N", title=None, legend=legend,
                                scale=alt.Scale(domain=measure.domain, range=[0.6, 1.0])),
        )
    layers.append(lines)
    layers.append(alt.Chart(name="isolated").transform_filter("datum.isolated").mark_point(
        filled=True, size=22, opacity=1).encode(x=x, y=y, color=colour))
    tooltip = [alt.Tooltip("series:N", title=series_title), alt.Tooltip("day:T", title="Day"),
               alt.Tooltip("measure:N", title="Line"), alt.Tooltip("value:Q", format=",.2f")]
    if tooltips:
        layers.append(alt.Chart(name="hover").transform_filter("isValid(datum.value)").mark_point(
            size=40, opacity=0).encode(x=x, y=y, tooltip=tooltip))
    spike_tooltip = [*tooltip[:2], alt.Tooltip("value:Q", title="Index", format=",.1f"),
                     alt.Tooltip("zscore:Q", title="z-score", format=",.1f")]
    layers.append(
        alt.Chart(name="spikes").transform_filter("datum.spike").transform_calculate(marker=f"'{SPIKE_LABEL}'")
        .mark_point(filled=True, size=70, stroke="#000000", strokeWidth=1.2, opacity=1)
        .encode(x=x, y=y, color=alt.Color("series:N", scale=alt.Scale(domain=domain, range=palette),
                                          legend=None),
                shape=alt.Shape("marker:N", title=None,
                                scale=alt.Scale(domain=[SPIKE_LABEL], range=["circle"]),
                                legend=alt.Legend(orient="bottom", symbolFillColor="#ffffff",
                                                  symbolStrokeColor="#000000")),
                tooltip=spike_tooltip)
    )
    if not has_values:
        layers.append(alt.Chart(alt.Data(values=[{"t": "No index values in this period"}]), name="empty")
                      .mark_text(fontSize=13, color=TEXT_COLOUR)
                      .encode(text="t:N", x=alt.value(0), y=alt.value(height / 3)))
    # One constructor call: every .properties()/.configure_*() deep-copies the whole chart.
    chart = alt.LayerChart(
        layer=layers,
        data=data,
        width="container" if width is None else width,
        height=height,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        # Room above the title: vl-convert's fallback font is taller than its metrics say.
        padding={"top": 12, "left": 6, "right": 22, "bottom": 6},
        title=alt.TitleParams(
            text=title, subtitle=subtitle or alt.Undefined, anchor="start", fontSize=15,
            subtitleFontSize=12, color=TEXT_COLOUR, subtitleColor="#555555",
        ) if title else alt.Undefined,
        config=CONFIG,
    )
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["datasets"] = {**spec.get("datasets", {}), ROWS: rows}
    return spec


def layer_rows(spec: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """The data rows behind the named layer of a spec (altair may hoist them to ``datasets``)."""
    layer = next(x for x in spec["layer"] if x.get("name") == name)
    data = layer.get("data") or spec.get("data") or {}
    rows = data["values"] if "values" in data else spec["datasets"][data["name"]]
    return list(rows)


def to_svg(spec: Mapping[str, Any]) -> str:
    """Draw a Vega-Lite spec as a standalone SVG document (no scripts, no external assets)."""
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(dict(spec), vl_version=VEGA_LITE_VERSION)
    return svg
