"""The one chart engine (altair spec -> vl-convert SVG) shared by the report and Datasette."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import altair as alt
import pytest

from tracker.report.charts import (
    DAY_TITLE,
    INDEX_TITLE,
    PALETTE,
    SPIKE_LABEL,
    Point,
    Series,
    layer_rows,
    line_chart,
    series_colours,
    to_svg,
)

NS = "{http://www.w3.org/2000/svg}"
START = date(2026, 11, 2)


def _points(n: int = 14, missing: tuple[int, ...] = (5, 6), spike: int = 9) -> list[Point]:
    return [
        Point(START + timedelta(days=i), None if i in missing else 100.0 + 10 * i,
              None if i in missing else 100.0, spike=(i == spike), zscore=3.0 if i == spike else None)
        for i in range(n)
    ]


def _group(root: ET.Element, name: str) -> ET.Element:
    """The <g> Vega draws a named layer's marks into."""
    for g in root.iter(f"{NS}g"):
        if f"role-mark {name}_marks" in (g.get("class") or ""):
            return g
    raise AssertionError(f"no {name} marks")


def test_spec_is_valid_vega_lite_with_every_day_and_gaps_as_null() -> None:
    end = START + timedelta(days=15)  # two days past the last point: still rows, as nulls
    spec = line_chart([Series("ai", "AI", _points())], start=START, end=end)
    alt.LayerChart.from_dict(spec, validate=True)  # raises on an invalid spec
    rows = layer_rows(spec, "lines")
    daily = [r for r in rows if r["measure"] == "Daily index"]
    assert [r["day"] for r in daily] == [(START + timedelta(days=i)).isoformat() for i in range(16)]
    assert [i for i, r in enumerate(daily) if r["value"] is None] == [5, 6, 14, 15]
    assert 0.0 not in [r["value"] for r in daily]  # missing is never drawn as zero


def test_svg_breaks_the_line_at_missing_days_and_draws_base_week_and_spikes() -> None:
    svg = to_svg(line_chart([Series("ai", "AI <&> co", _points())], start=START,
                            end=START + timedelta(days=13),
                            highlight=(date(2026, 11, 9), date(2026, 11, 15)), width=600,
                            title="AI <&> co"))
    root = ET.fromstring(svg)  # well-formed XML: works as a standalone file
    assert not any(k in svg for k in ("<script", "href=", "url(http"))
    lines = _group(root, "lines").findall(f"{NS}path")
    daily = next(p for p in lines if "Daily index" in (p.get("aria-label") or ""))
    assert (daily.get("d") or "").count("M") == 2  # two missing days split the line in two
    assert len(_group(root, "spikes").findall(f"{NS}path")) == 1
    assert _group(root, "week_band").findall(f"{NS}path")
    rule = _group(root, "base_rule").find(f"{NS}line")
    assert rule is not None and "100" in (rule.get("aria-label") or "")
    texts = "".join(t.text or "" for t in root.iter(f"{NS}text"))
    for words in (DAY_TITLE, INDEX_TITLE, SPIKE_LABEL, "7-day average", "AI <&> co"):
        assert words in texts


def test_single_day_between_gaps_is_a_dot_and_empty_charts_say_so() -> None:
    pts = [Point(START, 90.0), Point(START + timedelta(days=2), 110.0),
           Point(START + timedelta(days=3), 120.0)]
    root = ET.fromstring(to_svg(line_chart([Series("x", "X", pts)], width=500)))
    assert len(_group(root, "isolated").findall(f"{NS}path")) == 1  # day 0 has no neighbour
    empty = to_svg(line_chart([Series("x", "X", [])], start=START, end=START + timedelta(days=6),
                              width=500))
    assert "No index values in this period" in empty
    with pytest.raises(ValueError):
        line_chart([], start=START, end=START - timedelta(days=1))


def test_one_colour_per_narrative_whichever_chart_shows_it() -> None:
    ids = ["fed", "ai", "crypto", "rotation"]
    colours = series_colours(ids)
    assert colours == {"ai": PALETTE[0], "crypto": PALETTE[1], "fed": PALETTE[2],
                       "rotation": PALETTE[3]}
    alone = line_chart([Series("fed", "Fed", _points(), colours["fed"])], width=500)
    together = line_chart([Series(k, k, _points(), colours[k]) for k in ids], width=500)
    for spec in (alone, together):
        svg = to_svg(spec)
        line = next(p for p in _group(ET.fromstring(svg), "lines").findall(f"{NS}path")
                    if "fed" in (p.get("aria-label") or "").lower())
        assert line.get("stroke") == PALETTE[2]


def test_container_width_for_the_browser_and_series_legend_with_labels() -> None:
    spec = line_chart([Series("a", "Alpha label", _points()), Series("b", "Beta label", _points())],
                      tooltips=True)
    assert spec["width"] == "container"
    svg = to_svg({**spec, "width": 700})
    texts = [t.text for t in ET.fromstring(svg).iter(f"{NS}text")]
    assert "Alpha label" in texts and "Beta label" in texts and "Narrative" in texts
    assert not re.search(r"\{'|\}'", svg)  # no Python reprs in legends
